"""One call on the modem bank: its audio in and out, and the byte pipe the switchboard sees.

Owns :class:`Line` (a slot of the process's :class:`~.media.MediaEngine`: the modem's events,
the bytes waiting for the modem, how the call ends), its two kinds — :class:`RtpLine` (G.711
over RTP, one UDP socket, a jitter buffer) and :class:`SlinLine` (AudioSocket's 16-bit linear
frames) — and :class:`PhoneConnection`, the :class:`~videotex.channels.connection.Connection`
a session reads and writes: channel ``phone``, identity the caller's number.

Invariants: a line ends once (``ended`` is set once; the owner's ``line_ended`` is called
once); after that reads give ``b""`` and writes are dropped. Only the media tick touches the
bank, the sockets and the audio; the session only queues bytes and waits.
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from videotex.channels.connection import Connection
from videotex.protocols import g711
from videotex.protocols.audiosocket import Kind, encode_frame
from videotex.protocols.jitter import JitterBuffer
from videotex.protocols.plc import conceal
from videotex.protocols.rtp import RtpError, RtpPacket, RtpSender, is_rtcp, parse_rtp

__all__ = ["ALAW", "SLIN", "ULAW", "Line", "LineOwner", "LinePort", "PhoneConnection",
           "RtpLine", "SlinLine"]

#: How a line's audio is coded (the media tick decodes and encodes by this index).
ULAW, ALAW, SLIN = 0, 1, 2
SILENCE = {ULAW: b"\xff" * 160, ALAW: b"\xd5" * 160, SLIN: bytes(320)}
#: A modem line whose frame is late (nothing to play: the sender stalled) holds its modem
#: still (:meth:`~videotex.protocols.v23.Bank.receive_audio`'s ``hold``) for up to this many
#: ticks in a row (500 ms, the jitter buffer's depth): the delay grows, no bit is lost. A
#: longer gap is the far end gone, not late: concealed, then silence, so that the carrier
#: is lost and the call ends.
HOLD_MAX = 25
#: A voice call's jitter buffer holds up to this many frames (1 s; a modem's 25): a sender
#: that stalled then sends its burst, and a burst beyond the buffer loses its oldest frames,
#: which may be a key's tone. The delay it leaves is drained in quiet (DRAIN_SLACK).
VOICE_MAX_FRAMES = 50
#: A missing frame is concealed by continuing the last tone (:mod:`~videotex.protocols.plc`)
#: for up to this many frames (200 ms), then by silence (the far end is gone).
CONCEAL_MAX = 10
#: A voice call's jitter buffer drains back to this many frames over its prefetch once it
#: has grown (a sender that stalled, then sent its burst: the modem's buffer keeps that delay,
#: which costs a modem nothing; a caller would hear every prompt later, for the whole call).
#: Only quiet frames are dropped (:func:`quiet_codes`): never part of a key's tone.
DRAIN_SLACK = 2
#: ... and only once this many quiet frames in a row have been played (100 ms): the pause
#: between two presses of one key (40 ms or more, the detector ends a press after 35 ms
#: without it) is never shortened below that, so two presses are never joined into one.
DRAIN_GAP = 5


def quiet_codes(law: g711.Law) -> bytes:
    """The G.711 codes whose sample is below the peak of one DTMF tone at the detector's least
    level (:attr:`~videotex.protocols.dtmf.DtmfConfig.min_level_dbm0`): a frame of only these
    carries no key, as a key is two tones each at least that loud."""
    from videotex.protocols.dtmf import DtmfConfig

    limit = g711.DBM0_PEAK * 10 ** (DtmfConfig().min_level_dbm0 / 20)
    pcm = g711.decode(bytes(range(256)), law).astype(np.float64)
    return bytes(c for c in range(256) if abs(pcm[c]) < limit)


_QUIET = {ULAW: quiet_codes(g711.Law.ULAW), ALAW: quiet_codes(g711.Law.ALAW)}
#: Most datagrams read from one socket in one tick (a flood costs its line, not the others).
READ_MAX = 32
#: ``drain()`` returns once no more than this many bytes wait for the modem (~130 ms).
DRAIN_BELOW = 16


class LineOwner(Protocol):
    """The listener a line belongs to."""

    def carrier_up(self, line: Line) -> None: ...
    def line_ended(self, line: Line, reason: str) -> None: ...
    def key(self, line: Line, digit: str) -> None: ...


class Line:
    """A call's slot on the bank; see the module docstring."""

    coding = SLIN

    def __init__(self, owner: LineOwner, label: str, identity: str, peer: str,
                 now: float, timeout: float = 10.0) -> None:
        self.owner = owner
        #: Seconds without audio from the far end after which the line ends.
        self.timeout = timeout
        #: Call-ID (SIP) or UUID (AudioSocket), for logs.
        self.label = label
        self.identity = identity
        self.peer = peer
        self.slot = -1
        self.opened = now
        self.conn: PhoneConnection | None = None
        self.ended: str | None = None
        #: The session asked to hang up: the line ends once the modem has sent its queue.
        self.hangup_at: float | None = None
        #: Bytes the modem's queue could not take yet.
        self.backlog = bytearray()
        self.drain_waiter: asyncio.Future[None] | None = None
        self.down = self.up = 0
        self.crc_down = self.crc_up = 0
        self.last_rx = now
        #: Ticks concealed (a frame invented) and held (the modem stood still, see HOLD_MAX).
        self.concealed = self.held = 0
        #: Quiet frames a voice call's jitter buffer dropped to shrink its delay (DRAIN_SLACK).
        self.drained = 0
        #: Quiet frames played in a row by a voice call (drained only past DRAIN_GAP).
        self._quiet_run = 0
        #: A frame has been played: the stream is under way (holding means something).
        self.playing = False
        #: A voice call's player (what the caller hears instead of the modem), or None.
        self.voice: Any = None
        #: Keypad digits are listened for (a voice call, or an auto call not decided yet).
        self.listen_keys = False
        #: Keys arrived as RFC 4733 events: in-band detection is not used on this line
        #: (a sender of events may leave the tones in the audio too).
        self.events_seen = False
        #: The line's slot in the in-band DTMF bank while it listens (-1: none), and the
        #: key held now (reported once, when pressed).
        self.dtmf_slot = -1
        self.key_down: str | None = None

    # -- the media tick's side ------------------------------------------------------------

    def poll(self, now: float) -> None:
        """Read what arrived from the network (the tick calls this first, for lines whose
        socket, if any, the tick does not watch itself)."""

    #: The socket the tick watches for this line (``read`` when it is readable), or None.
    sock: socket.socket | None = None
    #: Where an RTP line's packets go (None: not negotiated yet, or on hold): the media tick
    #: sends them itself, numbered as one array (:class:`~.media.MediaEngine`).
    remote: tuple[str, int] | None = None
    #: Sends that failed (an unreachable address, a full socket buffer).
    send_errors = 0

    def read(self, now: float) -> None:
        """One datagram from :attr:`sock`, which the tick found readable."""

    def frame(self) -> bytes | None:
        """This tick's received frame, coded as :attr:`coding`; None: hold (the frame is late,
        the line's modem stands still this tick, see :data:`HOLD_MAX`)."""
        return None

    def _hold(self) -> bool:
        """Nothing to play this tick (``_repeats`` counted): hold rather than conceal?

        A stream under way (a line not yet playing has nothing to be late with), up to
        :data:`HOLD_MAX` ticks: a modem stands still, and so does the DTMF detector of a
        line listening for keys (a key's tone that comes late is neither cut in two by a
        gap nor stretched by a filler)."""
        if self._repeats <= self._holds():
            self.held += 1
            return True
        self.concealed += 1
        return False

    def _holds(self) -> int:
        return HOLD_MAX if self.playing else 0

    def _silent(self) -> bool:
        """This gap has been concealed more than :data:`CONCEAL_MAX` ticks: silence now."""
        return self._repeats - self._holds() > CONCEAL_MAX

    _repeats = 0

    def emit(self, payload: bytes) -> None:
        """Send this tick's 20 ms of our audio, 16-bit linear (a line without RTP: the tick
        sends an RTP line's packets itself)."""

    def release(self) -> None:
        """Free what the line holds on the network (the tick calls this when it ends)."""

    def received(self, data: bytes) -> None:
        """Bytes from the Minitel's modem."""
        self.up += len(data)
        self.crc_up = zlib.crc32(data, self.crc_up)
        if self.conn is not None:
            self.conn.feed(data)

    def key(self, digit: str, *, event: bool = False) -> None:
        """A keypad digit the detectors found (``event``: an RFC 4733 telephone-event)."""
        if event:
            self.events_seen = True
        elif self.events_seen:
            return
        if self.listen_keys and self.ended is None:
            self.owner.key(self, digit)

    def end(self, reason: str) -> None:
        """The call is over for the session (the tick frees the slot at its next pass)."""
        if self.ended is None:
            self.ended = reason
            if self.conn is not None:
                self.conn.feed(b"")
            if self.drain_waiter is not None and not self.drain_waiter.done():
                self.drain_waiter.set_result(None)


class RtpLine(Line):
    """G.711 over RTP on its own UDP socket; packets from anywhere but ``remote`` are ignored.

    The socket is connected to ``remote``: the kernel drops datagrams from any other address
    before they cost a system call, and ``send`` needs no address. The media tick reads it
    when its epoll says it is readable (:meth:`read`), one datagram at a time, and sends it
    the packets it numbers for every line at once, from :attr:`sender`'s first numbers, SSRC
    and payload type."""

    sock: socket.socket

    def __init__(self, owner: LineOwner, label: str, identity: str, peer: str, now: float,
                 sock: socket.socket, remote: tuple[str, int] | None, payload_type: int,
                 coding: int, telephone_event: int | None, jitter: JitterBuffer,
                 timeout: float = 10.0) -> None:
        super().__init__(owner, label, identity, peer, now, timeout)
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.remote: tuple[str, int] | None = None
        self._connect(remote)
        self.payload_type = payload_type
        self.coding = coding
        self.telephone_event = telephone_event
        self.jitter = jitter
        self.sender = RtpSender(payload_type)
        self._fifo = bytearray()
        self._last = SILENCE[coding]
        self._repeats = 0
        self.ignored = self.malformed = self.send_errors = 0
        #: RFC 4733 telephone-events of a voice call (made at the first), and the starts of
        #: the last presses counted.
        self.events: Any = None
        self._event_starts: list[int] = []  # the presses already counted (their start)
        #: RTP packets taken (audio or not) from the negotiated address.
        self.packets = 0

    def _connect(self, remote: tuple[str, int] | None) -> None:
        if remote is not None and remote != self.remote:
            try:
                self.sock.connect(remote)
            except OSError:  # unreachable now; sends will say so (send_errors)
                self.send_errors += 1
        self.remote = remote

    def retarget(self, remote: tuple[str, int] | None, payload_type: int, coding: int,
                 telephone_event: int | None) -> None:
        """A re-INVITE moved the stream or changed the codec."""
        self._connect(remote)
        self.telephone_event = telephone_event
        if payload_type != self.payload_type:
            self.payload_type = payload_type
            self.sender.payload_type = payload_type
            self.coding = coding
            self._fifo.clear()
            self._last = SILENCE[coding]

    def read(self, now: float) -> None:
        try:
            data, addr = self.sock.recvfrom(2048)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ICMP unreachable reported on a later call: not ours to handle
            return
        remote = self.remote
        if remote is None or addr[0] != remote[0] or addr[1] != remote[1]:
            # not connected (no address negotiated yet, or on hold), or what was queued
            # before a re-INVITE moved the stream
            self.ignored += 1
            return
        self.last_rx = now
        self.packets += 1
        if len(data) > 12 and data[0] == 0x80 and data[1] == self.payload_type:
            # the usual packet (no CSRC, extension, padding or marker): no parsing
            self.jitter.push(int.from_bytes(data[2:4], "big"),
                             int.from_bytes(data[8:12], "big"), data[12:])
            return
        if is_rtcp(data):
            return
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.malformed += 1
            return
        if packet.payload_type == self.payload_type:
            self.jitter.push(packet.sequence, packet.ssrc, packet.payload)
            return
        # telephone-event, comfort noise, another codec: no audio for the modem
        self.jitter.skip(packet.sequence, packet.ssrc)
        if packet.payload_type == self.telephone_event and self.listen_keys:
            self._event(packet)

    def _event(self, packet: RtpPacket) -> None:
        """An RFC 4733 telephone-event: a key counts when its press begins, as in band."""
        from videotex.protocols.telephone_event import EventReceiver, TelephoneEventError

        if self.events is None:
            self.events = EventReceiver()
        try:
            ended = self.events.receive(packet.timestamp, packet.marker, packet.payload)
        except TelephoneEventError:
            self.malformed += 1
            return
        for press in ended:  # a press never seen under way (only its end packets came)
            if press.start not in self._event_starts:
                self._event_starts.append(press.start)
                self.key(press.digit, event=True)
        current = self.events.current
        if current is not None and current.start not in self._event_starts:
            self._event_starts.append(current.start)
            del self._event_starts[:-4]
            self.key(current.digit, event=True)

    def frame(self) -> bytes | None:
        fifo, jitter = self._fifo, self.jitter
        while len(fifo) < 160:
            payload = jitter.pop()
            if payload is None:
                break
            if self.voice is not None and not fifo and len(payload) == 160:
                if payload.translate(None, _QUIET[self.coding]):
                    self._quiet_run = 0
                elif (self._quiet_run >= DRAIN_GAP
                        and jitter.depth > jitter.prefetch + DRAIN_SLACK):
                    self.drained += 1  # quiet, in a long gap, held too long: dropped
                    continue
                else:
                    self._quiet_run += 1
            fifo += payload
        if len(fifo) >= 160:
            self._last = bytes(fifo[:160])
            del fifo[:160]
            self._repeats = 0
            self.playing = True
            return self._last
        self._repeats += 1
        if self._hold():
            return None
        if self._silent() or self.voice is not None:
            # (a voice call: a tone continued over a gap would join two key presses)
            return SILENCE[self.coding]
        law = g711.Law.ALAW if self.coding == ALAW else g711.Law.ULAW
        self._last = g711.encode(conceal(g711.decode(self._last, law)), law).tobytes()
        return self._last

    def release(self) -> None:
        self.sock.close()


class SlinLine(Line):
    """AudioSocket: 16-bit linear frames from a TCP stream, ours written back on it."""

    coding = SLIN

    def __init__(self, owner: LineOwner, label: str, identity: str, peer: str, now: float,
                 write: Callable[[bytes], None], timeout: float = 10.0, prefetch: int = 2,
                 max_frames: int = 25) -> None:
        super().__init__(owner, label, identity, peer, now, timeout)
        self._write = write
        self._fifo = bytearray()
        self._started = False
        self._prefetch = prefetch * 320
        self._max = max_frames * 320
        self._last = SILENCE[SLIN]
        self._repeats = 0

    def audio(self, pcm: bytes, now: float) -> None:
        """Samples from Asterisk (any length); the oldest go if too many wait."""
        self.last_rx = now
        self._fifo += pcm
        if len(self._fifo) > self._max:
            del self._fifo[: len(self._fifo) - self._max]

    def frame(self) -> bytes | None:
        if not self._started and len(self._fifo) >= self._prefetch:
            self._started = True
        if self._started and len(self._fifo) >= 320:
            self._last = bytes(self._fifo[:320])
            del self._fifo[:320]
            self._repeats = 0
            self.playing = True
            return self._last
        self._repeats += 1
        if self._hold():
            return None
        if self._silent():
            return SILENCE[SLIN]
        self._last = conceal(np.frombuffer(self._last, dtype="<i2")).astype("<i2").tobytes()
        return self._last

    def emit(self, payload: bytes) -> None:
        self._write(encode_frame(Kind.AUDIO, payload))


class LinePort(Protocol):
    """What a connection asks of the media engine."""

    def send(self, line: Line, data: bytes) -> None: ...
    def waiting(self, line: Line) -> int: ...
    def hangup(self, line: Line) -> None: ...


class PhoneConnection(Connection):
    """The caller on a phone line, for the switchboard (see the module docstring).

    ``write`` hands bytes to the modem's queue at once (``writes_now``): the modem paces them
    at 120 characters a second; ``drain`` waits until no more than :data:`DRAIN_BELOW` bytes
    are left to send, so a session keeps the pace without a :class:`Pacer`; ``close`` hangs
    up once the modem has sent what it holds."""

    channel = "phone"
    writes_now = True

    def __init__(self, line: Line, port: LinePort) -> None:
        self.line = line
        self.peer = line.peer
        self._port = port
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.hung_up = False

    @property
    def identity(self) -> str:
        return self.line.identity

    @property
    def gone(self) -> bool:
        return self.line.ended is not None or self.hung_up

    def feed(self, data: bytes) -> None:
        """From the line: bytes the Minitel sent, or ``b""`` when the line is gone."""
        self._queue.put_nowait(data)

    async def read(self) -> bytes:
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # every later read sees the end too
        return data

    def write(self, data: bytes) -> None:
        if data and not self.gone:
            self._port.send(self.line, data)

    async def drain(self) -> None:
        line = self.line
        while line.ended is None and self._port.waiting(line) > DRAIN_BELOW:
            waiter = line.drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                line.drain_waiter = None

    def close(self) -> None:
        if not self.hung_up:
            self.hung_up = True
            self._queue.put_nowait(b"")
            self._port.hangup(self.line)
