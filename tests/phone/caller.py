"""Minitels on phone lines, for the phone tests and ``bench/bench_phone.py``.

:class:`Phones` places SIP calls (a small UAC written on the server's SIP codec: the
signalling is checked against an independent stack by the sipp tests) and runs every line's
media on one 20 ms tick: RTP in and out, G.711 by the emulator's own tables
(``terminal_emu.g711``), the Minitel's V.23 originate modem as one
:class:`~videotex.protocols.v23.OriginateBank` for all lines, and an independent
``terminal_emu.Minitel`` per line fed what the modem decodes. A bank of 500 lines runs in one
process of the load generator.

Tests wait on what a line's screen shows (:meth:`Phones.wait`), never on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from terminal_emu import Key, Minitel
from terminal_emu import g711 as emu_g711
from videotex.protocols.jitter import JitterBuffer
from videotex.protocols.rtp import RtpError, RtpSender, parse_rtp
from videotex.protocols.sdp import build_offer, choose_audio, parse_sdp
from videotex.protocols.sip import SipRequest, SipResponse, parse_message, parse_name_addr
from videotex.protocols.v23 import CarrierLost, CarrierUp, Data, NoCarrier, OriginateBank

__all__ = ["CallRefused", "PhoneLine", "Phones"]

TICK = 0.020
_CODES = np.arange(256, dtype=np.uint8)
#: The emulator's own G.711 tables: µ-law codes at 0-255, A-law at 256-511.
_DECODE = np.concatenate([emu_g711.ulaw2lin(_CODES), emu_g711.alaw2lin(_CODES)])


def _uri(value: str) -> str:
    """The URI of a name-addr (``<sip:...>;params``) or addr-spec value."""
    if "<" in value:
        return value[value.find("<") + 1 : value.find(">")]
    return value.split(";", 1)[0].strip()


class CallRefused(Exception):
    def __init__(self, response: SipResponse) -> None:
        super().__init__(f"{response.status} {response.reason}")
        self.response = response


@dataclass(eq=False)
class PhoneLine:
    index: int
    call_id: str
    number: str
    tag: str
    rtp: socket.socket
    codec: str
    minitel: Minitel = field(default_factory=Minitel)
    slot: int = -1
    remote: tuple[str, int] | None = None
    remote_tag: str = ""
    to_header: str = ""
    #: Where in-dialog requests go (the 200's Contact) and through which proxies.
    target: str = ""
    route: tuple[str, ...] = ()
    sender: RtpSender | None = None
    jitter: JitterBuffer = field(default_factory=lambda: JitterBuffer(prefetch=4))
    state: str = "dialing"
    response: asyncio.Future[SipResponse] | None = None
    bye_answer: asyncio.Future[SipResponse] | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    received: bytearray = field(default_factory=bytearray)
    #: Everything given to our modem to send (keys and the terminal's own replies).
    sent: bytearray = field(default_factory=bytearray)
    t_invite: float = 0.0
    t_answer: float = 0.0
    t_carrier: float = 0.0
    #: (time, received byte count) after each chunk the modem decoded.
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    end_reason: str = ""
    cseq: int = 1
    provisional: bool = False
    last_frame: bytes = b"\xd5" * 160
    #: Called with (line, time) after each chunk the modem decoded (benchmarks' snapshots).
    watch: Callable[[PhoneLine, float], None] | None = None
    #: (stall, period): our RTP is held back ``stall`` frames of every ``period`` and then
    #: sent in a burst (:meth:`Phones.stutter`); the frames sent so far; those held back.
    stutter: tuple[int, int] | None = None
    frames_out: int = 0
    held_back: list[bytes] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.minitel.render_text()

    def shows(self, words: str) -> bool:
        text = self.text
        return words in text or "".join(ch * 2 for ch in words) in text

    @property
    def crc_down(self) -> int:
        return zlib.crc32(bytes(self.received))

    @property
    def port(self) -> int:
        return int(self.rtp.getsockname()[1])


#: Frames a test Minitel holds before playing (500 ms). Server and phones share one event
#: loop on a 2-core machine that runs other tests' servers too: a 200 ms stall of the
#: server's media clock made an 80 ms buffer conceal ten frames in the middle of the home
#: page (CI: "RES█S█S█S..." instead of "RESULTATS"). Delay costs a modem nothing; invented
#: audio is a byte error. The load generator (bench_phone) passes its own.
TEST_JITTER = 25


class _Sip(asyncio.DatagramProtocol):
    def __init__(self, phones: Phones) -> None:
        self.phones = phones

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.phones._sip_in(data)


class Phones:
    """Up to ``capacity`` simulated Minitels calling ``server`` (see the module docstring).

    ``line_class``: what a line is (a voice test's telephone keeps what it hears).

    ``local`` is the caller's address (127.0.0.2 makes a second caller on loopback);
    ``emulate=False`` keeps the decoded bytes without an emulator (the load generator)."""

    line_class: type[PhoneLine] = PhoneLine

    def __init__(self, server: tuple[str, int], *, capacity: int = 1, local: str = "127.0.0.1",
                 emulate: bool = True, jitter: int = TEST_JITTER) -> None:
        self.jitter = jitter
        self.server = server
        self.local = local
        self.emulate = emulate
        self.bank = OriginateBank(capacity)
        self.lines: dict[str, PhoneLine] = {}
        self.by_slot: dict[int, PhoneLine] = {}
        self.count = 0
        self.sip_port = 0
        self._sip: asyncio.DatagramTransport | None = None
        self._tick: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        #: Lateness of our own RTP sends against the 20 ms schedule (seconds).
        self.lateness: list[float] = []
        self._rx = bytearray(b"\xff" * (160 * capacity))
        self._law = np.zeros(capacity, dtype=np.int64)

    async def open(self) -> Phones:
        self._sip, _ = await self._loop.create_datagram_endpoint(
            lambda: _Sip(self), local_addr=(self.local, 0))
        self.sip_port = self._sip.get_extra_info("sockname")[1]
        self._tick = self._loop.create_task(self._run())
        return self

    async def close(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            await asyncio.gather(self._tick, return_exceptions=True)
        for line in self.lines.values():
            line.rtp.close()
        if self._sip is not None:
            self._sip.close()

    # -- signalling ---------------------------------------------------------------------------

    def _headers(self, line: PhoneLine, method: str, branch: str, cseq: int,
                 to: str) -> tuple[tuple[str, str], ...]:
        return (("Via", f"SIP/2.0/UDP {self.local}:{self.sip_port};branch={branch};rport"),
                ("Max-Forwards", "70"),
                ("From", f'"Minitel" <sip:{line.number}@{self.local}>;tag={line.tag}'),
                ("To", to), ("Call-ID", line.call_id), ("CSeq", f"{cseq} {method}"),
                ("Contact", f"<sip:{line.number}@{self.local}:{self.sip_port}>"))

    def _send(self, message: SipRequest | SipResponse) -> None:
        assert self._sip is not None
        self._sip.sendto(bytes(message), self.server)

    def invite(self, number: str = "0320123456", *, codecs: tuple[str, ...] = ("PCMA",),
               extra: tuple[tuple[str, str], ...] = (), body: bytes | None = None,
               called: str = "3615") -> PhoneLine:
        """Send an INVITE (a new line) to ``called``; :meth:`answered` waits for the
        answer."""
        rtp = self._rtp_socket()
        line = self.line_class(self.count, f"{secrets.token_hex(8)}@{self.local}", number,
                               secrets.token_hex(4), rtp, codecs[0])
        # room for 2 s: a Minitel's modem is hardware and never falls behind, while these
        # run in a Python process that may (a loaded machine): a buffer full at 500 ms
        # dropped the server's audio that was sent on time (byte errors of the simulation)
        line.jitter = JitterBuffer(prefetch=self.jitter, max_frames=max(100, 2 * self.jitter))
        self.count += 1
        self.lines[line.call_id] = line
        line.to_header = f"<sip:{called}@{self.server[0]}:{self.server[1]}>"
        sdp = build_offer(self.local, line.port, codecs) if body is None else body
        line.response = self._loop.create_future()
        line.t_invite = time.monotonic()
        headers = self._headers(line, "INVITE", "z9hG4bK" + secrets.token_hex(6), 1,
                                line.to_header)
        request = SipRequest((*headers, *extra, ("Content-Type", "application/sdp")), sdp,
                             "INVITE", f"sip:{called}@{self.server[0]}:{self.server[1]}")
        self._send(request)
        self._retransmit(line, request, 0.5)
        return line

    def _rtp_socket(self) -> socket.socket:
        """A new line's RTP socket (its port is the one offered): one of its own."""
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((self.local, 0))
        rtp.setblocking(False)
        return rtp

    def _retransmit(self, line: PhoneLine, request: SipRequest, interval: float) -> None:
        """Timer A: the INVITE again until any answer (a proxy may still be starting)."""
        def again() -> None:
            if line.state == "dialing" and not line.provisional and interval < 16:
                self._send(request)
                self._retransmit(line, request, min(2 * interval, 4.0))
        self._loop.call_later(interval, again)

    async def answered(self, line: PhoneLine, timeout: float = 10.0) -> PhoneLine:
        """Wait for the final answer; 2xx → ACK and media, else :class:`CallRefused`."""
        assert line.response is not None
        response = await asyncio.wait_for(asyncio.shield(line.response), timeout)
        if response.status >= 300:
            line.state = "refused"
            raise CallRefused(response)
        return line

    async def call(self, number: str = "0320123456", **kw: object) -> PhoneLine:
        return await self.answered(self.invite(number, **kw))  # type: ignore[arg-type]

    async def hangup(self, line: PhoneLine, timeout: float = 5.0) -> SipResponse:
        """BYE from the Minitel's side; returns the server's answer."""
        line.cseq += 1
        line.bye_answer = self._loop.create_future()
        headers = self._headers(line, "BYE", "z9hG4bK" + secrets.token_hex(6), line.cseq,
                                f"{line.to_header};tag={line.remote_tag}")
        routes = tuple(("Route", r) for r in line.route)
        self._send(SipRequest(headers + routes, b"", "BYE", line.target))
        self._end(line, "we hung up")
        return await asyncio.wait_for(line.bye_answer, timeout)

    def _sip_in(self, data: bytes) -> None:
        message = parse_message(data)
        line = self.lines.get(message.header("Call-ID") or "")
        if line is None:
            return
        if isinstance(message, SipResponse):
            self._response(line, message)
        elif message.method == "BYE":
            self._send(SipResponse(tuple((k, v) for k, v in message.headers
                                         if k in ("Via", "From", "To", "Call-ID", "CSeq")),
                                   b"", 200, "OK"))
            self._end(line, "server hung up")

    def _response(self, line: PhoneLine, response: SipResponse) -> None:
        method = (response.header("CSeq") or "").split(" ")[-1]
        line.provisional = True  # any answer stops timer A
        if method == "BYE":
            if line.bye_answer is not None and not line.bye_answer.done():
                line.bye_answer.set_result(response)
            return
        if response.status < 200 or method != "INVITE":
            return
        line.remote_tag = parse_name_addr(response.header("To") or "").tag or ""
        contact = response.all("Contact")
        line.target = (_uri(contact[0]) if contact
                       else f"sip:3615@{self.server[0]}:{self.server[1]}")
        line.route = tuple(reversed(response.all("Record-Route")))
        ack = self._headers(line, "ACK", "z9hG4bK" + secrets.token_hex(6), 1,
                            response.header("To") or "")
        ack += tuple(("Route", r) for r in line.route)
        if line.response is not None and not line.response.done():
            line.response.set_result(response)
        else:  # a retransmitted 2xx: ACK it again
            self._send(SipRequest(ack, b"", "ACK", line.target))
            return
        if response.status >= 300:
            return  # the server's transaction absorbs an ACK-less refusal; tests read it
        self._send(SipRequest(ack, b"", "ACK", line.target))
        choice = choose_audio(parse_sdp(response.body), (line.codec,))
        line.remote = choice.remote
        line.sender = RtpSender(choice.payload_type)
        line.slot = self.bank.add()
        self.by_slot[line.slot] = line
        line.state = "up"
        line.t_answer = time.monotonic()

    def _end(self, line: PhoneLine, reason: str) -> None:
        if line.state in ("up", "dialing"):
            line.state = "ended"
            line.end_reason = reason
            if line.slot >= 0:
                self.bank.remove(line.slot)
                self.by_slot.pop(line.slot, None)
            line.ended.set()
            line.changed.set()

    def stutter(self, line: PhoneLine, stall: int, period: int) -> None:
        """From now on our RTP to the server holds back ``stall`` frames of every ``period``
        (a sender that falls behind), then sends them at once, in order (its burst)."""
        line.stutter = (stall, period)
        line.frames_out = 0

    def steady(self, line: PhoneLine) -> None:
        """No more stutter: what is held back goes now."""
        line.stutter = None
        self._flush(line)

    def _emit(self, line: PhoneLine, packet: bytes) -> bool:
        """Send ``packet`` now, or hold it back (:meth:`stutter`): True if it went now."""
        if line.stutter is not None:
            stall, period = line.stutter
            phase = line.frames_out % period
            line.frames_out += 1
            if phase < stall:
                line.held_back.append(packet)
                if phase == stall - 1:
                    self._flush(line)
                return False
        with contextlib.suppress(OSError):
            line.rtp.sendto(packet, line.remote)
        return True

    @staticmethod
    def _flush(line: PhoneLine) -> None:
        held, line.held_back = line.held_back, []
        for packet in held:
            if line.remote is not None:
                with contextlib.suppress(OSError):
                    line.rtp.sendto(packet, line.remote)

    # -- the Minitel's keyboard and screen -----------------------------------------------------

    def type(self, line: PhoneLine, text: str) -> None:
        self._key(line, line.minitel.type(text))

    def press(self, line: PhoneLine, key: Key) -> None:
        self._key(line, line.minitel.press(key))

    def send(self, line: PhoneLine, data: bytes) -> None:
        """Raw bytes from the Minitel's keyboard (the load generator)."""
        self._key(line, data)

    def _key(self, line: PhoneLine, data: bytes) -> None:
        if self.emulate:
            line.minitel.take_output()
        if data and line.slot >= 0:
            line.sent += data
            self.bank.send(line.slot, data)

    async def wait(self, line: PhoneLine, predicate: Callable[[PhoneLine], bool],
                   timeout: float = 30.0, what: str = "") -> None:
        """Until ``predicate(line)`` holds (checked after each chunk the modem decodes)."""
        async def until() -> None:
            while not predicate(line):
                if line.state in ("ended", "refused"):
                    raise AssertionError(f"line ended ({line.end_reason}) before {what}:\n"
                                         f"{line.text if self.emulate else ''}")
                line.changed.clear()
                await line.changed.wait()
        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise AssertionError(f"not seen within {timeout} s: {what}\n"
                                 f"{line.text if self.emulate else ''}") from None

    # -- media ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        t = self._loop.time()
        while True:
            t += TICK
            delay = t - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                t = self._loop.time()
            self._media(t)

    def _media(self, t: float) -> None:
        bank, lines = self.bank, self.by_slot
        out = getattr(self, "_out", None)
        if out is not None:
            for slot, line in list(lines.items()):
                if line.remote is None or line.sender is None:
                    continue
                payload = out[1][slot] if line.codec == "PCMA" else out[0][slot]
                if self._emit(line, line.sender.packet(payload.tobytes())):
                    self.lateness.append(time.monotonic() - t)
        rx = self._rx
        for slot, line in lines.items():
            self._read(line)
            frame = line.jitter.pop()
            if frame is None or len(frame) != 160:  # a box would conceal: repeat the last
                frame = line.last_frame
            line.last_frame = frame
            rx[slot * 160 : slot * 160 + 160] = frame
            self._law[slot] = 256 if line.codec == "PCMA" else 0
        codes = np.frombuffer(rx, dtype=np.uint8).reshape(-1, 160)
        pcm = _DECODE[codes + self._law[:, None]]
        now = time.monotonic()
        for slot, event in bank.receive_audio(pcm):
            line = lines.get(slot)
            if line is None:
                continue
            if isinstance(event, Data):
                line.received += event.data
                line.arrivals.append((now, len(line.received)))
                if self.emulate:
                    line.minitel.feed(event.data)
                    back = line.minitel.take_output()  # terminal replies (ENQROM...)
                    if back:
                        line.sent += back
                        bank.send(slot, back)
                if line.watch is not None:
                    line.watch(line, now)
                line.changed.set()
            elif isinstance(event, CarrierUp):
                line.t_carrier = now
                line.changed.set()
            elif isinstance(event, CarrierLost | NoCarrier):
                self._end(line, "carrier lost")
        audio = bank.audio_out(160)
        self._out = (emu_g711.lin2ulaw(audio), emu_g711.lin2alaw(audio))

    @staticmethod
    def _read(line: PhoneLine) -> None:
        push = line.jitter.push
        for _ in range(32):
            try:
                data, addr = line.rtp.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue
            if line.remote is None or (addr[0], addr[1]) != line.remote:
                continue
            if len(data) > 12 and data[0] == 0x80:
                push(int.from_bytes(data[2:4], "big"), int.from_bytes(data[8:12], "big"),
                     data[12:])
                continue
            try:
                packet = parse_rtp(data)
            except RtpError:
                continue
            push(packet.sequence, packet.ssrc, packet.payload)
