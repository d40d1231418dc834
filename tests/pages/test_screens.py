"""Golden screens of every page of the service, and what a real Minitel 1B shows of them.

Each scenario (``scenarios.py``) is played by the emulator (a Minitel 1B as its ROM
behaves, §12 vectors 1-76) against a sans-IO session. After every exchange, the screen
the emulator shows must be exactly the frame the session composed: characters, colours,
sizes, inverse, blink, zones (the terminal's own row-00 indicators aside). The final
screen's text render is kept under ``golden/`` (regenerate with ``PAGES_REGEN=1`` and
read the diff).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pages import ResultsService, ServiceConfig
from pages.guard import GuardPolicy
from terminal_emu import Key
from tests.cellmodel import assert_shows, normalise_screen
from tests.helpers.harness import Caller
from tests.helpers.results import ELODIE
from videotex.billing import Ledger, OfferBook
from videotex.codec import drawable
from videotex.store import ResultsStore

from .scenarios import SCENARIOS, run_step

GOLDEN = Path(__file__).parent / "golden"


class CheckedCaller(Caller):
    """A caller that checks, after every exchange, that its Minitel shows what the
    session wanted."""

    checks = 0

    def pump(self) -> None:
        super().pump()
        if self.session.closed and self.session.page is None:
            return
        wanted = self.session.compose()
        # the page asks only for what the wire can draw ...
        assert normalise_screen(drawable(wanted)) == normalise_screen(wanted), \
            f"page {self.session.page.name} asks for cells the Minitel cannot draw"
        # ... and the Minitel shows exactly that (row 00's indicators are the terminal's)
        cursor = wanted.cursor if self.minitel.cursor_visible or wanted.cursor else None
        assert_shows(wanted, self.minitel.snapshot(),
                     f"page {self.session.page.name} after {self.last.hex(' ')}", cursor)
        self.checks += 1


def _golden(name: str, caller: Caller) -> None:
    golden = GOLDEN / f"{name}.txt"
    text = caller.text + "\n"
    if os.environ.get("PAGES_REGEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden screen {golden}: run with PAGES_REGEN=1"
    assert text == golden.read_text(encoding="utf-8"), f"{name}: screen differs from {golden}"


def play(name: str, service: ResultsService, clock: Any) -> CheckedCaller:
    caller = CheckedCaller(service, clock)
    for step in SCENARIOS[name]:
        run_step(caller, clock, step)
    assert caller.checks >= 1 + len(SCENARIOS[name])
    return caller


def refused(store_dir: Path, clock: Any) -> CheckedCaller:
    service = ResultsService(ResultsStore(store_dir), ServiceConfig(),
                             guard=GuardPolicy(free=5, refuse_after=1))
    caller = CheckedCaller(service, clock)
    caller.search(ELODIE[0], "04071987")  # one failure, then the guard refuses
    caller.press(Key.SOMMAIRE)
    caller.search(*ELODIE)
    return caller


def purchase(service: ResultsService, clock: Any, ledger_dir: Path) -> CheckedCaller:
    caller = CheckedCaller(service, clock)
    caller.session.ctx.facts.offers = OfferBook(Ledger(ledger_dir))
    caller.search(*ELODIE)
    return caller


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_screen(name: str, service: ResultsService, clock: Any) -> None:
    _golden(name, play(name, service, clock))


def test_screen_refused(store_dir: Path, clock: Any) -> None:
    caller = refused(store_dir, clock)
    assert caller.session.page.name == "refused"
    _golden("refused", caller)


def test_screen_purchase(service: ResultsService, clock: Any, tmp_path: Path) -> None:
    caller = purchase(service, clock, tmp_path)
    assert caller.session.page.name == "purchase"
    _golden("purchase", caller)


def test_every_page_of_the_service_has_a_golden_screen(
        service: ResultsService, store_dir: Path, tmp_path: Path) -> None:
    """Every page class of the service ends some scenario, so it has a golden screen."""
    import inspect

    import pages.home
    import pages.info
    import pages.menu
    import pages.result
    from videotex.teletel import FakeClock, Page

    from .conftest import NOW

    classes = {cls.name for mod in (pages.home, pages.info, pages.menu, pages.result)
               for _, cls in inspect.getmembers(mod, inspect.isclass)
               if issubclass(cls, Page) and cls.__module__ == mod.__name__
               and not cls.__name__.startswith("_")}
    shown = {play(name, service, FakeClock(NOW)).session.page.name for name in SCENARIOS}
    shown.add(refused(store_dir, FakeClock(NOW)).session.page.name)
    shown.add(purchase(service, FakeClock(NOW), tmp_path).session.page.name)
    assert classes <= shown, f"pages without a golden screen: {sorted(classes - shown)}"
