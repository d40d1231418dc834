"""Every screen of the results service, as the key presses that reach it.

A scenario is a name and steps run on a :class:`tests.helpers.harness.Caller`: ``("type",
text)``, ``("press", key name)``, ``("tick", seconds)`` (the clock moves on and the
session wakes, as the status row does every minute) and ``("search", numero, birth)``.
``tests/pages/test_screens.py`` runs them; ``bench/bench_codec.py`` measures their bytes.
"""

from __future__ import annotations

from typing import Any

from terminal_emu import Key
from tests.helpers.results import ELODIE, LILLE_ROWS, MARIE_AJOURNEE, PAUL_PARIS

__all__ = ["SCENARIOS", "run_step"]

LEFEVRE = (LILLE_ROWS[4][0], "02021987")  # second groupe

Step = tuple[Any, ...]

#: Bac, then the académies of Lille (11th of the list) and Paris (19th, second page).
_NAME_FORM: list[Step] = [("press", "SOMMAIRE"), ("type", "1"), ("press", "ENVOI"),
                          ("type", "11"), ("press", "ENVOI")]

SCENARIOS: dict[str, list[Step]] = {
    "home": [],
    "home-typed": [("type", "1234"), ("press", "SUITE"), ("type", "0307")],
    "home-status-after-a-minute": [("tick", 75)],
    "home-incomplete-number": [("type", "123"), ("press", "ENVOI")],
    "home-invalid-date": [("type", LILLE_ROWS[0][0]), ("press", "SUITE"),
                          ("type", "31021987"), ("press", "ENVOI")],
    "result-admis-mention": [("search", *ELODIE)],
    "result-ajourne": [("search", *MARIE_AJOURNEE)],
    "result-second-groupe": [("search", *LEFEVRE)],
    "not-found-wrong-date": [("search", ELODIE[0], "04071987")],
    "not-found-unknown-number": [("search", "9999999999", "01011987")],
    "not-yet-published": [("search", *PAUL_PARIS)],
    "guide": [("press", "GUIDE")],
    "guide-from-result": [("search", *ELODIE), ("press", "GUIDE")],
    "sommaire": [("press", "SOMMAIRE")],
    "sommaire-after-a-minute": [("press", "SOMMAIRE"), ("tick", 60)],
    "academies": [("press", "SOMMAIRE"), ("type", "1"), ("press", "ENVOI")],
    "academies-page-2": [("press", "SOMMAIRE"), ("type", "1"), ("press", "ENVOI"),
                         ("press", "SUITE")],
    "name-form": _NAME_FORM,
    "name-list": [*_NAME_FORM, ("type", "dupont"), ("press", "ENVOI")],
    "name-result": [*_NAME_FORM, ("type", "dupont"), ("press", "ENVOI"), ("type", "1"),
                    ("press", "ENVOI")],
    "name-none": [*_NAME_FORM, ("type", "MARTIN"), ("press", "ENVOI")],
    "name-not-published": [("press", "SOMMAIRE"), ("type", "1"), ("press", "ENVOI"),
                           ("press", "SUITE"), ("type", "19"), ("press", "ENVOI")],
    "goodbye": [("press", "CONNEXION_FIN")],
}


def run_step(caller: Any, clock: Any, step: Step) -> None:
    """Play one step on a Caller."""
    what = step[0]
    if what == "type":
        caller.type(step[1])
    elif what == "press":
        caller.press(Key[step[1]])
    elif what == "search":
        caller.search(step[1], step[2])
    elif what == "tick":
        clock.advance(step[1])
        caller.session.tick()
        caller.pump()
    else:
        raise ValueError(f"unknown step {step!r}")
