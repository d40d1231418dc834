"""MiniPavi services behind the gateway, end to end on loopback: a real HTTP service
(:mod:`tests.gateway.pavi_service`, aiohttp) speaking the protocol, our server's telnet
and raw listeners, the emulator as the caller's Minitel. Every field of the requests the
service receives is checked, and what the caller's screen shows of the answers."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from typing import Any

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.gateway.pavi_service import PaviRequest, PaviService, input_txt, page
from tests.helpers.listeners import loopback_servers
from videotex.gateway.directory import Directory, ServiceEntry
from videotex.gateway.setup import call_factory
from videotex.runtime.effects import close_http, http_for
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock


def set_handler(svc: PaviService, handler: Any) -> None:
    svc.handler_holder["handler"] = handler  # type: ignore[attr-defined]


def directory_with(service: Any, url: str) -> Directory:
    d = Directory()
    d.add(ServiceEntry("EXAMENS", "Résultats des examens", "results", service, "3615"))
    d.add(ServiceEntry("PAVI", "Un service MiniPavi", "minipavi", url, "3614"))
    return d


async def wait_requests(svc: PaviService, n: int, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while len(svc.requests) < n:
            svc.arrived.clear()
            await svc.arrived.wait()


async def test_a_minipavi_service_straight_away_every_field_both_ways(
        service: Any, pavi: PaviService) -> None:
    url = f"{pavi.url}/hello?x=1&a[]=2&a[]=3"
    board = Switchboard(directory_with(service, url), SystemClock(),
                        session_factory=call_factory("PAVI"))
    async with loopback_servers(service, board) as servers:
        t = await MinitelClient.connect(servers.telnet)
        await t.wait_for_text("Votre nom :")
        # §8: the field drawn with its spacechar, the cursor in it, visible
        await t.wait_for(lambda c: c.minitel.cursor == (10, 13), 5, "cursor in the field")
        assert t.text.splitlines()[10][12:22] == ".........."
        first = pavi.requests[0]
        assert first.path == "/hello" and first.query == {}  # the query goes as URLPARAMS
        assert "MiniPAVI" in first.headers["User-Agent"]
        assert first.headers["Content-Type"].startswith("application/json")
        assert set(first.data) == {"PAVI", "URLPARAMS"}
        assert first.data["URLPARAMS"] == {"x": "1", "a": ["2", "3"]}
        p = first.pavi
        assert list(p) == ["version", "uniqueId", "remoteAddr", "typesocket",
                           "versionminitel", "content", "datas", "context", "fctn", "webmedia"]
        assert p["version"] == "1.6" and p["fctn"] == "CNX" and p["content"] == []
        assert re.fullmatch(r"\d{10}[2-9]\d{3}", p["uniqueId"])
        assert abs(int(p["uniqueId"][:10]) - time.time()) < 60
        assert (p["remoteAddr"], p["typesocket"], p["versionminitel"]) == (
            "127.0.0.1", "TELN", "???")
        assert p["datas"] is None and p["context"] == "" and p["webmedia"] == 0
        await t.type("Zoé")
        await t.wait_for(lambda c: "Zoé" in c.text.splitlines()[10], 5, "echo")
        await t.press(Key.ENVOI)
        await t.wait_for_text("Bonjour Zoé")
        second = pavi.requests[1].pavi
        assert second["fctn"] == "ENVOI" and second["content"] == ["Zoé"]
        assert second["context"] == "step=name" and second["uniqueId"] == p["uniqueId"]
        # the terminal's identification, asked at connection (ESC 9 {), read by now
        assert re.fullmatch(r"...", second["versionminitel"]) and second[
            "versionminitel"] != "???"
        assert pavi.requests[1].data["URLPARAMS"] == {"step": "name"}
        # Guide is in this page's validwith (128 | 16): sent as GUIDE with the content
        await t.type("42")
        await t.press(Key.GUIDE)
        await wait_requests(pavi, 3)
        assert (pavi.requests[2].fctn, pavi.requests[2].pavi["content"]) == ("GUIDE", ["42"])
        await t.wait_for_text("Merci 42")
        # Connexion/Fin: FIN to the service, and (no kiosk on this listener) the line ends
        await t.press(Key.CONNEXION_FIN)
        await t.wait_closed()
        await wait_requests(pavi, 4)
        assert pavi.requests[3].fctn == "FIN"


async def test_from_the_kiosk_to_a_minipavi_service_and_back(
        service: Any, pavi: PaviService) -> None:
    board = Switchboard(directory_with(service, f"{pavi.url}/hello"), SystemClock(),
                        session_factory=call_factory())
    async with loopback_servers(service, board) as servers:
        t = await MinitelClient.connect(servers.raw)
        await t.wait_for_text("Nom du service")
        await t.type("PAVI")
        await t.press(Key.ENVOI)
        await t.wait_for_text("Votre nom :")
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("Nom du service")
        await wait_requests(pavi, 2)
        assert pavi.fctns() == ["CNX", "FIN"]
        await t.type("EXAMENS")
        await t.press(Key.ENVOI)
        await t.wait_for_text("RESULTATS DES EXAMENS")
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("Nom du service")
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("AU REVOIR")
        await t.wait_closed()


@pytest.mark.parametrize(("answer", "shown"), [
    (b"<html><body>404 Not Found</body></html>", "ERR #03"),
    (json.dumps({"content": "", "next": "not a url"}).encode(), "ERR #05"),
    (json.dumps({"content": "", "COMMAND": {"name": "Teleport", "param": {}}}).encode(),
     "ERR #07"),
])
async def test_a_broken_service_shows_the_reference_error_then_the_kiosk(
        service: Any, pavi: PaviService, answer: bytes, shown: str) -> None:
    set_handler(pavi, lambda req: answer)
    board = Switchboard(directory_with(service, f"{pavi.url}/broken"), SystemClock(),
                        session_factory=call_factory())
    async with loopback_servers(service, board) as servers:
        t = await MinitelClient.connect(servers.raw)
        await t.wait_for_text("Nom du service")
        await t.type("PAVI")
        await t.press(Key.ENVOI)
        await t.wait_for(lambda c: c.shows(shown), 5, shown)
        # ERR 03/05/07 leave the call with the service (§3: nothing else is done); the
        # caller leaves it with Connexion/Fin, back to the kiosk, the line kept
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("Nom du service")
        assert not t.closed


async def test_a_service_that_is_down_gives_err_09_and_the_kiosk_comes_back(
        service: Any) -> None:
    board = Switchboard(directory_with(service, "http://127.0.0.1:9/nothing"), SystemClock(),
                        session_factory=call_factory())
    try:
        async with loopback_servers(service, board) as servers:
            t = await MinitelClient.connect(servers.raw)
            await t.wait_for_text("Nom du service")
            await t.type("PAVI")
            await t.press(Key.ENVOI)
            await t.wait_for(lambda c: c.shows("ERR #09"), 10, "ERR #09")
            assert "Service indisponible" in t.text
            await t.press(Key.ENVOI)  # the caller has read it
            await t.wait_for_text("Nom du service")
    finally:
        await close_http()


async def test_a_slow_service_holds_only_its_own_callers(service: Any,
                                                         pavi: PaviService) -> None:
    release = asyncio.Event()

    async def slow(req: PaviRequest) -> dict[str, Any]:
        await release.wait()
        return page(b"\x0c\x1f\x4a\x41Enfin", command=input_txt(1, 12, 5))

    set_handler(pavi, slow)
    board = Switchboard(directory_with(service, f"{pavi.url}/slow"), SystemClock(),
                        session_factory=call_factory())
    async with loopback_servers(service, board) as servers:
        stuck = []
        for _ in range(5):
            t = await MinitelClient.connect(servers.raw)
            await t.wait_for_text("Nom du service")
            await t.type("PAVI")
            await t.press(Key.ENVOI)
            stuck.append(t)
        await wait_requests(pavi, 5)
        # meanwhile, with those five still waiting, another caller is served
        other = await MinitelClient.connect(servers.raw)
        await other.wait_for_text("Nom du service")
        await other.type("EXAMENS")
        await other.press(Key.ENVOI)
        await other.wait_for_text("RESULTATS DES EXAMENS")
        assert all(not t.shows("Enfin") for t in stuck)  # they still wait: not behind them
        release.set()
        for t in stuck:
            await t.wait_for_text("Enfin")


async def test_a_timeout_is_retried_then_shown_as_err_09(service: Any,
                                                        pavi: PaviService) -> None:
    async def never(req: PaviRequest) -> dict[str, Any]:
        await asyncio.Event().wait()  # a service that never answers
        return {}

    set_handler(pavi, never)
    http = http_for()
    saved = http.timeout
    import aiohttp

    http.timeout = aiohttp.ClientTimeout(total=0.3, connect=0.3)
    await http.close()  # the next request builds a client with the short timeout
    board = Switchboard(directory_with(service, f"{pavi.url}/never"), SystemClock(),
                        session_factory=call_factory("PAVI"))
    try:
        async with loopback_servers(service, board) as servers:
            t = await MinitelClient.connect(servers.raw)
            await t.wait_for(lambda c: c.shows("ERR #09"), 10, "ERR #09")
            await t.wait_closed(10)  # no kiosk on this listener: the call ends
        # three attempts on a timeout (§2), each a POST of CNX
        assert pavi.fctns() == ["CNX", "CNX", "CNX"]
    finally:
        http.timeout = saved
        await http.close()


async def test_push_service_msg_reaches_the_other_caller_on_row_0(
        service: Any, pavi: PaviService) -> None:
    uids: list[str] = []

    def handler(req: PaviRequest) -> dict[str, Any]:
        if req.fctn == "CNX":
            uids.append(req.pavi["uniqueId"])
            return page(b"\x0c\x1f\x4a\x41Bienvenue", next_url=f"{pavi.url}/push",
                        command=input_txt(1, 12, 5, validwith=128))
        answer = page(b"\x1f\x4c\x41Message parti", next_url=f"{pavi.url}/push",
                      command=input_txt(1, 12, 5, validwith=128))
        answer["COMMAND"] = {"name": "PushServiceMsg",
                             "param": {"uniqueids": [uids[0]], "message": ["Coucou"]}}
        return answer

    set_handler(pavi, handler)
    board = Switchboard(directory_with(service, f"{pavi.url}/push"), SystemClock(),
                        session_factory=call_factory("PAVI"))
    async with loopback_servers(service, board) as servers:
        a = await MinitelClient.connect(servers.raw)
        await a.wait_for_text("Bienvenue")
        b = await MinitelClient.connect(servers.raw)
        await b.wait_for_text("Bienvenue")
        await b.press(Key.ENVOI)
        await b.wait_for_text("Message parti")
        await a.wait_for(lambda c: "Coucou" in c.text.splitlines()[0], 5, "row 0 message")


def test_page_helper_encodes_content_in_base64() -> None:
    assert base64.b64decode(page(b"\x0cA")["content"]) == b"\x0cA"


# -- bridges: connectToTln and connectToWs to other Minitel servers ---------------------


def bridge_flow(pavi: PaviService, command: dict[str, Any]) -> Any:
    """CNX → a page and the bridge command; after the bridge, the service is told how it
    ended (DIRECTCALLENDED / DIRECTCALLFAILED, to ``next``) and shows a last page."""
    def handler(req: PaviRequest) -> dict[str, Any]:
        if req.fctn == "CNX":
            answer = page(b"\x0c\x1f\x4a\x41Passerelle", next_url=f"{pavi.url}/after")
            answer["COMMAND"] = command
            return answer
        return page(b"\x0c\x1f\x4a\x41Retour du pont " + req.fctn.encode(),
                    next_url=f"{pavi.url}/after", command=input_txt(1, 12, 5))
    return handler


async def test_connect_to_tln_bridges_the_caller_to_a_telnet_minitel_server(
        service: Any, pavi: PaviService) -> None:
    # the far server: our own results service on its telnet listener (it negotiates
    # telnet options: the bridge refuses them, as a Minitel needs none)
    async with loopback_servers(service) as far:
        far_port = int(far.telnet.rpartition(":")[2])
        set_handler(pavi, bridge_flow(pavi, {"name": "connectToTln", "param": {
            "host": f"127.0.0.1:{far_port}", "echo": "off", "case": "upper"}}))
        board = Switchboard(directory_with(service, f"{pavi.url}/start"), SystemClock(),
                            session_factory=call_factory("PAVI"))
        async with loopback_servers(service, board) as servers:
            t = await MinitelClient.connect(servers.raw)
            await t.wait_for_text("RESULTATS DES EXAMENS", timeout=10)
            await t.wait_for(lambda c: c.minitel.cursor == (10, 15), 5, "number field")
            await t.type("0123")  # relayed to the far server, which echoes it
            await t.wait_for(lambda c: "0123" in c.text.splitlines()[10], 5, "far echo")
            await t.type("***")
            await t.press(Key.SOMMAIRE)  # *** Sommaire: the bridge ends
            await t.wait_for_text("Retour du pont DIRECTCALLENDED", timeout=10)
        assert pavi.fctns() == ["CNX", "DIRECTCALLENDED"]
        assert pavi.requests[1].path == "/after"


async def test_connect_to_ws_bridges_the_caller_to_a_websocket_minitel_server(
        service: Any, pavi: PaviService) -> None:
    from videotex.channels.ws import start as start_ws
    from videotex.runtime.config import ListenerConfig

    far_board = Switchboard(service, SystemClock())
    far = await start_ws(ListenerConfig("ws", "127.0.0.1", 0), far_board)
    far_port = far.server.sockets[0].getsockname()[1]
    try:
        set_handler(pavi, bridge_flow(pavi, {"name": "connectToWs", "param": {
            "host": f"127.0.0.1:{far_port}", "path": "/ws", "proto": "", "echo": "off",
            "case": "upper"}}))
        board = Switchboard(directory_with(service, f"{pavi.url}/start"), SystemClock(),
                            session_factory=call_factory("PAVI"))
        async with loopback_servers(service, board) as servers:
            t = await MinitelClient.connect(servers.raw)
            await t.wait_for_text("RESULTATS DES EXAMENS", timeout=10)
            await t.press(Key.CONNEXION_FIN)  # ends the bridge: the far server says goodbye
            await t.wait_for_text("Retour du pont DIRECTCALLENDED", timeout=10)
        assert pavi.fctns() == ["CNX", "DIRECTCALLENDED"]
    finally:
        far.close()
        await far_board.shutdown(grace=2)
        await far.wait_closed()


async def test_a_bridge_that_cannot_connect_is_reported_as_failed(
        service: Any, pavi: PaviService) -> None:
    set_handler(pavi, bridge_flow(pavi, {"name": "connectToTln", "param": {
        "host": "127.0.0.1:9"}}))
    board = Switchboard(directory_with(service, f"{pavi.url}/start"), SystemClock(),
                        session_factory=call_factory("PAVI"))
    async with loopback_servers(service, board) as servers:
        t = await MinitelClient.connect(servers.raw)
        await t.wait_for_text("Retour du pont DIRECTCALLFAILED", timeout=10)
    assert pavi.fctns() == ["CNX", "DIRECTCALLFAILED"]
