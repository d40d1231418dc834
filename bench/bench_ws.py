"""WebSocket transport figures, next to raw TCP on the same in-process server.

    .venv/bin/python bench/bench_ws.py [--callers 50] [--rounds 3]

1. Full consultations (connect, home page, number, Suite, birth date, Envoi, result,
   Connexion/Fin, goodbye) by N concurrent scripted Minitels: consultations per second.
2. Keypress → echo latency: one digit typed in the number field by each connected
   caller in turn, time until its echo is on the caller's screen; p50 / p99.
3. Bytes on the wire for one consultation over ws (payload and frames counted by the
   client) against raw TCP, and the WebSocket overhead.

Server and clients share one event loop (and the machine), so the figures are a floor
on what the transport costs, not a capacity claim.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import pct  # noqa: E402
from terminal_emu import Key  # noqa: E402
from terminal_emu.client import MinitelClient  # noqa: E402


async def consult(url: str, numero: str, birth: str) -> int:
    t = await MinitelClient.connect(url)
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15), 30, "number field")
    await t.type(numero)
    await t.press(Key.SUITE)
    await t.type(birth)
    await t.wait_for(lambda c: birth in c.text, 30, "birth date")
    await t.press(Key.ENVOI)
    await t.wait_for_text("Mention", 30)
    await t.press(Key.CONNEXION_FIN)
    await t.wait_closed(30)
    return t.bytes_received


async def latency(url: str, callers: int) -> list[float]:
    clients = [await MinitelClient.connect(url) for _ in range(callers)]
    await asyncio.gather(*(c.wait_for(lambda c: c.minitel.cursor == (10, 15), 30)
                           for c in clients))
    out = []
    for c in clients:
        start = time.perf_counter()
        await c.type("7")
        await c.wait_for(lambda c: "7........." in c.text, 30, "echo")
        out.append((time.perf_counter() - start) * 1000)
    for c in clients:
        await c.close()
    return out


async def main(callers: int, rounds: int) -> None:
    from pages import ResultsService, ServiceConfig
    from tests.helpers.results import ELODIE, build_store
    from videotex.protocols.gate import GatePolicy
    from videotex.runtime.config import ListenerConfig
    from videotex.runtime.listeners import start_listener
    from videotex.runtime.switchboard import Switchboard
    from videotex.store import ResultsStore
    from videotex.teletel import SystemClock

    with tempfile.TemporaryDirectory() as tmp:
        service = ResultsService(ResultsStore(build_store(Path(tmp))), ServiceConfig())
        # every scripted caller comes from 127.0.0.1: exempt it from per-address admission
        board = Switchboard(service, SystemClock(),
                            gate=GatePolicy(exempt=frozenset({"127.0.0.1"})))
        listeners = {kind: await start_listener(ListenerConfig(kind, "127.0.0.1", 0), board)
                     for kind in ("ws", "raw")}
        urls = {"ws": listeners["ws"].addresses()[1], "raw": listeners["raw"].addresses()[0]}
        print(f"callers={callers} rounds={rounds} (server and clients in one process; "
              "shared machine)")
        for kind, url in urls.items():
            rates = []
            for _ in range(rounds):
                start = time.perf_counter()
                received = await asyncio.gather(*(consult(url, *ELODIE) for _ in range(callers)))
                rates.append(callers / (time.perf_counter() - start))
            lat = await latency(url, callers)
            print(f"{kind:>3}: consultations/s best {max(rates):7.1f} worst {min(rates):7.1f}"
                  f" | keypress->echo p50 {pct(lat, 0.5):6.2f} ms p99 {pct(lat, 0.99):6.2f} ms"
                  f" | videotex bytes per consultation {received[0]}")
        for listener in listeners.values():
            listener.close()
        await board.shutdown(grace=2)
        for listener in listeners.values():
            await listener.wait_closed()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.callers, args.rounds))
