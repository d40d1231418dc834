"""The ``sip`` listener: a SIP user agent on UDP and TCP whose calls reach the V.23 modem.

A call: INVITE → ``100 Trying`` (and ``180 Ringing`` for ``ring`` seconds) → checks (closing or
unhealthy: 503; ``max_calls`` reached: 486; the source address over its limits in
``board.gate``: 486; no SDP or no G.711 in it: 488; unreadable SDP: 400; no RTP port: 503) →
``200 OK`` with our SDP answer, the line on the modem bank (answer tone, then 1300 Hz) → when
the Minitel's carrier is steady (``CarrierUp``) the session starts through
``board.handle`` on a :class:`~.lines.PhoneConnection`: channel ``phone``, identity the
caller's number (the user part of P-Asserted-Identity, else of From; ``anonymous@<address>``
when neither gives one). It ends on BYE either way, CANCEL before the answer, the modem's
carrier lost, no RTP for ``rtp_timeout`` seconds, or the session hanging up (BYE once the
modem has sent its last byte); the switchboard bills and closes it once.

I/O only: datagrams and TCP messages go to :class:`~.ua.UserAgent` (sans-IO), its answers
come back out; one timer follows the user agent's next deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from videotex.protocols.jitter import JitterBuffer
from videotex.protocols.sdp import (
    AudioChoice,
    NoCommonCodec,
    SdpError,
    SessionDescription,
    build_answer,
    build_offer,
    choose_audio,
    parse_sdp,
)
from videotex.protocols.sip import SipError, SipStream
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SessionConfig, TerminalLink

from .events import Cancelled, Confirmed, Dropped, Ended, Event, Invite, Refused, Reinvite
from .events import Response as ResponseEvent
from .lines import ALAW, ULAW, VOICE_MAX_FRAMES, Line, PhoneConnection, RtpLine
from .media import BankFull, MediaEngine, release_engine, shared_engine
from .numbers import called_number, caller_number
from .options import PhoneOptions
from .ports import PortPool
from .register import Registration
from .ua import Peer, UserAgent
from .voice import VoiceConnection, voice_session, voice_speech

__all__ = ["SipListener", "start"]

log = logging.getLogger("videotex.phone")


@dataclass(eq=False)
class _Call:
    call_id: str
    peer: Peer
    identity: str
    gate_key: str
    line: RtpLine
    offer: SessionDescription
    choice: AudioChoice
    session_id: str
    version: int = 1
    answer_handle: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    #: "modem", "voice", or "auto" (the modem's tone, the voice menu if no Minitel answers)
    mode: str = "modem"
    auto_handle: asyncio.TimerHandle | None = None


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, listener: SipListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.listener.received(data, ("udp", str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:  # ICMP for a datagram we sent
        log.debug("sip udp error", extra={"error": str(exc)})


class SipListener:
    """See the module docstring."""

    def __init__(self, cfg: ListenerConfig, board: Switchboard, options: PhoneOptions) -> None:
        self.cfg = cfg
        self.board = board
        self.options = options
        self.engine: MediaEngine = shared_engine(options.modem, options.max_calls)
        self.ua = UserAgent(self._local)
        self.ports = PortPool(cfg.host, *options.rtp_ports)
        self.calls: dict[str, _Call] = {}
        self.closing = False
        self.registration: Registration | None = None
        self.refused = 0
        self.port = cfg.port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.AbstractServer | None = None
        self._streams: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._local_cache: dict[str, str] = {}
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stats_task: asyncio.Task[None] | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._registered = asyncio.Event()

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        host = self.cfg.host
        # under --workers the supervisor holds the port with SO_REUSEPORT (worker 0 runs us)
        reuse = bool(self.cfg.options.get("reuse_port")) or None
        # port 0 with both transports: the port the system gives UDP may be taken for TCP
        # (another program's connection): another port then, a few times
        both = "udp" in self.options.transport and "tcp" in self.options.transport
        tries = 20 if self.port == 0 and both else 1
        wanted = self.port
        for attempt in range(tries):
            await self._bind(host, wanted, reuse, last=attempt == tries - 1)
            if self._tcp is not None or "tcp" not in self.options.transport:
                break
        if self.options.registrar is not None:
            host_r, port_r = self.options.registrar
            transport_r = "udp" if self._udp is not None else "tcp"
            self.registration = Registration(self.ua, (transport_r, host_r, port_r),
                                             self.options.domain, self.options.user,
                                             self.options.password, self.options.expires,
                                             self._registration_changed)
            self.registration.start(self._loop.time())
            self._flush()
        if self.options.media_log:
            self._stats_task = self._loop.create_task(self._log_media())

    async def _bind(self, host: str, port: int, reuse: bool | None, last: bool) -> None:
        """The UDP and/or TCP sockets on ``port`` (0: the system's choice, the same for both).
        A TCP port already in use closes the UDP socket; with both on port 0 ``_tcp`` is
        then left None (the caller tries again), unless this is the ``last`` try: raised."""
        if "udp" in self.options.transport:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            transport, _ = await self._loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(host, port), family=family,
                reuse_port=reuse)
            self._udp = transport
            self.port = transport.get_extra_info("sockname")[1]
        if "tcp" in self.options.transport:
            try:
                self._tcp = await asyncio.start_server(self._stream, host, self.port,
                                                       backlog=self.cfg.backlog,
                                                       reuse_port=reuse)
            except OSError as exc:
                if self._udp is not None:  # nothing left half-bound
                    self._udp.close()
                    self._udp = None
                if last or exc.errno != errno.EADDRINUSE:
                    raise
                return
            self.port = self._tcp.sockets[0].getsockname()[1]

    def addresses(self) -> list[str]:
        host = f"[{self.cfg.host}]" if ":" in self.cfg.host else self.cfg.host
        return [f"sip://{host}:{self.port}" + ("" if t == "udp" else ";transport=tcp")
                for t in self.options.transport]

    def close(self) -> None:
        """Stop taking calls: new INVITEs and OPTIONS get 503."""
        self.closing = True
        self.ua.options_status = 503

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """The switchboard said goodbye to the sessions: wait for their lines to hang up,
        end the rest, unregister, and close the sockets."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        for call in list(self.calls.values()):
            self.engine.finish(call.line, "shutdown")
        if self._sessions:  # each ends at once now that its line has: billed and closed
            await asyncio.wait(self._sessions, timeout=timeout)
        if self.registration is not None:
            self.registration.stop(self._loop.time())
        self._flush()
        if self._stats_task is not None:
            self._stats_task.cancel()
        if self._timer is not None:
            self._timer.cancel()
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._streams.values()):
                writer.close()
            await self._tcp.wait_closed()
        release_engine(self.options.max_calls)

    # -- signalling I/O ----------------------------------------------------------------------

    def received(self, data: bytes, peer: Peer) -> None:
        self._handle(self.ua.receive(data, peer, self._loop.time()))

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        where = writer.get_extra_info("peername")
        key = (str(where[0]), int(where[1]))
        peer: Peer = ("tcp", *key)
        self._streams[key] = writer
        stream = SipStream()
        try:
            while data := await reader.read(65536):
                for message in stream.feed(data):
                    self._handle(self.ua.receive_message(message, peer, self._loop.time()))
        except SipError as e:
            log.warning("sip tcp stream dropped", extra={"peer": f"{key[0]}:{key[1]}",
                                                         "why": str(e)})
        except (ConnectionError, OSError):
            pass
        finally:
            self._streams.pop(key, None)
            writer.close()

    def _flush(self) -> None:
        for data, peer in self.ua.outbox:
            if peer[0] == "udp":
                if self._udp is not None:
                    self._udp.sendto(data, (peer[1], peer[2]))
            else:
                writer = self._streams.get((peer[1], peer[2]))
                if writer is not None and not writer.is_closing():
                    writer.write(data)
        self.ua.outbox.clear()
        deadlines = [d for d in (self.ua.next_deadline(),
                                 self.registration.next_deadline() if self.registration
                                 else None) if d is not None]
        if not deadlines:
            return
        when = min(deadlines)
        if self._timer is None or self._timer.when() > when + 0.001:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        if self.registration is not None:
            self.registration.tick(now)
        self._handle(self.ua.tick(now))

    def _local(self, peer: Peer) -> tuple[str, int]:
        """Our address toward ``peer`` (Contact, Via, SDP): ``advertise``, the bound host,
        else what the routing table picks for the peer."""
        if self.options.advertise:
            return self.options.advertise, self.port
        host = self.cfg.host
        if host not in ("0.0.0.0", "::", ""):
            return host, self.port
        found = self._local_cache.get(peer[1])
        if found is None:
            family = socket.AF_INET6 if ":" in peer[1] else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((peer[1], 9))
                found = str(probe.getsockname()[0])
            self._local_cache[peer[1]] = found
        return found, self.port

    # -- events ------------------------------------------------------------------------------

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Invite):
                self._invite(event)
            elif isinstance(event, Reinvite):
                self._reinvite(event)
            elif isinstance(event, Confirmed):
                self._confirmed(event)
            elif isinstance(event, Cancelled | Ended):
                call = self.calls.get(event.call_id)
                if call is not None:
                    reason = "cancelled" if isinstance(event, Cancelled) else event.reason
                    if call.line.slot >= 0:
                        self.engine.finish(call.line, reason)  # line_ended follows
                    else:  # still ringing: never on the bank
                        call.line.end(reason)
                        self.line_ended(call.line, reason)
            elif isinstance(event, ResponseEvent):
                if self.registration is not None and self.registration.owns(event.key):
                    self.registration.on_response(event.response, self._loop.time())
            elif isinstance(event, Refused):
                self.refused += 1
                log.info("sip request refused", extra={"peer": f"{event.peer[1]}:"
                         f"{event.peer[2]}", "status": event.status, "why": event.why})
            elif isinstance(event, Dropped):
                self.refused += 1
                log.info("sip message dropped", extra={"peer": f"{event.peer[1]}:"
                         f"{event.peer[2]}", "why": event.why})
        self._flush()

    def _refuse(self, event: Invite, status: int, why: str,
                headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.refused += 1
        log.info("phone call refused", extra={"call": event.call_id, "status": status,
                                              "peer": f"{event.peer[1]}:{event.peer[2]}",
                                              "why": why})
        self.ua.reject(event.call_id, status, self._loop.time(), why, headers)

    def _invite(self, event: Invite) -> None:
        now = self._loop.time()
        source = event.peer[1]
        problem = self.board.health() if self.board.health is not None else None
        if self.closing or self.board.closing or problem:
            self._refuse(event, 503, problem or "the service is closing",
                         (("Retry-After", "60"),))
            return
        if len(self.calls) >= self.options.max_calls:
            self._refuse(event, 486, f"all {self.options.max_calls} lines are busy")
            return
        offer_body = event.request.body
        if not offer_body:
            self._refuse(event, 488, "no SDP offer in the INVITE")
            return
        try:
            offer = parse_sdp(offer_body)
            choice = choose_audio(offer, self.options.codecs)
        except NoCommonCodec as e:
            self._refuse(event, 488, str(e))
            return
        except SdpError as e:
            self._refuse(event, 400, f"SDP: {e}")
            return
        refused = self.board.gate.admit(source, self.board.clock.monotonic())
        if refused is not None:
            self._refuse(event, 486, f"too many calls from {source} ({refused})")
            return
        try:
            sock = self.ports.open()
        except OSError as e:
            self.board.gate.release(source)
            self._refuse(event, 503, f"no RTP port free ({e})")
            return
        identity = caller_number(event.request, source)
        number = called_number(event.request)
        mode = ("voice" if self.options.is_voice(number)
                else "auto" if self.options.auto else "modem")
        jitter = JitterBuffer(prefetch=self.options.jitter,
                              max_frames=VOICE_MAX_FRAMES if mode == "voice" else 25)
        line = RtpLine(self, event.call_id, identity, f"{source}:{event.peer[2]}", now, sock,
                       _normal(choice.remote), choice.payload_type, _coding(choice.codec),
                       choice.telephone_event, jitter, self.options.rtp_timeout)
        line.listen_keys = mode != "modem"
        call = _Call(event.call_id, event.peer, identity, source, line, offer, choice,
                     str(secrets.randbits(48)), mode=mode)
        self.calls[event.call_id] = call
        self._idle.clear()
        if self.options.ring > 0:
            self.ua.ring(event.call_id)
            call.answer_handle = self._loop.call_later(self.options.ring, self._answer, call)
        else:
            self._answer(call)

    def _answer(self, call: _Call) -> None:
        call.answer_handle = None
        if self.calls.get(call.call_id) is not call:
            return
        now = self._loop.time()
        try:
            self.engine.attach(call.line)
        except BankFull:
            self.ua.reject(call.call_id, 486, now, "the modem bank is full")
            self._drop(call, "bank full")
            self._flush()
            return
        address = self._local(call.peer)[0]
        sdp = build_answer(call.offer, call.choice, address, call.line.port, call.session_id,
                           call.version)
        self.ua.answer(call.call_id, sdp, now)
        log.info("phone call answered", extra={"call": call.call_id, "caller": call.identity,
                                               "peer": call.line.peer, "codec": call.choice.codec,
                                               "rtp_port": call.line.port, "mode": call.mode})
        self._flush()
        if call.mode == "voice":
            self._voice(call.line)
        elif call.mode == "auto":
            call.auto_handle = self._loop.call_later(self.options.auto_wait, self._voice,
                                                     call.line)

    def _reinvite(self, event: Reinvite) -> None:
        call = self.calls.get(event.call_id)
        now = self._loop.time()
        if call is None:
            self.ua.reject(event.call_id, 481, now, "no such call")
            return
        address = self._local(call.peer)[0]
        call.version += 1
        if not event.request.body:  # an offer from us, their answer in the ACK
            codec = call.choice.codec
            others = tuple(c for c in self.options.codecs if c != codec)
            self.ua.answer(event.call_id, build_offer(address, call.line.port, (codec, *others),
                                                      call.session_id, call.version), now)
            return
        try:
            offer = parse_sdp(event.request.body)
            choice = choose_audio(offer, self.options.codecs)
        except SdpError as e:
            call.version -= 1
            self.ua.reject(event.call_id, 488 if isinstance(e, NoCommonCodec) else 400, now,
                           str(e))
            return
        self._retarget(call, choice)
        self.ua.answer(event.call_id, build_answer(offer, choice, address, call.line.port,
                                                   call.session_id, call.version), now)

    def _confirmed(self, event: Confirmed) -> None:
        call = self.calls.get(event.call_id)
        if call is None or not event.body:
            return
        try:  # the answer to the offer our 2xx made for a re-INVITE without SDP
            self._retarget(call, choose_audio(parse_sdp(event.body), self.options.codecs))
        except SdpError as e:
            log.info("sip ACK answer unusable", extra={"call": event.call_id, "why": str(e)})

    def _retarget(self, call: _Call, choice: AudioChoice) -> None:
        call.choice = choice
        call.line.retarget(_normal(choice.remote), choice.payload_type, _coding(choice.codec),
                           choice.telephone_event)
        self.engine.recode(call.line)

    # -- lines (called by the media tick) ------------------------------------------------------

    def carrier_up(self, line: Line) -> None:
        call = self.calls.get(line.label)
        if call is None or line.conn is not None or line.voice is not None:
            return
        if call.auto_handle is not None:  # a Minitel answered: no voice menu for this call
            call.auto_handle.cancel()
            call.auto_handle = None
        line.listen_keys = False
        line.conn = PhoneConnection(line, self.engine)
        call.task = self._loop.create_task(self._serve(line.conn))
        self._sessions.add(call.task)
        call.task.add_done_callback(self._sessions.discard)

    def key(self, line: Line, digit: str) -> None:
        """A keypad digit on a voice call, or on an auto call before any carrier: the
        voice menu takes the call (the digit is its first key)."""
        if line.voice is None:
            if line.conn is not None:
                return  # a Minitel's call: keys are bytes from its modem
            self._voice(line)
        conn = line.conn
        if isinstance(conn, VoiceConnection):
            conn.key(digit)

    def _voice(self, line: Line) -> None:
        """The voice menu takes ``line`` (at answer, or an auto call's fallback)."""
        call = self.calls.get(line.label)
        if call is None or line.conn is not None or line.ended is not None:
            return
        if call.auto_handle is not None:
            call.auto_handle.cancel()
            call.auto_handle = None
        from .voice import VoicePlayer

        speech = voice_speech()
        line.voice = VoicePlayer(speech, self._loop)
        line.listen_keys = True
        conn = VoiceConnection(line, self.engine, line.voice)
        line.conn = conn
        call.task = self._loop.create_task(self._serve_voice(conn))
        self._sessions.add(call.task)
        call.task.add_done_callback(self._sessions.discard)

    async def _serve_voice(self, conn: VoiceConnection) -> None:
        try:
            await self.board.handle(conn, pacer=None, session_factory=voice_session)
        finally:
            conn.player.close()
            self.engine.hangup(conn.line)

    async def _serve(self, conn: PhoneConnection) -> None:
        try:
            await self.board.handle(conn, pacer=None,
                                    config=SessionConfig(link=TerminalLink.CONNECTED))
        finally:
            self.engine.hangup(conn.line)

    def line_ended(self, line: Line, reason: str) -> None:
        call = self.calls.get(line.label)
        if call is not None:
            self._drop(call, reason)
            self.ua.hangup(call.call_id, self._loop.time())
            self._flush()
        # the jitter buffer's frames never received, and dropped because too many were held
        jitter = line.jitter.stats if isinstance(line, RtpLine) else None
        log.info("phone call ended", extra={
            "call": line.label, "caller": line.identity, "reason": reason,
            "seconds": round(self._loop.time() - line.opened, 3), "down": line.down,
            "up": line.up, "crc_down": f"{line.crc_down:08x}", "crc_up": f"{line.crc_up:08x}",
            "concealed": line.concealed, "held": line.held,
            "drained": line.drained, "lost": jitter.lost if jitter else 0,
            "overflow": jitter.overflow if jitter else 0, "session": line.conn is not None})

    def _drop(self, call: _Call, reason: str) -> None:
        if self.calls.pop(call.call_id, None) is None:
            return
        if call.answer_handle is not None:
            call.answer_handle.cancel()
        if call.auto_handle is not None:
            call.auto_handle.cancel()
        if call.line.slot < 0:
            call.line.end(reason)
            call.line.release()
        self.board.gate.release(call.gate_key)
        if not self.calls:
            self._idle.set()

    def _registration_changed(self, reg: Registration) -> None:
        log.info("sip registration", extra={"state": reg.state, "status": reg.last_status,
                                            "reason": reg.last_reason, "expires": reg.granted})
        self._registered.set()

    async def idle(self) -> None:
        """Wait until no call is up and every session has ended (billed and closed)."""
        await self._idle.wait()
        if self._sessions:
            await asyncio.wait(set(self._sessions))

    async def registration_settled(self) -> None:
        """Wait until the registrar has answered (registered or failed; tests, status)."""
        await self._registered.wait()

    async def _log_media(self) -> None:
        stats = self.engine.stats
        while True:
            await asyncio.sleep(self.options.media_log)
            if stats.ticks:
                log.info("phone media", extra={
                    "calls": len(self.engine.live), "calls_max": stats.calls_max,
                    "ticks": stats.ticks, "skipped": stats.skipped, "packets": stats.packets,
                    "late_p50_ms": round(stats.late_ms(0.5), 2),
                    "late_p99_ms": round(stats.late_ms(0.99), 2),
                    "late_ms_counts": stats.late_counts(),
                    "cpu_ms_per_tick": round(1000 * stats.cpu / stats.ticks, 3)})
                stats.reset()
                stats.calls_max = len(self.engine.live)
            if self.options.voice or self.options.auto:
                self._log_speech()

    @staticmethod
    def _log_speech() -> None:
        speech = getattr(voice_speech(), "speech", None)
        s = getattr(speech, "stats", None)
        if s is None:
            return
        log.info("voice speech", extra={
            "hits": s.hits, "misses": s.misses, "hit_rate": round(s.hit_rate, 3),
            "syntheses": s.syntheses, "synth_seconds": round(s.synth_seconds, 3),
            "synth_ms_per_text": round(1000 * s.synth_seconds / max(1, s.syntheses), 1),
            "queue_waits": s.queue_waits, "fallbacks": s.fallbacks, "failures": s.failures})


def _coding(codec: str) -> int:
    return ALAW if codec == "PCMA" else ULAW


def _normal(remote: tuple[str, int] | None) -> tuple[str, int] | None:
    """The address as ``recvfrom`` reports it (IPv6 compressed), to compare sources."""
    if remote is None:
        return None
    return str(ipaddress.ip_address(remote[0])), remote[1]


async def start(cfg: ListenerConfig, board: Switchboard) -> SipListener:
    """The ``sip`` listener starter: checks the options, binds, registers if asked."""
    options = PhoneOptions.parse("sip", str(cfg), cfg.options)
    if options.voice or options.auto:  # the voice menu's fixed prompts, rendered once now
        speech = voice_speech()
        warm = getattr(speech, "warm", None)
        if warm is not None:
            await warm()
    listener = SipListener(cfg, board, options)
    await listener.start()
    return listener
