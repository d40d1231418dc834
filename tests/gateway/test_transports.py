"""The gateway on the network transports: the kiosk, a MiniPavi service and back, the
results service, over telnet, raw TCP, SSH and WebSocket, with MiniPavi's ``typesocket``
for each. (Serial and phone lines hand their calls to the same switchboard and session
factory; they are not run through the kiosk here.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.gateway.pavi_service import PaviService
from videotex.gateway.directory import Directory, ServiceEntry
from videotex.gateway.setup import call_factory
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import start_listener
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock


@pytest.mark.parametrize("kind", ["telnet", "raw", "ssh", "ws"])
async def test_the_kiosk_and_a_minipavi_service_on_every_transport(
        kind: str, service: Any, pavi: PaviService, tmp_path: Path) -> None:
    directory = Directory()
    directory.add(ServiceEntry("EXAMENS", "Résultats", "results", service, "3615"))
    directory.add(ServiceEntry("PAVI", "MiniPavi", "minipavi", f"{pavi.url}/hello", "3614"))
    board = Switchboard(directory, SystemClock(), session_factory=call_factory())
    options = {"host_key": str(tmp_path / "host_key")} if kind == "ssh" else {}
    listener = await start_listener(ListenerConfig(kind, "127.0.0.1", 0, options=options),
                                    board)
    port = int(listener.addresses()[0].rstrip("/").rpartition(":")[2])
    url = {"ssh": f"ssh://anyone@127.0.0.1:{port}", "ws": f"ws://127.0.0.1:{port}/ws"}.get(
        kind, f"{kind}://127.0.0.1:{port}")
    try:
        t = await MinitelClient.connect(url)
        await t.wait_for_text("Nom du service", timeout=10)
        await t.type("PAVI")
        await t.press(Key.ENVOI)
        await t.wait_for_text("Votre nom :", timeout=10)
        await t.type("Ada")
        await t.press(Key.ENVOI)
        await t.wait_for_text("Bonjour Ada", timeout=10)
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("Nom du service", timeout=10)
        await t.type("EXAMENS")
        await t.press(Key.ENVOI)
        await t.wait_for_text("RESULTATS DES EXAMENS", timeout=10)
        await t.close()
    finally:
        listener.close()
        await board.shutdown(grace=2)
        await listener.wait_closed()
    expected = {"telnet": "TELN", "raw": "TELN", "ssh": "TELN", "ws": "WS"}[kind]
    assert pavi.requests[0].pavi["typesocket"] == expected
    assert pavi.fctns()[:3] == ["CNX", "ENVOI", "FIN"]
