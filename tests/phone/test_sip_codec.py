"""The SIP message codec both ways: one table of (message, bytes) vectors, each fed whole,
through the TCP framer byte by byte and with trailing bytes; header values; refusals that
name what is wrong; Hypothesis: any bytes give a message or a SipError, never another
exception, and a split stream frames the same messages."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.channels.phone.salvage import salvage
from videotex.protocols.sip import (
    SipError,
    SipRequest,
    SipResponse,
    SipStream,
    canonical_name,
    missing_headers,
    parse_cseq,
    parse_message,
    parse_name_addr,
    parse_uri,
    parse_via,
    response_for,
    split_commas,
)

SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
      b"m=audio 6000 RTP/AVP 8\r\n"
INVITE_HEADERS = (
    ("Via", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport"),
    ("From", '"Minitel" <sip:0320123456@127.0.0.1>;tag=a1'),
    ("To", "<sip:3615@127.0.0.1>"), ("Call-ID", "c1@127.0.0.1"), ("CSeq", "1 INVITE"),
    ("Contact", "<sip:0320123456@127.0.0.1:5061>"), ("Content-Type", "application/sdp"))

VECTORS: list[tuple[SipRequest | SipResponse, bytes]] = [
    (SipRequest(INVITE_HEADERS, SDP, "INVITE", "sip:3615@127.0.0.1"),
     b"INVITE sip:3615@127.0.0.1 SIP/2.0\r\n"
     b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport\r\n"
     b'From: "Minitel" <sip:0320123456@127.0.0.1>;tag=a1\r\nTo: <sip:3615@127.0.0.1>\r\n'
     b"Call-ID: c1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:0320123456@127.0.0.1:5061>\r\n"
     b"Content-Type: application/sdp\r\nContent-Length: 87\r\n\r\n" + SDP),
    (SipResponse((("Via", "SIP/2.0/UDP h;branch=z9hG4bKx"), ("CSeq", "2 BYE")), b"", 200, "OK"),
     b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nCSeq: 2 BYE\r\n"
     b"Content-Length: 0\r\n\r\n"),
    (SipRequest((("Call-ID", "x"),), b"", "OPTIONS", "sip:h"),
     b"OPTIONS sip:h SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"),
    (SipResponse((), b"", 486, "Busy Here"), b"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n"),
]


@pytest.mark.parametrize(("message", "wire"), VECTORS)
def test_vectors_both_ways(message: SipRequest | SipResponse, wire: bytes) -> None:
    assert bytes(message) == wire
    assert parse_message(wire) == message
    # through the TCP framer: whole, byte by byte, and followed by the next message's start
    assert SipStream().feed(wire) == [message]
    stream = SipStream()
    got = [m for i in range(len(wire)) for m in stream.feed(wire[i:i + 1])]
    assert got == [message] and stream.buffered == 0
    stream = SipStream()
    assert stream.feed(b"\r\n\r\n" + wire + wire[:10]) == [message]
    assert stream.buffered == 10


def test_lenient_forms_parse_to_the_same_message() -> None:
    compact = (b"INVITE sip:3615@127.0.0.1 SIP/2.0\n"
               b"v: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport\n"
               b'f: "Minitel"\n <sip:0320123456@127.0.0.1>;tag=a1\n'  # folded
               b"t: <sip:3615@127.0.0.1>\ni: c1@127.0.0.1\nCSeq:   1 INVITE\n"
               b"m: <sip:0320123456@127.0.0.1:5061>\nc: application/sdp\nl: 87\n\n" + SDP + b"xx")
    assert parse_message(compact) == VECTORS[0][0]
    assert parse_message(b"\r\n\r\n" + VECTORS[0][1]) == VECTORS[0][0]


@pytest.mark.parametrize(("wire", "says"), [
    (b"", "empty"),
    (b"INVITE sip:x SIP/3.0\r\n\r\n", "version"),
    (b"INVITE sip:x\r\n\r\n", "METHOD URI SIP/2.0"),
    (b"INV<ITE sip:x SIP/2.0\r\n\r\n", "token"),
    (b"SIP/2.0 2000 OK\r\n\r\n", "status line"),
    (b"OPTIONS sip:x SIP/2.0\r\nno colon here\r\n\r\n", "line 2"),
    (b"OPTIONS sip:x SIP/2.0\r\n folded first\r\n\r\n", "continuation"),
    (b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nabc", "Content-Length says 10"),
    (b"OPTIONS sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
    # a superscript is a digit to str.isdigit() and not to int(): a ValueError escaped
    ("OPTIONS sip:x SIP/2.0\r\nContent-Length: \u00b9\r\n\r\n".encode(), "Content-Length"),
    (b"OPTIONS sip:x SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", "twice"),
    (b"OPTIONS sip:x SIP/2.0\r\nX: \xff\r\n\r\n", "UTF-8"),
    (b"OPTIONS sip:x SIP/2.0\r\n" + b"A: b\r\n" * 200 + b"\r\n", "headers"),
    (b"X" * 70_000, "more than"),
])
def test_refusals_name_what_is_wrong(wire: bytes, says: str) -> None:
    with pytest.raises(SipError, match=says):
        parse_message(wire)


def test_header_values() -> None:
    uri = parse_uri("sip:+33320123456@[2001:db8::1]:5070;user=phone?subject=x")
    assert (uri.scheme, uri.user, uri.host, uri.port) == ("sip", "+33320123456", "2001:db8::1", 5070)
    assert uri.params == {"user": "phone"} and uri.hostport == "[2001:db8::1]:5070"
    assert parse_uri("tel:+33320123456;phone-context=x").user == "+33320123456"
    addr = parse_name_addr('"Dupont, Jean" <sip:0320@gw;transport=udp>;tag=9;expires=60')
    assert addr.display == "Dupont, Jean" and addr.tag == "9" and addr.uri.params["transport"] == "udp"
    assert parse_name_addr("sip:0320@gw;tag=7").tag == "7"  # addr-spec: the tag is the header's
    via = parse_via("SIP/2.0/tcp gw.example:5080;branch=z9hG4bK77;received=1.2.3.4, SIP/2.0/UDP b")
    assert (via.transport, via.host, via.port, via.branch) == ("TCP", "gw.example", 5080, "z9hG4bK77")
    assert via.sent_by == "gw.example:5080"
    assert parse_cseq("314159 INVITE") == (314159, "INVITE")
    assert split_commas('"a, b" <sip:x>, <sip:y;p=",">, sip:z') == [
        '"a, b" <sip:x>', '<sip:y;p=",">', "sip:z"]
    assert canonical_name("WWW-AUTHENTICATE") == "WWW-Authenticate"
    assert canonical_name("x-my-header") == "X-My-Header"
    assert missing_headers(SipRequest((("Via", "v"), ("To", "t")), b"", "BYE", "sip:x")) == [
        "From", "Call-ID", "CSeq"]


@pytest.mark.parametrize(("parse", "text", "says"), [
    (parse_uri, "http://x", "sip:"), (parse_uri, "sip:", "host"),
    (parse_uri, "sip:u@h:99999", "port"), (parse_uri, "sip:u@[::1", "IPv6"),
    (parse_uri, "sip:a b@h", "spaces"), (parse_uri, "sip:a<b@h", "cannot hold"),
    (parse_name_addr, "<sip:x", "'<' without '>'"), (parse_via, "SIP/2.0 host", "transport"),
    (parse_via, "", "empty"), (parse_cseq, "1", "number METHOD"),
    (parse_cseq, "99999999999 INVITE", "number"),
    (parse_cseq, "\u00b2 INVITE", "number"), (parse_uri, "sip:u@h:\u00b9", "port"),
])
def test_header_refusals(parse: object, text: str, says: str) -> None:
    with pytest.raises(SipError, match=says):
        parse(text)  # type: ignore[operator]


def test_response_for_copies_the_dialog_headers_and_stamps_the_via() -> None:
    req = VECTORS[0][0]
    assert isinstance(req, SipRequest)
    resp = response_for(req, 180, to_tag="b2", received=("10.0.0.9", 6000),
                        headers=(("Server", "t"),))
    assert resp.reason == "Ringing" and resp.header("To") == "<sip:3615@127.0.0.1>;tag=b2"
    assert resp.header("Via") == ("SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport=6000;"
                                  "received=10.0.0.9")
    assert [k for k, _ in resp.headers] == ["Via", "From", "To", "Call-ID", "CSeq", "Server"]
    again = response_for(parse_message(bytes(resp.__class__(
        (("To", "<sip:x>;tag=z"),), b"", 200, "OK"))), 200, to_tag="new")  # type: ignore[arg-type]
    assert again.header("To") == "<sip:x>;tag=z"


def test_salvage_finds_what_a_400_needs() -> None:
    broken = VECTORS[0][1].replace(b"Content-Length: 87", b"Content-Length: 999")
    stub = salvage(broken)
    assert stub is not None and stub.method == "INVITE" and stub.header("CSeq") == "1 INVITE"
    assert salvage(b"SIP/2.0 200 OK\r\n\r\n") is None
    assert salvage(b"INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n") is None


def test_stream_refuses_what_cannot_be_framed() -> None:
    with pytest.raises(SipError, match="no end of headers"):
        SipStream().feed(b"A" * 70_000)
    with pytest.raises(SipError, match="Content-Length"):
        SipStream().feed(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: x\r\n\r\n")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_message_or_a_sip_error(data: bytes) -> None:
    try:
        message = parse_message(data)
    except SipError:
        return
    assert parse_message(bytes(message)) == message


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    wire = bytearray(draw(st.sampled_from([v[1] for v in VECTORS])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(wire)))
        op = draw(st.integers(0, 2))
        if op == 0 and wire:
            wire[at % len(wire)] = draw(st.integers(0, 255))
        elif op == 1:
            wire[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del wire[at:at + draw(st.integers(1, 8))]
    return bytes(wire)


@settings(max_examples=300, deadline=None)
@given(mutated(), st.lists(st.integers(1, 40), max_size=20))
def test_mutated_messages_and_any_split_frame_the_same(data: bytes, cuts: list[int]) -> None:
    with contextlib.suppress(SipError):
        parse_message(data)
    whole, split = SipStream(), SipStream()
    try:
        expected = whole.feed(data)
    except SipError:
        return
    got, pos = [], 0
    for cut in cuts:
        got += split.feed(data[pos:pos + cut])
        pos += cut
    got += split.feed(data[pos:])
    assert got == expected and split.buffered == whole.buffered
