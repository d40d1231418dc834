"""The phone line under bad input, on loopback: malformed SIP and SDP get a 4xx (never a
traceback), RTP from anywhere but the negotiated address is ignored while the consultation
goes on, a caller that vanishes without a BYE is ended by the RTP timeout, and an INVITE
flood from one address is refused by the gate while an honest caller from 127.0.0.2 is
served. Every call that opened a session is billed and closed exactly once."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket

import pytest

from tests.helpers.results import ELODIE, MARIE_AJOURNEE
from videotex.protocols.gate import GatePolicy
from videotex.protocols.rtp import RtpSender
from videotex.protocols.sdp import build_offer
from videotex.protocols.sip import SipRequest, SipResponse, parse_message

from .conftest import MakeServer, PhoneServer
from .test_consultation import consult

pytestmark = pytest.mark.timeout(180)


def invite(port: int, *, call: str = "", body: bytes | None = None, local: str = "127.0.0.1",
           sip_port: int = 5999, content_type: str = "application/sdp") -> bytes:
    call = call or secrets.token_hex(6)
    body = build_offer(local, 40000) if body is None else body
    headers = (("Via", f"SIP/2.0/UDP {local}:{sip_port};branch=z9hG4bK{call};rport"),
               ("From", f"<sip:0320123456@{local}>;tag={call}"),
               ("To", f"<sip:3615@127.0.0.1:{port}>"), ("Call-ID", call),
               ("CSeq", "1 INVITE"), ("Contact", f"<sip:0320123456@{local}:{sip_port}>"),
               ("Content-Type", content_type))
    return bytes(SipRequest(headers, body, "INVITE", f"sip:3615@127.0.0.1:{port}"))


class Probe:
    """A bare UDP socket: what a broken or hostile client sends, and what comes back."""

    def __init__(self, server: PhoneServer, local: str = "127.0.0.1") -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server.address)

    async def final(self, timeout: float = 5.0) -> SipResponse:
        """The next final response (provisional ones skipped)."""
        loop = asyncio.get_running_loop()
        while True:
            data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), timeout)
            message = parse_message(data)
            assert isinstance(message, SipResponse)
            if message.status >= 200:
                return message

    def close(self) -> None:
        self.sock.close()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


MALFORMED = [
    (lambda p: invite(p).replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE"), 400, "CSeq"),
    (lambda p: invite(p).replace(b"Content-Length: ", b"Content-Length: 9"), 400,
     "Content-Length"),
    (lambda p: invite(p).replace(b"From: <sip:0320123456@127.0.0.1>", b"From: <mailto:x>"), 400,
     "sip:"),
    (lambda p: invite(p).replace(b"INVITE sip:3615", b"INVITE  sip:3615", 1), 400,
     "request line"),
    (lambda p: invite(p).replace(b"To: ", b"X-To: "), 400, "missing header To"),
    (lambda p: invite(p, body=b"v=0\r\no=- 1 1 IN IP4 x\r\nm=audio 7 RTP/AVP 0\r\nc=IN IP4 h\r\n"),
     400, "not an IP address"),
    (lambda p: invite(p, body=b"hello"), 400, "v=0"),
    (lambda p: invite(p, body=build_offer("127.0.0.1", 40000).replace(b" 8 0 101", b" 18")),
     488, "no audio stream"),
    (lambda p: invite(p, body=b""), 488, "no SDP"),
    (lambda p: invite(p, content_type="application/isup"), 415, "isup"),
]


@pytest.mark.parametrize(("make", "status", "says"), MALFORMED)
async def test_malformed_sip_and_sdp_get_a_4xx_that_says_why(
        make_server: MakeServer, caplog: pytest.LogCaptureFixture, make: object, status: int,
        says: str) -> None:
    server = await make_server()
    probe = Probe(server)
    try:
        probe.send(make(server.listener.port))  # type: ignore[operator]
        response = await probe.final()
        assert response.status == status
        assert says in (response.header("Warning") or ""), response.header("Warning")
    finally:
        probe.close()
    assert server.listener.calls == {}
    assert await server.stop() == []
    no_tracebacks(caplog)


async def test_garbage_is_dropped_and_the_next_call_served(
        make_server: MakeServer, caplog: pytest.LogCaptureFixture) -> None:
    server = await make_server()
    probe = Probe(server)
    for junk in (b"", b"\x00" * 100, bytes(range(256)), b"SIP/2.0 200 OK\r\n\r\n",
                 b"INVITE sip:x SIP/2.0\r\n" + b"A" * 70000):
        probe.send(junk[:65000])
    probe.send(invite(server.listener.port, body=b""))
    assert (await probe.final()).status == 488  # still answering, in order
    probe.close()
    phones = await server.phones()
    try:
        line = await phones.call()
        assert line.state == "up"
        await phones.hangup(line)
    finally:
        await phones.close()
    await server.stop()
    no_tracebacks(caplog)


async def test_rtp_from_another_address_is_ignored(make_server: MakeServer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    server = await make_server()
    # server, caller and intruder share this process: a stall of the whole loop (a busy CI
    # machine) would spoil characters whoever sent what; the test phones' 25 frames (500 ms)
    # of jitter buffer absorb it, so a spoiled character here can only come from the intruder's datagrams
    phones = await server.phones()
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intruder.bind(("127.0.0.3", 0))
    try:
        line = await phones.call()
        assert line.remote is not None
        noise, sender = secrets.token_bytes(160), RtpSender(8)
        sprayed = 0

        async def spray() -> None:
            nonlocal sprayed
            while True:  # a second stream, and garbage, at the call's RTP port
                intruder.sendto(sender.packet(noise), line.remote)
                intruder.sendto(b"\x80\x08garbage", line.remote)
                sprayed += 2
                await asyncio.sleep(0.01)

        sprayer = asyncio.ensure_future(spray())
        try:
            await consult(phones, line, *ELODIE)
            await phones.wait(line, lambda ln: "Lycée Faidherbe" in ln.text, what="result")
        finally:
            sprayer.cancel()
        (call,) = server.listener.calls.values()
        # the line's socket is connected to the caller: the kernel drops the intruder's
        # datagrams, none reaches the stream (its SSRC would restart the jitter buffer, its
        # garbage would count as malformed)
        assert sprayed > 100
        assert call.line.jitter.stats.resyncs == 0 and call.line.malformed == 0
        assert call.line.packets > 100
        assert line.received.count(0x1A) == 0  # no character spoiled
        await phones.hangup(line)
    finally:
        intruder.close()
        await phones.close()
    (record,) = await server.stop()
    assert record.result_found and record.ended_at
    no_tracebacks(caplog)


async def test_a_caller_that_vanishes_is_ended_by_the_rtp_timeout(
        make_server: MakeServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="videotex.phone")
    server = await make_server(rtp_timeout=0.5)
    phones = await server.phones()
    line = await phones.call()
    await phones.wait(line, lambda ln: ln.shows("RESULTATS DES EXAMENS"), what="home page")
    await phones.close()  # the box loses power: no more RTP, no BYE
    await asyncio.wait_for(server.listener.idle(), 10)
    ended = [r for r in caplog.records if r.getMessage() == "phone call ended"]
    assert [r.reason for r in ended] == ["rtp timeout"]  # type: ignore[attr-defined]
    (record,) = await server.stop()
    assert record.ended_at and record.caller == "0320123456"
    no_tracebacks(caplog)


async def test_an_invite_flood_from_one_address_spares_an_honest_caller(
        make_server: MakeServer, caplog: pytest.LogCaptureFixture) -> None:
    server = await make_server(gate=GatePolicy(max_concurrent=4, burst=6, rate=0.1),
                               rtp_timeout=2)
    honest = await server.phones(local="127.0.0.2")
    flood_minitels = await server.phones(capacity=3)
    flooder = Probe(server)
    statuses: dict[int, int] = {}
    try:
        line = await honest.call("0699999999")
        # three Minitels from 127.0.0.1 get in (and are billed), then a flood of INVITEs
        # without any audio from the same address
        real = [await flood_minitels.call(f"061000000{i}") for i in range(3)]
        for i in range(300):
            flooder.send(invite(server.listener.port, call=f"flood{i}", sip_port=flooder.port))
            if i % 50 == 49:
                await asyncio.sleep(0)  # let the server read its socket
        for _ in range(300):
            status = (await flooder.final(timeout=10)).status
            statuses[status] = statuses.get(status, 0) + 1
        assert statuses.get(486, 0) >= 295, statuses
        await consult(honest, line, *MARIE_AJOURNEE)
        await honest.wait(line, lambda ln: ln.shows("AJOURNE"), what="the result page")
        await honest.hangup(line)
        for minitel in real:
            await flood_minitels.hangup(minitel)
    finally:
        flooder.close()
        await honest.close()
        await flood_minitels.close()
    records = await server.stop()
    sessions = server.board.total_calls
    assert len(records) == sessions == 4
    assert len({r.session_id for r in records}) == len(records)
    assert all(r.ended_at and r.close_reason for r in records)
    assert sorted(r.caller for r in records) == ["0610000000", "0610000001", "0610000002",
                                                 "0699999999"]
    no_tracebacks(caplog)
