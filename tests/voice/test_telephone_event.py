"""RFC 4733 telephone-events: payloads both ways, the sender's packets, and the receiver's rule
of one digit per key press whatever the network does (loss, duplicates, reordering)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols.dtmf import DigitEvent
from videotex.protocols.telephone_event import (
    DTMF_EVENTS,
    EventCode,
    EventPacket,
    EventReceiver,
    TelephoneEvent,
    TelephoneEventError,
    build_event,
    parse_event,
    press,
)

# (event, payload): RFC 4733 §2.3's layout, written out by hand
VECTORS = [
    (TelephoneEvent(0, False, 0, 0), b"\x00\x00\x00\x00"),
    (TelephoneEvent(1, False, 10, 400), b"\x01\x0a\x01\x90"),
    (TelephoneEvent(11, True, 10, 800), b"\x0b\x8a\x03\x20"),
    (TelephoneEvent(15, True, 63, 65535), b"\x0f\xbf\xff\xff"),
    (TelephoneEvent(16, False, 36, 160), b"\x10\x24\x00\xa0"),  # flash, not a digit
    (TelephoneEvent(255, True, 1, 1), b"\xff\x81\x00\x01"),
]


@pytest.mark.parametrize(("event", "payload"), VECTORS)
def test_vectors_both_ways(event: TelephoneEvent, payload: bytes) -> None:
    assert parse_event(payload) == event
    assert bytes(event) == payload
    assert build_event(event.event, end=event.end, volume=event.volume,
                       duration=event.duration) == payload
    assert parse_event(bytearray(payload)) == parse_event(memoryview(payload)) == event


def test_the_reserved_bit_is_ignored() -> None:
    assert parse_event(b"\x05\x4a\x01\x90") == TelephoneEvent(5, False, 10, 400)
    assert parse_event(b"\x05\xca\x01\x90") == TelephoneEvent(5, True, 10, 400)


def test_digits_and_codes() -> None:
    assert [e.digit for e in EventCode] == list(DTMF_EVENTS)
    assert EventCode.POUND == 11 and EventCode.STAR.digit == "*"
    assert TelephoneEvent(12).digit == "A" and TelephoneEvent(16).digit is None
    assert build_event("#", duration=160) == build_event(11, duration=160)
    assert build_event("d") == build_event("D") == build_event(15)


@pytest.mark.parametrize("payload", [b"", b"\x01", b"\x01\x0a\x01", b"\x01\x0a\x01\x90\x00",
                                     b"\x01\x0a\x01\x90" * 2])
def test_a_payload_not_of_4_bytes_is_refused(payload: bytes) -> None:
    with pytest.raises(TelephoneEventError, match=f"payload of {len(payload)} bytes, expected 4"):
        parse_event(payload)


def test_a_payload_must_be_bytes() -> None:
    with pytest.raises(TelephoneEventError, match="must be bytes, got str"):
        parse_event("abcd")  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"event": 256}, "event"), ({"event": -1}, "event"), ({"event": "E"}, "digit"),
    ({"event": "12"}, "digit"), ({"event": 1, "volume": 64}, "volume"),
    ({"event": 1, "duration": 65536}, "duration"), ({"event": 1, "duration": -1}, "duration"),
    ({"event": 1.0}, "event"), ({"event": True}, "event"),
])
def test_fields_out_of_range_are_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(TelephoneEventError, match=field):
        build_event(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12))
def test_any_bytes_give_an_event_or_the_error(data: bytes) -> None:
    try:
        ev = parse_event(data)
    except TelephoneEventError:
        assert len(data) != 4
    else:
        assert len(data) == 4 and bytes(ev) == bytes([data[0], data[1] & 0xBF]) + data[2:]


@given(st.integers(0, 255), st.booleans(), st.integers(0, 63), st.integers(0, 65535))
def test_round_trip(event: int, end: bool, volume: int, duration: int) -> None:
    ev = TelephoneEvent(event, end, volume, duration)
    assert parse_event(bytes(ev)) == ev


# -- the sender ----------------------------------------------------------------------------------

def test_a_press_as_rfc_4733_sends_it() -> None:
    packets = press("5", 1000)
    assert [p.at for p in packets] == [160, 560, 960, 1000, 1160, 1320]
    assert [p.marker for p in packets] == [True] + [False] * 5
    assert {p.timestamp for p in packets} == {0}
    events = [parse_event(p.payload) for p in packets]
    assert [e.duration for e in events] == [160, 560, 960, 1000, 1000, 1000]
    assert [e.end for e in events] == [False] * 3 + [True] * 3
    assert {e.event for e in events} == {5} and {e.volume for e in events} == {10}


def test_a_press_shorter_than_a_frame_is_its_end_packets() -> None:
    packets = press("*", 100)
    assert [(p.marker, parse_event(p.payload)) for p in packets] == [
        (True, TelephoneEvent(10, True, 10, 100)), (False, TelephoneEvent(10, True, 10, 100)),
        (False, TelephoneEvent(10, True, 10, 100))]


def test_a_long_press_goes_in_segments() -> None:
    packets = press("0", 150_000, interval=4000)
    segments = sorted({p.timestamp for p in packets})
    assert segments == [0, 65535, 131070]
    assert [p.marker for p in packets].count(True) == 1
    for p in packets:
        e = parse_event(p.payload)
        assert 0 < e.duration <= 65535 and p.timestamp + e.duration == min(p.at, 150_000)


def test_press_refuses_nonsense() -> None:
    with pytest.raises(TelephoneEventError, match="duration must be at least 1"):
        press("1", 0)
    with pytest.raises(TelephoneEventError, match="digit must be one of"):
        press("x", 800)
    with pytest.raises(TelephoneEventError, match="interval"):
        press("1", 800, interval=0)


# -- the receiver --------------------------------------------------------------------------------

Packet = tuple[int, int, bool, bytes]  # (arrival time, RTP timestamp, marker, payload)


def stream(keys: str, *, start: int = 1000, hold: int = 800, pause: int = 800, **kw: int
           ) -> list[Packet]:
    """The packets of ``keys`` pressed ``hold`` samples each, ``pause`` apart, in send order."""
    out: list[Packet] = []
    t = start
    for k in keys:
        out += [(t + p.at, (t + p.timestamp) % 2**32, p.marker, p.payload)
                for p in press(k, hold, **kw)]
        t += hold + pause
    return sorted(out, key=lambda p: p[0])


def receive(packets: list[Packet], rx: EventReceiver | None = None, *, tail: int = 8000
            ) -> list[DigitEvent]:
    rx = rx or EventReceiver()
    out: list[DigitEvent] = []
    for _, ts, marker, payload in packets:
        out += rx.receive(ts, marker, payload)
    return out + rx.expire((packets[-1][1] + tail) % 2**32 if packets else 0)


def test_one_event_per_press_with_its_times() -> None:
    got = receive(stream("0612#", start=1000, hold=800, pause=800))
    assert got == [DigitEvent(k, 1000 + 1600 * i, 1800 + 1600 * i)
                   for i, k in enumerate("0612#")]


def test_the_origin_is_the_call_start() -> None:
    rx = EventReceiver(origin=900)
    assert receive(stream("7", start=1000), rx) == [DigitEvent("7", 100, 900)]


def test_the_event_comes_at_the_first_end_packet() -> None:
    rx = EventReceiver()
    packets = stream("9")
    outs = [rx.receive(ts, m, pl) for _, ts, m, pl in packets]
    assert [len(o) for o in outs] == [0, 0, 1, 0, 0]  # 160, 560, then three ends at 800
    assert outs[2] == [DigitEvent("9", 1000, 1800)]


def test_the_same_digit_twice_is_two_presses() -> None:
    assert [e.digit for e in receive(stream("1111", hold=480, pause=320))] == list("1111")


def test_a_lost_start_packet() -> None:
    packets = [p for p in stream("3") if not p[2]]
    assert receive(packets) == [DigitEvent("3", 1000, 1800)]


def test_lost_end_packets_end_the_press_at_the_next_one() -> None:
    packets = [p for p in stream("45") if not (parse_event(p[3]).end and p[1] == 1000)]
    got = receive(packets)
    assert [e.digit for e in got] == ["4", "5"]
    assert got[0] == DigitEvent("4", 1000, 1560)  # the last duration heard


def test_current_tells_two_presses_of_one_key_apart() -> None:
    """For acting when a press begins: the second 4's start ends the first (whose end packets
    were lost); ``pressed`` stays "4", ``current`` has a new start."""
    rx = EventReceiver(origin=1000)
    assert rx.current is None
    rx.receive(1000, True, build_event("4", duration=160))
    assert rx.current == DigitEvent("4", 0, 160) and rx.pressed == "4"
    rx.receive(1000, False, build_event("4", duration=560))
    assert rx.current == DigitEvent("4", 0, 560)
    assert rx.receive(2600, True, build_event("4", duration=160)) == [DigitEvent("4", 0, 560)]
    assert rx.current == DigitEvent("4", 1600, 1760) and rx.pressed == "4"
    rx.receive(2600, False, build_event("4", end=True, duration=800))
    assert rx.current is None and rx.pressed is None
    rx.receive(4000, True, build_event(16, duration=160))  # flash: not a key
    assert rx.current is None and rx.pressed is None


def test_lost_end_packets_end_the_press_after_the_timeout() -> None:
    rx = EventReceiver(timeout=1600)
    for _, ts, m, pl in stream("8"):
        if not parse_event(pl).end:
            assert rx.receive(ts, m, pl) == []
    assert rx.pressed == "8"
    assert rx.expire(1000 + 560 + 1600) == []  # last heard: duration 560
    assert rx.expire(1000 + 560 + 1601) == [DigitEvent("8", 1000, 1560)]
    assert rx.pressed is None and rx.expire(10**6) == []


def test_late_packets_of_a_press_already_reported_are_dropped() -> None:
    rx = EventReceiver()
    packets = stream("6")
    for _, ts, m, pl in packets:
        rx.receive(ts, m, pl)
    for _, ts, m, pl in packets:  # all of it again, as a duplicating network might
        assert rx.receive(ts, m, pl) == []
    assert rx.expire(10**6) == []


def test_reordered_packets_across_presses() -> None:
    packets = stream("12")
    # the second press's start overtakes the first press's end packets
    first_end = [p for p in packets if p[1] == 1000 and parse_event(p[3]).end]
    rest = [p for p in packets if p not in first_end]
    got = receive(rest[:4] + first_end + rest[4:])
    assert [e.digit for e in got] == ["1", "2"]
    assert got[0].end in (1560, 1800)


def test_a_press_all_of_whose_packets_come_after_the_next_ones() -> None:
    packets = stream("123")
    two = [p for p in packets if p[1] == 2600]
    others = [p for p in packets if p[1] != 2600]
    got = receive(others[:-3] + two + others[-3:])  # 2 arrives within 3's packets
    assert sorted(e.digit for e in got) == ["1", "2", "3"]
    assert len({e.start for e in got}) == 3


def test_a_long_press_is_one_event() -> None:
    got = receive(stream("#", hold=150_000, interval=400))
    assert got == [DigitEvent("#", 1000, 151_000)]


def test_timestamps_that_wrap() -> None:
    start = 2**32 - 1000
    got = receive(stream("47", start=start), EventReceiver(origin=start))
    assert got == [DigitEvent("4", 0, 800), DigitEvent("7", 1600, 2400)]


def test_other_events_are_followed_but_not_reported() -> None:
    rx = EventReceiver()
    flash = build_event(16, duration=160)
    assert rx.receive(1000, True, build_event("1", duration=160)) == []
    assert rx.receive(2000, True, flash) == [DigitEvent("1", 1000, 1160)]
    assert rx.pressed is None
    assert rx.receive(2000, False, build_event(16, end=True, duration=800)) == []
    assert rx.receive(3000, True, build_event("2", end=True, duration=400)) == \
        [DigitEvent("2", 3000, 3400)]


def test_two_events_under_one_timestamp_keep_the_first() -> None:
    rx = EventReceiver()
    rx.receive(1000, True, build_event("1", duration=160))
    assert rx.receive(1000, False, build_event("2", end=True, duration=400)) == []
    assert rx.pressed == "1"


def test_a_malformed_payload_raises_and_changes_nothing() -> None:
    rx = EventReceiver()
    rx.receive(1000, True, build_event("5", duration=160))
    with pytest.raises(TelephoneEventError):
        rx.receive(5000, True, b"\x01\x02\x03")
    assert rx.pressed == "5"
    assert rx.receive(1000, False, build_event("5", end=True, duration=640)) == \
        [DigitEvent("5", 1000, 1640)]


def test_receiver_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="memory"):
        EventReceiver(memory=0)
    with pytest.raises(ValueError, match="timeout"):
        EventReceiver(timeout=-1)


def test_press_packets_are_frozen() -> None:
    p = press("1", 800)[0]
    assert isinstance(p, EventPacket)
    with pytest.raises(AttributeError):
        p.at = 5  # type: ignore[misc]


@settings(max_examples=150, deadline=None)
@given(st.text(DTMF_EVENTS, min_size=1, max_size=12), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), st.floats(0.0, 0.5), st.floats(0.0, 0.5))
def test_any_network_gives_each_press_once(keys: str, start: int, seed: int, loss: float,
                                           dup: float) -> None:
    """Loss (never a whole press), duplicates, and packets late by up to 100 ms: every press
    is reported once, with its digit and its start."""
    rng = random.Random(seed)
    sent = stream(keys, start=start, hold=rng.choice([320, 800, 1600]), pause=800)
    arriving: list[tuple[float, Packet]] = []
    for p in sent:
        if rng.random() < loss:
            continue
        for _ in range(2 if rng.random() < dup else 1):
            arriving.append((p[0] + rng.uniform(0, 800), p))
    for ts in {p[1] for p in sent} - {p[1] for _, p in arriving}:  # keep one of each press
        p = next(p for p in sent if p[1] == ts)
        arriving.append((p[0], p))
    arriving.sort(key=lambda a: a[0])
    got = receive([p for _, p in arriving])
    want = {p[1]: DTMF_EVENTS[p[3][0]] for p in sent}  # origin 0: starts are timestamps
    assert sorted((e.start, e.digit) for e in got) == sorted(want.items())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.booleans(), st.binary(max_size=6)),
                max_size=40))
def test_any_packets_give_digits_or_the_error(packets: list[tuple[int, bool, bytes]]) -> None:
    rx = EventReceiver(memory=4)
    seen: list[DigitEvent] = []
    for ts, marker, payload in packets:
        try:
            seen += rx.receive(ts, marker, payload)
        except TelephoneEventError:
            assert len(payload) != 4
    seen += rx.expire(0) + rx.expire(2**31)
    assert all(e.digit in DTMF_EVENTS and e.end >= e.start for e in seen)
