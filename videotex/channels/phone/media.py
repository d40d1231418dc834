"""The media tick: every phone call of the process on one V.23 answer bank, every 20 ms.

Owns the :class:`~videotex.protocols.v23.AnswerBank` (one row per call), the one 20 ms clock of
the process (an asyncio task that runs only while calls are up: a timer per call would not fit
500 calls on a core), G.711 decoding and encoding of all rows at once, the calls' network I/O
(called from the tick, never from a callback per packet), the modem's events, the bytes
waiting for the modem, and the figures a bench reads (RTP send lateness, CPU per tick).

A tick scheduled at ``t`` (``t0 + k·20 ms`` on the loop's clock):

1. sends the audio made at the previous tick, first, so that DSP never delays a packet; each
   packet's lateness against ``t`` is counted (the tick is a loop timer, not a task, so it
   runs in the loop iteration where it falls due);
2. reads the lines' sockets that one epoll (of the engine) finds readable, a datagram each per
   pass, until none is (no system call for an idle socket), and takes each line's frame
   (jitter buffer, or concealment);
3. decodes all rows and runs the bank (a modem line whose frame is late holds its row
   still: :data:`~.lines.HOLD_MAX`): ``CarrierUp`` starts the session (the owner's
   ``carrier_up``), ``Data`` goes to the connection, ``CarrierLost``/``NoCarrier`` end the line;
4. tops up the modem queues, wakes drains, ends lines (RTP timeout; hang-up asked and the
   modem's queue sent) and frees ended ones (the owner's ``line_ended``, once);
5. makes and encodes the next 20 ms of every row, straight into the next tick's RTP packets:
   one array of packets, a row a line, whose sequence numbers and timestamps advance together
   (numbering a packet in Python cost as much as sending it).

Invariants: row ``i`` of the bank is ``lines[i]``; a line is freed once; nothing but the tick
touches the bank between ticks except :meth:`MediaEngine.send` (queueing bytes).
"""

from __future__ import annotations

import asyncio
import logging
import select
import struct
import time
import weakref
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from videotex.protocols import g711
from videotex.protocols.v23 import (
    AnswerBank,
    AnswerConfig,
    BankFull,
    CarrierLost,
    CarrierUp,
    Data,
    NoCarrier,
)

from .lines import DRAIN_BELOW, READ_MAX, SLIN, Line

__all__ = ["TICK", "BankFull", "MediaEngine", "MediaStats", "release_engine", "shared_engine"]

log = logging.getLogger("videotex.phone")

TICK = 0.020
#: Further behind than this, the clock gives up the missed ticks instead of catching up
#: (a tick given up is 20 ms of audio never sent: every far modem loses its carrier phase).
MAX_BEHIND = 1.0
#: After the session hangs up and the modem's queue is empty, the line stays this long so
#: the last characters cross the network and the far end's jitter buffer (a box in modem
#: mode holds up to ~200 ms) before the BYE stops the audio.
FLUSH = 0.6
#: Longest wait for the modem to send what a hanging-up session left.
HANGUP_WAIT = 10.0
#: An RTP packet of 20 ms of G.711: 12 bytes of header, 160 codes.
_PACKET = 12 + 160
_BIN = 1e-4  # lateness histogram bins: 0.1 ms, up to 200 ms
_BINS = 2000

_CODES = np.arange(256, dtype=np.uint8)
#: Row coding 0/1 (µ-law/A-law) → decode table offset, and the encode tables by coding.
_DECODE = np.concatenate([g711.ulaw_decode(_CODES), g711.alaw_decode(_CODES)])
_ALL = np.arange(65536, dtype=np.uint16).view(np.int16)
_ENCODE = np.stack([g711.ulaw_encode(_ALL), g711.alaw_encode(_ALL)])


@dataclass
class MediaStats:
    """Figures since :meth:`reset` (the listener logs them, benches read them)."""

    ticks: int = 0
    #: Ticks given up because the clock fell more than MAX_BEHIND behind.
    skipped: int = 0
    packets: int = 0
    cpu: float = 0.0
    calls_max: int = 0
    lateness: list[int] = field(default_factory=lambda: [0] * (_BINS + 1))

    def reset(self) -> None:
        self.ticks = self.skipped = self.packets = self.calls_max = 0
        self.cpu = 0.0
        self.lateness = [0] * (_BINS + 1)

    def late_counts(self) -> dict[int, int]:
        """Packets by whole milliseconds of lateness (a log record benches can merge)."""
        out: dict[int, int] = {}
        per_ms = round(1e-3 / _BIN)
        for i, n in enumerate(self.lateness):
            if n:
                out[i // per_ms] = out.get(i // per_ms, 0) + n
        return out

    def late_ms(self, q: float) -> float:
        """Quantile ``q`` (0-1) of the packets' send lateness, in ms (200+ for overflow)."""
        total = sum(self.lateness)
        if not total:
            return 0.0
        want, seen = q * total, 0
        for i, n in enumerate(self.lateness):
            seen += n
            if seen >= want:
                return (i + 0.5) * _BIN * 1000
        return _BINS * _BIN * 1000


class MediaEngine:
    """See the module docstring. One per event loop (:func:`shared_engine`)."""

    def __init__(self, config: AnswerConfig) -> None:
        self.config = config
        self.capacity = 0
        self.bank: AnswerBank | None = None
        self.lines: list[Line | None] = []
        self.live: dict[int, Line] = {}
        self.stats = MediaStats()
        #: The lines' sockets, watched in each tick (level-triggered, polled with no wait).
        self._epoll = select.epoll()
        self._by_fd: dict[int, Line] = {}
        #: The clock: the next tick's timer, and a future done when the clock stops.
        self._timer: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._t = 0.0
        #: The next tick's RTP packets, a row a slot (header, then 160 codes), and each row's
        #: sequence number and timestamp; the 16-bit audio of the AudioSocket lines.
        self._packets = np.zeros((0, _PACKET), dtype=np.uint8)
        self._flat = self._packets.reshape(-1).data
        self._seq = np.zeros(0, dtype=np.uint32)
        self._ts = np.zeros(0, dtype=np.uint32)
        self._out_ready = False
        self._out_slin = b""
        self._rx = bytearray()
        self._pcm = np.zeros((0, 160), dtype=np.int16)
        self._coding = np.zeros(0, dtype=np.int64)
        self._slin = 0
        #: In-band DTMF detectors of the lines that listen for keys (made at the first).
        self._dtmf: Any = None
        self._dtmf_rows = np.zeros((0, 160), dtype=np.int16)

    def reserve(self, calls: int, config: AnswerConfig) -> None:
        """A listener will put up to ``calls`` calls here (before the first call)."""
        if config != self.config:
            raise ValueError("phone listeners of one process share one modem bank: their "
                             "answer_tone must be the same")
        if self.live:
            raise ValueError("phone listeners must start before the first call")
        self.capacity += calls
        self.bank = None

    def _build(self) -> AnswerBank:
        bank = AnswerBank(max(1, self.capacity), self.config)
        n = bank.capacity
        self.lines = [None] * n
        self._rx = bytearray(b"\xff" * (n * 160))
        self._pcm = np.zeros((n, 160), dtype=np.int16)
        self._coding = np.zeros(n, dtype=np.int64)
        self._packets = np.zeros((n, _PACKET), dtype=np.uint8)
        self._packets[:, 0] = 0x80  # RTP version 2, no padding, extension or CSRC
        self._flat = self._packets.reshape(-1).data
        self._seq = np.zeros(n, dtype=np.uint32)
        self._ts = np.zeros(n, dtype=np.uint32)
        self._out_ready = False
        self.bank = bank
        return bank

    # -- lines -----------------------------------------------------------------------------

    def attach(self, line: Line) -> int:
        """Put ``line`` on the bank (its answer tone starts); :class:`BankFull` if none left."""
        bank = self.bank or self._build()
        slot = bank.add()
        line.slot = slot
        self.lines[slot] = line
        self.live[slot] = line
        if line.sock is not None:
            fd = line.sock.fileno()
            self._epoll.register(fd, select.EPOLLIN)
            self._by_fd[fd] = line
        self.recode(line)
        sender = getattr(line, "sender", None)
        if sender is not None:  # an RTP line: its numbering starts where its sender's does
            self._seq[slot] = sender.sequence
            self._ts[slot] = sender.timestamp
            # in the packet already made for this slot too: the next tick sends it as it is
            self._packets[slot, 2:8] = np.frombuffer(
                struct.pack("!HI", sender.sequence & 0xFFFF, sender.timestamp & 0xFFFFFFFF),
                dtype=np.uint8)
        self._slin += line.coding == SLIN
        self.stats.calls_max = max(self.stats.calls_max, len(self.live))
        if self._timer is None:
            self._start_clock()
        return slot

    def recode(self, line: Line) -> None:
        """The line's coding changed (a re-INVITE): decode and encode its row accordingly,
        and its packets' header (payload type, SSRC; the numbering goes on)."""
        if line.slot >= 0 and line.coding != SLIN:
            self._coding[line.slot] = line.coding
            sender = getattr(line, "sender", None)
            if sender is not None:
                row = self._packets[line.slot]
                row[1] = sender.payload_type & 0x7F
                row[8:12] = np.frombuffer(sender.ssrc.to_bytes(4, "big"), dtype=np.uint8)

    def send(self, line: Line, data: bytes) -> None:
        """Bytes for the Minitel: into the modem's queue, or the line's backlog if it is full."""
        if line.ended is not None or self.bank is None:
            return
        line.down += len(data)
        line.crc_down = zlib.crc32(data, line.crc_down)
        if not line.backlog and self.bank.writable(line.slot) >= len(data):
            self.bank.send(line.slot, data)
        else:
            line.backlog += data

    def waiting(self, line: Line) -> int:
        """Bytes of ``line`` not yet wholly sent by the modem."""
        if line.ended is not None or self.bank is None:
            return 0
        return len(line.backlog) + self.bank.pending(line.slot)

    def hangup(self, line: Line) -> None:
        """The session is over: end the line once the modem has sent what it holds."""
        if line.ended is None and line.hangup_at is None:
            line.hangup_at = asyncio.get_running_loop().time() + HANGUP_WAIT

    def finish(self, line: Line, reason: str) -> None:
        """End ``line`` now (the far end hung up): freed at once."""
        line.end(reason)
        if line.slot in self.live and self.live[line.slot] is line:
            self._free(line)

    def _free(self, line: Line) -> None:
        del self.live[line.slot]
        self.lines[line.slot] = None
        if line.sock is not None:
            fd = line.sock.fileno()
            if self._by_fd.pop(fd, None) is not None:
                self._epoll.unregister(fd)
        self._slin -= line.coding == SLIN
        assert self.bank is not None
        self.bank.remove(line.slot)
        if line.dtmf_slot >= 0 and self._dtmf is not None:
            self._dtmf.remove(line.dtmf_slot)
            line.dtmf_slot = -1
        try:
            line.release()
        finally:
            line.owner.line_ended(line, line.ended or "ended")

    # -- the clock ---------------------------------------------------------------------------

    def _start_clock(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopped = loop.create_future()
        self._t = loop.time()
        self._next(loop)

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        # A timer, not a task asleep: a timer's callback runs in the loop iteration where it
        # falls due, while a task woken by one waits behind everything made ready meanwhile
        # (a whole extra iteration, every session's work included): RTP would go out later.
        # and, on the server's loop, an urgent one: run as soon as it is due, between two
        # ready callbacks, not after a burst of sessions' work (videotex.runtime.loop)
        self._t += TICK
        at = getattr(loop, "call_urgent_at", loop.call_at)
        self._timer = at(self._t, self._on_time, loop)

    def _on_time(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.live or self.bank is None:
            # the last line was freed between two ticks (a BYE), and a closing listener may
            # have given its room back (release_engine): nothing to tick, the clock stops
            self._stop_clock()
            return
        behind = loop.time() - self._t
        if behind > MAX_BEHIND:
            missed = int(behind / TICK)
            self.stats.skipped += missed
            self._t += missed * TICK
        try:
            self._tick(self._t)
        except Exception:  # one call's fault must not stop every call's audio
            log.exception("media tick failed")
        if self.live:
            self._next(loop)  # a tick behind its time runs at the next iteration
            return
        self._stop_clock()

    def _stop_clock(self) -> None:
        self._timer = None
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)

    def _tick(self, t: float) -> None:
        cpu0 = time.process_time()
        bank = self.bank
        assert bank is not None
        live = self.live
        self._send(t)
        self._read(t)
        rx, pcm = self._rx, self._pcm
        slin: list[tuple[int, bytes]] = []
        hold: np.ndarray | None = None  # rows whose frame is late: their modem stands still
        for slot, line in live.items():
            frame = line.frame()
            if frame is None:
                if hold is None:
                    hold = np.zeros(len(pcm), dtype=bool)
                hold[slot] = True
                continue
            if line.coding == SLIN:
                slin.append((slot, frame))
            else:
                rx[slot * 160 : slot * 160 + 160] = frame
        codes = np.frombuffer(rx, dtype=np.uint8).reshape(-1, 160)
        np.take(_DECODE, codes + (self._coding * 256)[:, None], out=pcm)
        for slot, frame in slin:
            pcm[slot] = np.frombuffer(frame, dtype="<i2")
        # the modems' DSP costs every row of the bank: not run while every call is a voice
        # call (a voice listener's usual day), its output then silence under the prompts
        modems = any(line.voice is None for line in live.values())
        for slot, event in bank.receive_audio(pcm, hold) if modems else ():
            on = self.lines[slot]
            if on is None or on.voice is not None:
                continue  # a voice call: its row of the modem is not listened to
            if isinstance(event, Data):
                on.received(event.data)
            elif isinstance(event, CarrierUp):
                on.owner.carrier_up(on)
            elif isinstance(event, CarrierLost):
                on.end("carrier lost")
            elif isinstance(event, NoCarrier) and not on.listen_keys:
                on.end("no carrier")  # (an auto call: the voice menu takes it instead)
        if self._keys_wanted():
            self._keys(pcm, hold)
        self._upkeep(t)
        out = bank.audio_out(160) if modems else np.zeros((len(pcm), 160), dtype=np.int16)
        voiced = [(slot, line.voice) for slot, line in live.items() if line.voice is not None]
        if voiced:  # what a voice call's caller hears, instead of the modem's tones
            if not out.flags.writeable:
                out = out.copy()
            for slot, player in voiced:
                out[slot] = player.frame()
        packets = self._packets
        packets[:, 12:] = _ENCODE[self._coding[:, None], out.view(np.uint16)]
        packets[:, 2:4] = (self._seq & 0xFFFF).astype(">u2").view(np.uint8).reshape(-1, 2)
        packets[:, 4:8] = self._ts.astype(">u4").view(np.uint8).reshape(-1, 4)
        self._out_ready = True
        self._out_slin = out.astype("<i2").tobytes() if self._slin else b""
        self.stats.ticks += 1
        self.stats.cpu += time.process_time() - cpu0

    def _keys_wanted(self) -> bool:
        return any(line.listen_keys and not line.events_seen for line in self.live.values())

    def _keys(self, pcm: np.ndarray, hold: np.ndarray | None = None) -> None:
        """In-band DTMF (:class:`~videotex.protocols.dtmf_bank.DtmfBank`) on the rows of the lines
        that listen for keys, as one array; their digits to the lines. A row held (its frame
        late) holds its detector still."""
        from videotex.protocols.dtmf_bank import DtmfBank

        wanted = sum(1 for line in self.live.values()
                     if line.listen_keys and not line.events_seen)
        bank = self._dtmf
        if bank is None or bank.capacity < wanted:
            # its cost follows its rows: sized to the lines that listen (by 64), not to
            # the modem bank; grown (presses under way start again) when they outgrow it
            bank = self._dtmf = DtmfBank(max(64, -(-wanted // 64) * 64))
            self._dtmf_rows = np.zeros((bank.capacity, 160), dtype=np.int16)
            for line in self.live.values():
                line.dtmf_slot = -1
        rows = self._dtmf_rows
        held = np.zeros(bank.capacity, dtype=bool) if hold is not None else None
        listening: dict[int, Line] = {}
        for slot, line in self.live.items():
            if line.listen_keys and not line.events_seen:
                if line.dtmf_slot < 0:
                    line.dtmf_slot = bank.add()
                rows[line.dtmf_slot] = pcm[slot]
                listening[line.dtmf_slot] = line
                if held is not None:
                    held[line.dtmf_slot] = hold[slot]  # type: ignore[index]
            elif line.dtmf_slot >= 0:
                bank.remove(line.dtmf_slot)
                line.dtmf_slot = -1
        bank.feed(rows, held)
        # a key counts when it is pressed (held long enough), not when it is let go: the
        # answer to the last digit starts a key-press earlier (people hold keys 100 ms+)
        for dslot, heard in listening.items():
            down = bank.pressed(dslot)
            if down is not None and down != heard.key_down:
                heard.key(down)
            heard.key_down = down

    def _read(self, t: float) -> None:
        for line in self.live.values():
            if line.sock is None:
                line.poll(t)
        by_fd, poll = self._by_fd, self._epoll.poll
        for _ in range(READ_MAX):  # a socket with more datagrams stays readable: another pass
            ready = poll(0)
            if not ready:
                return
            for fd, _events in ready:
                reader = by_fd.get(fd)
                if reader is not None:
                    reader.read(t)

    def _send(self, t: float) -> None:
        if not self._out_ready:
            return
        flat, pcm, hist = self._flat, self._out_slin, self.stats.lateness
        clock = time.monotonic
        unsent: list[int] = []
        for slot, line in self.live.items():
            if line.coding == SLIN:
                if pcm:
                    line.emit(pcm[slot * 320 : slot * 320 + 320])
            elif line.remote is None:  # not negotiated yet, or on hold: its number waits
                unsent.append(slot)
            else:
                try:
                    line.sock.send(flat[slot * _PACKET : slot * _PACKET + _PACKET])  # type: ignore[union-attr]
                except OSError:
                    line.send_errors += 1
            late = clock() - t
            hist[min(_BINS, max(0, int(late / _BIN)))] += 1
        self._seq += 1
        self._ts += 160  # time goes on for a line on hold too (RFC 3550 5.1)
        if unsent:
            self._seq[unsent] -= 1
        self.stats.packets += len(self.live)

    def _upkeep(self, t: float) -> None:
        bank = self.bank
        assert bank is not None
        ended: list[Line] = []
        for slot, line in self.live.items():
            if line.backlog:
                room = bank.writable(slot)
                if room:
                    bank.send(slot, bytes(line.backlog[:room]))
                    del line.backlog[:room]
            waiter = line.drain_waiter
            if waiter is not None and not waiter.done() and \
                    len(line.backlog) + bank.pending(slot) <= DRAIN_BELOW:
                waiter.set_result(None)
            if line.ended is None:
                if t - line.last_rx > line.timeout:
                    line.end("rtp timeout")
                elif line.hangup_at is not None:
                    self._hanging_up(line, slot, t)
            if line.ended is not None:
                ended.append(line)
        for line in ended:
            self._free(line)

    def _hanging_up(self, line: Line, slot: int, t: float) -> None:
        assert self.bank is not None and line.hangup_at is not None
        if line.backlog or self.bank.pending(slot):
            if t >= line.hangup_at:
                line.end("hangup")
            return
        line.hangup_at = min(line.hangup_at, t + FLUSH)
        if t >= line.hangup_at:
            line.end("hangup")

    async def stop(self) -> None:
        """End every line (shutdown) and let the clock stop."""
        for line in list(self.live.values()):
            self.finish(line, "shutdown")
        stopped = self._stopped
        if self._timer is not None and stopped is not None:
            await stopped


_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaEngine] = (
    weakref.WeakKeyDictionary())


def shared_engine(config: AnswerConfig, calls: int) -> MediaEngine:
    """The engine of the running loop, with room for ``calls`` more calls."""
    loop = asyncio.get_running_loop()
    engine = _ENGINES.get(loop)
    if engine is None or (engine.capacity == 0 and engine.config != config):
        engine = _ENGINES[loop] = MediaEngine(config)
    engine.reserve(calls, config)
    return engine


def release_engine(calls: int) -> None:
    """A listener closed: its room goes back (the bank is rebuilt at the next call)."""
    engine = _ENGINES.get(asyncio.get_running_loop())
    if engine is not None and not engine.live:
        engine.capacity = max(0, engine.capacity - calls)
        engine.bank = None

