"""``videotex serve`` as a gateway, as real processes: a configuration with a kiosk, the
exam results, the demo page tree and a MiniPavi service (a real HTTP service in this
test's loop), two workers; a caller visits them all, and the ledger bills each part at
its service's tariff. Mistakes in the configuration stop the server with their place."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.gateway.pavi_service import PaviService, hello_flow
from tests.helpers.processes import VIDEOTEX, start_server
from videotex.billing import Ledger

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, pavi_url: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f"""
[kiosk]
number = "3615"
plan = "kiosque"

[[services]]
code = "EXAMENS"
kind = "results"
plan = "3615"

[[services]]
code = "DEMO"
kind = "pages"
path = "{ROOT / 'pages' / 'trees' / 'demo'}"
plan = "3613"

[[services]]
code = "PAVI"
kind = "minipavi"
url = "{pavi_url}"
plan = "gratuit"
""")
    return path


async def enter(t: MinitelClient, code: str) -> None:
    await t.wait_for_text("Nom du service")
    await t.type(code)
    await t.press(Key.ENVOI)


async def test_a_caller_visits_every_kind_of_service_billed_part_by_part(
        store_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(store_dir, store)
    if (store / "billing.lmdb").exists():  # the calls of other tests: not this one's
        shutil.rmtree(store / "billing.lmdb")
    holder: dict[str, Any] = {}
    pavi = PaviService(lambda req: holder["handler"](req))
    await pavi.start()
    holder["handler"] = hello_flow(pavi.url)
    # blocks this loop until the server is up: it calls no service before a caller does
    server = start_server(store, config(tmp_path, f"{pavi.url}/hello"), tmp_path / "log",
                          "--workers", "2", ready="2 workers")
    try:
        t = await MinitelClient.connect(server.url)
        await enter(t, "DEMO")
        await t.wait_for(lambda c: c.shows("BIENVENUE"), 10, "the demo tree's menu")
        await t.type("1")
        await t.press(Key.ENVOI)
        await t.wait_for_text("éclaircies", timeout=10)
        await t.press(Key.CONNEXION_FIN)
        await enter(t, "PAVI")
        await t.wait_for_text("Votre nom :", timeout=10)
        await t.press(Key.CONNEXION_FIN)
        await enter(t, "EXAMENS")
        await t.wait_for_text("RESULTATS DES EXAMENS", timeout=10)
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("Nom du service")
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("AU REVOIR")
        await t.wait_closed(10)
        await server.log.wait_for('"call closed"')
    finally:
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.proc.wait, 60)
        await pavi.stop()
    assert pavi.fctns() == ["CNX", "FIN"]
    ledger = Ledger(store, readonly=True)
    try:
        parts = sorted((r for r in ledger.iter_records() if r.call_id), key=lambda r: r.part)
    finally:
        ledger.close()
    assert [(r.part, r.service, r.plan) for r in parts] == [
        (1, "3615", "kiosque"), (2, "3615 DEMO", "3613"), (3, "3615", "kiosque"),
        (4, "3615 PAVI", "gratuit"), (5, "3615", "kiosque"), (6, "3615 EXAMENS", "3615"),
        (7, "3615", "kiosque")]
    assert len({r.call_id for r in parts}) == 1
    assert all(r.ended_at for r in parts) and parts[-1].close_reason == "caller"
    assert Decimal(parts[3].amount_eur) == 0  # the free service


def test_a_mistake_in_the_services_stops_the_server_with_its_place(tmp_path: Path,
                                                                  store_dir: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[services]]\ncode = "PAVI"\nkind = "minipavi"\nurl = "gopher://x"\n')
    done = subprocess.run([VIDEOTEX, "serve", "--store", str(store_dir), "--config", str(path),
                           "--telnet", "127.0.0.1:0"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert f"{path}: [[services]] #1 (PAVI): url 'gopher://x' is not an http(s) URL" in (
        done.stderr)
    done = subprocess.run([VIDEOTEX, "serve", "--store", str(store_dir), "--telnet",
                           "127.0.0.1:0", "--pages", str(tmp_path / "nowhere")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "nowhere" in done.stderr
