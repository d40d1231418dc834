"""How the Minitel recognises that the server answered (reference §1), in 10 ms segments.

Owns the calling-side detection rules. For up to 40 s the Minitel looks for either

- about 300 ms of 2100 Hz (accepted from 250 ms), then 75 ± 20 ms of silence, then 60 ms of
  1300 Hz: the answer tone path, or
- 1.7 s of continuous 1300 Hz: the carrier-only path.

Each 10 ms segment arrives classified (:class:`Kind`). Up to three odd segments inside a
tone are tolerated: a V.25 phase reversal every 450 ms, a concealed lost frame, or the
segment where a tone starts or stops. The silence is measured in whole segments, so the
accepted gap is 3 to 11 segments (about 35 to 115 ms), wide enough for the edge segments.
Invariant: the outcome depends only on the sequence of segment kinds.
"""

from __future__ import annotations

import enum

__all__ = ["AnswerDetector", "Kind"]


class Kind(enum.IntEnum):
    """What one 10 ms segment of received audio is."""

    SILENCE = 0  #: §1: no carrier (or the answer tone has just dropped by more than 10 dB)
    ANSWER = 1  #: §1: 2100 Hz answer tone
    MARK = 2  #: §1: 1300 Hz, the server's 1200-baud mark
    OTHER = 3  #: anything else above the carrier threshold


MIN_TONE = 25  #: 250 ms of 2100 Hz ("about 300 ms")
GAP_MIN, GAP_MAX = 3, 11  #: silence between the answer tone and the mark, in segments
CONFIRM = 6  #: 60 ms of 1300 Hz after the silence
LONG = 170  #: 1.7 s of continuous 1300 Hz
MISS = 3  #: odd segments tolerated inside a tone


class AnswerDetector:
    """Feed :meth:`step` one :class:`Kind` per segment; it returns the path once answered."""

    def __init__(self) -> None:
        self._tone = 0  # segments of the current 2100 Hz run
        self._tone_miss = 0
        self._gap: int | None = None  # segments of silence after a long enough tone
        self._gap_odd = 0
        self._confirm: int | None = None  # 1300 Hz segments after the silence
        self._mark = 0  # segments of the current 1300 Hz run (carrier-only path)
        self._mark_miss = 0

    def step(self, kind: Kind) -> str | None:
        """``"answer-tone"`` or ``"carrier"`` when the answer is recognised, else None."""
        if self._carrier_only(kind):
            return "carrier"
        if self._confirm is not None:
            if kind == Kind.MARK:
                self._confirm += 1
                return "answer-tone" if self._confirm >= CONFIRM else None
            self._confirm = None
        if self._gap is not None:
            self._in_gap(kind)
        else:
            self._in_tone(kind)
        return None

    def _carrier_only(self, kind: Kind) -> bool:
        if kind == Kind.MARK:
            self._mark += 1 + self._mark_miss
            self._mark_miss = 0
        elif self._mark:
            self._mark_miss += 1
            if self._mark_miss > MISS:
                self._mark = self._mark_miss = 0
        return self._mark >= LONG

    def _in_tone(self, kind: Kind) -> None:
        if kind == Kind.ANSWER:
            self._tone += 1 + self._tone_miss
            self._tone_miss = 0
        elif kind == Kind.SILENCE and self._tone >= MIN_TONE:
            self._gap, self._gap_odd = 1, 0
        elif self._tone:
            self._tone_miss += 1
            if self._tone_miss > MISS:
                self._tone = self._tone_miss = 0

    def _in_gap(self, kind: Kind) -> None:
        gap = self._gap
        assert gap is not None
        if kind == Kind.SILENCE or (kind == Kind.OTHER and not self._gap_odd):
            # OTHER once: the segment where the mark starts, partly silent
            self._gap, self._gap_odd = gap + 1, int(kind == Kind.OTHER)
            if gap + 1 > GAP_MAX:
                self._gap, self._tone = None, 0
            return
        self._gap = None
        if kind == Kind.ANSWER and gap <= MISS:
            self._tone += gap + 1  # a dropout inside the tone, not the silence
            return
        self._tone, self._tone_miss = int(kind == Kind.ANSWER), 0
        if kind == Kind.MARK and GAP_MIN <= gap <= GAP_MAX:
            self._confirm = 1
