"""The kiosk: a caller types a service code, visits services, comes back; billing bills
each part at its service's tariff (a real LMDB ledger in a temp folder).

Driven sans-IO with the independent emulator as the caller's Minitel; assertions are on
what the screen shows and on the ledger's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from terminal_emu import Key
from tests.helpers.harness import Caller
from tests.helpers.results import ELODIE
from videotex.billing import BillingHooks, CallRecord, Ledger, TariffBook
from videotex.gateway.call import GatewayCall
from videotex.gateway.directory import Directory, ServiceEntry
from videotex.gateway.setup import GatewayError, build_directory, price_text
from videotex.runtime.config import ServerConfig
from videotex.teletel import Limits, SessionConfig


@pytest.fixture
def directory(service: Any) -> Directory:
    d = Directory(number="3615", name="TELETEL")
    d.add(ServiceEntry("EXAMENS", "Résultats des examens", "results", service, "3615",
                       "0,34 €/min"))
    d.add(ServiceEntry("BAC", "Le bac, moins cher", "results", service, "3614",
                       "0,13 €/min"))
    return d


def kiosk_caller(directory: Directory, clock: Any, **kw: Any) -> Caller:
    call = GatewayCall(directory, clock, caller="192.0.2.7:4000", channel="telnet",
                       identity="192.0.2.7", **kw)
    return Caller(None, clock, session=call)


def enter(caller: Caller, code: str) -> None:
    caller.type(code)
    caller.press(Key.ENVOI)


def test_the_kiosk_asks_for_a_service_and_shows_it(directory: Directory, clock: Any) -> None:
    c = kiosk_caller(directory, clock)
    assert c.shows("TELETEL") and "Nom du service" in c.text
    assert c.minitel.cursor_visible and c.minitel.cursor == (12, 8)
    enter(c, "examens")  # typed in lowercase: codes are case-blind
    assert "RESULTATS DES EXAMENS" in c.text
    assert "3615 EXAMENS" in c.row(0)
    c.search(*ELODIE)
    assert "DUPONT" in c.text and "Elodie" in c.text


def test_an_unknown_code_says_so_and_stays(directory: Directory, clock: Any) -> None:
    c = kiosk_caller(directory, clock)
    enter(c, "METEO")
    assert "Service METEO inconnu" in c.text
    assert not c.session.closed and c.session.entry is None
    c.press(Key.ENVOI)  # nothing typed
    assert "Tapez le nom d'un service" in c.text


def test_connexion_fin_in_a_service_returns_to_the_kiosk_and_twice_hangs_up(
        directory: Directory, clock: Any) -> None:
    c = kiosk_caller(directory, clock)
    enter(c, "EXAMENS")
    c.press(Key.CONNEXION_FIN)
    assert not c.session.closed
    assert "Nom du service" in c.text and "RESULTATS" not in c.text
    assert c.session.entry is None and c.session.part == 3
    c.press(Key.CONNEXION_FIN)
    assert c.session.closed and c.session.close_reason == "caller"
    assert "AU REVOIR" in c.text


def test_guide_lists_the_services_with_their_price_and_pages_through(
        service: Any, clock: Any) -> None:
    d = Directory()
    for i in range(11):
        d.add(ServiceEntry(f"SVC{i:02d}", f"Service {i}", "results", service, None,
                           "0,13 €/min"))
    c = kiosk_caller(d, clock)
    c.press(Key.GUIDE)
    assert "SVC00" in c.text and "SVC07" in c.text and "SVC08" not in c.text
    assert "0,13 EUR/min" in c.text  # a Minitel has no € glyph
    c.press(Key.SUITE)
    assert "SVC08" in c.text and "SVC10" in c.text and "SVC00" not in c.text
    c.press(Key.RETOUR)
    assert "SVC00" in c.text
    c.press(Key.RETOUR)
    assert "Nom du service" in c.text


def test_a_listener_straight_to_a_service_hangs_up_on_connexion_fin(
        directory: Directory, clock: Any) -> None:
    c = kiosk_caller(directory, clock, start="EXAMENS", kiosk=False)
    assert "RESULTATS DES EXAMENS" in c.text
    c.press(Key.CONNEXION_FIN)
    assert c.session.closed and c.session.close_reason == "caller"
    assert "AU REVOIR" in c.text


def test_an_unknown_start_service_is_refused_by_name(directory: Directory, clock: Any) -> None:
    with pytest.raises(ValueError, match=r"no service 'METEO'.*EXAMENS"):
        GatewayCall(directory, clock, start="METEO")


def test_the_longest_call_counts_across_parts(directory: Directory, clock: Any) -> None:
    limits = Limits(idle_timeout=None, max_session=600, max_warning=0)
    c = kiosk_caller(directory, clock, config=SessionConfig(limits=limits))
    clock.advance(400)
    enter(c, "EXAMENS")
    clock.advance(199)
    c.session.tick()
    c.pump()
    assert not c.session.closed
    clock.advance(2)
    c.session.tick()
    c.pump()
    assert c.session.closed and c.session.close_reason == "max-duration"


# -- billing ----------------------------------------------------------------------------


@dataclass
class Conn:
    channel: str = "telnet"
    peer: str = "192.0.2.7:40312"


@dataclass
class Call:
    id: str
    session: Any
    conn: Conn = field(default_factory=Conn)
    extra: dict[str, Any] = field(default_factory=dict)


def records(ledger: Ledger) -> list[CallRecord]:
    assert ledger.flush(10)
    return sorted(ledger.records(), key=lambda r: r.part)


def test_each_part_of_a_call_is_billed_at_its_service_tariff(
        directory: Directory, clock: Any, tmp_path: Path) -> None:
    directory.plan = "kiosque"
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615")
    c = kiosk_caller(directory, clock)
    call = Call("c1", c.session)
    hooks.call_opened(call)
    clock.advance(30)                  # 30 s at the kiosk (0.34 €/min: 2 units)
    enter(c, "EXAMENS")
    clock.advance(65)                  # 65 s in EXAMENS (0.34 €/min: 4 units)
    c.search(*ELODIE)
    c.press(Key.CONNEXION_FIN)         # back to the kiosk
    clock.advance(5)
    enter(c, "BAC")
    clock.advance(120)                 # 120 s in BAC (0.13 €/min, 52.2 s units: 3)
    c.press(Key.CONNEXION_FIN)
    c.press(Key.CONNEXION_FIN)         # hangs up from the kiosk
    hooks.call_closed(call, c.session.close_reason)
    kiosk1, examens, kiosk2, bac, kiosk3 = records(ledger)
    assert [r.service for r in (kiosk1, examens, kiosk2, bac, kiosk3)] == [
        "3615", "3615 EXAMENS", "3615", "3615 BAC", "3615"]
    assert [r.part for r in (kiosk1, examens, kiosk2, bac, kiosk3)] == [1, 2, 3, 4, 5]
    assert {r.call_id for r in (kiosk1, examens, kiosk2, bac, kiosk3)} == {"c1"}
    assert [r.session_id for r in (kiosk1, examens)] == ["c1", "c1.2"]
    assert (kiosk1.plan, examens.plan, bac.plan) == ("kiosque", "3615", "3614")
    # the connection charge (0.018 €) once, in the first part; units per part's plan;
    # each part's amount rounded to the cent
    assert (kiosk1.duration_s, kiosk1.units, Decimal(kiosk1.amount_eur)) == (
        30.0, 2, Decimal("0.24"))  # 0.018 + 2 × 0.113
    assert (examens.duration_s, examens.units, Decimal(examens.amount_eur)) == (
        65.0, 4, Decimal("0.45"))  # 4 × 0.113, no connection charge
    assert (bac.duration_s, bac.units, Decimal(bac.amount_eur)) == (
        120.0, 3, Decimal("0.34"))  # 3 × 0.113
    # what the caller did in a part is that part's: the lookup was in EXAMENS
    assert examens.result_found and examens.lookups == 1
    assert not kiosk1.result_found and not bac.result_found
    assert [r.close_reason for r in (kiosk1, examens, bac, kiosk3)] == [
        "service change", "service change", "service change", "caller"]
    assert all(r.ended_at for r in (kiosk1, examens, kiosk2, bac, kiosk3))
    assert ledger.open_count() == 0
    ledger.close()


def test_a_part_left_open_by_a_crash_is_recovered_with_the_others_closed(
        directory: Directory, clock: Any, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615")
    c = kiosk_caller(directory, clock)
    hooks.call_opened(Call("c2", c.session))
    clock.advance(10)
    enter(c, "BAC")
    clock.advance(20)
    hooks.checkpoint_all()
    assert ledger.flush(10)
    by_part = {r.part: r for r in ledger.records()}
    assert by_part[1].ended_at is not None and by_part[2].ended_at is None
    assert ledger.open_count() == 1  # the BAC part only: what a crash now leaves
    ledger.close()


# -- configuration ---------------------------------------------------------------------


def test_the_configuration_builds_the_directory_and_names_mistakes(service: Any) -> None:
    plans = TariffBook.from_config({}).plans
    config = ServerConfig(source="gw.toml", kiosk={"number": "3615", "plan": "kiosque"},
                          services=[{"code": "EXAMENS", "kind": "results", "plan": "3615"},
                                    {"code": "PAVI", "kind": "minipavi",
                                     "url": "http://127.0.0.1:9/x", "plan": "3617"}])
    d = build_directory(config, service, plans)
    assert d is not None and list(d.entries) == ["EXAMENS", "PAVI"]
    assert d.entries["PAVI"].price_text == "3,00 € le résultat"
    assert d.entries["EXAMENS"].price_text == "0,34 €/min"
    assert build_directory(ServerConfig(), service, plans) is None

    def bad(services: list[dict[str, Any]], match: str, **kiosk: Any) -> None:
        with pytest.raises(GatewayError, match=match):
            build_directory(ServerConfig(source="gw.toml", kiosk=kiosk, services=services),
                            service, plans)

    bad([{"code": "X", "kind": "teletext"}], r"gw.toml: \[\[services\]\] #1 \(X\): kind")
    bad([{"code": "X", "kind": "results", "plan": "3619"}], "no tariff plan named '3619'")
    bad([{"code": "X", "kind": "minipavi", "url": "ftp://h/x"}], "not an http")
    bad([{"code": "Météo", "kind": "results"}], "uppercase letters and digits")
    bad([{"code": "X", "kind": "results", "colour": 1}], "unknown key colour")
    bad([{"code": "X", "kind": "results"}, {"code": "X", "kind": "results"}], "listed twice")
    bad([], "number '36-15'", number="36-15")
    bad([{"code": "X", "kind": "pages", "path": "/nonexistent/tree"}], r"#1 \(X\)")


def test_price_words_follow_the_plan() -> None:
    plans = TariffBook.from_config({}).plans
    assert price_text(plans["3613"]) == "0,06 €/min"
    assert price_text(plans["gratuit"]) == "gratuit"
