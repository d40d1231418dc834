"""Fuzz targets on an event loop (bench/bench_fuzz.py): the telnet and WebSocket listeners
on in-memory transports."""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.fuzzing import _SIDE_ERRORS, Invariant, Target, check  # noqa: E402

# -- targets on an event loop: telnet and WebSocket on in-memory transports ----------

class MemoryTransport(asyncio.Transport):
    """A socket transport without the socket: what the server writes is kept, close()
    tells the protocol it is gone on the next loop turn, as asyncio's own does."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._proto: asyncio.BaseProtocol | None = None
        self.out = bytearray()
        self.closed = False
        self.eof = False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._proto = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        assert self._proto is not None
        return self._proto

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.eof:  # as asyncio's socket transport
            raise RuntimeError("Cannot call write() after write_eof()")
        if not self.closed:
            self.out += data

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("192.0.2.7", 51000),
                "sockname": ("127.0.0.1", 23)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._loop.call_soon(self.get_protocol().connection_lost, None)

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return not self.closed

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof = True


class LoopHarness:
    """One event loop for the run; errors in callbacks, tasks and ERROR logs are kept."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(
            lambda loop, ctx: _SIDE_ERRORS.append(
                f"loop: {ctx.get('message')}: {ctx.get('exception')!r}"))

    def now(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` inside the running loop, as asyncio runs a protocol's callbacks."""
        async def inner() -> Any:
            return fn(*args)
        return self.loop.run_until_complete(inner())

    def call(self, fn: Callable[..., object], *args: Any) -> None:
        """``fn`` in the loop, then the loop turns until what it started has run."""
        self.now(fn, *args)
        self.settle()

    def settle(self, spins: int = 8) -> None:
        async def spin() -> None:
            for _ in range(spins):
                await asyncio.sleep(0)
        self.loop.run_until_complete(spin())

    def drain_tasks(self, what: str) -> None:
        """After a connection ends every task it started must end too (else: a hang)."""
        for _ in range(50):
            tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            if not tasks:
                return
            self.settle()
        raise Invariant(f"{what}: {len(tasks)} tasks still running after the connection "
                        f"ended: {tasks[:2]}")


class _ErrorLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = f"log {record.name}: {record.getMessage()[:300]}"
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)[-4:])
        _SIDE_ERRORS.append(text)


def telnet(h: LoopHarness) -> Target:
    """The telnet protocol as a listener makes it: the opening negotiation by
    telnetlib3 (with our subnegotiation filter), the hand-over to ``SteadyTelnet`` when
    the client has answered (or at once, for clients that never answer), the PROXY
    header on one connection in eight. A connection lasts a few inputs."""
    from videotex.channels.telnet import _SteadyProtocol, steady_connection
    from videotex.channels.telnet_negotiation import (
        Negotiated,
        negotiation_input,
        protocol_factory,
    )
    from videotex.protocols import proxyproto

    rng = random.Random(19)
    stats = {"connections": 0, "handed_over": 0, "dropped": 0, "videotex_bytes": 0}
    box: dict[str, Any] = {}
    answers = b"\xff\xfd\x01\xff\xfd\x03\xff\xfd\x00\xff\xfb\x00"  # DO ECHO, SGA, BINARY; WILL BINARY

    async def handler(conn: Any) -> None:
        while data := await conn.read():
            box["got"] += len(data)

    def take_over(transport: Any, done: Negotiated) -> Any:
        return handler(steady_connection(transport, done))

    def end() -> None:
        t: MemoryTransport | None = box.get("t")
        if t is not None:
            if not t.closed:
                h.call(t.close)
            h.drain_tasks("telnet")
            if isinstance(t.get_protocol(), _SteadyProtocol):
                stats["handed_over"] += 1
        box.clear()

    def begin() -> None:
        end()
        t = MemoryTransport(h.loop)
        proxied = rng.random() < 0.125
        # connect_maxwait 0: a client that never answers the negotiation, handed over at
        # once (with PROXY: dropped, the header had no time to come).
        proto = h.now(protocol_factory(take_over, proxy=proxied,
                                       connect_maxwait=rng.choice([0.0, 30.0, 30.0])))
        t.set_protocol(proto)
        box.update(t=t, left=rng.randint(1, 8), got=0, sent=0, proxy=proxied)
        h.call(proto.connection_made, t)
        stats["connections"] += 1
        if box["proxy"]:
            h.call(t.get_protocol().data_received,
                   b"PROXY TCP4 192.0.2.7 127.0.0.1 51000 23\r\n" if rng.random() < 0.9
                   else proxyproto.V2_SIGNATURE[:rng.randrange(13)])

    def target(data: bytes) -> bool | None:
        if not box or box["left"] <= 0 or box["t"].closed:
            begin()
        box["left"] -= 1
        t: MemoryTransport = box["t"]
        cut = rng.randrange(len(data) + 1) if rng.random() < 0.3 else len(data)

        def reads() -> None:  # one or two reads before the loop turns
            for part in (data[:cut], data[cut:]):
                if part and not t.closed:
                    t.get_protocol().data_received(part)  # type: ignore[attr-defined]

        h.call(reads)
        box["sent"] += len(data)
        held = negotiation_input(t.get_protocol())  # typed bytes telnetlib3 still holds
        check(box["got"] + held <= box["sent"], "more videotex bytes than the client sent")
        check(len(t.out) < 1 << 16, f"{len(t.out)} bytes written to a client")
        decoded = box["got"] + held - box.get("decoded", 0)
        box["decoded"] = box["got"] + held
        stats["videotex_bytes"] += decoded
        if t.closed:
            stats["dropped"] += 1
            end()
            return False
        return True if decoded > 0 else None

    seeds = [answers + b"1234\x13A", answers[:7], answers[7:] + b"\xff\xfa\x18\x00xterm\xff\xf0",
             b"\xff\xfd\x01\xff\xfb\x00", b"\xff\xfa\x18\x00xterm\xff\xf0123",
             b"12\xff\xff34\x13\x41", b"\xff\xfd\x18\xff\xfb\x1f\xff\xfe\x01",
             b"\xff\xfa\x22\x03\x01" + b"x" * 200, b"a\r\x00b\r\n", b"\xff\xf4\xff\xfd\x06"]
    return Target(seeds, target, (), stats, end)


_HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: minitel.example\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
_MASK = b"\x37\xfa\x21\x3d"


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked frame, as a browser sends it."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    head += (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
             if n < 1 << 16 else bytes([0x80 | 127]) + struct.pack("!Q", n))
    return head + _MASK + bytes(b ^ _MASK[i % 4] for i, b in enumerate(payload))


_FRAMES = [client_frame(1, b"\x13A1234"),
           client_frame(1, "\x19Be\u00ff☎".encode(), fin=False) + client_frame(0, b"\x13A"),
           client_frame(2, b"\x13\x41\xff\x00"), client_frame(9, b"ping") + client_frame(1, b"x"),
           client_frame(8, b"\x03\xe8bye"), client_frame(1, b"y" * 300),
           client_frame(2, b"z" * 4000, fin=False) + client_frame(0, b"z" * 200)]


def ws_frames() -> Target:
    """websockets' sans-IO ``ServerProtocol`` configured as ``ws.start`` configures it,
    after a valid handshake, fed frame bytes; its messages then go through
    ``WsConnection.read``, which must give one byte per character up to U+00FF."""
    from websockets.exceptions import ConnectionClosedError, PayloadTooBig, ProtocolError
    from websockets.frames import Frame, Opcode
    from websockets.server import ServerProtocol

    from videotex.channels.ws import MAX_MESSAGE, WsConnection, _select_subprotocol

    stats = {"messages": 0, "text_messages": 0, "bytes_read": 0, "dropped_chars": 0}
    documented = (ProtocolError, PayloadTooBig, UnicodeDecodeError, EOFError)

    class Ws:
        subprotocol = None
        remote_address = ("192.0.2.7", 51000)

        def __init__(self) -> None:
            self.messages: list[str | bytes] = []

        async def recv(self) -> str | bytes:
            if not self.messages:
                raise ConnectionClosedError(None, None)
            return self.messages.pop(0)

    def read(conn: WsConnection) -> bytes:
        coro = conn.read()
        try:
            coro.send(None)
        except StopIteration as stop:
            return bytes(stop.value)
        raise Invariant("WsConnection.read waited")

    def target(data: bytes) -> bool | None:
        proto = ServerProtocol(max_size=MAX_MESSAGE, extensions=None,
                               select_subprotocol=lambda p, o: _select_subprotocol(None, o))  # type: ignore[arg-type]
        proto.receive_data(_HANDSHAKE)
        proto.send_response(proto.accept(proto.events_received()[0]))
        proto.data_to_send()
        proto.receive_data(data)
        frames = [e for e in proto.events_received() if isinstance(e, Frame)]
        ws = Ws()
        parts: list[bytes] = []
        kind = None
        for f in frames:
            if f.opcode in (Opcode.TEXT, Opcode.BINARY):
                kind, parts = f.opcode, [bytes(f.data)]
            elif f.opcode is Opcode.CONT:
                parts.append(bytes(f.data))
            else:
                continue
            if f.fin:
                message = b"".join(parts)
                if kind is Opcode.BINARY:
                    ws.messages.append(message)
                else:
                    try:
                        ws.messages.append(message.decode())
                    except UnicodeDecodeError:
                        break  # websockets fails the connection: a hang-up for us
        conn = WsConnection(ws)  # type: ignore[arg-type]
        for message in list(ws.messages):
            got = read(conn)
            want = (message if isinstance(message, bytes)
                    else bytes(ord(c) for c in message if ord(c) < 256))
            check(got == want, "a message read as other bytes")
            stats["messages"] += 1
            stats["text_messages"] += isinstance(message, str)
            stats["bytes_read"] += len(got)
        check(read(conn) == b"", "no hang-up after the last message")
        stats["dropped_chars"] += conn.dropped_chars
        exc = proto.parser_exc
        if exc is not None:
            check(isinstance(exc, documented), f"parser failed with {exc!r}")
            check(proto.close_sent is not None
                  and proto.close_sent.code in (1002, 1007, 1009), "no documented close code")
            return False
        return True if frames else None

    return Target(_FRAMES, target, (), stats)


def ws_http(h: LoopHarness) -> Target:
    """The WebSocket listener as ``ws.start`` makes it (our process_request, page table,
    origins, subprotocols, max_size; websockets' HTTP parsing and handshake), on an
    in-memory transport: the opening request, then whatever follows it."""
    from videotex.channels.ws import start
    from videotex.runtime.config import ListenerConfig

    stats = {"http_101": 0, "http_200": 0, "http_4xx": 0, "no_answer": 0, "videotex_bytes": 0}

    class Board:
        async def handle(self, conn: Any, pacer: Any = None) -> None:
            conn.write(b"\x0c\x1b\x39\x7b")
            await conn.drain()
            while data := await conn.read():
                stats["videotex_bytes"] += len(data)

    async def listen() -> Any:
        cfg = ListenerConfig("ws", "127.0.0.1", 0)
        listener = await start(cfg, Board())  # type: ignore[arg-type]
        return listener.server.server._protocol_factory  # what accept() calls

    factory = h.loop.run_until_complete(listen())

    def target(data: bytes) -> bool | None:
        t = MemoryTransport(h.loop)
        conn = h.now(factory)
        t.set_protocol(conn)
        h.call(conn.connection_made, t)
        if not t.closed:
            h.call(conn.data_received, data)
        head = bytes(t.out[:t.out.find(b"\r\n")]) if b"\r\n" in t.out else b""
        status = int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None
        if not t.closed:
            h.call(t.close)  # the client goes
        h.drain_tasks("ws")
        check(status is None or status != 500, f"HTTP {status}: {bytes(t.out[:200])!r}")
        if status is None:
            stats["no_answer"] += 1
            return None if b"\r\n\r\n" not in data else False
        key = "http_101" if status == 101 else "http_200" if status == 200 else "http_4xx"
        stats[key] += 1
        return status in (101, 200) or (False if status < 500 else None)

    seeds = [_HANDSHAKE, _HANDSHAKE + _FRAMES[0] + _FRAMES[3], _HANDSHAKE + _FRAMES[1],
             _HANDSHAKE.replace(b"/ws", b"/"), _HANDSHAKE.replace(b"/ws", b"/ws?x=1"),
             _HANDSHAKE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Protocol: tty\r\n"
                                b"Origin: https://example.org\r\n\r\n"),
             b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /minitel.js HTTP/1.1\r\nHost: x\r\n\r\n"]
    return Target(seeds, target, (), stats)
