"""End to end fuzz: every transport of one switchboard attacked at once, honest callers served.

One :class:`Switchboard` with real listeners (telnet, raw, SSH and WebSocket on loopback
port 0; serial lines on pty pairs). Attackers, each from its own loopback address (the
per-address gate stays at its defaults and refuses none of them), send seeded random
bytes:

* telnet: pure noise; IAC-heavy noise (options, commands, short, truncated and oversized
  subnegotiations); the same after a correct or a wrong option negotiation;
* raw: pure noise; key-like noise after the home page; one burst above ``max_input``;
* SSH: noise instead of a version banner; a banner then noise or an absurd packet
  length; real asyncssh sessions typing noise in a PTY shell (with window changes,
  breaks and signals), and one asking for what is refused (a forwarding, a command, a
  second session);
* WebSocket: noise instead of a request; an upgrade with noise pipelined behind it; an
  upgrade then random and invalid frames; a real websockets client sending random text
  (code points above U+00FF), binary, pings and an oversized message;
* serial: noise (bad parity included) written to a direct-mode line's pty, and to a
  modem line while a call is on.

Meanwhile an honest caller consults the results over every transport (telnet, raw,
ssh, ws and serial URLs of the emulator) and must get the right page. Afterwards: each
listener takes a new honest call; no log record at ERROR, nothing reached the event
loop's exception handler; every call the board opened was closed exactly once; after
shutdown no task is left and the gate counts no caller.

Serial noise never contains Connexion/Fin (``SEP 49``, ``ESC 29 34 0D``): the test, not
the noise, ends those calls, so the state of the line afterwards is known without
guessing how far the server got. ``E2E_FUZZ_SEED`` replays another seed.

Found with it (each has its regression test next to its transport's tests): serial calls
outlived a shutdown when the caller was idle; an SSH caller's EOF left the channel and
the connection open for good; a WebSocket call, or its connection once the call was
over, stayed 10 s after the caller had gone when messages were left queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import random
import struct
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from terminal_emu import Key
from terminal_emu.client import MinitelClient, open_transport
from tests.helpers.callers import send_form
from tests.helpers.results import ELODIE, PAUL_PARIS
from tests.helpers.serial_line import FakeModem, PtyPair, SevenE1Line, socket_minitel, with_parity
from videotex.channels.serial_line import SerialLine
from videotex.protocols.hayes import ModemState
from videotex.protocols.telnet import MAX_SUBNEGOTIATION
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import Listener, start_listener
from videotex.runtime.switchboard import Call, Switchboard
from videotex.teletel import SystemClock

__all__ = []  # fixtures used by the test below

SEED = int(os.environ.get("E2E_FUZZ_SEED", "3615"))
HOST = "127.0.0.1"
NETWORK = ("telnet", "raw", "ssh", "ws")
#: Serial lines: honest (the emulator's serial:// URL), attacked direct, attacked modem.
SERIAL = ("serial", "direct", "modem")
ENQROM = b"\x1b\x39\x7b"  # the session's first bytes: the caller is connected
MODEM_TIMINGS = {"guard": 0.05, "at_timeout": 0.5, "reopen": 0.1}
SLOW = 20.0  # serial pages are paced at 9600 baud, and two cores run it all


# -- waiting on conditions ------------------------------------------------------------


class Watch:
    """Something that changes; tests await a predicate on it, never a fixed time."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def until(self, predicate: Callable[[], bool], what: str,
                    timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not predicate():
                await self._event.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no {what} after {timeout} s (seed {SEED})") from None


class Hooks(Watch):
    """Call hooks: what billing sees of every call the board opens and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[Call] = []
        self.closed: list[tuple[Call, str]] = []

    def call_opened(self, call: Call) -> None:
        self.opened.append(call)
        self.changed()

    def call_closed(self, call: Call, reason: str) -> None:
        self.closed.append((call, reason))
        self.changed()

    def live_on(self, peer: str) -> list[Call]:
        ended = {id(c) for c, _ in self.closed}
        return [c for c in self.opened if c.conn.peer == peer and id(c) not in ended]


class Arena(Watch):
    """What the attackers did, per transport."""

    def __init__(self) -> None:
        super().__init__()
        self.started: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.cut: Counter[str] = Counter()  # the server hung up before the attacker did

    def start(self, kind: str) -> None:
        self.started[kind] += 1
        self.changed()


# -- noise ----------------------------------------------------------------------------------

SEP = 0x13
KEYS = [bytes((SEP, k)) for k in range(0x41, 0x49)]  # Envoi ... Suite (not Connexion/Fin)
HANGUP = b"\x13\x49"


def keyish(rng: random.Random, n: int, hangups: bool = True) -> bytes:
    """Noise that looks like a Minitel: digits, function keys, escape sequences, accents,
    protocol replies, a whole consultation now and then, and plain random bytes."""
    out = bytearray()
    while len(out) < n:
        r = rng.random()
        if r < 0.3:
            out += rng.randbytes(rng.randint(1, 12))
        elif r < 0.5:
            out += str(rng.randrange(10**12)).encode()
        elif r < 0.65:
            out += rng.choice(KEYS)
        elif r < 0.75:
            out += b"\x1b" + rng.choice([b"[", b"O", b":", b";", b")4", b"[4", b"9"])
            out += rng.randbytes(rng.randint(0, 4))
        elif r < 0.8:
            out += b"\x19" + bytes((rng.choice(b"ABCHKj"), rng.choice(b"aeEu1\x13")))
        elif r < 0.85:
            out += b"\x01" + rng.randbytes(3) + b"\x04"
        elif r < 0.9:
            numero, birth = rng.choice((ELODIE, PAUL_PARIS))
            out += numero.encode() + KEYS[7] + birth.encode() + KEYS[0]
        elif r < 0.93:
            out += b"\x00" * rng.randint(1, 20) + b"\x7f\x08\x09\x0a\x0b\x0d\x1e\x0c"
        elif r < 0.9305:  # now and then the noise ends the call itself
            if hangups:
                out += HANGUP
        else:
            out += bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(1, 16)))
    return bytes(out)


IAC, SB, SE = 0xFF, 0xFA, 0xF0


def telnetish(rng: random.Random, n: int, oversized: bool = False) -> bytes:
    """Key-like noise shot through with telnet commands, options and subnegotiations."""
    out = bytearray()
    while len(out) < n:
        r = rng.random()
        if r < 0.35:
            out += keyish(rng, rng.randint(1, 30))
        elif r < 0.55:  # WILL/WONT/DO/DONT any option
            out += bytes((IAC, rng.randrange(0xFB, 0xFF), rng.randrange(256)))
        elif r < 0.65:  # any command, IAC IAC, IAC at the very end of a segment
            out += bytes((IAC, rng.randrange(0xF0, 0x100)))
        elif r < 0.8:  # a short subnegotiation, with doubled IACs inside
            body = rng.randbytes(rng.randint(0, 40)).replace(b"\xff", b"\xff\xff")
            out += bytes((IAC, SB, rng.randrange(256))) + body + bytes((IAC, SE))
        elif r < 0.88:  # a truncated one: no IAC SE
            out += bytes((IAC, SB, rng.randrange(256))) + rng.randbytes(rng.randint(0, 60))
        elif r < 0.93:
            out += b"\r\x00\r\n" + bytes((IAC,)) * rng.randint(1, 7)
        else:
            out += rng.randbytes(rng.randint(1, 20))
    if oversized:  # longer than any subnegotiation we keep: the caller is dropped
        out += bytes((IAC, SB, 24)) + b"x" * (MAX_SUBNEGOTIATION + 50) + bytes((IAC, SE))
    return bytes(out)


def pieces(rng: random.Random, data: bytes, largest: int = 300) -> list[bytes]:
    """``data`` cut anywhere, as reads are."""
    out, i = [], 0
    while i < len(data):
        j = i + rng.randint(1, largest)
        out.append(data[i:j])
        i = j
    return out


def serial_noise(rng: random.Random, n: int) -> bytes:
    """Wire bytes for a 7E1 line: mostly good parity, some bad (SUB for the server), and,
    once the parity is stripped, never a Connexion/Fin (the test ends the call itself)."""
    seven = bytearray(keyish(rng, n, hangups=False) + rng.randbytes(n // 4))
    for i, b in enumerate(seven):
        b &= 0x7F
        seven[i] = 0x48 if b == 0x49 else 0x28 if b == 0x29 else b  # no SEP 49, ESC 29 34 0D
    wire = bytearray(with_parity(bytes(seven)))
    for _ in range(n // 20):
        wire[rng.randrange(len(wire))] ^= 0x80  # odd weight: a parity error
    return bytes(wire)


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
             mask: bytes | None = b"\x37\xfa\x21\x3d", length: int | None = None) -> bytes:
    """A client frame (masked unless ``mask`` is None); ``length`` may lie."""
    n = len(payload) if length is None else length
    bit = 0x80 if mask is not None else 0
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 15)])
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_frames(rng: random.Random, count: int, valid_first: int) -> bytes:
    """``valid_first`` text/binary/ping frames carrying key-like noise, then anything:
    reserved opcodes and bits, unmasked frames, fragments, bad UTF-8, bad close codes,
    lengths that lie or exceed the 4 KiB limit."""
    out = bytearray()
    for i in range(count):
        payload = keyish(rng, rng.randint(0, 120))
        if i < valid_first:
            kind = rng.random()
            if kind < 0.6:
                text = payload.decode("latin-1").encode("utf-8")
                out += ws_frame(1, text)
            elif kind < 0.9:
                out += ws_frame(2, payload)
            else:
                out += ws_frame(9, payload[:125])
            continue
        r = rng.random()
        if r < 0.15:
            out += ws_frame(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload)
        elif r < 0.25:
            out += ws_frame(1, payload, rsv=rng.randint(1, 7))
        elif r < 0.35:
            out += ws_frame(1, payload, mask=None)
        elif r < 0.5:  # fragments, continuation without a start, interleaved control
            out += ws_frame(1, b"12", fin=False) + ws_frame(9, b"") + ws_frame(0, b"34")
            out += ws_frame(0, payload, fin=rng.random() < 0.5)
        elif r < 0.6:
            out += ws_frame(1, b"\xc3\x28\xed\xa0\x80" + payload)  # not UTF-8
        elif r < 0.7:
            out += ws_frame(8, struct.pack("!H", rng.randrange(65536)) + rng.randbytes(5))
        elif r < 0.8:
            out += ws_frame(2, rng.randbytes(rng.randint(4097, 6000)))
        elif r < 0.9:
            out += ws_frame(2, payload, length=rng.choice([126, 65535, 1 << 40]))
        else:
            out += ws_frame(9, rng.randbytes(rng.randint(126, 200)))  # control > 125
    return bytes(out)


def upgrade(path: bytes = b"/ws") -> bytes:
    return (b"GET " + path + b" HTTP/1.1\r\nHost: minitel\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n")


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


# -- honest callers -------------------------------------------------------------------------


async def consult(t: MinitelClient, who: tuple[str, str], timeout: float = 10.0) -> None:
    """Home page, number, Suite, birth date, Envoi; then the page that caller must get."""
    numero, birth = who
    await t.wait_for(lambda c: (c.shows("RESULTATS DES EXAMENS") and not c.shows("AU REVOIR")
                                and c.minitel.cursor == (10, 15)),
                     timeout, "the home page, cursor in the number field")
    await send_form(t, numero, birth, timeout)
    # paced lines draw a page over a while: wait for all of it
    if who == ELODIE:
        await t.wait_for(lambda c: (c.shows("ADMIS") and c.shows("Mention Très bien")
                                    and "Lycée Faidherbe" in c.text),
                         timeout, "Élodie's result: admitted, with honours, her lycée")
    else:
        await t.wait_for(lambda c: c.shows("PAS ENCORE PUBLIE") and "14h00" in c.text,
                         timeout, "Paul's result: not yet published, out at 14h00")


async def honest_call(url: str, who: tuple[str, str]) -> None:
    """A whole call: consultation, then Connexion/Fin and the server's goodbye."""
    t = await MinitelClient.connect(url)
    try:
        await consult(t, who)
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("AU REVOIR")
        await t.wait_closed(10)
    finally:
        await t.close()


async def staying_call(rig: Rig, kind: str, who: tuple[str, str]) -> None:
    """A consultation whose caller stays on the line (the shutdown says goodbye)."""
    t = await MinitelClient.connect(rig.url(kind))
    rig.clients.append(t)
    rig.staying.append(t)
    await consult(t, who)


async def end_call(t: MinitelClient, hooks: Hooks, peer: str) -> None:
    """Connexion/Fin ends the one call on a serial line. Whatever the noise left half
    typed, SEP breaks it and is decoded on its own; the press waits behind the noise,
    whose answers are paced at the line's speed."""
    assert len(hooks.live_on(peer)) == 1, hooks.live_on(peer)
    await t.press(Key.CONNEXION_FIN)
    await hooks.until(lambda: not hooks.live_on(peer), f"end of the call on {peer}", SLOW)


async def new_direct_call(t: MinitelClient, line: SerialLine, who: tuple[str, str]) -> None:
    """Direct mode: with the line idle, the Minitel's next key starts a new call."""
    calls = line.calls
    await t.press(Key.SOMMAIRE)
    await line.wait_until(lambda ln: ln.calls == calls + 1, SLOW)
    await consult(t, who, SLOW)


# -- the rig --------------------------------------------------------------------------------


class Rig:
    """The switchboard, its listeners, the serial lines' far ends, and clean-up."""

    def __init__(self, service: Any, host_key: Path) -> None:
        self.hooks = Hooks()
        self.board = Switchboard(service, SystemClock(), hooks=[self.hooks])
        self.host_key = host_key
        self.listeners: dict[str, Listener] = {}
        self.ports: dict[str, int] = {}
        self.ptys = {name: PtyPair() for name in ("cable", "serial", "direct", "modem")}
        self.clients: list[MinitelClient] = []
        self.modem: FakeModem | None = None
        #: Callers left on the line for the shutdown to say goodbye to.
        self.staying: list[MinitelClient] = []
        self._cabled: list[int] = []
        self._shut = self._stopped = False

    def url(self, kind: str) -> str:
        port = self.ports[kind]
        return {"telnet": f"telnet://{HOST}:{port}", "raw": f"raw://{HOST}:{port}",
                "ssh": f"ssh://minitel@{HOST}:{port}", "ws": f"ws://{HOST}:{port}/ws"}[kind]

    def line(self, name: str) -> SerialLine:
        line = self.listeners[name]
        assert isinstance(line, SerialLine)
        return line

    def device(self, name: str) -> str:
        return self.ptys[name].path

    @property
    def fake_modem(self) -> FakeModem:
        assert self.modem is not None
        return self.modem

    async def start(self) -> None:
        options: dict[str, dict[str, Any]] = {"ssh": {"host_key": str(self.host_key)}}
        for kind in NETWORK:
            listener = await start_listener(
                ListenerConfig(kind, HOST, 0, options=options.get(kind, {})), self.board)
            self.listeners[kind] = listener
            self.ports[kind] = int(listener.addresses()[-1].rpartition(":")[2].split("/")[0])
        self._cable(self.ptys["cable"], self.ptys["serial"])
        # the Minitels are on before their lines open (a speed request must find them)
        transport = await open_transport(f"serial://{self.device('cable')}?baud=9600")
        self.clients.append(MinitelClient(transport, socket_minitel("2")))
        wire = SevenE1Line(self.ptys["direct"])
        self.clients.append(MinitelClient(wire, socket_minitel("2")))
        self.modem = FakeModem(self.ptys["modem"], speed=9600)
        for name, options_ in (("serial", {"mode": "direct"}), ("direct", {"mode": "direct"}),
                               ("modem", MODEM_TIMINGS)):
            self.listeners[name] = await start_listener(
                ListenerConfig("serial", self.device(name), 0, 9600, options=options_),
                self.board)

    def _cable(self, a: PtyPair, b: PtyPair) -> None:
        """A null-modem cable between two pty masters."""
        loop = asyncio.get_running_loop()

        def carry(src: int, dst: int) -> None:
            with contextlib.suppress(BlockingIOError):
                os.write(dst, os.read(src, 4096))

        loop.add_reader(a.master, carry, a.master, b.master)
        loop.add_reader(b.master, carry, b.master, a.master)
        self._cabled += [a.master, b.master]

    async def shutdown(self) -> None:
        """The server's part: listeners closed, callers said goodbye to, lines closed."""
        if self._shut:
            return
        self._shut = True
        for listener in self.listeners.values():
            listener.close()
        await self.board.shutdown(grace=2)
        for listener in self.listeners.values():  # no connection lingers (close timeouts)
            await asyncio.wait_for(listener.wait_closed(), 5)

    async def stop(self) -> None:
        """The server shut down, then our ends of every line."""
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.shutdown()
        finally:
            for client in self.clients:
                await client.close()
            if self.modem is not None:
                if self.modem.client is not None:
                    await self.modem.client.close()
                self.modem.stop()
            loop = asyncio.get_running_loop()
            for fd in self._cabled:
                loop.remove_reader(fd)

    def close(self) -> None:
        for pair in self.ptys.values():
            pair.close()


@pytest.fixture
async def rig(service: Any, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = Rig(service, tmp_path / "ssh" / "host_key")
    try:
        await rig.start()
        yield rig
    finally:
        await rig.stop()
        rig.close()


def attackers(rig: Rig, arena: Arena, hold: asyncio.Event) -> list[Any]:
    """The attack coroutines: a fixed count per transport, each seeded from SEED."""
    sources = (f"127.0.0.{n}" for n in itertools.count(10))
    seeds = itertools.count(SEED * 1000)

    def rng() -> random.Random:
        return random.Random(next(seeds))

    p = rig.ports
    out: list[Any] = []
    for i, style in enumerate(("noise", "iac", "oversized", "agree", "agree", "refuse")):
        out.append(attack_telnet(arena, p["telnet"], next(sources), rng(), style,
                                 hold if i == 3 else None))
    for i, style in enumerate(("noise", "keys", "keys", "burst", "noise")):
        out.append(attack_raw(arena, p["raw"], next(sources), rng(), style,
                              hold if i == 1 else None))
    for style in ("noise", "banner", "length"):
        out.append(attack_ssh_wire(arena, p["ssh"], next(sources), rng(), style))
    out.append(attack_ssh_shell(arena, p["ssh"], next(sources), rng(), hold))
    out.append(attack_ssh_shell(arena, p["ssh"], next(sources), rng(), None))
    out.append(attack_ssh_requests(arena, p["ssh"], next(sources), rng()))
    for i, style in enumerate(("noise", "pipelined", "pipelined", "frames", "frames",
                               "valid")):
        out.append(attack_ws_wire(arena, p["ws"], next(sources), rng(), style,
                                  hold if i == 5 else None))
    for ending in ("oversized", "hangup"):
        out.append(attack_ws_client(arena, p["ws"], next(sources), rng(), ending))
    return out


async def test_attacks_on_every_transport_while_honest_callers_get_their_results(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    try:
        await run_the_attack(rig)
        on_the_line = {id(call) for call in rig.board.calls}
        await rig.shutdown()
        for t in rig.staying:  # every caller still on the line got the goodbye page
            await t.wait_for_text("AU REVOIR", SLOW)
            assert "redémarre" in t.text, t.text
        reasons = [reason for call, reason in rig.hooks.closed if id(call) in on_the_line]
        assert reasons == ["shutdown"] * len(on_the_line), reasons
        await rig.stop()
        gc.collect()  # "exception never retrieved" is reported when a task is freed
        await leftover_tasks()
    finally:
        loop.set_exception_handler(previous)

    errors = [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records
              if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(errors)
    assert not loop_errors, loop_errors
    hooks = rig.hooks
    closes = Counter(id(call) for call, _ in hooks.closed)
    assert all(n == 1 for n in closes.values()), "a call was closed twice"
    assert set(closes) == {id(call) for call in hooks.opened}, "a call was never closed"
    assert not rig.board.calls
    assert not rig.board.gate._live, rig.board.gate._live  # every admission released
    assert rig.board.gate.refused == 0  # attackers each had their own address


async def leftover_tasks() -> None:
    """After shutdown, every task ends (a closing handshake may take a moment)."""
    others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=10)
    left = [t for t in others if not t.done()]
    assert not left, left


async def run_the_attack(rig: Rig) -> None:
    hooks, board = rig.hooks, rig.board
    arena = Arena()
    hold = asyncio.Event()
    serial, direct = rig.clients[0], rig.clients[1]
    # serial lines ready: the honest Minitel and the attacked one on their home page, the
    # modem line answering a call
    await rig.line("direct").wait_until(lambda ln: ln.calls == 1, SLOW)
    await direct.wait_for(lambda c: c.minitel.cursor == (10, 15), SLOW, "home page on direct")
    await rig.line("modem").wait_until(
        lambda ln: ln.modem is not None and ln.modem.state is ModemState.IDLE, SLOW)
    rig.fake_modem.ring(caller="0320123456")
    attacked = await rig.fake_modem.answered(SLOW)
    await attacked.wait_for(lambda c: c.minitel.cursor == (10, 15), SLOW, "home page on modem")
    direct_wire = rig.ptys["direct"].master
    modem_wire = rig.ptys["modem"].master

    async with asyncio.timeout(60), asyncio.TaskGroup() as tg:
        for attack in attackers(rig, arena, hold):
            tg.create_task(attack)
        tg.create_task(attack_serial(arena, "direct", direct_wire, random.Random(SEED + 1)))
        tg.create_task(attack_serial(arena, "modem", modem_wire, random.Random(SEED + 2)))
        await arena.until(lambda: all(arena.started[k] >= 1 for k in (*NETWORK, *SERIAL[1:])),
                          "attack on every transport")
        # the honest callers, while the attacks run (some attackers wait for them to end)
        async with asyncio.TaskGroup() as honest:
            honest.create_task(honest_call(rig.url("telnet"), ELODIE))
            honest.create_task(honest_call(rig.url("raw"), PAUL_PARIS))
            honest.create_task(honest_call(rig.url("ssh"), ELODIE))
            honest.create_task(honest_call(rig.url("ws"), PAUL_PARIS))
            honest.create_task(consult(serial, ELODIE, SLOW))
        hold.set()
    assert all(arena.sent[k] > 0 for k in (*NETWORK, *SERIAL[1:])), arena.sent
    print(f"seed {SEED}: connections {dict(arena.started)}, sent {dict(arena.sent)}, "
          f"cut by the server {dict(arena.cut)}, calls {len(hooks.opened)}")

    # afterwards, every listener takes a new honest call
    async with asyncio.TaskGroup() as after:
        after.create_task(staying_call(rig, "telnet", PAUL_PARIS))
        after.create_task(staying_call(rig, "raw", ELODIE))
        after.create_task(staying_call(rig, "ssh", PAUL_PARIS))
        after.create_task(staying_call(rig, "ws", ELODIE))

        async def serial_again() -> None:
            await end_call(serial, hooks, rig.device("serial"))
            await new_direct_call(serial, rig.line("serial"), PAUL_PARIS)
            rig.staying.append(serial)

        async def direct_again() -> None:
            await end_call(direct, hooks, rig.device("direct"))
            await new_direct_call(direct, rig.line("direct"), ELODIE)
            rig.staying.append(direct)

        async def modem_again() -> None:
            assert len(hooks.live_on(rig.device("modem"))) == 1
            rig.fake_modem.drop_carrier()
            await hooks.until(lambda: not hooks.live_on(rig.device("modem")),
                              "end of the modem call", SLOW)
            await rig.line("modem").wait_until(
                lambda ln: ln.modem is not None and ln.modem.state is ModemState.IDLE, SLOW)
            rig.fake_modem.ring()
            again = await rig.fake_modem.answered(SLOW)
            await consult(again, ELODIE, SLOW)
            rig.staying.append(again)

        after.create_task(serial_again())
        after.create_task(direct_again())
        after.create_task(modem_again())
    # the attackers' calls end with them: only the honest callers are left for the shutdown
    await hooks.until(lambda: len(board.calls) == len(rig.staying), "attackers' calls ended",
                      timeout=5)
    assert len(board.calls) == len(rig.staying) == 7, "callers left for the shutdown"
