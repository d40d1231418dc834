"""RTP packets, the jitter buffer, AudioSocket frames and digest answers: vectors both ways,
the buffer's rules (reorder, hold, loss, overflow, wrap, restart), and Hypothesis on any
input."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols.audiosocket import (
    AudioSocketError,
    Frame,
    FrameReader,
    Kind,
    caller_from_uuid,
    encode_frame,
)
from videotex.protocols.jitter import JitterBuffer
from videotex.protocols.rtp import RtpError, RtpPacket, RtpSender, is_rtcp, parse_rtp
from videotex.protocols.sipauth import Challenge, DigestError, authorization, parse_challenge

RTP_VECTORS = [
    (RtpPacket(8, 1, 160, 0x01020304, b"\xd5" * 4),
     bytes.fromhex("80080001000000a001020304") + b"\xd5" * 4),
    (RtpPacket(101, 65535, 2**32 - 1, 7, b"\x05\x0a\x00\xa0", marker=True, csrc=(9,)),
     bytes.fromhex("81e5ffffffffffff00000007 00000009".replace(" ", "")) + b"\x05\x0a\x00\xa0"),
    (RtpPacket(0, 2, 3, 4, b"ab", extension=(0xBEDE, b"\x10\x01\x00\x00")),
     bytes.fromhex("900000020000000300000004bede0001100100006162")),
]


@pytest.mark.parametrize(("packet", "wire"), RTP_VECTORS)
def test_rtp_vectors_both_ways(packet: RtpPacket, wire: bytes) -> None:
    assert bytes(packet) == wire
    assert parse_rtp(wire) == packet


def test_rtp_padding_rtcp_and_refusals() -> None:
    padded = bytes.fromhex("a0080001000000a001020304") + b"\xd5\xd5" + b"\x00\x00\x03"
    assert parse_rtp(padded).payload == b"\xd5\xd5"
    rtcp = bytes.fromhex("80c80006")
    assert is_rtcp(rtcp) and not is_rtcp(RTP_VECTORS[0][1])
    for wire, says in [(b"\x80\x08", "shorter"), (bytes(12), "version 0"),
                       (rtcp + bytes(8), "RTCP"), (b"\x8f" + bytes(11), "CSRC count"),
                       (b"\x90" + bytes(11), "extension"),
                       (b"\x90" + bytes(11) + b"\x00\x00\x00\x09", "9 words"),
                       (b"\xa0" + bytes(11) + b"\x00", "padding")]:
        with pytest.raises(RtpError, match=says):
            parse_rtp(wire)


def test_rtp_sender_numbers_and_wraps() -> None:
    sender = RtpSender(8, ssrc=5, sequence=65535, timestamp=2**32 - 80)
    first, second = parse_rtp(sender.packet(b"x" * 160)), parse_rtp(sender.packet(b"y" * 160))
    assert (first.sequence, first.timestamp) == (65535, 2**32 - 80)
    assert (second.sequence, second.timestamp, second.ssrc) == (0, 80, 5)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_any_datagram_gives_a_packet_or_an_rtp_error(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except RtpError:
        return
    assert len(packet.payload) <= len(data) - 12


# -- the jitter buffer -------------------------------------------------------------------------

def frames(buf: JitterBuffer, n: int) -> list[bytes | None]:
    return [buf.pop() for _ in range(n)]


def test_prefetch_then_order_then_hold() -> None:
    buf = JitterBuffer(prefetch=2)
    buf.push(10, 1, b"a")
    assert buf.pop() is None  # one frame held, two wanted
    buf.push(12, 1, b"c")
    buf.push(11, 1, b"b")  # reordered
    assert frames(buf, 4) == [b"a", b"b", b"c", None]  # then nothing came: hold
    buf.push(13, 1, b"d")  # the late sender catches up: nothing lost
    assert frames(buf, 1) == [b"d"]
    assert buf.stats.lost == 0 and buf.stats.concealed == 2


def test_loss_is_skipped_after_patience_and_late_packets_dropped() -> None:
    buf = JitterBuffer(prefetch=1, patience=2)
    for seq in (1, 3):
        buf.push(seq, 1, bytes([seq]))
    assert frames(buf, 1) == [b"\x01"]
    assert buf.pop() is None  # 2 missing, only one held: wait for it
    buf.push(4, 1, b"\x04")
    assert frames(buf, 2) == [b"\x03", b"\x04"]  # 2 declared lost
    buf.push(2, 1, b"\x02")
    assert buf.stats.lost == 1 and buf.stats.late == 1
    buf.push(5, 1, b"\x05")
    buf.push(5, 1, b"\x05")
    assert buf.stats.duplicates == 1


def test_non_audio_packets_use_their_number_without_a_frame() -> None:
    buf = JitterBuffer(prefetch=1)
    buf.push(1, 1, b"a")
    buf.skip(2, 1)  # a telephone-event
    buf.push(3, 1, b"c")
    assert frames(buf, 3) == [b"a", b"c", None] and buf.stats.lost == 0


def test_wrap_overflow_and_restart() -> None:
    buf = JitterBuffer(prefetch=1, max_frames=4)
    for seq in (65534, 65535, 0, 1):
        buf.push(seq, 1, seq.to_bytes(2, "big"))
    assert frames(buf, 4) == [b"\xff\xfe", b"\xff\xff", b"\x00\x00", b"\x00\x01"]
    for seq in range(2, 10):
        buf.push(seq, 1, bytes([seq]))
    assert buf.depth == 4 and buf.stats.overflow == 4
    assert buf.pop() == b"\x06"
    buf.push(5000, 1, b"far")  # a jump: the stream restarted
    buf.push(7, 2, b"new ssrc")
    assert buf.stats.resyncs == 2 and buf.pop() == b"new ssrc"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.integers(0, 65535), st.integers(0, 3)), st.none()),
                max_size=200))
def test_any_arrivals_play_each_frame_once_in_order(events: list[tuple[int, int] | None]) -> None:
    buf = JitterBuffer(prefetch=2, max_frames=8)
    played: list[bytes] = []
    for i, event in enumerate(events):
        if event is None:
            frame = buf.pop()
            if frame is not None:
                played.append(frame)
        else:
            seq, ssrc = event
            buf.push(seq, ssrc, i.to_bytes(2, "big"))  # each packet its own payload
        assert buf.depth <= 8
    assert len(played) == len(set(played))


# -- AudioSocket ---------------------------------------------------------------------------------

CALL = uuid.UUID("40325ec2-5efd-4bd3-805f-53576e581d13")
AS_VECTORS = [
    (Frame(Kind.UUID, CALL.bytes), b"\x01\x00\x10" + CALL.bytes),
    (Frame(Kind.AUDIO, b"\x01\x00" * 160), b"\x10\x01\x40" + b"\x01\x00" * 160),
    (Frame(Kind.DTMF, b"5"), b"\x03\x00\x015"),
    (Frame(Kind.HANGUP), b"\x00\x00\x00"),
    (Frame(Kind.ERROR, b"\x01"), b"\xff\x00\x01\x01"),
]


@pytest.mark.parametrize(("frame", "wire"), AS_VECTORS)
def test_audiosocket_vectors_both_ways(frame: Frame, wire: bytes) -> None:
    assert bytes(frame) == wire
    assert FrameReader().feed(wire) == [frame]
    reader = FrameReader()
    assert [f for b in wire for f in reader.feed(bytes([b]))] == [frame]
    reader = FrameReader()
    assert reader.feed(wire + wire[:2]) == [frame] and reader.buffered == 2


def test_audiosocket_refusals_and_identity() -> None:
    assert AS_VECTORS[0][0].uuid == CALL
    with pytest.raises(AudioSocketError, match="not 16"):
        FrameReader().feed(b"\x01\x00\x02ab")
    with pytest.raises(AudioSocketError, match="whole 16-bit"):
        FrameReader().feed(b"\x10\x00\x03abc")
    with pytest.raises(AudioSocketError, match="not a 16-byte UUID"):
        _ = Frame(Kind.AUDIO, b"").uuid
    with pytest.raises(AudioSocketError, match="more than"):
        encode_frame(Kind.AUDIO, bytes(70000))
    assert caller_from_uuid(uuid.UUID("00000000-0000-4000-8000-ff0320123456")) == "0320123456"
    assert caller_from_uuid(uuid.UUID("00000000-0000-4000-8000-ffffffffffff")) is None
    assert caller_from_uuid(CALL) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=10))
def test_audiosocket_any_stream_any_split(data: bytes, cuts: list[int]) -> None:
    def run(chunks: list[bytes]) -> tuple[list[Frame], str]:
        reader, out = FrameReader(), []
        try:
            for chunk in chunks:
                out += reader.feed(chunk)
        except AudioSocketError as e:
            return out, str(e)
        return out, ""
    pieces, pos = [], 0
    for cut in cuts:
        pieces.append(data[pos:pos + cut])
        pos += cut
    pieces.append(data[pos:])
    assert run([data]) == run(pieces)


# -- digest ----------------------------------------------------------------------------------------

def test_digest_answers_the_rfc_2617_example() -> None:
    challenge = parse_challenge('Digest realm="testrealm@host.com", qop="auth,auth-int", '
                                'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
                                'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    assert challenge.qop == ("auth", "auth-int")
    value = authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life",
                          "0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "qop=auth, nc=00000001" in value and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value
    assert "Circle" not in value


def test_digest_without_qop_sha256_and_refusals() -> None:
    plain = authorization(Challenge("r", "n"), "REGISTER", "sip:x", "u", "p", "c")
    assert "qop" not in plain and "response=" in plain
    sha = authorization(parse_challenge('Digest realm="r", nonce="n", algorithm=SHA-256-sess, '
                                        'qop=auth'), "REGISTER", "sip:x", "u", "p", "c")
    assert "algorithm=SHA-256-SESS" in sha and len(sha.split('response="')[1].split('"')[0]) == 64
    for value, says in [("Basic realm=x", "not Digest"), ('Digest nonce="n"', "no realm"),
                        ('Digest realm="r", nonce="n", algorithm=SHA1', "algorithm"),
                        ('Digest realm="r", nonce="n", qop="auth-int"', "does not offer auth"),
                        ('Digest realm="r" nonce', "name=value")]:
        with pytest.raises(DigestError, match=says):
            parse_challenge(value)
