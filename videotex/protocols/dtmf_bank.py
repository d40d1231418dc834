"""In-band DTMF detectors that keep each call's state over time: :class:`DtmfBank`, many calls
as one array (a row each), and :class:`DtmfDetector`, one call.

Owns: gathering each call's audio into whole frames over a history of ``SPAN - HOP`` samples,
the four 5 ms analyses of each frame (:mod:`videotex.protocols.dtmf`'s window analysis),
runs of hits into presses and misses ending them, and slots held still while their audio is
late. The method, its checks and its invariants are described in
:mod:`videotex.protocols.dtmf`.
"""

from __future__ import annotations

import heapq

import numpy as np
import numpy.typing as npt

# the window analysis (the private names) is shared with dtmf.analyse
from videotex.protocols.dtmf import (
    _RUN_GAP,
    DIGITS,
    FRAME,
    HOP,
    RATE,
    SPAN,
    BankFull,
    DigitEvent,
    DtmfConfig,
    SlotError,
    _db,
    _pcm,
    _verdicts,
)
from videotex.protocols.g711 import DBM0_RMS

__all__ = ["DtmfBank", "DtmfDetector"]


class DtmfBank:
    """In-band DTMF detectors for up to ``capacity`` calls, processed as one array.

    Row ``i`` of the audio is slot ``i``; :meth:`add` a slot when a call starts, :meth:`remove`
    it when the call ends, and :meth:`feed` the audio of every slot, any number of samples.
    """

    def __init__(self, capacity: int, config: DtmfConfig | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"a DTMF bank needs a capacity of at least 1, got {capacity}")
        self.capacity = capacity
        self.config = cfg = config or DtmfConfig()
        self._on_hits = max(1, round(cfg.min_on_ms * RATE / 1000 / HOP))
        self._off_hits = max(1, round(cfg.min_off_ms * RATE / 1000 / HOP))
        #: The least peak sample of a window that may pass the level check: |bin| <= peak ×
        #: the weights' sum, so a tone's A² / 2 = 2 |bin|² / sum² <= 2 peak².
        self._gate = float(np.sqrt(DBM0_RMS**2 * _db(cfg.min_level_dbm0) / 2.0))
        self.active = np.zeros(capacity, dtype=bool)
        self._free = list(range(capacity))
        self._hist = np.zeros((capacity, SPAN - HOP + FRAME), dtype=np.float32)
        self._fill = 0  # samples of the frame being gathered, at the end of the history
        self._time = 0  # samples fed to the bank since it was made
        self._origin = np.zeros(capacity, dtype=np.int64)
        self._cand = np.full(capacity, -1, dtype=np.int64)  # digit of the current run of hits
        self._run = np.zeros(capacity, dtype=np.int64)
        self._first = np.zeros(capacity, dtype=np.int64)  # the run's first hit
        self._on = np.full(capacity, -1, dtype=np.int64)  # digit pressed, -1 none
        self._start = np.zeros(capacity, dtype=np.int64)
        self._last = np.zeros(capacity, dtype=np.int64)  # the press's last hit
        self._miss = np.zeros(capacity, dtype=np.int64)  # analyses since the press's last hit
        self._recent = np.zeros(capacity, dtype=np.int64)  # the run's latest hit
        self._gap = np.zeros(capacity, dtype=np.int64)  # analyses without a hit in the run

    # -- slots -------------------------------------------------------------------------------

    def add(self) -> int:
        """Start a call in a free slot (lowest first) and return its number; its time starts
        at 0 with this sample, silence before it."""
        if not self._free:
            raise BankFull(f"all {self.capacity} slots of this DTMF bank are in use")
        slot = heapq.heappop(self._free)
        self.active[slot] = True
        self._hist[slot] = 0.0
        self._origin[slot] = self._time
        self._cand[slot] = self._on[slot] = -1
        self._run[slot] = self._miss[slot] = self._gap[slot] = 0
        return slot

    def remove(self, slot: int) -> None:
        """End the call in ``slot`` (a key held then is not reported); its row is ignored."""
        if not (0 <= slot < self.capacity and self.active[slot]):
            raise SlotError(f"slot {slot} is not in use in this DTMF bank of {self.capacity}")
        self.active[slot] = False
        heapq.heappush(self._free, slot)

    @property
    def slots(self) -> list[int]:
        """Slots in use, in order."""
        return [int(s) for s in np.flatnonzero(self.active)]

    def pressed(self, slot: int) -> str | None:
        """The key ``slot``'s caller is holding now (already counted as a press), if any: for
        cutting a prompt short before the press ends and its :class:`DigitEvent` comes."""
        if not (0 <= slot < self.capacity and self.active[slot]):
            raise SlotError(f"slot {slot} is not in use in this DTMF bank of {self.capacity}")
        on = int(self._on[slot])
        return DIGITS[on // 4][on % 4] if on >= 0 else None

    # -- audio -------------------------------------------------------------------------------

    def feed(self, pcm: npt.ArrayLike, hold: npt.ArrayLike | None = None
             ) -> list[tuple[int, DigitEvent]]:
        """Audio of every slot, ``(capacity, n)`` 16-bit linear, any ``n`` → (slot, event) list.

        Floats are clipped to the 16-bit range, NaN counts as 0. Events of one slot are in time
        order; an event comes once its press has ended (``min_off_ms`` after the key is let go).

        ``hold``: a ``(capacity,)`` mask of slots with no audio for this feed (their sender is
        late: a jitter buffer with nothing to play). Their row of ``pcm`` is not read, and
        they stand still: history, press under way and time, as if this feed had not been, so
        a tone that arrives late is neither cut in two by a gap nor stretched by a filler.
        Only whole frames (``n`` a multiple of :data:`FRAME`, fed from a frame boundary).
        """
        x = _pcm(pcm, "DtmfBank.feed")
        if x.ndim != 2 or x.shape[0] != self.capacity:
            raise ValueError(f"DtmfBank.feed: expected ({self.capacity}, n) samples, "
                             f"got shape {x.shape}")
        if hold is not None:
            held = np.asarray(hold, dtype=bool)
            if held.shape != (self.capacity,):
                raise ValueError(f"DtmfBank.feed: hold must be ({self.capacity},) booleans, "
                                 f"got shape {held.shape}")
            if held.any():
                if x.shape[1] % FRAME or self._fill:
                    raise ValueError(f"DtmfBank.feed: hold needs whole frames of {FRAME} "
                                     f"samples from a frame boundary (got {x.shape[1]} "
                                     f"samples, {self._fill} into a frame)")
                return self._feed_holding(x, held)
        return self._feed(x)

    def _feed_holding(self, x: npt.NDArray[np.generic], held: npt.NDArray[np.bool_]
                      ) -> list[tuple[int, DigitEvent]]:
        rows = np.flatnonzero(held)
        hist, state = self._hist[rows].copy(), [a[rows].copy() for a in self._state()]
        events = [(s, e) for s, e in self._feed(x) if not held[s]]
        self._hist[rows] = hist
        for a, kept in zip(self._state(), state, strict=True):
            a[rows] = kept
        # its time did not pass: every time it keeps (the bank's) moves on with the bank's
        n = x.shape[1]
        for a in (self._origin, self._first, self._start, self._last, self._recent):
            a[rows] += n
        return events

    def _state(self) -> tuple[npt.NDArray[np.int64], ...]:
        """Each slot's press detection state (what a held slot keeps)."""
        return (self._cand, self._run, self._first, self._on, self._start, self._last,
                self._miss, self._recent, self._gap)

    def _feed(self, x: npt.NDArray[np.generic]) -> list[tuple[int, DigitEvent]]:
        events: list[tuple[int, DigitEvent]] = []
        head = SPAN - HOP
        pos, n = 0, x.shape[1]
        while pos < n:
            take = min(FRAME - self._fill, n - pos)
            self._hist[:, head + self._fill : head + self._fill + take] = x[:, pos : pos + take]
            self._fill += take
            self._time += take
            pos += take
            if self._fill == FRAME:
                self._fill = 0
                events += self._frame()
        return events

    def _frame(self) -> list[tuple[int, DigitEvent]]:
        """Analyse the frame just gathered (four analyses per slot), then keep the history."""
        h = self._hist
        h[~self.active] = 0.0
        # A window's bin is at most its peak sample times its weights' sum: a slot whose
        # samples all stay under the peak of a tone at the least level cannot pass the level
        # check (quiet lines, pauses in speech), and is left out of the products.
        loud = np.flatnonzero(np.abs(h).max(axis=1) >= self._gate)
        keys = np.full((self.capacity, FRAME // HOP), -1, dtype=np.int64)
        if len(loud):
            rows = h if len(loud) == self.capacity else h[loud]
            win = np.lib.stride_tricks.sliding_window_view(rows, SPAN, axis=1)[:, ::HOP]
            keys[loud] = _verdicts(win, self.config)[0].reshape(len(loud), FRAME // HOP)
        h[:, : SPAN - HOP] = h[:, FRAME:]
        events: list[tuple[int, DigitEvent]] = []
        frame_start = self._time - FRAME
        for j in range(FRAME // HOP):
            # the analysis stands for the 5 ms step at the centre of its span
            events += self._step(keys[:, j], frame_start + (j + 1) * HOP - SPAN // 2)
        return events

    def _step(self, hit: npt.NDArray[np.int64], t: int) -> list[tuple[int, DigitEvent]]:
        """One analysis of every slot: runs of hits become presses, misses end them.

        Only the slots with a hit, a run or a press are touched: an idle slot's state stays
        idle whatever the time (most lines, most of the time)."""
        busy = np.flatnonzero((hit >= 0) | (self._cand >= 0) | (self._on >= 0))
        if not len(busy):
            return []
        hit, cand, on = hit[busy], self._cand[busy], self._on[busy]
        run, gap, first, recent = self._run[busy], self._gap[busy], self._first[busy], \
            self._recent[busy]
        start, last, miss = self._start[busy], self._last[busy], self._miss[busy]
        same = (hit >= 0) & (hit == cand)
        # one analysis without a hit inside a run (noise on a weak tone) does not break it
        skip = (hit < 0) & (cand >= 0) & (gap < _RUN_GAP)
        run = np.where(same, run + 1, np.where(skip, run, hit >= 0))
        first = np.where(same | skip, first, t)
        recent = np.where(skip, recent, t)
        gap = np.where(skip, gap + 1, 0)
        cand = np.where(skip, cand, hit)
        held = on >= 0
        kept = held & (hit == on)
        last = np.where(kept, t, last)
        miss = np.where(kept, 0, miss + 1)
        ended = held & (miss >= self._off_hits)
        events: list[tuple[int, DigitEvent]] = []
        for i in np.flatnonzero(ended & self.active[busy]).tolist():
            s, k = int(busy[i]), int(on[i])
            o = int(self._origin[s])
            begun = max(0, int(start[i]) - HOP // 2 - o)
            events.append((s, DigitEvent(DIGITS[k // 4][k % 4], begun,
                                         max(begun + HOP, int(last[i]) + HOP // 2 - o))))
        begin = (~held | ended) & (run >= self._on_hits)
        self._on[busy] = np.where(begin, cand, np.where(ended, -1, on))
        self._start[busy] = np.where(begin, first, start)
        self._last[busy] = np.where(begin, recent, last)
        self._miss[busy] = np.where(begin, (t - recent) // HOP, miss)
        self._cand[busy], self._run[busy], self._gap[busy] = cand, run, gap
        self._first[busy], self._recent[busy] = first, recent
        return events


class DtmfDetector:
    """In-band DTMF detection for one call: a :class:`DtmfBank` of one slot."""

    def __init__(self, config: DtmfConfig | None = None) -> None:
        self._bank = DtmfBank(1, config)
        self._bank.add()

    @property
    def config(self) -> DtmfConfig:
        """The thresholds in use."""
        return self._bank.config

    @property
    def pressed(self) -> str | None:
        """The key held now, once it counts as a press."""
        return self._bank.pressed(0)

    def feed(self, samples: npt.ArrayLike) -> list[DigitEvent]:
        """Samples from the line (any length, 16-bit linear, 8 kHz) → presses ended, in order."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"DtmfDetector.feed: expected one channel of samples, "
                             f"got shape {x.shape}")
        return [e for _, e in self._bank.feed(x[None, :])]
