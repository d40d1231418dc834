"""A small SIP user agent server for the emulator's phone-line tests, on loopback UDP.

Written here with its own string handling (not ``terminal_emu.sip``) so the emulator's
UAC is checked against code it does not share. It answers an INVITE as told (provisional
responses, then 200 with SDP or a rejection; INVITEs can be ignored to exercise
retransmission), then runs the answer-side audio with the server's V.23 modem
(``videotex.protocols.v23.AnswerModem``; tests may import ``videotex``, the emulator may
not): RTP every 20 ms on its own monotonic schedule, the Minitel's bytes collected, ``page``
sent once the Minitel's carrier is steady. Impairments: RTP packets dropped or swapped by
index. Everything it received is kept for the assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from videotex.protocols import g711
from videotex.protocols.v23 import AnswerConfig, AnswerModem, CarrierLost, CarrierUp, Data

__all__ = ["LoopUas", "Message", "UasScript", "parse_message"]

FRAME = 160
#: A short answer tone (the Minitel accepts from 250 ms): calls connect in well under 1 s.
FAST_ANSWER = AnswerConfig(answer_tone_ms=400.0)


@dataclass
class Message:
    first: str  # the start line
    headers: list[tuple[str, str]]
    body: bytes
    source: tuple[str, int]

    def get(self, name: str) -> str:
        return next((v for n, v in self.headers if n.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    @property
    def method(self) -> str:
        return "" if self.first.startswith("SIP/") else self.first.split(" ")[0]

    @property
    def status(self) -> int:
        return int(self.first.split(" ")[1]) if self.first.startswith("SIP/") else 0


def parse_message(data: bytes, source: tuple[str, int]) -> Message:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = [(n.strip(), v.strip()) for n, _, v in (x.partition(":") for x in lines[1:])]
    return Message(lines[0], headers, body, source)


@dataclass
class UasScript:
    """What the UAS does with an INVITE."""

    provisional: tuple[int, ...] = (100, 180)
    final: tuple[int, str] = (200, "OK")
    ignore_invites: int = 0  #: INVITEs (retransmissions included) left unanswered first
    codec: str = "PCMU"  #: what the answer picks; "" answers with the raw ``sdp`` below
    sdp: bytes = b""
    page: bytes = b""  #: sent through the modem once the Minitel's carrier is up
    drop: frozenset[int] = frozenset()  #: RTP packets (by index) never sent
    swap: frozenset[int] = frozenset()  #: packet i is sent after packet i+1
    answer: AnswerConfig = FAST_ANSWER


@dataclass
class LoopUas:
    script: UasScript = field(default_factory=UasScript)
    host: str = "127.0.0.1"
    received: list[Message] = field(default_factory=list)
    minitel_bytes: bytearray = field(default_factory=bytearray)
    rtp_in: int = 0
    events: list[str] = field(default_factory=list)
    _bump: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> LoopUas:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self.sip, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_sip), local_addr=(self.host, 0))
        self.rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_rtp), local_addr=(self.host, 0))
        self.port = self.sip.get_extra_info("sockname")[1]
        self.rtp_port = self.rtp.get_extra_info("sockname")[1]
        self.modem = AnswerModem(self.script.answer)
        self.law = g711.Law.ULAW if self.script.codec != "PCMA" else g711.Law.ALAW
        self.invite: Message | None = None
        self.caller_rtp: tuple[str, int] | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._held: bytes | None = None
        self._sent = 0
        self._tag = "uas1"
        return self

    def url(self, number: str = "3615", **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"sip:{number}@{self.host}:{self.port}" + (f"?{q}" if q else "")

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        self.sip.close()
        self.rtp.close()

    async def wait(self, what: str, timeout: float = 10.0) -> None:
        """Until ``what`` is among :attr:`events` (e.g. ``"ACK"``, ``"carrier up"``)."""
        await self.until(lambda: what in self.events, timeout, repr(what))

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0,
                    what: str = "condition") -> None:
        """Until ``predicate()`` holds, checked again at each event of the UAS."""
        async def loop() -> None:
            while not predicate():
                self._bump.clear()
                await self._bump.wait()

        try:
            await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise TimeoutError(f"UAS: no {what} in {timeout} s; saw {self.events}") from None

    def _event(self, what: str) -> None:
        self.events.append(what)
        self._bump.set()

    # -- SIP ---------------------------------------------------------------------------

    def _on_sip(self, data: bytes, source: tuple[str, int]) -> None:
        msg = parse_message(data, source)
        self.received.append(msg)
        self._event(msg.method or str(msg.status))
        if msg.method == "INVITE":
            self._invite(msg)
        elif msg.method == "ACK" and self.invite is not None and self.script.final[0] < 300:
            self._start_media()
        elif msg.method in ("BYE", "CANCEL"):
            self.sip.sendto(self._response(msg, 200, "OK"), source)
            if msg.method == "CANCEL" and self.invite is not None:
                self.sip.sendto(self._response(self.invite, 487, "Request Terminated"), source)
            self._stop_media()

    def _invite(self, msg: Message) -> None:
        if self.script.ignore_invites > 0:
            self.script.ignore_invites -= 1
            return
        self.invite = msg
        for status in self.script.provisional:
            self.sip.sendto(self._response(msg, status, {100: "Trying", 180: "Ringing",
                                                         183: "Session Progress"}[status]),
                            msg.source)
        status, reason = self.script.final
        if status == 0:
            return  # ring for ever
        body = self._sdp() if status < 300 else b""
        self.sip.sendto(self._response(msg, status, reason, body), msg.source)
        offer = msg.body.decode()
        host = next(x[len("c=IN IP4 "):] for x in offer.split("\r\n") if x.startswith("c="))
        port = next(int(x.split()[1]) for x in offer.split("\r\n") if x.startswith("m=audio"))
        self.caller_rtp = (host.strip(), port)

    def _sdp(self) -> bytes:
        if not self.script.codec:
            return self.script.sdp
        pt = 0 if self.script.codec == "PCMU" else 8
        return (f"v=0\r\no=uas 1 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\n"
                f"t=0 0\r\nm=audio {self.rtp_port} RTP/AVP {pt}\r\n"
                f"a=rtpmap:{pt} {self.script.codec}/8000\r\n").encode()

    def _response(self, req: Message, status: int, reason: str, body: bytes = b"") -> bytes:
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {v}" for v in req.all("via")]
        to = req.get("to")
        if status > 100 and ";tag=" not in to:
            to += f";tag={self._tag}"
        lines += [f"From: {req.get('from')}", f"To: {to}", f"Call-ID: {req.get('call-id')}",
                  f"CSeq: {req.get('cseq')}", f"Contact: <sip:uas@{self.host}:{self.port}>"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def send_request(self, method: str, *, call_id: str | None = None, body: bytes = b"",
                     cseq: int = 1) -> None:
        """A request inside the call (BYE, OPTIONS, re-INVITE...), From/To swapped."""
        assert self.invite is not None
        inv = self.invite
        contact = inv.get("contact").strip("<>")
        lines = [f"{method} {contact} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bKuas{method}{cseq}",
                 "Max-Forwards: 70", f"From: {inv.get('to')};tag={self._tag}",
                 f"To: {inv.get('from')}", f"Call-ID: {call_id or inv.get('call-id')}",
                 f"CSeq: {cseq} {method}", f"Content-Length: {len(body)}"]
        self.sip.sendto(("\r\n".join(lines) + "\r\n\r\n").encode() + body, inv.source)
        if method == "BYE":
            self._stop_media()

    # -- media -------------------------------------------------------------------------

    def _start_media(self) -> None:
        if self._ticker is None:
            self._t0 = self.loop.time()
            self._n = 0
            self._ticker = self.loop.call_at(self._t0 + 0.02, self._tick)

    def _stop_media(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
            self._event("media stopped")

    def _tick(self) -> None:
        self._n += 1
        payload = g711.encode(self.modem.audio_out(FRAME), self.law).tobytes()
        i = self._sent
        self._sent += 1
        packet = struct.pack("!BBHII", 0x80, 0 if self.law is g711.Law.ULAW else 8,
                             (1000 + i) & 0xFFFF, (i * FRAME) & 0xFFFFFFFF, 0x5EED) + payload
        if self.caller_rtp is not None and i not in self.script.drop:
            if i in self.script.swap:
                self._held = packet
            else:
                self.rtp.sendto(packet, self.caller_rtp)
                if self._held is not None:
                    self.rtp.sendto(self._held, self.caller_rtp)
                    self._held = None
        self._ticker = self.loop.call_at(self._t0 + (self._n + 1) * 0.02, self._tick)

    def _on_rtp(self, data: bytes, source: tuple[str, int]) -> None:
        self.rtp_in += 1
        if self.rtp_in == 1:
            self._event("rtp")
        samples = g711.decode(data[12:], self.law)
        for ev in self.modem.receive_audio(samples):
            if isinstance(ev, CarrierUp):
                self._event("carrier up")
                if self.script.page:
                    self.modem.send(self.script.page)
            elif isinstance(ev, Data):
                self.minitel_bytes += ev.data
                self._event("data")
            elif isinstance(ev, CarrierLost):
                self._event("carrier lost")


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, handler: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.handler = handler

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(ValueError, StopIteration, UnicodeDecodeError, IndexError):
            self.handler(data, addr[:2])

