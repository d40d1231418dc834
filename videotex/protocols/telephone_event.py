"""RFC 4733 telephone-events (keypad digits sent as RTP packets), sans-IO, both ways.

Owns: the 4-byte payload (:func:`parse_event`, :func:`build_event`, :class:`TelephoneEvent`);
:class:`EventReceiver`, which turns one call's stream of (RTP timestamp, marker, payload) into
:class:`~videotex.protocols.dtmf.DigitEvent` values, exactly once per key press; and
:func:`press`, the packets a sender makes for one press (for test clients and load generators).

RFC 4733 §2.5 in short, as the receiver applies it: every packet of one event carries the RTP
timestamp of the event's start, and the duration so far (timestamp units, 8 kHz: samples);
the first has the marker bit, the last has the E bit and is sent three times. So: the same
timestamp is the same event; a new timestamp is a new event (its first packet may be lost,
so the marker is not needed), which also ends the one before if its end packets were lost; a
packet of an event already reported is dropped, whatever its order of arrival; an event longer
than the 16-bit duration goes on in segments (§2.5.1.3): a new timestamp, the same event code
and no marker, where the last segment's duration ran out, continues the press.

Invariants: every refusal of a payload is a :class:`TelephoneEventError` (a ``ValueError``)
that names the field; ``parse_event(build_event(...))`` gives back what was built; time is the
RTP timestamp (samples), never the wall clock; a receiver's memory is bounded.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from dataclasses import dataclass
from typing import Final

from videotex.protocols.dtmf import DigitEvent

__all__ = [
    "DTMF_EVENTS",
    "EventCode",
    "EventPacket",
    "EventReceiver",
    "TelephoneEvent",
    "TelephoneEventError",
    "build_event",
    "parse_event",
    "press",
]

_PAYLOAD: Final = struct.Struct("!BBH")
#: The keypad's characters in event-code order: code ``i`` is ``DTMF_EVENTS[i]``.
DTMF_EVENTS: Final = "0123456789*#ABCD"
_MAX_DURATION: Final = 0xFFFF
_WRAP: Final = 1 << 32
#: A segment whose duration was seen this close to 65,535 may have run out (its last packets
#: lost): 250 ms.
_SEGMENT_SLACK: Final = 2000


class EventCode(enum.IntEnum):
    """The DTMF named events (RFC 4733 §3.2); other codes are tones and signals."""

    #: RFC 4733 §3.2: digits 0-9 are events 0-9.
    DIGIT_0 = 0
    DIGIT_1 = 1
    DIGIT_2 = 2
    DIGIT_3 = 3
    DIGIT_4 = 4
    DIGIT_5 = 5
    DIGIT_6 = 6
    DIGIT_7 = 7
    DIGIT_8 = 8
    DIGIT_9 = 9
    #: RFC 4733 §3.2: ``*`` is event 10.
    STAR = 10
    #: RFC 4733 §3.2: ``#`` is event 11.
    POUND = 11
    #: RFC 4733 §3.2: the fourth column's A, B, C, D are events 12-15.
    A = 12
    B = 13
    C = 14
    D = 15

    @property
    def digit(self) -> str:
        """The keypad character of this event."""
        return DTMF_EVENTS[self.value]


class TelephoneEventError(ValueError):
    """A payload that is not a telephone-event, or a field out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload (RFC 4733 §2.3)."""

    #: Event code, 0-255 (§2.3.1); 0-15 are the DTMF digits (:class:`EventCode`).
    event: int
    #: The E bit: this packet ends the event (§2.3.2).
    end: bool = False
    #: Power of the tone, dBm0 with the sign dropped: 0-63, larger is quieter (§2.3.4).
    volume: int = 10
    #: Duration so far, in RTP timestamp units, 0-65535 (§2.3.5).
    duration: int = 0

    def __post_init__(self) -> None:
        _check("event", self.event, 0xFF)
        _check("volume", self.volume, 63)
        _check("duration", self.duration, _MAX_DURATION)

    @property
    def digit(self) -> str | None:
        """The keypad character, or None for an event that is not a DTMF digit."""
        return DTMF_EVENTS[self.event] if self.event < len(DTMF_EVENTS) else None

    def __bytes__(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


def _check(field: str, value: int, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise TelephoneEventError(f"telephone-event {field} must be an integer 0-{top}, "
                                  f"got {value!r}")


def parse_event(payload: bytes) -> TelephoneEvent:
    """One RTP payload of the telephone-event type → the event.

    Raises :class:`TelephoneEventError` unless the payload is exactly 4 bytes (§2.3; RFC 2198
    redundancy, which packs several, comes under its own payload type). The reserved R bit is
    ignored, as §2.3.3 asks of receivers.
    """
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TelephoneEventError(f"telephone-event payload must be bytes, "
                                  f"got {type(payload).__name__}")
    if len(payload) != _PAYLOAD.size:
        raise TelephoneEventError(f"telephone-event payload of {len(payload)} bytes, "
                                  f"expected 4 (event, E/R/volume, duration)")
    event, flags, duration = _PAYLOAD.unpack(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def build_event(event: int | str, *, end: bool = False, volume: int = 10,
                duration: int = 0) -> bytes:
    """The 4-byte payload of ``event`` (a code 0-255, or a keypad character of
    :data:`DTMF_EVENTS`); ``duration`` in RTP timestamp units."""
    if isinstance(event, str):
        if len(event) != 1 or event.upper() not in DTMF_EVENTS:
            raise TelephoneEventError(f"telephone-event digit must be one of {DTMF_EVENTS!r}, "
                                      f"got {event!r}")
        event = DTMF_EVENTS.index(event.upper())
    return bytes(TelephoneEvent(event, end, volume, duration))


# -- sending ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventPacket:
    """One packet of a press, as :func:`press` plans it."""

    #: When to send it: samples after the key went down.
    at: int
    #: Its RTP timestamp, less the press's first one (0, or a later segment's start).
    timestamp: int
    #: The RTP marker bit (the first packet of the press).
    marker: bool
    payload: bytes


def press(digit: str, duration: int, *, interval: int = 400, frame: int = 160,
          volume: int = 10, end_copies: int = 3) -> list[EventPacket]:
    """The packets for ``digit`` held ``duration`` samples (RFC 4733 §2.5.1).

    The first, with the marker, one ``frame`` after the key went down; then one every
    ``interval`` (50 ms by default, the usual rate) with the duration so far; then
    ``end_copies`` end packets a frame apart (three, as RFC 4733 asks) with the whole
    duration. A press longer than 65,535 samples is sent in segments (§2.5.1.3): each starts
    where the last one's duration ran out, with a new timestamp and no marker.
    """
    if duration < 1:
        raise TelephoneEventError(f"press: duration must be at least 1 sample, got {duration}")
    if interval < 1 or frame < 1 or end_copies < 1:
        raise TelephoneEventError(f"press: interval ({interval}), frame ({frame}) and "
                                  f"end_copies ({end_copies}) must be at least 1")
    code = build_event(digit)[0]
    out: list[EventPacket] = []
    at = min(frame, duration)
    while at < duration:
        seg = (at - 1) // _MAX_DURATION * _MAX_DURATION  # the segment this packet reports in
        out.append(EventPacket(at, seg, not out,
                               bytes(TelephoneEvent(code, False, volume, at - seg))))
        at += interval
    seg = (duration - 1) // _MAX_DURATION * _MAX_DURATION
    last = bytes(TelephoneEvent(code, True, volume, duration - seg))
    out += [EventPacket(duration + k * frame, seg, not out and k == 0, last)
            for k in range(end_copies)]
    return out


# -- receiving --------------------------------------------------------------------------------

def _ahead(a: int, b: int) -> int:
    """``a - b`` for 32-bit RTP timestamps that may have wrapped, in [-2³¹, 2³¹)."""
    return (a - b + (1 << 31)) % _WRAP - (1 << 31)


@dataclass(slots=True)
class _Press:
    first: int  # RTP timestamp of the press's first segment
    ts: int  # of its current segment
    code: int
    before: int  # duration of the segments before the current one
    duration: int  # of the current segment, the most seen


class EventReceiver:
    """One call's telephone-events → :class:`DigitEvent` values, once per key press.

    A press is reported when it ends: at its first end packet, at the first packet of a later
    press, or by :meth:`expire` when nothing has come for it for ``timeout`` samples past its
    last known end (all its end packets lost). Its times count from RTP timestamp ``origin``
    (give the call's first audio timestamp to share the in-band detector's clock).
    Non-DTMF events (codes 16 and up) are followed the same way but not reported.
    """

    def __init__(self, *, origin: int = 0, timeout: int = 1600, memory: int = 16) -> None:
        if timeout < 0 or memory < 1:
            raise ValueError(f"EventReceiver: timeout ({timeout}) must not be negative and "
                             f"memory ({memory}) must be at least 1")
        self.origin = origin % _WRAP
        self.timeout = timeout
        self._now: _Press | None = None
        #: Timestamps of the segments of presses already over (their late packets are dropped).
        self._done: deque[int] = deque(maxlen=memory)

    @property
    def pressed(self) -> str | None:
        """The key held now (a DTMF event begun and not ended), if any: for barge-in."""
        p = self._now
        return DTMF_EVENTS[p.code] if p is not None and p.code < len(DTMF_EVENTS) else None

    @property
    def current(self) -> DigitEvent | None:
        """The DTMF press going on, as heard so far (its end: start plus the duration heard),
        if any. Two presses of one key have different starts, even when the first one's end
        packets were lost and the second one's start is what ends it."""
        p = self._now
        if p is None or p.code >= len(DTMF_EVENTS):
            return None
        return self._event(p)

    def receive(self, timestamp: int, marker: bool, payload: bytes) -> list[DigitEvent]:
        """One telephone-event packet → presses it ends (none, one, or two when it ends the
        previous press and is itself a whole short press). Raises
        :class:`TelephoneEventError` for a malformed payload, and changes nothing then."""
        ev = parse_event(payload)
        ts = timestamp % _WRAP
        if ts in self._done:
            return []  # a retransmitted end, or a late packet, of a press already reported
        p = self._now
        if p is not None and ts == p.ts:
            if ev.event != p.code:
                return []  # two events under one timestamp: not a sender of RFC 4733; drop
            p.duration = max(p.duration, ev.duration)
            return self._finish() if ev.end else []
        if self._stale(ts):
            return []
        if p is not None and _ahead(ts, p.ts) < 0:
            # a press older than the one going on, all of whose packets were late: it is
            # over, since a newer one has begun; report it now, once
            return self._report(_Press(ts, ts, ev.event, 0, ev.duration))
        if p is not None:
            gap = _ahead(ts, p.ts)
            if (ev.event == p.code and not marker and p.duration <= gap <= _MAX_DURATION
                    and p.duration >= _MAX_DURATION - _SEGMENT_SLACK):
                self._done.append(p.ts)  # the next segment of the same press (§2.5.1.3)
                p.ts, p.before, p.duration = ts, p.before + gap, ev.duration
                return self._finish() if ev.end else []
            out = self._finish()
        else:
            out = []
        self._now = _Press(ts, ts, ev.event, 0, ev.duration)
        if ev.end:
            out += self._finish()
        return out

    def expire(self, now: int) -> list[DigitEvent]:
        """Time passes: ``now`` is the stream's current RTP timestamp (the last audio packet's,
        say). Ends the press going on if nothing has come for it in ``timeout`` samples."""
        p = self._now
        if p is not None and _ahead(now % _WRAP, (p.ts + p.duration) % _WRAP) > self.timeout:
            return self._finish()
        return []

    def _stale(self, ts: int) -> bool:
        """A timestamp older than every one remembered: a packet too late to place."""
        return len(self._done) == self._done.maxlen and all(_ahead(ts, d) < 0 for d in self._done)

    def _finish(self) -> list[DigitEvent]:
        p = self._now
        self._now = None
        return self._report(p) if p is not None else []

    def _report(self, p: _Press) -> list[DigitEvent]:
        self._done.append(p.ts)
        return [self._event(p)] if p.code < len(DTMF_EVENTS) else []

    def _event(self, p: _Press) -> DigitEvent:
        start = (p.first - self.origin) % _WRAP
        return DigitEvent(DTMF_EVENTS[p.code], start, start + p.before + p.duration)
