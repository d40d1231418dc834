"""The emulator's SIP user agent client, sans-IO: messages both ways, then the call's
transactions (RFC 3261 timers A/B/E/F on an injected clock, ACK, CANCEL, BYE, the UAS
role inside the call) and the ``sip:`` URL."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.client import ConnectError, open_transport
from terminal_emu.sdp import build_offer
from terminal_emu.sip import (
    Request,
    Response,
    SipError,
    branch_of,
    build_request,
    build_response,
    cseq_of,
    param_of,
    parse,
    uri_of,
)
from terminal_emu.sip_call import (
    Answered,
    CallConfig,
    CallState,
    Ended,
    Ignored,
    Progress,
    Rejected,
    RemoteHangUp,
    Reoffer,
    TimedOut,
    UacCall,
)
from terminal_emu.transport_sip import DEFAULT_CALLER, parse_sip_url

SERVER = ("127.0.0.1", 5060)
ME = ("127.0.0.1", 5062)
SDP = build_offer("127.0.0.1", 40000, ["pcmu", "pcma"], session_id=42)
ANSWER = b"v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"

# -- messages -------------------------------------------------------------------------

INVITE = (b"INVITE sip:3615@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKa"
          b"\r\nFrom: <sip:0612345678@127.0.0.1>;tag=t1\r\nTo: <sip:3615@127.0.0.1>\r\n"
          b"Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\r\n")

PARSE = [  # (datagram, type, start line fields, header checks, body)
    (INVITE, Request, ("INVITE", "sip:3615@127.0.0.1"), {"call-id": "c1", "i": "c1"}, b"v=0\r"),
    (b"SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP h;branch=z9hG4bKb\r\ni: c2\r\nl: 0\r\n\r\n",
     Response, (180, "Ringing"), {"Via": "SIP/2.0/UDP h;branch=z9hG4bKb", "Call-ID": "c2"}, b""),
    (b"SIP/2.0 486 Busy Here\nCall-ID: c3\nSubject: a\n  b\n\n",  # LF only, folded line
     Response, (486, "Busy Here"), {"subject": "a b", "s": "a b"}, b""),
    (b"SIP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef",  # body cut to Content-Length
     Response, (200, "OK"), {"content-length": "3"}, b"abc"),
    (b"BYE sip:x@h SIP/2.0\r\nCall-ID: c4\r\n\r\nrest",  # no Content-Length: all of it
     Request, ("BYE", "sip:x@h"), {"CALL-ID": "c4"}, b"rest"),
]


@pytest.mark.parametrize(("data", "kind", "start", "headers", "body"), PARSE)
def test_parse(data: bytes, kind: type, start: tuple[object, object],
               headers: dict[str, str], body: bytes) -> None:
    msg = parse(data)
    assert isinstance(msg, kind)
    got = (msg.method, msg.uri) if isinstance(msg, Request) else (msg.status, msg.reason)
    assert got == start
    for name, value in headers.items():
        assert msg.header(name) == value
    assert msg.body == body


BAD = [  # (datagram, words of the error)
    (b"", "no blank line"),
    (b"\x00\x01\x02", "no blank line"),
    (b"INVITE sip:x@h SIP/2.0\r\n", "no blank line"),
    (b"SIP/2.0 99 Odd\r\n\r\n", "status '99'"),
    (b"SIP/2.0 abc OK\r\n\r\n", "status 'abc'"),
    (b"SIP/3.0 200 OK\r\n\r\n", "version 'SIP/3.0'"),
    (b"INVITE sip:x@h HTTP/1.1\r\n\r\n", "version 'HTTP/1.1'"),
    (b"INVITE\r\n\r\n", "METHOD URI SIP/2.0"),
    (b"INV<TE sip:x@h SIP/2.0\r\n\r\n", "bad method"),
    (b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n", "without a name"),
    (b"SIP/2.0 200 OK\r\n folded first\r\n\r\n", "continuation line"),
    (b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length 'x'"),
    ("SIP/2.0 200 OK\r\nContent-Length: \u00b9\r\n\r\n".encode(), "Content-Length"),
    (b"SIP/2.0 200 OK\r\nContent-Length: 9\r\n\r\nabc", "shorter"),
    (b"SIP/2.0 200 OK\r\nVia: \xff\r\n\r\n", "not UTF-8"),
]


@pytest.mark.parametrize(("data", "words"), BAD)
def test_parse_errors_say_what(data: bytes, words: str) -> None:
    with pytest.raises(SipError, match=words.replace("(", r"\(")):
        parse(data)


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_parse_any_bytes_gives_a_message_or_sip_error(data: bytes) -> None:
    with contextlib.suppress(SipError):
        parse(data)


def test_built_messages_parse_back() -> None:
    req = build_request("OPTIONS", "sip:a@h", [("Via", "SIP/2.0/UDP h;branch=z9hG4bKx"),
                                               ("CSeq", "7 OPTIONS")], b"body")
    assert parse(req.encode()) == Request(headers=(*req.headers, ("Content-Length", "4")),
                                          body=b"body", method="OPTIONS", uri="sip:a@h")
    resp = build_response(req, 200, "OK", to_tag="zz")
    again = parse(resp.encode())
    assert isinstance(again, Response) and (again.status, again.reason) == (200, "OK")
    assert again.header("via") == "SIP/2.0/UDP h;branch=z9hG4bKx"


def test_response_copies_the_request_and_tags_to() -> None:
    req = parse(INVITE)
    assert isinstance(req, Request)
    resp = build_response(req, 180, "Ringing", to_tag="srv", extra=[("Contact", "<sip:s@h>")])
    names = [n for n, _ in resp.headers]
    assert names == ["Via", "From", "To", "Call-ID", "CSeq", "Contact"]
    assert resp.header("to") == "<sip:3615@127.0.0.1>;tag=srv"
    assert build_response(parse(resp.encode()), 200, "OK", to_tag="other")  # type: ignore[arg-type]


VALUES = [  # (header value, tag, uri)
    ('"Bob" <sip:bob@h;user=phone>;tag=9;x', "9", "sip:bob@h;user=phone"),
    ("<sip:bob@h>", None, "sip:bob@h"),
    ("sip:bob@h;tag=4", "4", "sip:bob@h"),
    ("<sip:a,b@h> ; tag = 5", "5", "sip:a,b@h"),
]


@pytest.mark.parametrize(("value", "tag", "uri"), VALUES)
def test_header_values(value: str, tag: str | None, uri: str) -> None:
    assert param_of(value, "tag") == tag
    assert uri_of(value) == uri


def test_cseq_and_branch() -> None:
    msg = parse(INVITE)
    assert cseq_of(msg) == (1, "INVITE")
    assert branch_of(msg) == "z9hG4bKa"
    bare = parse(b"SIP/2.0 200 OK\r\nCSeq: x INVITE\r\n\r\n")
    assert cseq_of(bare) is None and branch_of(bare) is None


# -- the call -----------------------------------------------------------------------------


def new_call(**kw: object) -> UacCall:
    config = CallConfig("3615", SERVER, ME, str(kw.pop("caller", "0612345678")), SDP,
                        **kw)  # type: ignore[arg-type]
    return UacCall(config)


def sent(call: UacCall) -> list[Request | Response]:
    out = [parse(data) for data, _ in call.outbox]
    call.outbox.clear()
    return out


def started() -> tuple[UacCall, Request]:
    call = new_call(pai="0199000001")
    call.start(0.0)
    (invite,) = sent(call)
    assert isinstance(invite, Request)
    return call, invite


def reply(call: UacCall, invite: Request, status: int, reason: str, now: float = 0.1,
          **kw: object) -> list[object]:
    resp = build_response(invite, status, reason, to_tag="srv", **kw)  # type: ignore[arg-type]
    return list(call.receive(resp.encode(), SERVER, now))


def test_invite_says_who_calls_whom() -> None:
    call, invite = started()
    assert (invite.method, invite.uri) == ("INVITE", "sip:3615@127.0.0.1:5060")
    assert invite.header("from") == f"<sip:0612345678@127.0.0.1>;tag={call.local_tag}"
    assert invite.header("to") == "<sip:3615@127.0.0.1:5060>"
    assert invite.header("contact") == "<sip:0612345678@127.0.0.1:5062>"
    assert invite.header("p-asserted-identity") == "<sip:0199000001@127.0.0.1:5060>"
    assert invite.header("cseq") == "1 INVITE"
    assert (branch_of(invite) or "").startswith("z9hG4bK")
    assert (invite.header("via") or "").startswith("SIP/2.0/UDP 127.0.0.1:5062;rport")
    assert invite.header("content-type") == "application/sdp" and invite.body == SDP
    assert call.state is CallState.CALLING


def test_anonymous_caller() -> None:
    call = new_call(caller="anonymous")
    call.start(0.0)
    (invite,) = sent(call)
    assert (invite.header("from") or "").startswith('"Anonymous" <sip:anonymous@anonymous.invalid>')
    assert invite.header("contact") == "<sip:127.0.0.1:5062>"
    assert invite.header("p-asserted-identity") is None


def test_timer_a_doubles_and_timer_b_gives_up() -> None:
    call, _invite = started()
    resent = []
    now = 0.0
    while (when := call.next_timer) is not None:
        now = when
        events = call.on_timer(now)
        resent += [now for _ in sent(call)]
        if events:
            assert events == [TimedOut("INVITE")]
            break
    assert resent == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # 500 ms, then doubling
    assert now == 32.0 and call.state is CallState.TERMINATED  # 64·T1
    assert call.on_timer(40.0) == [] and call.next_timer is None


def test_provisional_stops_retransmission_then_200_is_acked() -> None:
    call, invite = started()
    assert reply(call, invite, 100, "Trying") == [Progress(100, "Trying")]
    assert reply(call, invite, 180, "Ringing") == [Progress(180, "Ringing")]
    assert call.state is CallState.PROCEEDING and call.next_timer is None
    events = reply(call, invite, 200, "OK", extra=[("Contact", "<sip:srv@127.0.0.1:5070>"),
                                                   ("Record-Route", "<sip:p1;lr>, <sip:p2;lr>")],
                   body=ANSWER)
    assert events == [Answered(200, "OK", ANSWER)]
    assert call.state is CallState.ESTABLISHED
    (ack,) = sent(call)
    assert isinstance(ack, Request) and (ack.method, ack.uri) == ("ACK", "sip:srv@127.0.0.1:5070")
    assert ack.header("cseq") == "1 ACK" and (ack.header("to") or "").endswith(";tag=srv")
    assert branch_of(ack) != branch_of(invite)  # §13.2.2.4: a new transaction
    assert ack.headers_named("route") == ["<sip:p2;lr>", "<sip:p1;lr>"]
    # the 200 again (our ACK was lost): the same ACK again, no second Answered
    assert reply(call, invite, 200, "OK", body=ANSWER) == []
    assert sent(call) == [ack]


def test_rejection_is_acked_in_the_transaction() -> None:
    call, invite = started()
    assert reply(call, invite, 486, "Busy Here") == [Rejected(486, "Busy Here")]
    (ack,) = sent(call)
    assert isinstance(ack, Request) and ack.method == "ACK" and ack.uri == invite.uri
    assert branch_of(ack) == branch_of(invite)  # §17.1.1.3: same branch as the INVITE
    assert ack.header("to") == "<sip:3615@127.0.0.1:5060>;tag=srv"
    assert call.state is CallState.TERMINATED
    assert reply(call, invite, 486, "Busy Here") == [] and sent(call) == [ack]


def established() -> tuple[UacCall, Request]:
    call, invite = started()
    reply(call, invite, 200, "OK", extra=[("Contact", "<sip:srv@127.0.0.1>")], body=ANSWER)
    sent(call)
    return call, invite


def test_bye_retransmits_on_timer_e_until_answered() -> None:
    call, _ = established()
    call.hang_up(10.0)
    (bye,) = sent(call)
    assert isinstance(bye, Request) and (bye.method, bye.uri) == ("BYE", "sip:srv@127.0.0.1")
    assert bye.header("cseq") == "2 BYE" and call.state is CallState.TERMINATING
    times = []
    for _ in range(6):
        now = call.next_timer
        assert now is not None
        call.on_timer(now)
        times.append(round(now - 10.0, 3))
        assert sent(call) == [bye]
    assert times == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5]  # doubling up to T2 = 4 s
    ok = build_response(bye, 200, "OK")
    assert call.receive(ok.encode(), SERVER, 30.0) == [Ended(200)]
    assert call.state is CallState.TERMINATED and call.next_timer is None


def test_unanswered_bye_times_out() -> None:
    call, _ = established()
    call.hang_up(0.0)
    events: list[object] = []
    while (when := call.next_timer) is not None:
        events += call.on_timer(when)
    assert events == [TimedOut("BYE")] and call.state is CallState.TERMINATED


def server_request(call: UacCall, method: str, body: bytes = b"", call_id: str | None = None,
                   ) -> bytes:
    return build_request(method, "sip:0612345678@127.0.0.1:5062", [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsrv"),
        ("From", "<sip:3615@127.0.0.1>;tag=srv"),
        ("To", f"<sip:0612345678@127.0.0.1>;tag={call.local_tag}"),
        ("Call-ID", call_id or call.call_id), ("CSeq", f"5 {method}")], body).encode()


def test_server_bye_is_answered_and_ends_the_call() -> None:
    call, _ = established()
    source = ("127.0.0.1", 5999)
    assert call.receive(server_request(call, "BYE"), source, 1.0) == [RemoteHangUp()]
    ((data, addr),) = call.outbox
    assert addr == source  # responses go back where the request came from
    ok = parse(data)
    assert isinstance(ok, Response) and ok.status == 200 and ok.header("cseq") == "5 BYE"
    assert ok.header("via") == "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsrv"
    call.outbox.clear()
    assert call.receive(server_request(call, "BYE"), source, 1.5) == []  # retransmitted
    assert len(call.outbox) == 1 and call.state is CallState.TERMINATED


UAS_ROLE = [  # (method, body, status, carries our SDP, event)
    ("OPTIONS", b"", 200, True, None),
    ("INVITE", ANSWER, 200, True, Reoffer("INVITE", ANSWER)),
    ("UPDATE", ANSWER, 200, True, Reoffer("UPDATE", ANSWER)),
    ("INVITE", b"", 200, True, None),
    ("INFO", b"", 200, False, None),
    ("SUBSCRIBE", b"", 501, False, None),
    ("CANCEL", b"", 481, False, None),
]


@pytest.mark.parametrize(("method", "body", "status", "sdp", "event"), UAS_ROLE)
def test_requests_inside_the_call(method: str, body: bytes, status: int, sdp: bool,
                                  event: object) -> None:
    call, _ = established()
    events = call.receive(server_request(call, method, body), SERVER, 1.0)
    assert events == ([event] if event else [])
    (resp,) = sent(call)
    assert isinstance(resp, Response) and resp.status == status
    assert (resp.body == SDP) is sdp
    assert call.state is CallState.ESTABLISHED


def test_other_calls_and_acks() -> None:
    call, _ = established()
    assert call.receive(server_request(call, "ACK"), SERVER, 1.0) == []
    assert sent(call) == []
    events = call.receive(server_request(call, "BYE", call_id="other"), SERVER, 1.0)
    assert events == [Ignored("BYE: for another call")]
    (resp,) = sent(call)
    assert isinstance(resp, Response) and resp.status == 481
    assert call.receive(server_request(call, "OPTIONS", call_id="ping"), SERVER, 1.0) == []
    (pong,) = sent(call)
    assert isinstance(pong, Response) and pong.status == 200 and ";tag=" in (pong.header("to") or "")
    assert call.state is CallState.ESTABLISHED


def test_strays_are_ignored() -> None:
    call, invite = started()
    stray = build_response(invite, 200, "OK", to_tag="x")
    other_branch = stray.encode().replace(b"z9hG4bK", b"z9hG4bKother", 1)
    for data in (b"garbage", other_branch, stray.encode().replace(call.call_id.encode(), b"x")):
        (event,) = call.receive(data, SERVER, 0.1)
        assert isinstance(event, Ignored)
    no_headers = b"BYE sip:x@h SIP/2.0\r\n\r\n"
    assert isinstance(call.receive(no_headers, SERVER, 0.1)[0], Ignored)
    assert call.state is CallState.CALLING and sent(call) == []


def test_cancel_while_ringing() -> None:
    call, invite = started()
    reply(call, invite, 180, "Ringing")
    call.hang_up(1.0)
    (cancel,) = sent(call)
    assert isinstance(cancel, Request) and (cancel.method, cancel.uri) == ("CANCEL", invite.uri)
    assert branch_of(cancel) == branch_of(invite) and cancel.header("cseq") == "1 CANCEL"
    assert cancel.header("to") == invite.header("to")
    assert call.receive(build_response(cancel, 200, "OK").encode(), SERVER, 1.1) == []
    assert reply(call, invite, 487, "Request Terminated", 1.2) == [
        Rejected(487, "Request Terminated")]
    (ack,) = sent(call)
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert call.state is CallState.TERMINATED


def test_cancel_before_any_response_waits_for_one() -> None:
    call, invite = started()
    call.hang_up(0.1)
    assert sent(call) == []  # §9.1: no CANCEL before a provisional response
    assert reply(call, invite, 100, "Trying", 0.2) == []
    (cancel,) = sent(call)
    assert isinstance(cancel, Request) and cancel.method == "CANCEL"


def test_a_200_crossing_the_cancel_is_acked_and_byed() -> None:
    call, invite = started()
    reply(call, invite, 180, "Ringing")
    call.hang_up(1.0)
    sent(call)
    assert reply(call, invite, 200, "OK", 1.1, body=ANSWER) == []
    methods = [m.method for m in sent(call) if isinstance(m, Request)]
    assert methods == ["ACK", "BYE"]


def test_a_200_after_timer_b_is_acked_and_byed_and_the_call_stays_over() -> None:
    call, invite = started()
    while call.next_timer is not None:
        call.on_timer(call.next_timer)
    sent(call)
    assert reply(call, invite, 200, "OK", 40.0, body=ANSWER) == []
    assert [m.method for m in sent(call) if isinstance(m, Request)] == ["ACK", "BYE"]
    assert call.state is CallState.TERMINATED


def test_start_twice_is_an_error() -> None:
    call, _ = started()
    with pytest.raises(RuntimeError, match="already calling"):
        call.start(1.0)


sip_like = st.builds(
    lambda start, headers, body: (start + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
                                  + "\r\n").encode() + body,
    st.sampled_from(["SIP/2.0 200 OK", "SIP/2.0 180 Ringing", "BYE sip:a@b SIP/2.0",
                     "INVITE sip:a@b SIP/2.0", "OPTIONS sip:a@b SIP/2.0", "ACK sip:a@b SIP/2.0"]),
    st.lists(st.tuples(st.sampled_from(["Via", "v", "CSeq", "Call-ID", "i", "From", "To",
                                        "Content-Length", "Contact", "Record-Route"]),
                       st.text(max_size=30).filter(lambda s: "\r" not in s and "\n" not in s)),
             max_size=8),
    st.binary(max_size=50))


@given(st.lists(st.one_of(st.binary(max_size=300), sip_like), max_size=20))
@settings(max_examples=300, deadline=None)
def test_any_datagrams_never_raise_and_never_end_the_call(datagrams: list[bytes]) -> None:
    call, _ = established()
    for data in datagrams:
        call.receive(data, SERVER, 1.0)
    assert call.state is CallState.ESTABLISHED  # no Call-ID of ours: nothing can end it


# -- the URL ---------------------------------------------------------------------------

URLS = [
    ("sip:3615@127.0.0.1:5060", ("3615", "127.0.0.1", 5060, DEFAULT_CALLER, ("pcmu", "pcma"))),
    ("sip:3615@127.0.0.1", ("3615", "127.0.0.1", 5060, DEFAULT_CALLER, ("pcmu", "pcma"))),
    ("sip://3615@localhost:5070?from=0612345678&codec=pcma",
     ("3615", "localhost", 5070, "0612345678", ("pcma",))),
    ("sip:3615@[::1]:5061;transport=udp?codec=pcma,pcmu&from=anonymous",
     ("3615", "::1", 5061, "anonymous", ("pcma", "pcmu"))),
    ("sip:%2B33199000000@127.0.0.1?codec=PCMU,pcmu",
     ("+33199000000", "127.0.0.1", 5060, DEFAULT_CALLER, ("pcmu",))),
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_sip_urls(url: str, expected: tuple[object, ...]) -> None:
    t = parse_sip_url(url)
    assert (t.number, t.host, t.port, t.caller, t.codecs) == expected


def test_sip_url_options() -> None:
    t = parse_sip_url("sip:3615@[::1]:5061;transport=udp?pai=0199000002&bind=127.0.0.5")
    assert (t.host, t.port, t.pai, t.bind) == ("::1", 5061, "0199000002", "127.0.0.5")


BAD_URLS = [
    ("sip:127.0.0.1:5060", "no number"),
    ("sip:@127.0.0.1", "no number"),
    ("sip:36%2015@127.0.0.1", "number '36 15'"),
    ("tel:3615", "expected sip:NUMBER@HOST:PORT"),
    ("sip:3615@", "no host"),
    ("sip:3615@127.0.0.1:99999", "port '99999'"),
    ("sip:3615@127.0.0.1:http", "port 'http'"),
    ("sip:3615@[::1:5060", "unclosed"),
    ("sip:3615@127.0.0.1;transport=tcp", "UDP only"),
    ("sip:3615@127.0.0.1?codec=g729", "codec 'g729'"),
    ("sip:3615@127.0.0.1?from=Jean%20Dupont", "from='Jean Dupont'"),
    ("sip:3615@127.0.0.1?bind=box", "bind='box'"),
    ("sip:3615@127.0.0.1?color=red", "unknown option 'color'"),
]


@pytest.mark.parametrize(("url", "words"), BAD_URLS)
def test_bad_sip_urls_say_what(url: str, words: str) -> None:
    with pytest.raises(ConnectError, match=words.replace("(", r"\(")) as e:
        parse_sip_url(url)
    assert str(e.value).startswith(url)


async def test_open_transport_knows_sip() -> None:
    with pytest.raises(ConnectError, match="no number"):
        await open_transport("sip:127.0.0.1")
    with pytest.raises(ConnectError, match=r"sip:\)"):
        await open_transport("gopher://x")


def test_connect_help_documents_sip(capsys: pytest.CaptureFixture[str]) -> None:
    from terminal_emu.cli import main

    with pytest.raises(SystemExit):
        main(["connect", "--help"])
    out = capsys.readouterr().out
    assert "sip:NUMBER@HOST:PORT" in out and "?from=NUMBER" in out and "0199000000" in out
