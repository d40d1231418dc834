"""The telnetlib3 hand-over, on a real loopback socket.

telnetlib3 runs the opening negotiation (``videotex.channels.telnet_negotiation``),
then hands the socket to the sans-IO steady codec. These tests pin what the hand-over
reads of telnetlib3 (options agreed and awaited, an IAC sequence cut by a segment
boundary, keys typed already) and that its objects are freed by reference counting.

They import nothing but the standard library, pytest, the telnet modules and
``tests/helpers/collector.py``, so that ``.ci/telnetlib3_versions.py`` can run them in a
small venv per tested telnetlib3 release.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import tomllib
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.collector import collector_off  # noqa: F401  (a fixture)
from videotex.channels.connection import Connection
from videotex.channels.telnet import steady_connection
from videotex.channels.telnet_negotiation import (
    TELNETLIB3_TESTED,
    Negotiated,
    protocol_factory,
)
from videotex.protocols.telnet import MAX_SUBNEGOTIATION

IAC, DONT, DO, WONT, WILL, SB, SE = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF0
BINARY, ECHO, SGA, TTYPE = 0, 1, 3, 24
OPENING = [bytes((IAC, WILL, ECHO)), bytes((IAC, WILL, SGA)), bytes((IAC, WILL, BINARY)),
           bytes((IAC, DO, BINARY))]
ANSWERS = bytes((IAC, DO, ECHO, IAC, DO, SGA, IAC, DO, BINARY, IAC, WILL, BINARY))
#: Objects of telnetlib3's part of a call; none may be left once it is over.
TELNETLIB3_TYPES = {"MinitelTelnetProtocol", "TelnetWriter", "TelnetReader"}


@dataclass
class Server:
    """A telnet listener whose calls echo what they read."""

    port: int
    negotiated: asyncio.Queue[Negotiated] = field(default_factory=asyncio.Queue)
    freed: list[asyncio.Event] = field(default_factory=list)


async def _echo(conn: Connection) -> None:
    while data := await conn.read():
        conn.write(data)
        await conn.drain()


def _server(proxy: bool = False, connect_maxwait: float = 1.0) -> tuple[Server, object]:
    loop = asyncio.get_running_loop()
    srv = Server(0)

    def take_over(transport: asyncio.Transport, done: Negotiated) -> asyncio.Future[None]:
        srv.negotiated.put_nowait(done)
        conn = steady_connection(transport, done)

        async def serve() -> None:
            try:
                await _echo(conn)
            finally:
                conn.close()

        return asyncio.ensure_future(serve())

    factory = protocol_factory(take_over, proxy=proxy, connect_maxwait=connect_maxwait)

    def watched() -> asyncio.Protocol:
        proto = factory()
        freed = asyncio.Event()
        weakref.finalize(proto, loop.call_soon_threadsafe, freed.set)
        srv.freed.append(freed)
        return proto

    return srv, watched


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv, factory = _server()
    listener = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    srv.port = listener.sockets[0].getsockname()[1]
    yield srv
    listener.close()


async def _opening(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seen = b""
    async with asyncio.timeout(10):
        while not all(cmd in seen for cmd in OPENING):
            chunk = await reader.read(256)
            assert chunk, f"closed during the negotiation after {seen!r}"
            seen += chunk
    return reader, writer


async def _until(reader: asyncio.StreamReader, wanted: bytes) -> bytes:
    got = b""
    async with asyncio.timeout(10):
        while wanted not in got:
            chunk = await reader.read(256)
            assert chunk, f"closed before {wanted!r}; got {got!r}"
            got += chunk
    return got


async def _next(srv: Server) -> Negotiated:
    async with asyncio.timeout(10):
        return await srv.negotiated.get()


def test_the_installed_telnetlib3_is_a_tested_one() -> None:
    assert importlib.metadata.version("telnetlib3") in TELNETLIB3_TESTED


def test_pyproject_pins_the_tested_range() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pin = next(d for d in deps if d.startswith("telnetlib3"))
    assert pin == f"telnetlib3>={TELNETLIB3_TESTED[0]},<={TELNETLIB3_TESTED[-1]}"


async def test_agreed_options_and_keys_typed_with_the_answers(server: Server) -> None:
    reader, writer = await _opening(server.port)
    writer.write(ANSWERS + b"42")  # the answers and digits in one segment
    done = await _next(server)
    assert done.codec.local == {ECHO, SGA, BINARY}
    assert done.codec.remote == {BINARY}
    assert not done.codec.asked_local and not done.codec.asked_remote
    await _until(reader, b"42")  # typed during the negotiation, not lost
    writer.write(b"a\xff\xffb")  # a data 0xFF both ways
    assert b"a\xff\xffb" in await _until(reader, b"b")
    writer.write(bytes((IAC, DO, TTYPE)))  # asked for after the hand-over: refused
    await _until(reader, bytes((IAC, WONT, TTYPE)))
    writer.close()


async def test_options_still_awaited_are_taken_over() -> None:
    srv, factory = _server(connect_maxwait=0.3)
    listener = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    try:
        reader, writer = await _opening(listener.sockets[0].getsockname()[1])
        writer.write(bytes((IAC, DO, ECHO, IAC, DO, SGA)))  # BINARY unanswered
        done = await _next(srv)  # the negotiation gave up waiting
        assert done.codec.local == {ECHO, SGA}
        assert done.codec.asked_local == {BINARY} and done.codec.asked_remote == {BINARY}
        writer.write(bytes((IAC, DO, BINARY, IAC, WILL, BINARY)) + b"ok")
        await _until(reader, b"ok")  # late answers: agreed, not answered again
        assert done.codec.local == {ECHO, SGA, BINARY} and done.codec.remote == {BINARY}
        writer.close()
    finally:
        listener.close()


@pytest.mark.parametrize(("cut", "rest", "reply"), [
    (bytes((IAC,)), bytes((DO, TTYPE)), bytes((IAC, WONT, TTYPE))),
    (bytes((IAC, WILL)), bytes((TTYPE,)), bytes((IAC, DONT, TTYPE))),
    (bytes((IAC, SB, TTYPE, 1)), bytes((IAC, SE, IAC, DO, TTYPE)), bytes((IAC, WONT, TTYPE))),
])
async def test_a_sequence_cut_at_the_hand_over_ends_in_the_steady_codec(
        server: Server, cut: bytes, rest: bytes, reply: bytes) -> None:
    reader, writer = await _opening(server.port)
    writer.write(ANSWERS + cut)
    await _next(server)
    writer.write(rest + b"x")
    got = await _until(reader, reply)
    await _until(reader, b"x") if b"x" not in got else None
    writer.close()


async def test_subnegotiations_are_dropped_and_an_oversized_one_hangs_up(
        server: Server) -> None:
    reader, writer = await _opening(server.port)
    writer.write(bytes((IAC, SB, TTYPE, 0)) + b"VT100" + bytes((IAC, SE)) + ANSWERS + b"ok")
    await _next(server)
    assert b"VT100" not in await _until(reader, b"ok")
    writer.close()
    reader, writer = await _opening(server.port)
    writer.write(bytes((IAC, SB, TTYPE)) + b"x" * (MAX_SUBNEGOTIATION + 1))
    async with asyncio.timeout(10):
        assert await reader.read() == b""  # the server hung up
    writer.close()


async def test_a_proxy_header_gives_the_callers_address() -> None:
    srv, factory = _server(proxy=True)
    listener = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", listener.sockets[0].getsockname()[1])
        writer.write(b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 3615\r\n")
        await _until(reader, OPENING[-1])
        writer.write(ANSWERS)
        done = await _next(srv)
        assert done.peer is not None and done.peer.startswith("192.0.2.7")
        writer.close()
    finally:
        listener.close()


async def _freed(srv: Server, what: str) -> None:
    try:
        async with asyncio.timeout(10):
            for event in srv.freed:
                await event.wait()
    except TimeoutError:
        pytest.fail(f"{what}: telnetlib3's protocol was not freed by reference counting")
    left = sorted(type(o).__name__ for o in gc.get_objects()
                  if type(o).__name__ in TELNETLIB3_TYPES)
    assert not left, f"{what}: left in reference cycles: {left}"


@pytest.mark.usefixtures("collector_off")
async def test_an_ended_call_leaves_no_telnetlib3_object(server: Server) -> None:
    reader, writer = await _opening(server.port)
    writer.write(ANSWERS + b"bye")
    await _until(reader, b"bye")
    writer.close()
    await _freed(server, "after a call")


@pytest.mark.usefixtures("collector_off")
async def test_a_caller_leaving_during_the_negotiation_leaves_nothing(server: Server) -> None:
    _reader, writer = await _opening(server.port)
    writer.close()
    await _freed(server, "after a hang-up during the negotiation")
    assert server.negotiated.empty()  # no call was started
