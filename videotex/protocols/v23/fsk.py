"""Transmit blocks: the byte queue with its bit clock, and the phase-continuous FSK modulator.

Owns, for every slot of a bank at once:

- :class:`TxQueue`: the bytes waiting to be sent, bounded (:class:`TxOverflow` past the limit),
  turned into 7E1 bits on the slot's bit clock. Idle is mark. A byte starts on a bit boundary
  and its 10 bits are contiguous; back-to-back bytes leave no gap, so the line runs at exactly
  ``baud / 10`` characters per second.
- :class:`FskModulator`: the samples for whole *groups* of three bits. ``3 * 8000 / baud`` is a
  whole number at 1200 and 75 baud (20 and 320 samples), so the fractional bit clock
  (6.67 or 106.67 samples a bit) is exact and never drifts: within a group the bits get
  7, 7, 6 (or 107, 107, 106) samples.

Invariants: the phase is an integer count of 1/8000 of a cycle, so it is continuous across
bits, groups and calls and never accumulates rounding; every group is one row of a table
(start phase × 3-bit pattern) computed once, so a bank of any size costs one gather per block.
"""

from __future__ import annotations

import functools
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import dbm0_to_peak
from videotex.protocols.v23.events import TxOverflow
from videotex.protocols.v23.frames import FRAME_BITS, MARK

__all__ = ["FS", "NEVER", "SILENT", "FskModulator", "TxQueue", "group_samples"]

FS: Final = 8000
#: Half a cycle, in phase units: a V.25 phase reversal.
HALF_CYCLE: Final = FS // 2
#: Pattern number of a silent group (patterns 0-7 carry 3 bits, first bit in bit 0).
SILENT: Final = 8
#: A bit period no call reaches: "may not send".
NEVER: Final = np.iinfo(np.int64).max // 4


def group_samples(baud: int) -> int:
    """Samples in a group of three bits at ``baud`` (a whole number, or ValueError)."""
    if (3 * FS) % baud:
        raise ValueError(f"FSK: {baud} baud does not fit 3 bits in whole samples at {FS} Hz")
    return 3 * FS // baud


@functools.lru_cache(maxsize=8)
def _tables(
    mark_hz: int, space_hz: int, baud: int, peak: float
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int64], int]:
    """(waves, advance, step): ``waves[phase * 9 + pattern]`` is one group's samples."""
    step = math.gcd(math.gcd(mark_hz, space_hz), FS)
    phases = FS // step
    gs = group_samples(baud)
    bit_of_sample = (np.arange(gs) * baud) // FS
    pattern_bits = (np.arange(8)[:, None] >> np.arange(3)) & 1  # (8, 3)
    inc = np.where(pattern_bits[:, bit_of_sample] == MARK, mark_hz, space_hz)  # (8, gs)
    before = np.cumsum(inc, axis=1) - inc  # phase advance before each sample
    start = np.arange(phases)[:, None, None] * step
    phase = (start + before[None, :, :]) % FS  # (phases, 8, gs)
    sine = np.rint(peak * np.sin(2.0 * np.pi * np.arange(FS) / FS)).astype(np.int16)
    waves = np.zeros((phases, 9, gs), dtype=np.int16)
    waves[:, :8, :] = sine[phase]
    advance = np.append(inc.sum(axis=1) // step, 0).astype(np.int64)  # per pattern, in steps
    waves.setflags(write=False)
    advance.setflags(write=False)
    return waves.reshape(phases * 9, gs), advance, phases


class FskModulator:
    """Phase-continuous binary FSK for every slot of a bank, one group of 3 bits at a time."""

    def __init__(self, capacity: int, *, mark_hz: int, space_hz: int, baud: int,
                 level_dbm0: float) -> None:
        self.group = group_samples(baud)
        self._waves, self._advance, self._phases = _tables(
            mark_hz, space_hz, baud, round(dbm0_to_peak(level_dbm0), 6))
        #: Phase at the start of the next group, in units of ``FS / phases`` of a cycle.
        self.phase = np.zeros(capacity, dtype=np.int64)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: phase 0."""
        self.phase[slot] = 0

    def synth(self, pattern: npt.NDArray[np.int64],
              flip: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.int16]:
        """Samples of ``pattern`` ``(N, G)``: 3 bits (first bit in bit 0) or :data:`SILENT`.

        ``flip`` ``(N, G)`` reverses the phase at the start of a group (V.25).
        Returns ``(N, G * group)`` 16-bit samples and moves each slot's phase on.
        """
        n, g = pattern.shape
        adv = self._advance[pattern]
        start = np.cumsum(adv, axis=1) - adv
        if flip is not None:
            start += np.cumsum(flip, axis=1) * (self._phases // 2)
        start += self.phase[:, None]
        start %= self._phases
        self.phase = (start[:, -1] + adv[:, -1]) % self._phases
        return self._waves[start * 9 + pattern].reshape(n, g * self.group)


class TxQueue:
    """Bounded byte queues of a bank, and the 7E1 bits they put on each slot's bit clock."""

    def __init__(self, capacity: int, limit: int) -> None:
        self.limit = limit
        self._ring = np.zeros((capacity, limit), dtype=np.uint8)
        self._rd = np.zeros(capacity, dtype=np.int64)
        #: Bytes queued and not yet wholly sent, per slot.
        self.count = np.zeros(capacity, dtype=np.int64)
        #: Bit period at which the byte at the head starts; -1 until it is scheduled.
        self._start = np.full(capacity, -1, dtype=np.int64)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: nothing queued."""
        self._rd[slot] = 0
        self.count[slot] = 0
        self._start[slot] = -1

    def push(self, slot: int, data: bytes) -> None:
        """Queue ``data`` for ``slot``; :class:`TxOverflow` if it does not fit (nothing queued)."""
        n = len(data)
        have = int(self.count[slot])
        if have + n > self.limit:
            raise TxOverflow(
                f"slot {slot}: {n} bytes do not fit, {have} of {self.limit} are queued"
                f" ({self.limit - have} writable)")
        if n:
            pos = (self._rd[slot] + have + np.arange(n)) % self.limit
            self._ring[slot, pos] = np.frombuffer(bytes(data), dtype=np.uint8)
            self.count[slot] = have + n

    def bits(self, period0: npt.NDArray[np.int64], periods: int,
             open_from: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """The bits of bit periods ``period0 .. period0 + periods - 1`` per slot, ``(N, periods)``.

        A slot sends nothing but mark before bit period ``open_from`` (:data:`NEVER`: not at
        all) and keeps its queue meanwhile. Bytes whose last bit falls in the range leave the
        queue.
        """
        end = period0 + periods
        sched = (self.count > 0) & (self._start < 0) & (open_from < end)
        self._start[sched] = np.maximum(period0, open_from)[sched]
        live = self._start >= 0
        k = (period0 - self._start)[:, None] + np.arange(periods)
        valid = live[:, None] & (k >= 0) & (k < 10 * self.count[:, None])
        kc = np.where(valid, k, 0)
        rows = np.arange(len(period0))[:, None]
        byte = self._ring[rows, (self._rd[:, None] + kc // 10) % self.limit]
        out = np.where(valid, FRAME_BITS[byte, kc % 10], np.uint8(MARK)).astype(np.uint8)
        done = np.where(live, np.clip((end - self._start) // 10, 0, self.count), 0)
        self._rd = (self._rd + done) % self.limit
        self.count -= done
        self._start += 10 * done
        self._start[self.count == 0] = -1
        return out
