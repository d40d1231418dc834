"""SDP offers and answers for a G.711 modem line: what is chosen from real offers (sipp,
baresip, a trunk with video and hold), the answer's shape (RFC 3264: one m= per offered m=,
refused streams on port 0), refusals that name the line, round trips, and Hypothesis: any
bytes give a description or an SdpError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols.sdp import (
    NoCommonCodec,
    SdpError,
    build_answer,
    build_offer,
    choose_audio,
    parse_sdp,
)

SIPP = (b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        b"t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
BARESIP = (b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           b"m=audio 10002 RTP/AVP 96 9 0 8 101\r\na=rtpmap:96 opus/48000/2\r\n"
           b"a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"
           b"a=sendrecv\r\n")
TRUNK = (b"v=0\r\no=trunk 9 9 IN IP6 2001:db8::1\r\ns=call\r\nt=0 0\r\n"
         b"m=video 7000 RTP/AVP 96\r\nc=IN IP6 2001:db8::2\r\na=rtpmap:96 H264/90000\r\n"
         b"m=audio 7002 RTP/AVP 18 8\r\nc=IN IP6 2001:db8::3\r\na=sendonly\r\n")


@pytest.mark.parametrize(("offer", "codec", "pt", "remote", "te", "direction"), [
    (SIPP, "PCMU", 0, ("127.0.0.1", 6000), None, "sendrecv"),
    (BARESIP, "PCMU", 0, ("127.0.0.1", 10002), 101, "sendrecv"),  # the offerer's order
    (TRUNK, "PCMA", 8, ("2001:db8::3", 7002), None, "recvonly"),
])
def test_what_a_line_takes_from_real_offers(offer: bytes, codec: str, pt: int,
                                            remote: tuple[str, int], te: int | None,
                                            direction: str) -> None:
    choice = choose_audio(parse_sdp(offer))
    assert (choice.codec, choice.payload_type, choice.remote, choice.telephone_event,
            choice.direction) == (codec, pt, remote, te, direction)


def test_the_answer_keeps_the_offer_shape() -> None:
    offer = parse_sdp(TRUNK)
    choice = choose_audio(offer)
    answer = build_answer(offer, choice, "2001:db8::10", 20000, "77", 2)
    assert answer == (b"v=0\r\no=videotex 77 2 IN IP6 2001:db8::10\r\ns=videotex\r\n"
                      b"c=IN IP6 2001:db8::10\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
                      b"m=audio 20000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\n"
                      b"a=recvonly\r\n")
    back = parse_sdp(answer)
    assert [(m.kind, m.port) for m in back.media] == [("video", 0), ("audio", 20000)]
    with_te = build_answer(parse_sdp(BARESIP), choose_audio(parse_sdp(BARESIP), ("PCMA",)),
                           "127.0.0.1", 20002, "1")
    assert b"m=audio 20002 RTP/AVP 8 101\r\n" in with_te
    assert b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n" in with_te


def test_offer_round_trip_and_hold() -> None:
    offer = build_offer("127.0.0.1", 4000, ("PCMU", "PCMA"), "5", 3)
    parsed = parse_sdp(offer)
    assert (parsed.session_id, parsed.version, parsed.address) == ("5", "3", "127.0.0.1")
    (m,) = parsed.media
    assert m.formats == ("0", "8", "101") and m.rtpmap[101] == ("TELEPHONE-EVENT", 8000)
    held = parse_sdp(offer.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0"))
    assert choose_audio(held).remote is None


@pytest.mark.parametrize(("body", "says"), [
    (b"", "v=0"), (b"v=1\r\n", "v=0"), (b"v=0\r\nx\r\n", "line 2"),
    (b"v=0\r\no=a b\r\n", "o= needs 6"), (b"v=0\r\nm=audio 1 RTP/AVP 0\r\n", "no o="),
    (b"v=0\r\nc=IN IP4 host.example\r\n", "not an IP"), (b"v=0\r\nc=IN IP6 1.2.3.4\r\n", "IP6"),
    (b"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", "port"), (b"v=0\r\nm=audio 1 RTP/AVP 999\r\n", "0-127"),
    ("v=0\r\nm=audio \u00b9 RTP/AVP 0\r\n".encode(), "port"),  # isdigit, not int()
    ("v=0\r\nm=audio 1 RTP/AVP \u00b3\r\n".encode(), "0-127"),
    (b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:x PCMU\r\n", "rtpmap"),
    (b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=ptime:0\r\n", "ptime"), (b"v=0\r\n\xff\r\n", "UTF-8"),
])
def test_refusals_name_the_line(body: bytes, says: str) -> None:
    with pytest.raises(SdpError, match=says):
        parse_sdp(body)


def test_no_common_codec_names_what_was_offered() -> None:
    offer = parse_sdp(BARESIP.replace(b" 0 8 101", b" 101"))
    with pytest.raises(NoCommonCodec, match="offered: G722, OPUS, TELEPHONE-EVENT"):
        choose_audio(offer)
    with pytest.raises(NoCommonCodec):
        choose_audio(parse_sdp(SIPP), ("PCMA",))
    no_c = parse_sdp(SIPP.replace(b"c=IN IP4 127.0.0.1\r\n", b""))
    with pytest.raises(SdpError, match="no c= address"):
        choose_audio(no_c)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 st.builds(lambda base, cut, junk: base[:cut] + junk + base[cut:],
                           st.sampled_from([SIPP, BARESIP, TRUNK]), st.integers(0, 300),
                           st.binary(max_size=12))))
def test_any_bytes_give_a_description_or_an_sdp_error(data: bytes) -> None:
    try:
        offer = parse_sdp(data)
        choice = choose_audio(offer)
    except SdpError:
        return
    answer = parse_sdp(build_answer(offer, choice, "127.0.0.1", 20000, "1"))
    assert len(answer.media) == len(offer.media)
