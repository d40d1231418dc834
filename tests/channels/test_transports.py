"""End to end over real sockets: telnetlib3 and raw TCP listeners on loopback, the
emulator as the client. Every test waits for what the screen shows, never sleeps."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from terminal_emu.client import MinitelClient
from terminal_emu.telnet import TelnetCodec
from tests.helpers.callers import consult, elodies_result_then_goodbye
from tests.helpers.hooks import CallWatch
from tests.helpers.listeners import Servers, loopback_servers
from tests.helpers.results import ELODIE, PAUL_PARIS
from videotex.channels.connection import Connection, Pacer
from videotex.channels.raw import start_raw
from videotex.channels.telnet import start_telnet
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

IAC, DO, WONT, TTYPE = 0xFF, 0xFD, 0xFC, 24


@pytest.fixture
async def servers(service) -> AsyncIterator[Servers]:
    async with loopback_servers(service) as servers:
        yield servers


@pytest.mark.parametrize("kind", ["telnet", "raw"])
async def test_consultation_end_to_end(servers: Servers, kind: str) -> None:
    t = await consult(getattr(servers, kind), *ELODIE)
    await elodies_result_then_goodbye(t)


async def test_not_yet_published_over_telnet(servers: Servers) -> None:
    t = await consult(servers.telnet, *PAUL_PARIS)
    await t.wait_for_text("PAS ENCORE PUBLIE")
    assert "14h00" in t.text
    await t.close()


async def test_telnet_negotiates_binary_echo_and_character_mode(servers: Servers) -> None:
    host, port = servers.telnet.removeprefix("telnet://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    data = b""
    while b"\x1b\x39\x7b" not in data:  # up to the ENQROM that starts the session output
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        assert chunk, "server closed early"
        data += chunk
    # IAC WILL ECHO, IAC WILL SGA, IAC WILL BINARY, IAC DO BINARY
    for cmd in (b"\xff\xfb\x01", b"\xff\xfb\x03", b"\xff\xfb\x00", b"\xff\xfd\x00"):
        assert cmd in data
    writer.close()
    await writer.wait_closed()


async def test_telnet_commands_inside_typing_are_not_videotex(servers: Servers) -> None:
    t = await MinitelClient.connect(servers.telnet)
    await t.wait_for_text("RESULTATS DES EXAMENS")
    # digits with telnet NOP and an escaped IAC pair sent as raw transport bytes
    t.transport.write_transport(b"1\xff\xf12\xff\xf13")  # type: ignore[attr-defined]
    await t.wait_for(lambda c: "123......." in c.text, what="digits echoed")
    await t.close()


async def test_random_bytes_from_one_caller_do_not_disturb_others(servers: Servers) -> None:
    rng = random.Random(3)
    noisy = await MinitelClient.connect(servers.raw)
    await noisy.wait_for_text("RESULTATS")
    for _ in range(50):
        await noisy.send(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    honest = await consult(servers.telnet, *ELODIE)
    await honest.wait_for_text("Mention Très bien")
    await honest.close()
    await noisy.close()


async def test_caller_hanging_up_mid_page_ends_the_call(servers: Servers) -> None:
    t = await MinitelClient.connect(servers.telnet)
    await t.wait_for_text("RESULTATS")
    assert len(servers.board.calls) == 1
    (call,) = servers.board.calls
    await t.close()
    assert call.task is not None
    await asyncio.wait_for(call.task, 5)
    assert not servers.board.calls


async def test_shutdown_sends_goodbye_to_connected_callers(service) -> None:
    board = Switchboard(service, SystemClock())
    tel = await start_telnet(board.handle, "127.0.0.1", 0)
    port = tel.sockets[0].getsockname()[1]
    callers = [await MinitelClient.connect(f"telnet://127.0.0.1:{port}") for _ in range(3)]
    for c in callers:
        await c.wait_for_text("RESULTATS")
    tel.close()
    await board.shutdown("shutdown", grace=5)
    for c in callers:
        await c.wait_for_text("AU REVOIR")
        assert "redémarre" in c.text
        await c.wait_closed()
    await tel.wait_closed()


class _Recorder(Connection):
    channel = "test"

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def read(self) -> bytes:
        return b""

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass


async def test_pacer_spreads_output_at_line_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("videotex.channels.connection.asyncio.sleep", fake_sleep)
    conn = _Recorder()
    pacer = Pacer(1200)
    await pacer.send(conn, bytes(600))
    assert b"".join(conn.chunks) == bytes(600)
    assert max(len(c) for c in conn.chunks) == 6  # 50 ms slices at 120 chars/s
    assert sum(slept) == pytest.approx(600 / 120)


async def test_unsolicited_subnegotiation_is_dropped_and_oversized_one_hangs_up(
        servers: Servers) -> None:
    t = await MinitelClient.connect(servers.telnet)
    await t.wait_for_text("RESULTATS")
    # a window size nobody asked for, then digits: the digits arrive, the SB does not
    t.transport.write_transport(b"\xff\xfa\x1f\x00\x50\x00\x18\xff\xf012")  # type: ignore[attr-defined]
    await t.wait_for(lambda c: "12........" in c.text, what="digits after the SB")
    t.transport.write_transport(b"\xff\xfa\x18" + b"x" * 600)  # type: ignore[attr-defined]
    await t.wait_closed(timeout=5)


async def test_emulator_connects_from_a_chosen_loopback_address(servers: Servers) -> None:
    from terminal_emu.client import ConnectError

    t = await MinitelClient.connect(servers.raw + "?bind=127.0.0.9")
    try:
        await t.wait_for_text("RESULTATS DES EXAMENS")
        assert t.local_address.startswith("127.0.0.9:")
        assert any(c.conn.peer.startswith("127.0.0.9:") for c in servers.board.calls)
    finally:
        await t.close()
    with pytest.raises(ConnectError, match="unknown option speed"):
        await MinitelClient.connect(servers.raw + "?speed=1200")


async def test_paced_page_stops_when_the_caller_hangs_up(service) -> None:
    """At 300 baud the home page takes over 13 s to go out; a caller who hangs up after
    the first bytes ends the call (and its meter) at once, not when the page would end."""
    watch = CallWatch()
    board = Switchboard(service, SystemClock(), hooks=[watch])
    server = await start_raw(lambda conn: board.handle(conn, pacer=Pacer(300)), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read(16)  # the page has started
        call = await watch.next_opened()
        writer.close()
        closed, _reason = await watch.next_closed(5)  # well under the 13 s of the page
        assert closed is call and not board.calls
        assert call.conn.gone
        assert call.session.ctx.connected_seconds() < 5
    finally:
        server.close()
        await board.shutdown(grace=2)


async def test_hand_over_keeps_early_keys_and_refuses_late_options(service) -> None:
    """On a real server: keys typed with the negotiation answers are not lost, and an
    option asked for after the hand-over gets a refusal."""
    board = Switchboard(service, SystemClock())
    server = await start_telnet(board.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    codec = TelnetCodec()
    seen = bytearray()

    async def until(pred) -> None:
        async with asyncio.timeout(10):
            while not pred():
                data = await reader.read(4096)
                assert data, "server closed"
                seen.extend(codec.decode(data))
                if codec.replies:
                    # the negotiation answers and digits in the same segment
                    writer.write(bytes(codec.replies) + b"42")
                    codec.replies.clear()
    try:
        await until(lambda: b"CNX/FIN" in seen)
        await until(lambda: b"42" in seen[seen.index(b"CNX/FIN"):])  # echoed
        raw = bytearray()
        writer.write(bytes((IAC, DO, TTYPE)))
        async with asyncio.timeout(10):
            while bytes((IAC, WONT, TTYPE)) not in raw:
                raw += await reader.read(4096)
        assert len(board.calls) == 1  # the call goes on
    finally:
        writer.close()
        server.close()
        await board.shutdown(grace=2)
