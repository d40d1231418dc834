"""Modem line figures: the home page from CONNECT at 1200 baud.

    .venv/bin/python bench/bench_modem.py [--rounds 3] [--speed 1200]

A real ``serial`` listener in modem mode on a pty pair; the fake Hayes modem of the tests
(``tests/helpers/serial_line.py``) answers the init string, rings, answers ATA with
``CONNECT <speed>`` and relays to an emulated Minitel (7E1 in software both ways).

Printed per round and as a median:

- bytes of the home page as sent from CONNECT (echo-off PRO3 and ENQROM included), up to
  the moment the Minitel's screen shows the home page with the cursor in the number field;
- the computed time at line speed (bytes ÷ speed/10 characters per second);
- the measured time from the fake modem writing CONNECT to that screen, with the server's
  pacer at the CONNECT speed (the pty itself does not pace). Goal: ≤ 5 s at 1200 baud.

Server and modem share one event loop and the machine: measured times include both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def one_call(service, speed: int) -> tuple[int, float]:
    from tests.channels.serial.conftest import serve_line
    from tests.helpers.serial_line import FakeModem, PtyPair
    from videotex.protocols.hayes import ModemState

    pty = PtyPair()
    modem = FakeModem(pty, speed=speed)
    served = await serve_line(service, pty.path, guard=0.1)
    try:
        await served.line.wait_until(
            lambda line: line.modem is not None and line.modem.state is ModemState.IDLE)
        modem.ring()
        t = await modem.answered()
        connected = time.perf_counter()
        # complete: the cursor is shown (CON comes last) in the number field; the cursor
        # merely passing (10, 15) while row 10 is drawn is not the end of the page
        await t.wait_for(lambda c: c.shows("RESULTATS DES EXAMENS")
                         and c.minitel.cursor == (10, 15) and c.minitel.cursor_visible
                         and "SOMMAIRE" in c.minitel.render_text(),
                         timeout=60, what="home page")
        elapsed = time.perf_counter() - connected
        return t.bytes_received, elapsed
    finally:
        await served.stop()
        modem.stop()
        pty.close()


async def main_async(rounds: int, speed: int) -> None:
    from pages import ResultsService, ServiceConfig
    from tests.helpers.results import build_store
    from videotex.store import ResultsStore

    with tempfile.TemporaryDirectory() as tmp:
        service = ResultsService(ResultsStore(build_store(Path(tmp))), ServiceConfig())
        sizes, times = [], []
        for i in range(rounds):
            size, elapsed = await one_call(service, speed)
            sizes.append(size)
            times.append(elapsed)
            print(f"round {i + 1}: {size} bytes, computed {size / (speed / 10):.2f} s, "
                  f"measured {elapsed:.2f} s", flush=True)
        size = int(statistics.median(sizes))
        print(f"home page from CONNECT: {size} bytes (echo-off PRO3 and ENQROM included)")
        print(f"computed at {speed} baud ({speed // 10} chars/s): {size / (speed / 10):.2f} s")
        print(f"measured over a pty with the pacer, median of {rounds}: "
              f"{statistics.median(times):.2f} s  (goal <= 5 s)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--speed", type=int, default=1200, choices=(1200, 4800, 9600))
    args = p.parse_args()
    asyncio.run(main_async(args.rounds, args.speed))


if __name__ == "__main__":
    main()
