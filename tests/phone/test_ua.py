"""The SIP user agent core, sans-IO, on an injected clock: what it answers to each request,
its retransmissions and timers, and the trunk registration with digest."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.channels.phone.events import (
    Cancelled,
    Confirmed,
    Dropped,
    Ended,
    Invite,
    Refused,
    Reinvite,
    Response,
)
from videotex.channels.phone.register import Registration
from videotex.channels.phone.ua import T1, T2, UserAgent
from videotex.protocols.sip import SipRequest, SipResponse, parse_message

PEER = ("udp", "127.0.0.1", 5061)


def ua() -> UserAgent:
    return UserAgent(lambda peer: ("127.0.0.1", 5060))


def request(method: str = "INVITE", *, branch: str = "z9hG4bK1", cseq: int = 1,
            to_tag: str = "", call: str = "c1", body: bytes = b"v=0\r\n",
            extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    headers = (("Via", f"SIP/2.0/UDP 127.0.0.1:5061;branch={branch};rport"),
               ("From", "<sip:0320123456@127.0.0.1>;tag=caller"),
               ("To", "<sip:3615@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")),
               ("Call-ID", call), ("CSeq", f"{cseq} {method}"),
               ("Contact", "<sip:0320123456@127.0.0.1:5061>"), *extra)
    if body and method == "INVITE":
        headers += (("Content-Type", "application/sdp"),)
    return bytes(SipRequest(headers, body if method == "INVITE" else b"", method,
                            "sip:3615@127.0.0.1"))


def sent(agent: UserAgent) -> list[SipRequest | SipResponse]:
    out = [parse_message(data) for data, _peer in agent.outbox]
    agent.outbox.clear()
    return out


def statuses(agent: UserAgent) -> list[int | str]:
    return [m.status if isinstance(m, SipResponse) else m.method for m in sent(agent)]


def answered(agent: UserAgent, now: float = 0.0) -> str:
    """A call answered and acknowledged; returns our tag."""
    (invite,) = agent.receive(request(), PEER, now)
    assert isinstance(invite, Invite)
    agent.answer("c1", b"v=0\r\n", now)
    ok = sent(agent)[-1]
    assert isinstance(ok, SipResponse) and ok.status == 200
    tag = ok.header("To").split("tag=")[1]  # type: ignore[union-attr]
    assert agent.receive(request("ACK", branch="z9hG4bK2", to_tag=tag), PEER, now) == [
        Confirmed("c1", b"")]
    return tag


def test_invite_answer_ack_and_bye_from_the_caller() -> None:
    agent = ua()
    tag = answered(agent)
    assert agent.receive(request("BYE", branch="z9hG4bK3", cseq=2, to_tag=tag), PEER, 1.0) == [
        Ended("c1", "bye")]
    assert statuses(agent) == [200]
    # the BYE retransmitted: the same 200 again, no second event
    assert agent.receive(request("BYE", branch="z9hG4bK3", cseq=2, to_tag=tag), PEER, 1.1) == []
    assert statuses(agent) == [200]


def test_the_200_has_contact_sdp_and_our_tag_and_is_retransmitted_until_the_ack() -> None:
    agent = ua()
    agent.receive(request(), PEER, 0.0)
    assert statuses(agent) == [100]
    agent.answer("c1", b"v=0\r\n", 0.0)
    (ok,) = sent(agent)
    assert isinstance(ok, SipResponse)
    assert ok.header("Contact") == "<sip:127.0.0.1:5060>" and ok.body == b"v=0\r\n"
    assert ok.header("Content-Type") == "application/sdp"
    assert "received=127.0.0.1" in (ok.header("Via") or "")
    times = [T1, 3 * T1, 7 * T1, 7 * T1 + T2]
    for t in times:
        assert agent.tick(t) == []
        assert statuses(agent) == [200]
    # the INVITE retransmitted meanwhile gets the 200 too; it is not a new call
    assert agent.receive(request(), PEER, 5.0) == [] and statuses(agent) == [200]


def test_no_ack_ends_the_call_with_a_bye() -> None:
    agent = ua()
    agent.receive(request(), PEER, 0.0)
    agent.answer("c1", b"v=0\r\n", 0.0)
    sent(agent)
    events = agent.tick(64 * T1)
    assert events == [Ended("c1", "no ACK")]
    (bye,) = [m for m in sent(agent) if isinstance(m, SipRequest)]
    assert bye.method == "BYE" and bye.uri == "sip:0320123456@127.0.0.1:5061"
    assert bye.header("To") == "<sip:0320123456@127.0.0.1>;tag=caller"


def test_our_bye_goes_to_the_contact_as_parsed() -> None:
    agent = ua()  # found by bench/fuzz_phone.py: spaces inside <...> made a bad request line
    agent.receive(request().replace(b"5061>\r\nContent", b"5061 >\r\nContent"), PEER, 0.0)
    agent.answer("c1", b"v=0\r\n", 0.0)
    agent.hangup("c1", 0.0)
    bye = sent(agent)[-1]
    assert isinstance(bye, SipRequest) and bye.uri == "sip:0320123456@127.0.0.1:5061"


def test_our_bye_is_retransmitted_until_answered() -> None:
    agent = ua()
    answered(agent)
    agent.hangup("c1", 10.0)
    (bye,) = sent(agent)
    assert isinstance(bye, SipRequest) and bye.header("CSeq") == "1 BYE"
    agent.tick(10.0 + T1)
    assert statuses(agent) == ["BYE"]
    ok = SipResponse(tuple((k, v) for k, v in bye.headers if k in ("Via", "CSeq", "Call-ID")),
                     b"", 200, "OK")
    (response,) = agent.receive(bytes(ok), PEER, 11.0)
    assert isinstance(response, Response) and response.response.status == 200
    assert agent.tick(40.0) == [] and sent(agent) == []
    assert agent.next_deadline() is None or agent.transactions <= 2


def test_an_unanswered_bye_times_out_with_408() -> None:
    agent = ua()
    answered(agent)
    agent.hangup("c1", 0.0)
    events = agent.tick(64 * T1)
    assert [e.response.status for e in events if isinstance(e, Response)] == [408]


def test_cancel_before_the_answer() -> None:
    agent = ua()
    agent.receive(request(), PEER, 0.0)
    sent(agent)
    assert agent.receive(request("CANCEL"), PEER, 0.5) == [Cancelled("c1")]
    assert statuses(agent) == [200, 487]
    agent.tick(0.5 + T1)  # the 487 is retransmitted until its ACK
    assert statuses(agent) == [487]
    agent.receive(request("ACK"), PEER, 1.2)
    agent.tick(3.0)
    assert sent(agent) == []
    # a CANCEL for nothing
    agent.receive(request("CANCEL", branch="z9hG4bKnone"), PEER, 2.0)
    assert statuses(agent) == [481]


def test_cancel_after_the_answer_changes_nothing() -> None:
    agent = ua()
    agent.receive(request(), PEER, 0.0)
    agent.answer("c1", b"v=0\r\n", 0.0)
    sent(agent)
    assert agent.receive(request("CANCEL"), PEER, 0.1) == []
    assert statuses(agent) == [200]
    assert "c1" in agent.dialogs


def test_reinvite_keeps_the_call() -> None:
    agent = ua()
    tag = answered(agent)
    (event,) = agent.receive(request(branch="z9hG4bK5", cseq=2, to_tag=tag), PEER, 2.0)
    assert isinstance(event, Reinvite)
    agent.answer("c1", b"v=0\r\no=x\r\n", 2.0)
    assert statuses(agent) == [200]
    assert agent.receive(request("ACK", branch="z9hG4bK6", cseq=2, to_tag=tag), PEER, 2.1) == [
        Confirmed("c1", b"")]
    # an old CSeq, an unknown dialog
    agent.receive(request(branch="z9hG4bK7", cseq=1, to_tag=tag), PEER, 3.0)
    agent.receive(request(branch="z9hG4bK8", cseq=3, to_tag="other"), PEER, 3.0)
    assert statuses(agent) == [500, 481]


def test_refusals() -> None:
    agent = ua()
    agent.receive(request(extra=(("Require", "100rel"),)), PEER, 0.0)
    agent.receive(request(call="c2", branch="z9hG4bKb", extra=(("Content-Type", "text/plain"),)),
                  PEER, 0.0)
    agent.receive(request("REGISTER", branch="z9hG4bKc"), PEER, 0.0)
    agent.receive(request("FOO", branch="z9hG4bKd"), PEER, 0.0)
    agent.receive(request("BYE", branch="z9hG4bKe", to_tag="x"), PEER, 0.0)
    agent.receive(request("INFO", branch="z9hG4bKf", to_tag="x"), PEER, 0.0)
    agent.receive(request(branch="z9hG4bKg", extra=(("Max-Forwards", "0"),), call="c3"), PEER, 0)
    out = sent(agent)
    assert [m.status for m in out if isinstance(m, SipResponse)] == [
        420, 415, 405, 501, 481, 481, 483]
    assert out[0].header("Unsupported") == "100rel"
    assert out[2].header("Allow") == "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"
    assert all(m.header("Warning") for m in out)


def test_options_answers_what_the_listener_says() -> None:
    agent = ua()
    agent.receive(request("OPTIONS"), PEER, 0.0)
    agent.options_status = 503
    agent.receive(request("OPTIONS", branch="z9hG4bK9"), PEER, 0.0)
    out = sent(agent)
    assert [m.status for m in out if isinstance(m, SipResponse)] == [200, 503]
    assert out[0].header("Accept") == "application/sdp"


@pytest.mark.parametrize(("wire", "status", "says"), [
    (request().replace(b"Content-Length: 5", b"Content-Length: 50"), 400, "Content-Length"),
    (request().replace(b"CSeq: 1 INVITE", b"CSeq: x INVITE"), 400, "CSeq"),
    (request().replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), 400, "CSeq method"),
    (request().replace(b"Call-ID: c1\r\n", b""), 400, "missing header Call-ID"),
    (request().replace(b"INVITE sip:3615@127.0.0.1 SIP/2.0", b"INVITE  SIP/2.0"), 400, "request"),
    (request().replace(b"From: <sip:", b"From: <http:"), 400, "sip:"),
    (request().replace(b"Via: SIP/2.0/UDP", b"Via: junk"), 400, "SIP/2.0/transport"),
    # found by bench/fuzz_phone.py: a Contact that became our BYE's request line
    (request().replace(b"Contact: <sip:0320", b"Contact: <sip:03tact: <sip:0320"), 400,
     "spaces"),
    (request().replace(b"Max-Forwards", b"X").replace(b"CSeq: 1", b"Max-Forwards: x\r\nCSeq: 1"),
     400, "Max-Forwards"),
])
def test_malformed_requests_get_a_400_that_says_why(wire: bytes, status: int, says: str) -> None:
    agent = ua()
    (event,) = agent.receive(wire, PEER, 0.0)
    assert isinstance(event, Refused) and event.status == status and says in event.why
    (response,) = sent(agent)
    assert isinstance(response, SipResponse) and response.status == status
    assert says in (response.header("Warning") or "")


def test_what_cannot_be_answered_is_dropped() -> None:
    agent = ua()
    for wire in (b"\x00\xff garbage", request().replace(b"Via: ", b"Xia: "),
                 request("ACK").replace(b"CSeq: 1 ACK", b"CSeq: 1 BYE"),
                 b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKq\r\nCSeq: 1 BYE\r\n\r\n"):
        events = agent.receive(wire, PEER, 0.0)
        assert all(isinstance(e, Dropped) for e in events)
    assert sent(agent) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200),
                          st.builds(lambda w, at, junk: w[:at] + junk + w[at:],
                                    st.sampled_from([request(), request("BYE", to_tag="t"),
                                                     request("CANCEL"), request("ACK")]),
                                    st.integers(0, 400), st.binary(max_size=6))),
                max_size=8),
       st.floats(0, 100))
def test_any_datagrams_are_answered_or_dropped_never_raise(datagrams: list[bytes],
                                                           later: float) -> None:
    agent = ua()
    for data in datagrams:
        agent.receive(data, PEER, 0.0)
        for call_id in list(agent.dialogs):
            agent.answer(call_id, b"v=0\r\n", 0.0)
            agent.hangup(call_id, 0.0)  # a BYE built from what the caller sent
    agent.tick(later)
    agent.tick(later + 100)
    for data, _peer in agent.outbox:
        parse_message(data)


# -- registration ------------------------------------------------------------------------------

CHALLENGE = 'Digest realm="trunk", nonce="abc", qop="auth"'


def reply(agent: UserAgent, status: int, *extra: tuple[str, str]) -> list[object]:
    (data, _peer), = agent.outbox
    agent.outbox.clear()
    req = parse_message(data)
    headers = tuple((k, v) for k, v in req.headers if k in ("Via", "From", "To", "Call-ID",
                                                             "CSeq")) + extra
    return agent.receive(bytes(SipResponse(headers, b"", status, "x")), PEER, 0.0)


def test_registration_answers_a_challenge_and_refreshes() -> None:
    agent = ua()
    reg = Registration(agent, ("udp", "127.0.0.1", 5090), "trunk.example", "3615", "secret", 300)
    reg.start(0.0)
    (register,) = [parse_message(d) for d, _ in agent.outbox]
    assert isinstance(register, SipRequest) and register.uri == "sip:trunk.example"
    assert register.header("Expires") == "300" and register.header("Authorization") is None
    (event,) = reply(agent, 401, ("WWW-Authenticate", CHALLENGE))
    assert isinstance(event, Response) and reg.owns(event.key)
    reg.on_response(event.response, 0.1)
    (again,) = [parse_message(d) for d, _ in agent.outbox]
    auth = again.header("Authorization") or ""
    assert 'username="3615"' in auth and "secret" not in auth
    assert again.header("CSeq") == "2 REGISTER" and again.header("Call-ID") == register.header(
        "Call-ID")
    (event,) = reply(agent, 200, ("Contact", "<sip:3615@127.0.0.1:5060>;expires=120"))
    reg.on_response(event.response, 0.2)  # type: ignore[attr-defined]
    assert reg.state == "registered" and reg.granted == 120
    assert reg.next_deadline() == pytest.approx(0.2 + 96)
    reg.tick(100.0)
    assert [parse_message(d).header("CSeq") for d, _ in agent.outbox] == ["3 REGISTER"]


def test_registration_refused_credentials_fail_and_retry_later() -> None:
    agent = ua()
    reg = Registration(agent, ("udp", "127.0.0.1", 5090), "trunk", "3615", "wrong", 300)
    reg.start(0.0)
    (event,) = reply(agent, 401, ("WWW-Authenticate", CHALLENGE))
    reg.on_response(event.response, 0.0)  # type: ignore[attr-defined]
    (event,) = reply(agent, 401, ("WWW-Authenticate", CHALLENGE))  # same nonce again
    reg.on_response(event.response, 0.0)  # type: ignore[attr-defined]
    assert reg.state == "failed" and "refused" in reg.last_reason
    assert reg.next_deadline() == 30.0
    reg.tick(30.0)
    assert len(agent.outbox) == 1
