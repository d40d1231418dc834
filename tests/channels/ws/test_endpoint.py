"""The WebSocket endpoint with the emulator's ``ws://`` client and raw websockets clients:
a consultation, binary frames, oversized and non-byte input, the page and its assets."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect

from terminal_emu.client import ConnectError, MinitelClient
from terminal_emu.transport_ws import WsTransport
from tests.helpers.callers import consult, elodies_result_then_goodbye

from .conftest import ELODIE, PAUL_PARIS, WsServer, serve_ws
from .test_fuzz_ws import HANDSHAKE, client_frame


async def test_consultation_over_ws(ws_server: WsServer) -> None:
    t = await consult(ws_server.ws, *ELODIE)
    await elodies_result_then_goodbye(t)


async def test_not_yet_published_over_ws(ws_server: WsServer) -> None:
    t = await consult(ws_server.ws, *PAUL_PARIS)
    await t.wait_for_text("PAS ENCORE PUBLIE")
    await t.close()


async def test_call_is_on_channel_ws_with_the_callers_address(ws_server: WsServer) -> None:
    t = await MinitelClient.connect(ws_server.ws)
    await t.wait_for_text("RESULTATS")
    (call,) = ws_server.board.calls
    assert call.conn.channel == "ws"
    assert call.conn.peer == t.local_address
    assert call.conn.identity == "127.0.0.1"
    await t.close()
    assert call.task is not None
    await asyncio.wait_for(call.task, 5)
    assert not ws_server.board.calls


async def test_bare_url_without_path_also_reaches_the_endpoint(ws_server: WsServer) -> None:
    async with await MinitelClient.connect(f"ws://127.0.0.1:{ws_server.port}") as t:
        await t.wait_for_text("RESULTATS")


async def test_binary_frames_are_accepted_and_answered_in_text(ws_server: WsServer) -> None:
    t = await MinitelClient.connect(ws_server.ws)
    await t.wait_for_text("RESULTATS")
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="cursor in number field")
    transport = t.transport
    assert isinstance(transport, WsTransport)
    transport.write_binary(b"12345")
    await t.wait_for(lambda c: "12345" in c.text, what="digits sent in a binary frame echoed")
    await t.close()

    async with connect(ws_server.ws) as ws:
        first = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(first, str)
        assert "\x1b\x39\x7b" in first  # ENQROM, one character per byte
        await ws.send(b"\x13\x49")  # Connexion/Fin as a binary frame
        rest = [m async for m in ws]
        assert all(isinstance(m, str) for m in rest)
        assert "AU REVOIR" in "".join(m for m in rest if isinstance(m, str))


async def test_oversized_message_closes_with_1009(ws_server: WsServer) -> None:
    async with connect(ws_server.ws, max_size=None) as ws:
        await asyncio.wait_for(ws.recv(), 5)
        (call,) = ws_server.board.calls
        await ws.send("1" * 5000)
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert ws.close_code == 1009
    assert call.task is not None
    await asyncio.wait_for(call.task, 5)
    assert not ws_server.board.calls


async def test_keys_queued_when_the_connection_fails_do_not_hold_the_call(
        ws_server: WsServer) -> None:
    """Regression: a burst of keys, then an oversized message, then the caller hangs up.
    The server fails the connection (1009) with the keys still queued and, its queue full,
    no longer reads the socket. Each answer to a queued key went to send(), which on a
    closing connection waits for the socket to close, unseen until websockets' close
    timeout: the call (and its meter) ran on 10 s after the caller had gone."""
    reader, writer = await asyncio.open_connection(ws_server.host, ws_server.port)
    try:
        writer.write(HANDSHAKE)
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert answer.startswith(b"HTTP/1.1 101")
        assert await asyncio.wait_for(reader.read(4096), 5)  # the home page: a call is on
        (call,) = ws_server.board.calls
        writer.write(b"".join(client_frame(1, b"1") for _ in range(30))
                     + client_frame(2, b"x" * 5000))
        while await asyncio.wait_for(reader.read(65536), 5):  # up to the server's EOF
            pass
    finally:
        writer.close()
    assert call.task is not None
    await asyncio.wait_for(call.task, 3)
    assert not ws_server.board.calls


async def test_keys_left_queued_after_the_call_do_not_hold_the_connection(
        ws_server: WsServer) -> None:
    """Regression: keys sent behind Connexion/Fin stay queued once the call is over; past
    websockets' queue limit the socket is no longer read, so the caller's answer to our
    close frame went unseen: the connection lingered until the close timeout (10 s),
    and a shutdown waited as long for it."""
    async with connect(ws_server.ws) as ws:
        await asyncio.wait_for(ws.recv(), 5)
        for key in ["\x13I"] + ["1"] * 40:
            await ws.send(key)
        await asyncio.wait_for(ws.wait_closed(), 3)
    assert not ws_server.board.calls


async def test_max_message_option_is_honoured(service) -> None:
    board, listener = await serve_ws(service, max_message=16)
    port = listener.server.sockets[0].getsockname()[1]
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await asyncio.wait_for(ws.recv(), 5)
            await ws.send("x" * 17)
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1009
    finally:
        listener.close()
        await board.shutdown(grace=2)
        await listener.wait_closed()


async def test_characters_above_latin1_are_dropped(ws_server: WsServer) -> None:
    t = await MinitelClient.connect(ws_server.ws)
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="cursor in number field")
    transport = t.transport
    assert isinstance(transport, WsTransport)
    await transport._ws.send("1\u20ac2\U0001f6003")
    await t.wait_for(lambda c: "123......." in c.text, what="digits echoed without the rest")
    (call,) = ws_server.board.calls
    assert call.conn.dropped_chars == 2  # type: ignore[attr-defined]
    await t.close()


async def test_subprotocol_tty_is_accepted_when_offered(ws_server: WsServer) -> None:
    async with connect(ws_server.ws, subprotocols=["tty"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "tty"
        assert "\x1b\x39\x7b" in await asyncio.wait_for(ws.recv(), 5)
    async with connect(ws_server.ws) as ws:
        assert ws.subprotocol is None


async def test_origins_option_refuses_other_sites(service) -> None:
    board, listener = await serve_ws(service, origins=["https://minitel.example"])
    port = listener.server.sockets[0].getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        async with connect(url, origin="https://minitel.example") as ws:  # type: ignore[arg-type]
            assert "\x1b\x39\x7b" in await asyncio.wait_for(ws.recv(), 5)
        with pytest.raises(ConnectError, match=r"refused the WebSocket.*403"):
            await MinitelClient.connect(url)  # no Origin header, not in the list
    finally:
        listener.close()
        await board.shutdown(grace=2)
        await listener.wait_closed()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


@pytest.mark.parametrize(("path", "kind", "marker"), [
    ("/", "text/html; charset=utf-8", b"<canvas"),
    ("/index.html", "text/html; charset=utf-8", b"minitel.js"),
    ("/minitel.js", "text/javascript; charset=utf-8", b"window.minitel"),
    ("/videotex.js", "text/javascript; charset=utf-8", b"class Parser"),
    ("/font.js", "text/javascript; charset=utf-8", b"MINITEL_FONT"),
    ("/minitel.css", "text/css; charset=utf-8", b".screen"),
])
async def test_page_and_assets_are_served(ws_server: WsServer, path: str, kind: str,
                                          marker: bytes) -> None:
    status, ctype, body = await asyncio.to_thread(_get, ws_server.http + path)
    assert (status, ctype) == (200, kind)
    assert marker in body


@pytest.mark.parametrize("path", ["/make_font.py", "/../ws.py", "/nope", "/web/index.html"])
async def test_other_paths_are_not_found(ws_server: WsServer, path: str) -> None:
    status, ctype, body = await asyncio.to_thread(_get, ws_server.http + path)
    assert status == 404
    assert ctype.startswith("text/plain")
    assert b"not found" in body


async def test_upgrade_on_another_path_is_refused(ws_server: WsServer) -> None:
    with pytest.raises(ConnectError, match="404"):
        await MinitelClient.connect(f"ws://127.0.0.1:{ws_server.port}/chat")


async def test_listener_announces_page_and_endpoint(ws_server: WsServer) -> None:
    assert ws_server.listener.addresses() == [
        f"http://127.0.0.1:{ws_server.port}/", f"ws://127.0.0.1:{ws_server.port}/ws"]


async def test_wrong_urls_name_the_problem() -> None:
    with pytest.raises(ConnectError, match="expected ws://HOST:PORT/PATH"):
        await MinitelClient.connect("ws:///nohost")
    with pytest.raises(ConnectError, match="cannot connect"):
        await MinitelClient.connect("ws://127.0.0.1:1/ws", timeout=2)


async def test_shutdown_says_goodbye_to_ws_callers(service) -> None:
    board, listener = await serve_ws(service)
    port = listener.server.sockets[0].getsockname()[1]
    callers = [await MinitelClient.connect(f"ws://127.0.0.1:{port}/ws") for _ in range(2)]
    for c in callers:
        await c.wait_for_text("RESULTATS")
    listener.close()
    await board.shutdown("shutdown", grace=5)
    for c in callers:
        await c.wait_for_text("AU REVOIR")
        await c.wait_closed()
    await listener.wait_closed()
