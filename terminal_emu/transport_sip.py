"""``sip:NUMBER@HOST:PORT``: the emulator as a Minitel on an internet box's phone socket.

The call is placed with the emulator's own SIP user agent (:mod:`.sip_call`, UDP), the
audio is RTP (:mod:`.rtp`) in G.711 (:mod:`.g711`), and the line is the Minitel's own
V.23 modem (:mod:`.modem`): server bytes come out of the modem into :meth:`read`, keys
written with :meth:`write` go into it. Nothing here comes from the server package.

URL options (query string): ``from=NUMBER`` the caller's number in From (default
:data:`DEFAULT_CALLER`, in the range ARCEP keeps for fiction so that billing shows a
number that rings nobody; ``anonymous`` hides it), ``pai=NUMBER`` adds a
P-Asserted-Identity, ``codec=pcmu|pcma|pcma,pcmu`` the codecs offered in order (default
``pcmu,pcma``), ``bind=ADDRESS`` the local address of the SIP and RTP sockets (a second
loopback address, to play another caller). Requests all go to HOST:PORT (default 5060).

Timing: one callback every 20 ms on a monotonic schedule (``t0 + k·20 ms``, never a
drifting sleep) pops one frame from the jitter buffer into the modem and sends one RTP
packet of the modem's audio; a late loop catches up frame by frame (up to 1 s: a busy
shared core), a longer stall (the process stopped) skips ahead instead of a burst. RTP from any address but the
answer's ``c=``/``m=`` is ignored, so are other payload types (telephone-event, CN).

Hang-up: Connexion/Fin pressed twice in a row (reference §1: the first press goes to the
server as ``13 49``), :meth:`close` (Ctrl+C), the modem losing the carrier or hearing no
answer tone (40 s): BYE (or CANCEL); a BYE from the server ends the call. Either way
:meth:`read` returns ``b""``. :attr:`status` follows the call (dialing, ringing, answer
tone heard, connected, carrier lost...), also logged on the ``terminal_emu.sip`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

import numpy as np

from . import g711
from .client import ConnectError, Transport
from .keyboard import Key
from .modem import CarrierLost, Connected, Data, Event, LineState, NoAnswer, V23Modem
from .rtp import FRAME_BYTES, JitterBuffer, RtpError, RtpSender, parse_rtp
from .sdp import CODECS, MediaAnswer, SdpError, build_offer, parse_answer
from .sip_call import (
    Answered,
    CallConfig,
    CallEvent,
    CallState,
    Ended,
    Ignored,
    Progress,
    Rejected,
    RemoteHangUp,
    Reoffer,
    TimedOut,
    UacCall,
    hostport,
)

__all__ = ["DEFAULT_CALLER", "SipTarget", "SipTransport", "open_sip", "parse_sip_url"]

log = logging.getLogger("terminal_emu.sip")

#: ARCEP's numbering plan keeps 01 99 00 xx xx for works of fiction: a number-like caller
#: for billing records that belongs to nobody.
DEFAULT_CALLER = "0199000000"
FRAME_S = 0.020
#: Behind schedule by more than this (the process was suspended), the frames missed are
#: skipped; less (a busy loop, a shared core), they are caught up: the far end's audio that
#: waited in the socket is all played, none trimmed, so no byte is lost to our own delay.
MAX_LATE_S = 1.0
#: Jitter buffer: 40 ms before playout; trimmed only past 1 s (a burst that long loses
#: audio either way; a modem prefers delay to loss).
JITTER_DEPTH, JITTER_MAX = 2, 50
#: Longest RTP payload accepted (60 ms); more is not a G.711 phone frame.
MAX_PAYLOAD = 3 * FRAME_BYTES
#: How long :meth:`SipTransport.close` waits for the BYE's answer.
HANGUP_WAIT_S = 2.0
_NUMBER = re.compile(r"[0-9A-Za-z+*#._\-]{1,32}")
_OPTIONS = ("from", "pai", "codec", "bind")
_PROGRESS = {100: "trying", 180: "ringing", 181: "call forwarded", 182: "queued",
             183: "session progress"}
_FIN = tuple(Key.CONNEXION_FIN.value)
_SILENCE = np.zeros(FRAME_BYTES, dtype=np.int16)
_TO_LINEAR = {"ulaw": g711.ulaw2lin, "alaw": g711.alaw2lin}
_FROM_LINEAR = {"ulaw": g711.lin2ulaw, "alaw": g711.lin2alaw}
# The answer tone (2100 Hz) is bin 42 of a 160-sample frame: its share of the frame's energy.
_TONE_ROW = np.exp(-2j * np.pi * 2100.0 * np.arange(FRAME_BYTES) / 8000.0)
_TONE_FRAMES = 5  # 100 ms of tone: "answer tone heard"
_TONE_FLOOR = FRAME_BYTES * 1e-5  # frame energy below which it is silence (about -47 dBFS)


@dataclass(frozen=True, slots=True)
class SipTarget:
    """A parsed ``sip:`` URL."""

    url: str
    number: str
    host: str
    port: int
    caller: str = DEFAULT_CALLER
    pai: str | None = None
    codecs: tuple[str, ...] = ("pcmu", "pcma")
    bind: str | None = None


def parse_sip_url(url: str) -> SipTarget:
    """``sip:NUMBER@HOST[:PORT][?from=...&pai=...&codec=...&bind=...]``; raises
    :class:`ConnectError` naming what is wrong."""
    if not url.startswith("sip:"):
        raise ConnectError(f"{url}: expected sip:NUMBER@HOST:PORT")
    rest, _, query = url[4:].removeprefix("//").partition("?")
    rest, _, params = rest.partition(";")
    if params and params.lower() not in ("transport=udp", ""):
        raise ConnectError(f"{url}: URI parameter {params!r} (only ;transport=udp: UDP only)")
    user, at, where = rest.rpartition("@")
    number = unquote(user)
    if not at or not number:
        raise ConnectError(f"{url}: no number: expected sip:NUMBER@HOST:PORT")
    if not _NUMBER.fullmatch(number):
        raise ConnectError(f"{url}: number {number!r} is not digits (or * # + letters)")
    host, port = _host_port(url, where)
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ConnectError(f"{url}: unknown option {unknown[0]!r} (known: {', '.join(_OPTIONS)})")
    opt = {k: v[-1] for k, v in options.items()}
    for name in ("from", "pai"):
        if name in opt and not _NUMBER.fullmatch(opt[name]):
            raise ConnectError(f"{url}: {name}={opt[name]!r} is not a number")
    codecs = tuple(c.strip().lower() for c in opt.get("codec", "pcmu,pcma").split(","))
    bad = [c for c in codecs if c not in CODECS]
    if bad or not codecs:
        raise ConnectError(f"{url}: codec {bad[0] if bad else ''!r} is not pcmu or pcma")
    bind = opt.get("bind")
    if bind is not None:
        try:
            bind = str(ipaddress.ip_address(bind.strip("[]")))
        except ValueError:
            raise ConnectError(f"{url}: bind={bind!r} is not an IP address") from None
    return SipTarget(url, number, host, port, opt.get("from", DEFAULT_CALLER), opt.get("pai"),
                     tuple(dict.fromkeys(codecs)), bind)


def _host_port(url: str, where: str) -> tuple[str, int]:
    if where.startswith("["):
        host, bracket, tail = where[1:].partition("]")
        if not bracket:
            raise ConnectError(f"{url}: unclosed [ in the host")
        port_text = tail.removeprefix(":") if tail.startswith(":") else tail
    else:
        host, _, port_text = where.partition(":")
    if not host:
        raise ConnectError(f"{url}: no host: expected sip:NUMBER@HOST:PORT")
    if not port_text:
        return host, 5060
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise ConnectError(f"{url}: port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.on_datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)  # ICMP errors: the SIP timers decide what they mean


class SipTransport(Transport):
    """A phone call carrying videotex through the V.23 modem (see the module docstring)."""

    def __init__(self, target: SipTarget, *, modem: V23Modem | None = None) -> None:
        self.target = target
        self.modem = modem or V23Modem()
        self.jitter = JitterBuffer(depth=JITTER_DEPTH, max_depth=JITTER_MAX)
        #: Every status the call went through, in order.
        self.history: list[str] = []
        #: Called with each new status (the interactive client redraws its status line).
        self.on_status: Callable[[str], None] | None = None
        #: Datagrams set aside: ``sip`` not SIP or not this call's, ``rtp_foreign`` from
        #: another address, ``rtp_bad`` not RTP, ``rtp_other`` another payload type.
        self.dropped = {"sip": 0, "rtp_foreign": 0, "rtp_bad": 0, "rtp_other": 0}
        self.rtp_sent = 0
        self.media: MediaAnswer | None = None
        self._status = ""
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._answered: asyncio.Future[MediaAnswer] = self._loop.create_future()
        self._connected = asyncio.Event()
        self._down = asyncio.Event()  # the line dropped (the SIP call may still be ending)
        self._ended = asyncio.Event()  # the SIP call is over
        self._call: UacCall | None = None
        self._sip: asyncio.DatagramTransport | None = None
        self._rtp: asyncio.DatagramTransport | None = None
        self._sip_timer: asyncio.TimerHandle | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._remote: tuple[str, int] | None = None
        self._sender: RtpSender | None = None
        self._t0 = 0.0
        self._ticks = 0
        self._tone = 0
        self._fin = 0
        self._line_up = False
        self._last_progress = ""

    # -- status ------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._status

    def _set_status(self, text: str) -> None:
        if text == self._status:
            return
        self._status = text
        self.history.append(text)
        log.info("sip:%s: %s", self.target.number, text)
        if self.on_status is not None:
            self.on_status(text)

    @property
    def local_address(self) -> str:
        """The caller's number: what the server sees of this line."""
        return self.target.caller

    @property
    def call(self) -> UacCall | None:
        return self._call

    # -- dialing -------------------------------------------------------------------------

    async def dial(self, timeout: float) -> MediaAnswer:
        """Place the call; returns once answered (media running), else :class:`ConnectError`."""
        t = self.target
        peer = await self._resolve()
        try:
            local = t.bind or _route_to(peer)
        except OSError as e:
            raise ConnectError(f"{t.url}: no route to {hostport(*peer)}: {e}") from None
        try:
            self._sip = await self._endpoint(local, 0, self._on_sip)
            self._rtp = await self._even_endpoint(local)
        except OSError as e:
            self._close_sockets()
            raise ConnectError(f"{t.url}: cannot open UDP sockets on {local}: {e}") from None
        sip_port = self._sip.get_extra_info("sockname")[1]
        rtp_port = self._rtp.get_extra_info("sockname")[1]
        sdp = build_offer(local, rtp_port, t.codecs, session_id=secrets.randbits(31))
        self._call = UacCall(CallConfig(t.number, peer, (local, sip_port), t.caller, sdp, t.pai))
        self._set_status(f"dialing {t.number} at {hostport(*peer)}")
        self._call.start(self._loop.time())
        self._flush()
        try:
            return await asyncio.wait_for(asyncio.shield(self._answered), timeout)
        except TimeoutError:
            last = (f"last heard: {self._last_progress}" if self._last_progress else
                    f"no response from {hostport(*peer)} over UDP: is a SIP server there?")
            raise ConnectError(f"{t.url}: no answer after {timeout:g} s ({last})") from None

    async def _resolve(self) -> tuple[str, int]:
        host, port = self.target.host, self.target.port
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(host)), port
        try:
            infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except OSError as e:
            raise ConnectError(f"{self.target.url}: cannot resolve {host!r}: {e}") from None
        return str(infos[0][4][0]), port

    async def _endpoint(self, host: str, port: int,
                        handler: Callable[[bytes, tuple[str, int]], None]
                        ) -> asyncio.DatagramTransport:
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Datagrams(handler), local_addr=(host, port))
        return transport

    async def _even_endpoint(self, host: str) -> asyncio.DatagramTransport:
        """The RTP socket, on an even port if one comes in a few tries (RFC 3550 §11)."""
        for _ in range(8):
            transport = await self._endpoint(host, 0, self._on_rtp)
            if transport.get_extra_info("sockname")[1] % 2 == 0:
                return transport
            transport.close()
        return await self._endpoint(host, 0, self._on_rtp)

    # -- SIP -----------------------------------------------------------------------------

    def _flush(self) -> None:
        call, sock = self._call, self._sip
        if call is None or sock is None:
            return
        for data, addr in call.outbox:
            if not sock.is_closing():
                sock.sendto(data, addr)
        call.outbox.clear()
        if self._sip_timer is not None:
            self._sip_timer.cancel()
            self._sip_timer = None
        when = call.next_timer
        if when is not None:
            self._sip_timer = self._loop.call_at(when, self._on_sip_timer)

    def _on_sip_timer(self) -> None:
        self._sip_timer = None
        if self._call is not None:
            events = self._call.on_timer(self._loop.time())
            self._flush()
            self._on_call(events)

    def _on_sip(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._call is None:
            return
        events = self._call.receive(data, addr, self._loop.time())
        self._flush()
        self._on_call(events)

    def _on_call(self, events: list[CallEvent]) -> None:
        for ev in events:
            match ev:
                case Ignored():
                    self.dropped["sip"] += 1
                case Progress(status, reason):
                    self._last_progress = f"{status} {reason}"
                    self._set_status(_PROGRESS.get(status, f"{status} {reason}"))
                case Answered(status, reason, sdp):
                    self._answer(f"{status} {reason}", sdp)
                case Rejected(status, reason):
                    self._fail(f"the call was refused: {status} {reason}")
                case TimedOut(method):
                    self._fail(f"no final response to {method} "
                               f"from {hostport(*self._peer)} over UDP")
                case RemoteHangUp():
                    self._finish("the server hung up")
                case Ended():
                    self._finish(self._status)
                case Reoffer(_, sdp):
                    self._reoffer(sdp)

    @property
    def _peer(self) -> tuple[str, int]:
        return self._call.config.peer if self._call else (self.target.host, self.target.port)

    def _answer(self, what: str, sdp: bytes) -> None:
        try:
            media = parse_answer(sdp, self.target.codecs)
        except SdpError as e:
            self._fail(f"answered ({what}) with unusable SDP: {e}")
            self._hang_up_call()
            return
        self.media = media
        self._remote = (media.host, media.port)
        self._sender = RtpSender(media.codec.payload_type)
        self._line_up = True
        self._set_status(f"answered ({media.codec.name}), listening for the answer tone")
        self._t0 = self._loop.time()
        self._tick_handle = self._loop.call_at(self._t0 + FRAME_S, self._tick)
        if not self._answered.done():
            self._answered.set_result(media)

    def _reoffer(self, sdp: bytes) -> None:
        if self.media is None:
            return
        with contextlib.suppress(SdpError):  # an offer we cannot read leaves the media as is
            media = parse_answer(sdp, [self.media.codec.name.lower()])
            self._remote = (media.host, media.port)

    def _fail(self, why: str) -> None:
        if not self._answered.done():
            self._answered.set_exception(ConnectError(f"{self.target.url}: {why}"))
        self._finish(why)

    def _finish(self, why: str) -> None:
        """The call is over: media stops, :meth:`read` gives ``b""``."""
        self._stop_media(why)
        self._ended.set()

    def _stop_media(self, why: str) -> None:
        self._set_status(why)
        self._line_up = False
        self._down.set()
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        if self.modem.state is not LineState.DISCONNECTED:
            self.modem.hang_up()
        self._queue.put_nowait(b"")

    def _hang_up_call(self) -> None:
        if self._call is not None and self._call.state is not CallState.TERMINATED:
            self._call.hang_up(self._loop.time())
            self._flush()
            if self._call.state is CallState.TERMINATED:
                self._ended.set()

    def drop_line(self, why: str) -> None:
        """Hang up (BYE, or CANCEL while ringing); :meth:`read` gives ``b""``."""
        if self._ended.is_set():
            return
        self._stop_media(why)
        self._hang_up_call()

    # -- media ---------------------------------------------------------------------------

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr != self._remote:
            self.dropped["rtp_foreign"] += 1
            return
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.dropped["rtp_bad"] += 1
            return
        media = self.media
        if media is None or packet.payload_type != media.codec.payload_type \
                or len(packet.payload) > MAX_PAYLOAD:
            self.dropped["rtp_other"] += 1
            return
        self.jitter.push(packet.seq, packet.payload, packet.ssrc)

    def _tick(self) -> None:
        """One 20 ms frame each way (see the module docstring on timing)."""
        media, sender, sock = self.media, self._sender, self._rtp
        assert media is not None and sender is not None and sock is not None
        self._ticks += 1
        payload = self.jitter.pop()
        # int16 straight from the table: the modem scales it (no float copy here)
        samples = _SILENCE if payload is None else _TO_LINEAR[media.codec.law](payload)
        if self._tone < _TONE_FRAMES and self.modem.state is LineState.CALLING:
            self._listen_for_tone(samples)
        events = self.modem.receive_audio(samples)
        if events:
            self._on_modem(events)
        if not self._line_up or self._remote is None:
            return
        audio = _encode(self.modem.audio_out(FRAME_BYTES), media.codec.law)
        if not sock.is_closing():
            sock.sendto(sender.packet(audio), self._remote)
            self.rtp_sent += 1
        late = self._loop.time() - (self._t0 + self._ticks * FRAME_S)
        if late > MAX_LATE_S:  # the process was stopped: skip, do not burst
            skipped = int(late / FRAME_S)
            self._ticks += skipped
            sender.skip(skipped)
        self._tick_handle = self._loop.call_at(self._t0 + (self._ticks + 1) * FRAME_S,
                                               self._tick)

    def _listen_for_tone(self, samples: np.ndarray) -> None:
        x = samples * (1.0 / 32768.0)
        energy = float(x @ x)
        if energy > _TONE_FLOOR and abs(x @ _TONE_ROW) ** 2 > 0.5 * (FRAME_BYTES / 2) * energy:
            self._tone += 1
            if self._tone == _TONE_FRAMES:
                self._set_status("answer tone heard")
        else:
            self._tone = 0

    def _on_modem(self, events: list[Event]) -> None:
        for ev in events:
            match ev:
                case Data(data):
                    self._queue.put_nowait(data)
                case Connected(_, via):
                    how = "answer tone" if via == "answer-tone" else "carrier only"
                    self._set_status(f"connected, V.23 1200/75 ({how})")
                    self._connected.set()
                case CarrierLost():
                    self.drop_line("carrier lost")
                case NoAnswer():
                    self.drop_line("no answer tone: the modem gave up")

    # -- Transport ------------------------------------------------------------------------

    async def read(self) -> bytes:
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # every later read sees the hang-up too
        return data

    def write(self, data: bytes) -> None:
        """Keys and protocol replies to the modem; the second Connexion/Fin in a row hangs up."""
        if not data or not self._line_up:
            return
        rest, presses = data, 0
        while rest.endswith(_FIN) and presses < 2:
            rest = rest[:-len(next(f for f in _FIN if rest.endswith(f)))]
            presses += 1
        self._fin = self._fin + presses if not rest else presses
        if self._fin >= 2:
            self.drop_line("hung up (Connexion/Fin)")
            return
        self.modem.send(data)

    async def wait_connected(self, timeout: float) -> None:
        """Until the modem has recognised the answer; ConnectionError if the call ends first."""
        connected = asyncio.ensure_future(self._connected.wait())
        down = asyncio.ensure_future(self._down.wait())
        try:
            await asyncio.wait({connected, down}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
            down.cancel()
        if self._connected.is_set():
            return
        if self._down.is_set():
            raise ConnectionError(f"the line dropped before the modem connected: {self._status}")
        raise TimeoutError(f"modem not connected after {timeout} s: {self._status}")

    async def wait_ended(self, timeout: float) -> bool:
        """Until the SIP call is over (BYE answered or timed out); False on timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), timeout)
        return self._ended.is_set()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def close(self) -> None:
        """Hang up (if not already) and wait a little for the BYE's answer, then close."""
        if not self._ended.is_set() and self._call is not None:
            self.drop_line("hung up" if self._line_up else self._status)
            await self.wait_ended(HANGUP_WAIT_S)
        self._close_sockets()
        self._queue.put_nowait(b"")

    def _close_sockets(self) -> None:
        for handle in (self._sip_timer, self._tick_handle):
            if handle is not None:
                handle.cancel()
        self._sip_timer = self._tick_handle = None
        self._line_up = False
        for sock in (self._sip, self._rtp):
            if sock is not None:
                sock.close()


def _encode(samples: np.ndarray, law: str) -> bytes:
    """Float samples (±1.0) → G.711 bytes: :func:`.g711.encode` less its NaN guard, which
    costs more than the rest and which the modem's own output never needs."""
    pcm = np.rint(samples * 32768.0)
    np.minimum(pcm, 32767.0, out=pcm)  # two ufuncs: np.clip's wrapper costs more than both
    np.maximum(pcm, -32768.0, out=pcm)
    return bytes(_FROM_LINEAR[law](pcm.astype(np.int16)))


def _route_to(peer: tuple[str, int]) -> str:
    """Our address on the route to ``peer`` (a UDP connect sends nothing)."""
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect(peer)
        return str(s.getsockname()[0])


async def open_sip(url: str, timeout: float) -> SipTransport:
    """Dial ``sip:NUMBER@HOST:PORT``; returns once answered, else :class:`ConnectError`."""
    transport = SipTransport(parse_sip_url(url))
    try:
        await transport.dial(timeout)
    except BaseException:
        transport.drop_line("gave up")
        transport._close_sockets()
        raise
    return transport
