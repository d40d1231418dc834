"""The emulator's media side, sans-IO: SDP offer/answer, the RTP packet codec and sender,
the jitter buffer (reordering, concealment, bounded delay)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.rtp import JitterBuffer, RtpError, RtpPacket, RtpSender, parse_rtp
from terminal_emu.sdp import CODECS, MediaAnswer, SdpError, build_offer, parse_answer

# -- SDP ------------------------------------------------------------------------------


def test_offer() -> None:
    offer = build_offer("127.0.0.1", 40000, ["pcmu", "pcma"], session_id=7).decode()
    assert offer.split("\r\n") == [
        "v=0", "o=- 7 1 IN IP4 127.0.0.1", "s=terminal-emu", "c=IN IP4 127.0.0.1", "t=0 0",
        "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20", "a=sendrecv", ""]


def test_offer_in_the_order_asked_ipv6_without_dtmf() -> None:
    offer = build_offer("::1", 40002, ["pcma"], session_id=1, telephone_event=False).decode()
    assert "c=IN IP6 ::1" in offer and "m=audio 40002 RTP/AVP 8\r\n" in offer
    assert "telephone-event" not in offer and "PCMU" not in offer


PCMU, PCMA = CODECS["pcmu"], CODECS["pcma"]
BOTH = ["pcmu", "pcma"]
ANSWERS = [  # (body, offered, expected)
    ("v=0\r\nc=IN IP4 127.0.0.2\r\nm=audio 4000 RTP/AVP 0\r\n", BOTH,
     MediaAnswer("127.0.0.2", 4000, PCMU, "sendrecv")),
    # no rtpmap for a static type; the answer's order wins; media c= over session c=
    ("v=0\nc=IN IP4 10.0.0.1\nm=audio 4002 RTP/AVP 8 0\nc=IN IP4 127.0.0.3\na=sendonly\n", BOTH,
     MediaAnswer("127.0.0.3", 4002, PCMA, "sendonly")),
    # telephone-event and an unknown codec first are skipped
    ("v=0\r\nc=IN IP6 0:0::1\r\nm=audio 4004 RTP/AVP 101 18 8\r\na=rtpmap:101 telephone-event/8000"
     "\r\na=rtpmap:18 G729/8000\r\n", BOTH, MediaAnswer("::1", 4004, PCMA, "sendrecv")),
    # a refused video stream, a refused first audio, then the one
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 0 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\n"
     "m=audio 4006 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", ["pcmu"],
     MediaAnswer("127.0.0.1", 4006, PCMU, "sendrecv")),
]


@pytest.mark.parametrize(("body", "offered", "expected"), ANSWERS)
def test_answer(body: str, offered: list[str], expected: MediaAnswer) -> None:
    assert parse_answer(body.encode(), offered) == expected


BAD_ANSWERS = [  # (body, offered, words)
    ("", BOTH, "no SDP body"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\n", BOTH, "no m=audio"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n", BOTH, "refused the audio"),
    ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", BOTH, "no c= line"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n", BOTH, "RTP/SAVP"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\n", BOTH, "PCMU \\(0\\), PCMA"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", ["pcma"], "PCMA \\(8\\)"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 G722/8000\r\n", BOTH,
     "none of the offered"),
    ("v=0\r\nc=IN IP4 server.example\r\nm=audio 4000 RTP/AVP 0\r\n", BOTH, "not an IP address"),
    ("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n", BOTH, "on hold"),
    ("v=0\r\nc=IN ATM x\r\nm=audio 4000 RTP/AVP 0\r\n", BOTH, "expected c=IN IP4"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio x RTP/AVP 0\r\n", BOTH, "expected m=audio PORT"),
    ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n", BOTH, "out of range"),
]


@pytest.mark.parametrize(("body", "offered", "words"), BAD_ANSWERS)
def test_bad_answers_say_what(body: str, offered: list[str], words: str) -> None:
    with pytest.raises(SdpError, match=words):
        parse_answer(body.encode(), offered)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_answer_is_usable_or_sdp_error(body: bytes) -> None:
    with contextlib.suppress(SdpError):
        parse_answer(body, BOTH)


# -- RTP ------------------------------------------------------------------------------

PACKETS = [  # (packet, bytes)
    (RtpPacket(0, 1, 160, 0xDEADBEEF, b"\xff" * 4, marker=True),
     bytes.fromhex("8080 0001 000000a0 deadbeef ffffffff")),
    (RtpPacket(8, 0xFFFF, 0xFFFFFFFF, 1, b""), bytes.fromhex("8008 ffff ffffffff 00000001")),
]


@pytest.mark.parametrize(("packet", "data"), PACKETS)
def test_rtp_both_ways(packet: RtpPacket, data: bytes) -> None:
    assert packet.encode() == data
    assert parse_rtp(data) == packet


def test_rtp_csrc_extension_padding_are_skipped() -> None:
    header = bytes.fromhex("b2 00 0007 00000010 00000002")  # V=2 P X CC=2
    csrcs = bytes(8)
    extension = bytes.fromhex("bede 0001 11223344")
    data = header + csrcs + extension + b"abc" + b"\x00\x00\x03"
    assert parse_rtp(data) == RtpPacket(0, 7, 16, 2, b"abc")


BAD_RTP = [
    (b"\x80\x00", "shorter than the 12-byte"),
    (bytes.fromhex("40 00 0001 00000000 00000000"), "version 1"),
    (bytes.fromhex("8f 00 0001 00000000 00000000"), "longer than the packet"),  # 15 CSRCs
    (bytes.fromhex("90 00 0001 00000000 00000000 bede"), "extension cut short"),
    (bytes.fromhex("a0 00 0001 00000000 00000000 0000ff"), "longer than the packet"),
    (bytes.fromhex("a0 00 0001 00000000 00000000 00"), "longer than the packet"),
]


@pytest.mark.parametrize(("data", "words"), BAD_RTP)
def test_bad_rtp_says_what(data: bytes, words: str) -> None:
    with pytest.raises(RtpError, match=words):
        parse_rtp(data)


@given(st.binary(max_size=200))
@settings(max_examples=400, deadline=None)
def test_any_datagram_is_rtp_or_rtp_error(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except RtpError:
        return
    assert len(packet.payload) <= len(data) - 12


def test_sender_counts_and_wraps() -> None:
    s = RtpSender(8, ssrc=5, seq=0xFFFE, timestamp=0xFFFFFF00)
    packets = [parse_rtp(s.packet(bytes([i]) * 160)) for i in range(3)]
    assert [p.seq for p in packets] == [0xFFFE, 0xFFFF, 0]
    assert [p.timestamp for p in packets] == [0xFFFFFF00, 0xFFFFFFA0, 0x40]
    assert [p.marker for p in packets] == [True, False, False]
    assert {p.ssrc for p in packets} == {5} and {p.payload_type for p in packets} == {8}
    s.skip(2)
    assert parse_rtp(s.packet(b"")).timestamp == 0x40 + 3 * 160


def test_senders_start_at_random_points() -> None:
    a, b = RtpSender(0), RtpSender(0)
    assert (a.ssrc, a.seq, a.timestamp) != (b.ssrc, b.seq, b.timestamp)


# -- jitter buffer ------------------------------------------------------------------------


def frame(i: int) -> bytes:
    return bytes([i & 0xFF]) * 160


def play(jb: JitterBuffer, ticks: int) -> list[int | None]:
    out = []
    for _ in range(ticks):
        f = jb.pop()
        out.append(None if f is None else f[0])
    return out


def test_waits_for_depth_then_plays_in_order() -> None:
    jb = JitterBuffer(depth=2)
    jb.push(10, frame(10))
    assert play(jb, 1) == [None]
    jb.push(11, frame(11))
    assert play(jb, 2) == [10, 11]


def test_reorders() -> None:
    jb = JitterBuffer(depth=3)
    for seq in (2, 1, 3, 5, 4):
        jb.push(seq, frame(seq))
    assert play(jb, 5) == [1, 2, 3, 4, 5]
    assert jb.stats.played == 5 and jb.stats.concealed == 0 and jb.stats.reordered == 2


def test_conceals_a_lost_frame_by_repeating_then_silence() -> None:
    jb = JitterBuffer(depth=1, repeat=1)
    for seq in (1, 2, 6):  # 3, 4, 5 lost
        jb.push(seq, frame(seq))
    assert play(jb, 6) == [1, 2, 2, None, None, 6]
    assert jb.stats.concealed == 3


def test_late_and_duplicate_frames_are_dropped() -> None:
    jb = JitterBuffer(depth=1)
    jb.push(1, frame(1))
    jb.push(1, frame(99))
    assert play(jb, 1) == [1]
    jb.push(1, frame(1))  # already played
    jb.push(2, frame(2))
    assert play(jb, 1) == [2]
    assert (jb.stats.duplicate, jb.stats.late) == (1, 1)


def test_an_empty_buffer_waits_instead_of_skipping() -> None:
    jb = JitterBuffer(depth=1)
    jb.push(1, frame(1))
    assert play(jb, 3) == [1, None, None]  # the far end paused
    jb.push(2, frame(2))  # it comes back: nothing was lost
    assert play(jb, 1) == [2]
    assert jb.stats.underruns == 2 and jb.stats.concealed == 0 and jb.stats.late == 0


def test_the_delay_stays_bounded() -> None:
    jb = JitterBuffer(depth=2, max_depth=5)
    for seq in range(12):  # a burst of 12 frames at once
        jb.push(seq, frame(seq))
    assert play(jb, 3) == [10, 11, None]
    assert jb.stats.overflow == 10


def test_sequence_wraps() -> None:
    jb = JitterBuffer(depth=2)
    for seq in (0xFFFF, 0, 0xFFFE, 1):
        jb.push(seq, frame(seq))
    assert play(jb, 4) == [0xFE, 0xFF, 0, 1]


def test_a_jump_or_a_new_ssrc_restarts() -> None:
    jb = JitterBuffer(depth=1, max_depth=4)
    jb.push(1, frame(1), ssrc=7)
    assert play(jb, 1) == [1]
    jb.push(5000, frame(50), ssrc=7)
    assert play(jb, 1) == [50] and jb.stats.restarts == 1
    jb.push(3, frame(3), ssrc=8)  # a new stream: earlier numbers are not "late"
    assert play(jb, 1) == [3] and jb.stats.restarts == 2


@given(st.lists(st.one_of(st.integers(0, 0xFFFF), st.none()), max_size=200),
       st.integers(1, 4), st.integers(4, 12))
@settings(max_examples=300, deadline=None)
def test_frames_come_out_once_in_order(ops: list[int | None], depth: int, extra: int) -> None:
    """Any arrivals (None: a tick): a frame plays at most once, in sequence order between
    restarts, and the buffer never holds more than ``max_depth`` + 1 frames after a tick."""
    jb = JitterBuffer(depth=depth, max_depth=depth + extra)
    payloads: dict[int, bytes] = {}
    played: list[int] = []
    restarts = 0
    for op in ops:
        if op is not None:
            payloads.setdefault(op, op.to_bytes(2, "big"))
            jb.push(op, payloads[op])
            continue
        f = jb.pop()
        if jb.stats.restarts != restarts:
            restarts, played = jb.stats.restarts, []
        if f is not None and jb.stats.played + jb.stats.concealed:
            seq = int.from_bytes(f[:2], "big")
            if played and seq == played[-1]:
                continue  # a concealment repeat
            if played:
                assert 0 < (seq - played[-1]) & 0xFFFF < 0x8000
            played.append(seq)
        assert len(jb) <= jb.max_depth + 1


@given(st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=400), st.sampled_from(["ulaw", "alaw"]))
@settings(max_examples=200, deadline=None)
def test_the_transports_encoder_is_g711s(samples: list[float], law: str) -> None:
    """The per-frame shortcut in transport_sip gives exactly :func:`g711.encode`'s bytes."""
    import numpy as np

    from terminal_emu import g711
    from terminal_emu.transport_sip import _encode

    x = np.array(samples)
    assert _encode(x, law) == g711.encode(x, law)  # type: ignore[arg-type]
