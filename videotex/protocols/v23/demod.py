"""Receive blocks: FSK discriminator and asynchronous (start-bit) receiver, for a bank of calls.

Owns, for every slot at once, one 20 ms block (160 samples) per call of ``process``:

- :class:`Discriminator`: a complex band-pass filter, a local oscillator and a decimation folded
  into one matrix product for the whole bank (:func:`filters.block_matrix`), then the
  instantaneous frequency ``angle(y[n] * conj(y[n-1]))`` (non-coherent, independent of level and
  of the carrier's phase) and the in-band power of the block (for carrier detection); optionally
  the power in a guard band, from extra columns of the same product (a noise reference).
- :class:`AsyncReceiver`: a UART on the frequency track. It smooths the track, finds a start
  bit by its mark→space edge (interpolated between samples), confirms it half a bit later,
  then decides each of the 10 bits by the mean of the track over the middle of the bit, timed
  from that edge: a clock offset of ±0.1 % moves the last bit by 1 % of a bit. The decision
  threshold follows the far end's frequency offset (measured on idle mark, start and stop
  bits), so a ±10 Hz shift of a 60 Hz-wide FSK keeps its full margin.

Invariants: all state is per slot in arrays of the bank's capacity; Python loops only over a
few passes per block (a block holds at most a few characters), never over samples or slots.
Time is counted in (decimated) samples since the bank started.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.v23.events import BLOCK
from videotex.protocols.v23.filters import FS, block_matrix
from videotex.protocols.v23.frames import SUB, decode_frames

__all__ = ["AsyncReceiver", "Discriminator"]

F32 = npt.NDArray[np.float32]
#: Frames a block can complete or starts it can reject before the next block (1200 baud: 2.4).
_PASSES: Final = 8


class Discriminator:
    """Band-pass, mix down, decimate; instantaneous frequency and in-band power per block."""

    def __init__(self, capacity: int, taps: npt.NDArray[np.complex128], *, decimation: int,
                 lo_hz: float, segments: int = 1,
                 guard: npt.NDArray[np.complex128] | None = None) -> None:
        matrix = block_matrix(taps, BLOCK, decimation, lo_hz)
        self._cols = matrix.shape[1]
        if guard is not None:  # same length as taps; only its power is used, at 500 Hz
            matrix = np.concatenate([matrix, block_matrix(guard, BLOCK, 16, 0.0)], axis=1)
        self._matrix = matrix
        self.hist = len(taps) - 1
        self.outputs = BLOCK // decimation
        self.rate = FS / decimation
        self._lo = np.float32(lo_hz)
        self._scale = np.float32(self.rate / (2.0 * math.pi))
        self._buf = np.zeros((capacity, self.hist + BLOCK), dtype=np.float32)
        self._last = np.zeros(capacity, dtype=np.complex64)
        self._segments = segments
        #: In-band power of each of ``segments`` equal parts of the last block, ``(N, segments)``.
        self.segment_power = np.zeros((capacity, segments), dtype=np.float32)
        #: Power in the guard band over the last block (the noise reference), ``(N,)``.
        self.guard_power = np.zeros(capacity, dtype=np.float32)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: silence before it."""
        self._buf[slot] = 0.0
        self._last[slot] = 0.0

    def save(self, rows: npt.NDArray[np.int64]) -> tuple[F32, npt.NDArray[np.complex64]]:
        """The state of ``rows`` (for :meth:`restore` after a block they must not see)."""
        return self._buf[rows].copy(), self._last[rows].copy()

    def restore(self, rows: npt.NDArray[np.int64],
                saved: tuple[F32, npt.NDArray[np.complex64]]) -> None:
        """Put ``rows`` back as :meth:`save` found them: the last block never reached them."""
        self._buf[rows], self._last[rows] = saved

    def process(self, block: F32) -> tuple[F32, F32]:
        """``block`` ``(N, 160)`` → (frequency in Hz ``(N, M)``, in-band power ``(N,)``).

        The power is that of the band-limited real signal (a sine of amplitude ``A`` in the
        pass band gives ``A² / 2``), averaged over the block.
        """
        buf = self._buf
        buf[:, self.hist:] = block
        out = buf @ self._matrix  # one matrix product per bank
        buf[:, : self.hist] = buf[:, BLOCK:]
        y = out[:, : self._cols].view(np.complex64)  # (N, M)
        if out.shape[1] > self._cols:
            g = out[:, self._cols :]
            self.guard_power = (g * g).mean(axis=1, dtype=np.float32) * np.float32(4.0)
        prev = np.empty_like(y)
        prev[:, 0] = self._last
        prev[:, 1:] = y[:, :-1]
        self._last = y[:, -1].copy()
        turn = np.angle(y * prev.conj()).astype(np.float32)
        freq = turn * self._scale + self._lo
        mag: F32 = (y.real * y.real + y.imag * y.imag) * np.float32(2.0)  # a sine: A² / 2
        if self._segments > 1:
            self.segment_power = mag.reshape(len(mag), self._segments, -1).mean(axis=2)
        power: F32 = mag.mean(axis=1, dtype=np.float32)
        return freq, power


class AsyncReceiver:
    """Start-bit synchronised 7E1 receiver on a frequency track, for every slot of a bank."""

    def __init__(self, capacity: int, *, rate: float, baud: float, mark_hz: float,
                 space_hz: float, outputs: int, smooth: int, window: int,
                 track: float = 0.1) -> None:
        self.bit = rate / baud  # samples of the track per bit (fractional)
        self.outputs = outputs
        self.smooth = smooth
        self.window = window
        self.mid = np.float32((mark_hz + space_hz) / 2.0)
        self.mark = np.float32(mark_hz)
        self.shift = np.float32(space_hz - mark_hz)
        self.limit = np.float32(0.4 * abs(space_hz - mark_hz))
        self.track = np.float32(track)
        #: Samples to look ahead of a start edge before accepting it: half a bit and a window.
        self.ahead = window + math.ceil(self.bit / 2.0) + 2
        self.span = math.ceil(10 * self.bit) + window + 2 * outputs + self.ahead + smooth + 4
        self._offs = np.arange(-window, window + 1)
        self._centres = (np.arange(10) + 0.5) * self.bit
        self.t_end = 0  # track samples seen, the same for every slot
        self._track = np.zeros((capacity, self.span), dtype=np.float32)
        self._tail = np.zeros((capacity, smooth - 1), dtype=np.float32)
        self.in_frame = np.zeros(capacity, dtype=bool)
        self._edge = np.zeros(capacity, dtype=np.float64)
        self._search = np.zeros(capacity, dtype=np.int64)
        self._damaged = np.zeros(capacity, dtype=bool)
        self._ran = np.zeros(capacity, dtype=bool)  # carrier present in the previous block
        #: Measured frequency offset of the far end, Hz (the threshold follows it).
        self.offset = np.zeros(capacity, dtype=np.float32)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: idle, no offset, nothing before now searched."""
        self._track[slot] = self.mark
        self._tail[slot] = self.mark
        self.in_frame[slot] = False
        self._damaged[slot] = False
        self._ran[slot] = False
        self._search[slot] = self.t_end
        self.offset[slot] = 0.0

    _ROW_STATE = ("_track", "_tail", "in_frame", "_edge", "_search", "_damaged", "_ran",
                  "offset")

    def save(self, rows: npt.NDArray[np.int64]) -> list[npt.NDArray[np.generic]]:
        """The state of ``rows`` (for :meth:`restore` after a block they must not see)."""
        return [getattr(self, name)[rows].copy() for name in self._ROW_STATE]

    def restore(self, rows: npt.NDArray[np.int64], saved: list[npt.NDArray[np.generic]]
                ) -> None:
        """Put ``rows`` back as :meth:`save` found them, one block later: the clock every
        slot shares moved on by a block, so their times move with it (their track, kept
        whole, now ends at the new ``t_end``): for them the block never happened."""
        for name, value in zip(self._ROW_STATE, saved, strict=True):
            getattr(self, name)[rows] = value
        self._edge[rows] += self.outputs
        self._search[rows] += self.outputs
    def process(self, freq: F32, run: npt.NDArray[np.bool_]
                ) -> tuple[list[npt.NDArray[np.int64]], list[bytes]]:
        """One block of track ``(N, M)``; ``run``: slots whose carrier is present.

        Returns the characters completed, in order, as (slot numbers, bytes) pairs of equal
        length per pass. A frame that spans a block without carrier comes out as SUB.
        """
        m = self.outputs
        raw = np.concatenate([self._tail, freq], axis=1)
        self._tail = raw[:, m:].copy()
        c = np.cumsum(raw, axis=1, dtype=np.float64)
        sm = np.empty((len(freq), m), dtype=np.float32)
        sm[:, 0] = c[:, self.smooth - 1]
        sm[:, 1:] = c[:, self.smooth:] - c[:, : m - 1]
        sm /= np.float32(self.smooth)
        self._track[:, :-m] = self._track[:, m:]
        self._track[:, -m:] = sm
        started = self.in_frame.copy()
        self.t_end += m
        self._damaged |= self.in_frame & ~run
        hi = self.t_end - self.ahead
        # no carrier, or its first block (what came before it was noise): no start bit here
        wait = ~run | ~self._ran
        self._search[wait] = np.maximum(self._search[wait], hi)
        self._ran = run.copy()
        slots: list[npt.NDArray[np.int64]] = []
        chars: list[bytes] = []
        done = np.zeros(len(freq), dtype=bool)
        for _ in range(_PASSES):
            rows, data = self._complete()
            if rows.size:
                slots.append(rows)
                chars.append(data)
                done[rows] = True
            if not self._find_starts(run) and not rows.size:
                break
        idle = run & ~started & ~self.in_frame & ~done
        self._follow_idle(idle, sm)
        return slots, chars

    def _threshold(self, rows: npt.NDArray[np.int64]) -> F32:
        return self.mid + self.offset[rows]

    def _means(self, rows: npt.NDArray[np.int64], centres: npt.NDArray[np.float64]) -> F32:
        """Mean of the track over the window around each centre (absolute sample times)."""
        base = self.t_end - self.span
        idx = np.floor(centres + 0.5).astype(np.int64)[..., None] + self._offs - base
        np.clip(idx, 0, self.span - 1, out=idx)
        r = rows.reshape(rows.shape + (1,) * (idx.ndim - 1))
        vals: F32 = self._track[r, idx].mean(axis=-1, dtype=np.float32)
        return vals

    def _complete(self) -> tuple[npt.NDArray[np.int64], bytes]:
        last = np.floor(self._edge + 9.5 * self.bit + 0.5).astype(np.int64) + self.window
        rows = np.flatnonzero(self.in_frame & (last <= self.t_end - 1))
        if not rows.size:
            return rows, b""
        centres = self._edge[rows, None] + self._centres
        vals = self._means(rows, centres)
        thr = self._threshold(rows)
        above = vals > thr[:, None]
        bits = np.where(above, 0, 1) if self.shift > 0 else np.where(above, 1, 0)
        data = bytearray(decode_frames(bits))
        for i in np.flatnonzero(self._damaged[rows]):
            data[i] = SUB
        good = np.frombuffer(bytes(data), dtype=np.uint8) != SUB
        if good.any():  # start and stop bits measure the offset both ways
            g = rows[good]
            meas = ((vals[good, 0] - self.shift) + vals[good, 9]) / 2 - self.mark
            self._nudge(g, meas, float(self.track))
        self.in_frame[rows] = False
        self._search[rows] = np.floor(centres[:, 9]).astype(np.int64) + 1
        return rows, bytes(data)

    def _find_starts(self, run: npt.NDArray[np.bool_]) -> bool:
        rows = np.flatnonzero(run & ~self.in_frame)
        if not rows.size:
            return False
        hi = self.t_end - self.ahead
        lo = hi - self.outputs - 2
        base = self.t_end - self.span
        seg = self._track[rows, lo - 1 - base : hi - base]
        thr = self._threshold(rows)
        sp = (seg > thr[:, None]) if self.shift > 0 else (seg < thr[:, None])
        cross = sp[:, 1:] & ~sp[:, :-1]
        cross &= (lo + np.arange(hi - lo))[None, :] >= self._search[rows, None]
        found = cross.any(axis=1)
        miss = rows[~found]
        self._search[miss] = np.maximum(self._search[miss], hi)  # never back into a frame
        if not found.any():
            return False
        rows = rows[found]
        j = np.argmax(cross[found], axis=1)
        seg = seg[found]
        before = seg[np.arange(len(rows)), j]
        after = seg[np.arange(len(rows)), j + 1]
        t = thr[found]
        frac = np.where(after != before, (t - before) / (after - before), 1.0)
        edge = (lo - 1 + j) + np.clip(frac, 0.0, 1.0).astype(np.float64)
        confirm = self._means(rows, edge + self.bit / 2.0)
        ok = (confirm > t) if self.shift > 0 else (confirm < t)
        self.in_frame[rows[ok]] = True
        self._edge[rows[ok]] = edge[ok]
        self._damaged[rows[ok]] = False
        self._search[rows[~ok]] = lo + j[~ok] + 1
        return True

    def _follow_idle(self, idle: npt.NDArray[np.bool_], sm: F32) -> None:
        """A block of steady mark measures the far end's offset directly.

        Steady: the track varies by less than a quarter of the shift (noise taken for a
        carrier varies by hundreds of hertz and must not move the threshold).
        """
        rows = np.flatnonzero(idle)
        if rows.size:
            track = sm[rows]
            steady = track.std(axis=1) < abs(self.shift) / 4
            rows, track = rows[steady], track[steady]
            meas = track.mean(axis=1) - self.mark
            self._nudge(rows, meas, min(1.0, 2 * float(self.track)))

    def _nudge(self, rows: npt.NDArray[np.int64], meas: F32, gain: float) -> None:
        meas = np.clip(meas, -self.limit, self.limit)
        self.offset[rows] += np.float32(gain) * (meas - self.offset[rows])
