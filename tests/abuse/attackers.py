"""The attackers of the end-to-end fuzz, one coroutine per kind of attack and transport."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import struct
from typing import Any

import asyncssh
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from tests.abuse.arena import (
    ENQROM,
    HOST,
    SEED,
    Arena,
    Watch,
)
from tests.abuse.noise import (
    HANGUP,
    keyish,
    pieces,
    serial_noise,
    telnetish,
    upgrade,
    ws_frames,
)

# -- attackers ------------------------------------------------------------------------------


class Wire(Watch):
    """One attacker's TCP connection from its own loopback address. Whatever the server
    sends is read and dropped, so that its writes never stall on us."""

    def __init__(self, arena: Arena, kind: str, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, source: str) -> None:
        super().__init__()
        self.arena, self.kind, self.source = arena, kind, source
        self.reader, self.writer = reader, writer
        self.received = bytearray()
        self.eof = False
        self._task = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, arena: Arena, kind: str, port: int, source: str) -> Wire:
        reader, writer = await asyncio.open_connection(HOST, port, local_addr=(source, 0))
        arena.start(kind)
        return cls(arena, kind, reader, writer, source)

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                if len(self.received) < 1 << 16:
                    self.received += data
                self.changed()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof = True
            self.changed()

    async def expect(self, marker: bytes) -> bool:
        """Wait for ``marker`` from the server; False if it hung up first."""
        await self.until(lambda: marker in self.received or self.eof,
                         f"{marker!r} from {self.kind}")
        return marker in self.received

    async def send(self, chunks: list[bytes]) -> bool:
        """Each chunk in its own write; False once the server has hung up."""
        for chunk in chunks:
            if self.eof or self.writer.is_closing():
                self.arena.cut[self.kind] += 1
                return False
            try:
                self.writer.write(chunk)
                await self.writer.drain()
            except (ConnectionError, OSError):
                self.arena.cut[self.kind] += 1
                return False
            self.arena.sent[self.kind] += len(chunk)
            await asyncio.sleep(0)  # let the server read this one apart from the next
        return True

    async def finish(self, how: str) -> None:
        """``eof``: half-close, and the server must hang up (else it hangs: a bug);
        ``abort``: a reset; ``close``: both directions at once."""
        try:
            if how == "abort":
                self.writer.transport.abort()
            elif how == "eof" and not self.eof and not self.writer.is_closing():
                with contextlib.suppress(ConnectionError, OSError):
                    self.writer.write_eof()
                await self.until(lambda: self.eof,
                                 f"hang-up by the {self.kind} server after EOF from "
                                 f"{self.source}")
        finally:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def attack_telnet(arena: Arena, port: int, source: str, rng: random.Random,
                        style: str, hold: asyncio.Event | None) -> None:
    wire = await Wire.open(arena, "telnet", port, source)
    try:
        if style in ("agree", "refuse"):
            if not await wire.expect(b"\xff\xfb\x01"):  # our IAC WILL ECHO
                return
            answer = (b"\xff\xfd\x01\xff\xfd\x03\xff\xfb\x00\xff\xfd\x00" if style == "agree"
                      else b"\xff\xfe\x01\xff\xfc\x00\xff\xfe\x00\xff\xfb\x18")
            if not await wire.send([answer]) or not await wire.expect(ENQROM):
                return
        noise = (rng.randbytes(rng.randint(500, 3000)) if style == "noise"
                 else telnetish(rng, rng.randint(1000, 3000), oversized=style == "oversized"))
        if await wire.send(pieces(rng, noise)) and hold is not None:
            await hold.wait()
            await wire.send(pieces(rng, telnetish(rng, 500)))
    finally:
        await wire.finish(rng.choice(["eof", "eof", "abort", "close"]))


async def attack_raw(arena: Arena, port: int, source: str, rng: random.Random,
                     style: str, hold: asyncio.Event | None) -> None:
    wire = await Wire.open(arena, "raw", port, source)
    try:
        if style == "burst":  # one read above the session's max_input
            ok = await wire.send([keyish(rng, 12_000)])
        elif style == "keys":
            if not await wire.expect(ENQROM):
                return
            ok = await wire.send(pieces(rng, keyish(rng, rng.randint(1000, 3000)), 40))
        else:
            ok = await wire.send(pieces(rng, rng.randbytes(rng.randint(500, 3000))))
        if ok and hold is not None:
            await hold.wait()
            await wire.send(pieces(rng, keyish(rng, 300)))
    finally:
        await wire.finish(rng.choice(["eof", "eof", "abort", "close"]))


async def attack_ssh_wire(arena: Arena, port: int, source: str, rng: random.Random,
                          style: str) -> None:
    """Bytes to the SSH port that are no SSH at all, or stop being SSH after the banner."""
    wire = await Wire.open(arena, "ssh", port, source)
    try:
        if style == "noise":
            await wire.send(pieces(rng, rng.randbytes(rng.randint(500, 3000))))
            return
        if not await wire.expect(b"SSH-2.0-"):
            return
        banner = b"SSH-2.0-OpenSSH_9.6 fuzz\r\n"
        if style == "banner":
            await wire.send([banner, *pieces(rng, rng.randbytes(rng.randint(500, 3000)))])
        else:  # a packet length nobody can send, then a little of it
            await wire.send([banner, struct.pack("!I", rng.choice([0, 5, 1 << 31, 0xFFFFFFFF]))
                             + rng.randbytes(rng.randint(0, 300))])
    finally:
        await wire.finish(rng.choice(["eof", "eof", "abort"]))


def ssh_options(source: str, rng: random.Random) -> dict[str, Any]:
    return {"local_addr": (source, 0), "known_hosts": None, "client_keys": None,
            "agent_path": None, "password": None, "gss_host": None,
            "username": rng.choice(["minitel", "root", "é" * 20, "x" * 200])}


class _Sink(asyncssh.SSHClientSession[bytes]):
    def __init__(self) -> None:
        self.received = 0

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.received += len(data)


async def attack_ssh_shell(arena: Arena, port: int, source: str, rng: random.Random,
                           hold: asyncio.Event | None) -> None:
    """A real client with a PTY shell, typing noise, resizing, sending breaks and signals."""
    async with asyncssh.connect(HOST, port, **ssh_options(source, rng)) as conn:
        chan, _ = await conn.create_session(
            _Sink, term_type=rng.choice(["minitel", "xterm-256color", "", "t" * 300]),
            term_size=(rng.randint(0, 5000), rng.randint(0, 5000)), encoding=None)
        arena.start("ssh")

        async def type_noise(size: int) -> None:
            for chunk in pieces(rng, keyish(rng, size), 80):
                if chan.is_closing():
                    arena.cut["ssh"] += 1
                    return
                try:
                    chan.write(chunk)
                    r = rng.random()
                    if r < 0.1:
                        chan.change_terminal_size(rng.randint(0, 9999), rng.randint(0, 9999))
                    elif r < 0.15:
                        chan.send_break(rng.randint(0, 5000))
                    elif r < 0.2:
                        chan.send_signal(rng.choice(["INT", "HUP", "TERM", "KILL"]))
                except (BrokenPipeError, OSError, asyncssh.Error):
                    arena.cut["ssh"] += 1
                    return
                arena.sent["ssh"] += len(chunk)
                await asyncio.sleep(0)

        await type_noise(rng.randint(1000, 3000))
        if hold is not None:
            await hold.wait()
            await type_noise(300)
        if not chan.is_closing():
            with contextlib.suppress(BrokenPipeError, OSError, asyncssh.Error):
                chan.write_eof()
        try:
            await asyncio.wait_for(chan.wait_closed(), 10)
        except TimeoutError:
            raise AssertionError(f"ssh server kept a channel open after EOF from {source} "
                                 f"(seed {SEED})") from None


async def attack_ssh_requests(arena: Arena, port: int, source: str,
                              rng: random.Random) -> None:
    """What the port refuses: a forwarding, a command, then a second session."""
    async with asyncssh.connect(HOST, port, **ssh_options(source, rng)) as conn:
        arena.start("ssh")
        with contextlib.suppress(asyncssh.Error, OSError):
            await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", 22)
        result = await asyncio.wait_for(conn.run(rng.randbytes(20).hex(), check=False), 10)
        assert result.exit_status == 1, result
        with contextlib.suppress(asyncssh.Error, OSError):
            await conn.create_session(_Sink, encoding=None)


async def attack_ws_wire(arena: Arena, port: int, source: str, rng: random.Random,
                         style: str, hold: asyncio.Event | None) -> None:
    wire = await Wire.open(arena, "ws", port, source)
    try:
        if style == "noise":
            await wire.send(pieces(rng, rng.randbytes(rng.randint(300, 3000))))
        elif style == "pipelined":  # frames (or junk) before the 101: held until it is sent
            after = ws_frames(rng, 6, 3) if rng.random() < 0.5 else rng.randbytes(500)
            await wire.send([upgrade(rng.choice([b"/ws", b"/", b"/nowhere"])) + after])
        else:
            if not await wire.send([upgrade()]) or not await wire.expect(b"\r\n\r\n"):
                return
            assert wire.received.startswith(b"HTTP/1.1 101"), bytes(wire.received[:80])
            valid = 40 if style == "frames" else 10**6
            frames = ws_frames(rng, rng.randint(20, 60), valid)
            if await wire.send(pieces(rng, frames)) and hold is not None:
                await hold.wait()
                await wire.send([ws_frames(rng, 5, 10**6), ws_frames(rng, 5, 0)])
    finally:
        await wire.finish(rng.choice(["eof", "eof", "abort", "close"]))


async def attack_ws_client(arena: Arena, port: int, source: str, rng: random.Random,
                           ending: str) -> None:
    """A real WebSocket client: random text (code points above U+00FF included), binary
    and pings, then a burst of keys, more than websockets queues before it stops reading,
    ahead of an oversized message (``oversized``: the server closes with 1009) or behind
    Connexion/Fin (``hangup``: the call ends). Either way the server must close at once."""
    async with ws_connect(f"ws://{HOST}:{port}/ws", local_addr=(source, 0), max_size=None,
                          compression=None, open_timeout=10) as ws:
        arena.start("ws")

        async def drain() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for _ in ws:
                    pass

        reader = asyncio.ensure_future(drain())
        try:
            for _ in range(rng.randint(20, 60)):
                r = rng.random()
                if r < 0.5:
                    await ws.send("".join(
                        chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x80, 0x100),
                                        rng.randrange(0x100, 0xD800)]))
                        for _ in range(rng.randint(0, 60))))
                elif r < 0.85:
                    await ws.send(keyish(rng, rng.randint(1, 100), hangups=False))
                else:
                    await ws.ping(rng.randbytes(rng.randint(0, 125)))
                arena.sent["ws"] += 1
            burst = [rng.choice("0123456789") for _ in range(30)]
            if ending == "hangup":  # the keys come after the end of the call
                messages: list[str | bytes] = [HANGUP.decode(), *burst]
            else:  # the keys are queued when the connection fails
                messages = [*burst, rng.randbytes(5000)]  # over max_message
            for message in messages:
                await ws.send(message)
        except ConnectionClosed:
            arena.cut["ws"] += 1
        try:
            await asyncio.wait_for(ws.wait_closed(), 5)
        except TimeoutError:
            raise AssertionError(f"ws server kept the connection from {source} open after "
                                 f"{ending} (seed {SEED})") from None
        finally:
            await asyncio.wait_for(reader, 10)
        # 1000: the call ended (the noise may end it too, ESC 29 34 0D is Connexion/Fin)
        assert ws.close_code in ((1000,) if ending == "hangup" else (1000, 1009)), ws.close_code


async def pty_write(fd: int, data: bytes) -> None:
    """All of ``data`` onto a non-blocking pty master, waiting for room when it is full."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)

    def wake(room: asyncio.Future[None]) -> None:
        if not room.done():
            room.set_result(None)

    while view:
        with contextlib.suppress(BlockingIOError):
            view = view[os.write(fd, view):]
        if view:
            room: asyncio.Future[None] = loop.create_future()
            loop.add_writer(fd, wake, room)
            try:
                await room
            finally:
                loop.remove_writer(fd)


async def attack_serial(arena: Arena, kind: str, fd: int, rng: random.Random) -> None:
    arena.start(kind)
    for chunk in pieces(rng, serial_noise(rng, rng.randint(600, 1200)), 200):
        await pty_write(fd, chunk)
        arena.sent[kind] += len(chunk)
        await asyncio.sleep(0)
