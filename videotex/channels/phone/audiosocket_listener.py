"""The ``audiosocket`` listener: Asterisk hands a call over TCP, the same modem bank answers.

Asterisk connects (``AudioSocket(uuid,host:port)`` after ``Answer()``, or
``Dial(AudioSocket/host:port/uuid)``), sends the call's UUID, then 20 ms frames of 16-bit
linear audio; we answer with ours, one frame a media tick. The line starts on the UUID frame
(refused with a hang-up frame when closing, unhealthy, at ``max_calls`` or over the source
address's limits in ``board.gate``); the session starts at the Minitel's carrier, as on SIP.
The caller's identity is the number a dialplan wrote into the UUID
(:func:`~videotex.protocols.audiosocket.caller_from_uuid`), else ``uuid:<uuid>``. The call
ends on a hang-up or error frame, the socket closing, the carrier lost, no audio for
``rtp_timeout`` seconds, or the session hanging up (we send a hang-up frame and close).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from videotex.protocols.audiosocket import (
    AudioSocketError,
    Frame,
    FrameReader,
    Kind,
    caller_from_uuid,
    encode_frame,
)
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SessionConfig, TerminalLink

from .lines import Line, PhoneConnection, SlinLine
from .media import BankFull, MediaEngine, release_engine, shared_engine
from .options import PhoneOptions

__all__ = ["AudioSocketListener", "start"]

log = logging.getLogger("videotex.phone")

#: Seconds Asterisk has to send the UUID frame after connecting.
UUID_TIMEOUT = 5.0


class AudioSocketListener:
    """See the module docstring."""

    def __init__(self, cfg: ListenerConfig, board: Switchboard, options: PhoneOptions) -> None:
        self.cfg = cfg
        self.board = board
        self.options = options
        self.engine: MediaEngine = shared_engine(options.modem, options.max_calls)
        self.lines: dict[Line, asyncio.StreamWriter] = {}
        self.closing = False
        self.refused = 0
        self.server: asyncio.Server | None = None
        self.port = cfg.port
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._idle.set()
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._call, self.cfg.host, self.cfg.port, backlog=self.cfg.backlog,
            reuse_port=bool(self.cfg.options.get("reuse_port")) or None)
        self.port = int(self.server.sockets[0].getsockname()[1])

    def addresses(self) -> list[str]:
        assert self.server is not None
        out = []
        for sock in self.server.sockets:
            host, port = sock.getsockname()[:2]
            out.append(f"audiosocket://{f'[{host}]' if ':' in host else host}:{port}")
        return out

    def close(self) -> None:
        self.closing = True
        if self.server is not None:
            self.server.close()

    async def idle(self) -> None:
        """Wait until no call is up and every session has ended (billed and closed)."""
        await self._idle.wait()
        if self._sessions:
            await asyncio.wait(set(self._sessions))

    async def wait_closed(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        for line in list(self.lines):
            self.engine.finish(line, "shutdown")
        if self._sessions:
            await asyncio.wait(self._sessions, timeout=timeout)
        if self.server is not None:
            await self.server.wait_closed()
        release_engine(self.options.max_calls)

    async def _call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        where = writer.get_extra_info("peername")
        source, peer = str(where[0]), f"{where[0]}:{where[1]}"
        frames = FrameReader()
        try:
            first = await asyncio.wait_for(self._first(reader, frames), UUID_TIMEOUT)
        except (TimeoutError, AudioSocketError, ConnectionError, OSError) as e:
            log.info("audiosocket dropped", extra={"peer": peer, "why": str(e) or "no UUID"})
            writer.close()
            return
        uuid = first.uuid
        identity = caller_from_uuid(uuid) or f"uuid:{uuid}"
        why = self._refusal(source)
        if why is not None:
            self.refused += 1
            log.info("phone call refused", extra={"call": str(uuid), "peer": peer, "why": why})
            writer.write(encode_frame(Kind.HANGUP))
            writer.close()
            return
        line = SlinLine(self, str(uuid), identity, peer, self._loop.time(), writer.write,
                        self.options.rtp_timeout, prefetch=self.options.jitter)
        try:
            self.engine.attach(line)
        except BankFull:
            self.board.gate.release(source)
            writer.write(encode_frame(Kind.HANGUP))
            writer.close()
            return
        self.lines[line] = writer
        self._idle.clear()
        log.info("phone call answered", extra={"call": str(uuid), "caller": identity,
                                               "peer": peer, "codec": "slin"})
        try:
            await self._pump(reader, frames, line)
        finally:
            if line.ended is None:
                self.engine.finish(line, "hangup frame" if reader.at_eof() else "socket")
            self.board.gate.release(source)

    async def _first(self, reader: asyncio.StreamReader, frames: FrameReader) -> Frame:
        while True:
            data = await reader.read(4096)
            if not data:
                raise ConnectionError("closed before the UUID frame")
            got = frames.feed(data)
            if got:
                if got[0].kind != Kind.UUID:
                    raise AudioSocketError(f"first frame of type 0x{got[0].kind:02x}, "
                                           "not the UUID")
                return got[0]

    def _refusal(self, source: str) -> str | None:
        problem = self.board.health() if self.board.health is not None else None
        if self.closing or self.board.closing or problem:
            return problem or "the service is closing"
        if len(self.lines) >= self.options.max_calls:
            return f"all {self.options.max_calls} lines are busy"
        refused = self.board.gate.admit(source, self.board.clock.monotonic())
        return None if refused is None else f"too many calls from {source} ({refused})"

    async def _pump(self, reader: asyncio.StreamReader, frames: FrameReader,
                    line: SlinLine) -> None:
        while line.ended is None:
            try:
                data = await reader.read(65536)
                got = frames.feed(data) if data else []
            except (AudioSocketError, ConnectionError, OSError) as e:
                self.engine.finish(line, f"audiosocket: {e}")
                return
            if not data:
                self.engine.finish(line, "socket closed")
                return
            for frame in got:
                if frame.kind == Kind.AUDIO:
                    line.audio(frame.payload, self._loop.time())
                elif frame.kind in (Kind.HANGUP, Kind.ERROR):
                    self.engine.finish(line, "hangup frame" if frame.kind == Kind.HANGUP
                                       else f"error frame {frame.payload.hex()}")
                    return

    # -- lines (called by the media tick) ------------------------------------------------------

    def carrier_up(self, line: Line) -> None:
        if line.conn is None:
            line.conn = PhoneConnection(line, self.engine)
            task = self._loop.create_task(self._serve(line.conn))
            self._sessions.add(task)
            task.add_done_callback(self._sessions.discard)

    async def _serve(self, conn: PhoneConnection) -> None:
        try:
            await self.board.handle(conn, pacer=None,
                                    config=SessionConfig(link=TerminalLink.CONNECTED))
        finally:
            self.engine.hangup(conn.line)

    def key(self, line: Line, digit: str) -> None:
        """AudioSocket lines are Minitel (modem) lines: keys are not listened for."""

    def line_ended(self, line: Line, reason: str) -> None:
        writer = self.lines.pop(line, None)
        if writer is not None and not writer.is_closing():
            writer.write(encode_frame(Kind.HANGUP))
            writer.close()
        if not self.lines:
            self._idle.set()
        log.info("phone call ended", extra={
            "call": line.label, "caller": line.identity, "reason": reason,
            "seconds": round(self._loop.time() - line.opened, 3), "down": line.down,
            "up": line.up, "crc_down": f"{line.crc_down:08x}", "crc_up": f"{line.crc_up:08x}",
            "concealed": line.concealed, "held": line.held, "session": line.conn is not None})


async def start(cfg: ListenerConfig, board: Switchboard) -> AudioSocketListener:
    """The ``audiosocket`` listener starter."""
    options = PhoneOptions.parse("audiosocket", str(cfg), cfg.options)
    listener = AudioSocketListener(cfg, board, options)
    await listener.start()
    return listener
