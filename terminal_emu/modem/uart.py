"""Asynchronous character recovery from a soft bit stream: start-edge search and 7E1.

Owns bit synchronisation. The input is a soft decision signal (positive = mark = 1,
negative or zero = space = 0) at the sample rate, in any chunks. A character starts at a
falling zero crossing (mark → space), located between samples by linear interpolation,
whose start bit is still space half a bit later (a glitch is not a start bit). Its ten
bits are read at their centres ``edge + (k + ½)·T`` with ``T = rate / baud`` kept
fractional; the search for the next start edge resumes at the centre of the stop bit. Each
character re-synchronises on its own start edge, so the sender's clock may be off by a
fraction of a percent without drift. Finding the crossings is an array operation; only the
per-character work loops in Python: choosing among the crossings (a few per character) and
reading the ten bits of each character found (cheaper than a dozen small numpy calls).

Invariant: the output depends only on the concatenated input, never on how it was split.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .framing import BITS_PER_CHAR, SUB

__all__ = ["Uart"]

Floats = NDArray[np.float64]


def _char_table() -> NDArray[np.uint8]:
    """Byte for each of the 1024 ten-bit frames (bit k of the index = k-th bit in time)."""
    frame = np.arange(1 << BITS_PER_CHAR)
    bits = (frame[:, None] >> np.arange(BITS_PER_CHAR)) & 1
    good = (bits[:, 0] == 0) & (bits[:, 9] == 1) & (bits[:, 1:9].sum(axis=1) % 2 == 0)
    return np.where(good, (frame >> 1) & 0x7F, SUB).astype(np.uint8)


_CHARS = _char_table().tolist()


def _at(buf: list[float], pos: float) -> float:
    """``buf`` linearly interpolated at ``pos`` (0 <= pos < len(buf) - 1)."""
    whole = int(pos)
    left = buf[whole]
    return left + (buf[whole + 1] - left) * (pos - whole)


class Uart:
    """Soft samples in, 7E1 characters out (a bad parity or stop bit gives SUB)."""

    def __init__(self, samples_per_bit: float) -> None:
        self._t = float(samples_per_bit)
        self._centres = [(k + 0.5) * self._t for k in range(BITS_PER_CHAR)]
        self._span = (BITS_PER_CHAR - 0.5) * self._t  # start edge → stop-bit centre
        self._buf = np.zeros(0)
        self._base = 0  # stream index of _buf[0]
        self._next = 1  # stream index i of the next crossing (i-1 → i) to examine
        self._pos = 0.0  # start edges before this stream time are inside a character

    def feed(self, soft: Floats) -> bytes:
        """Characters completed by these soft samples (possibly none)."""
        if len(self._buf) == 1 and self._buf[0] > 0 and len(soft) and soft.min() > 0:
            # the line stayed at mark and no character is pending: nothing to look at
            self._base += len(soft)
            self._next = self._base + 1
            self._buf = soft[-1:]
            return b""
        buf = np.concatenate((self._buf, soft)) if len(self._buf) else np.asarray(soft)
        n = len(buf)
        lo = self._next - self._base
        resume, out = n, b""
        if lo < n:
            idx = np.flatnonzero((buf[lo - 1:n - 1] > 0) & (buf[lo:n] <= 0))
            if idx.size:
                resume, out = self._characters(buf.tolist(), (idx + lo).tolist())
        keep = resume - 1
        self._buf = buf[keep:]
        self._base += keep
        self._next = self._base + 1
        return out

    def _characters(self, buf: list[float], crossings: list[int]) -> tuple[int, bytes]:
        """Read the characters starting at these falling crossings (local indices i: the
        crossing lies between i-1 and i); return the index to resume from and the bytes."""
        last = len(buf) - 1
        span, half = self._span, 0.5 * self._t
        pos = self._pos - self._base
        resume, frames = last + 1, []
        for i in crossings:
            hi = buf[i - 1]
            t = i - 1 + hi / (hi - buf[i])
            if t < pos:
                continue
            if t + span >= last:
                resume = i  # this character is not complete yet
                break
            if _at(buf, t + half) < 0:  # still space half a bit later: a start bit
                frame = 0
                for k, centre in enumerate(self._centres):
                    if _at(buf, t + centre) > 0:
                        frame |= 1 << k
                frames.append(frame)
                pos = t + span
        self._pos = pos + self._base
        return resume, bytes(_CHARS[f] for f in frames)
