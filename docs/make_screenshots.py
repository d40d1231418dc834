"""Render the README screenshots with the emulator: ``.venv/bin/python docs/make_screenshots.py``.

Each screenshot is what the independent emulator (``terminal_emu``) shows after the
server's real bytes for that page, with the test store's known candidates and a fixed
clock, so the pictures are reproducible.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pages import ResultsService  # noqa: E402
from terminal_emu import Key  # noqa: E402
from tests.helpers.harness import Caller  # noqa: E402
from tests.helpers.results import ELODIE, NOW, PAUL_PARIS, build_store  # noqa: E402
from videotex.gateway.call import GatewayCall  # noqa: E402
from videotex.gateway.directory import Directory, ServiceEntry  # noqa: E402
from videotex.pagetree import PageTreeService, load_tree  # noqa: E402
from videotex.store import ResultsStore  # noqa: E402
from videotex.teletel import FakeClock  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        service = ResultsService(ResultsStore(build_store(Path(tmp))))
        clock = FakeClock(NOW)

        c = Caller(service, clock)
        c.type(ELODIE[0][:6])
        c.minitel.render_png(OUT / "home.png")
        c.type(ELODIE[0][6:])
        c.press(Key.SUITE)
        c.type(ELODIE[1])
        c.press(Key.ENVOI)
        c.minitel.render_png(OUT / "result.png")

        c = Caller(service, clock)
        c.search(*PAUL_PARIS)
        c.minitel.render_png(OUT / "not-published.png")

        c = Caller(service, clock)
        c.press(Key.SOMMAIRE)
        c.minitel.render_png(OUT / "summary.png")

        # the gateway: the kiosk of `make run` (port 3613) and its list of services
        directory = Directory(number="3615", name="TELETEL")
        directory.add(ServiceEntry("EXAMENS", "Résultats des examens", "results", service,
                                   "3615", "0,34 €/min"))
        tree = PageTreeService(load_tree(ROOT / "pages" / "trees" / "demo"), "3615 DEMO")
        directory.add(ServiceEntry("DEMO", "Démo : pages .vdt", "pages", tree, "3613",
                                   "0,06 €/min"))
        c = Caller(None, clock, session=GatewayCall(directory, clock, caller="demo"))
        c.type("EXA")
        c.minitel.render_png(OUT / "kiosk.png")
        c.press(Key.GUIDE)
        c.minitel.render_png(OUT / "services.png")
    for name in ("home", "result", "not-published", "summary", "kiosk", "services"):
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
