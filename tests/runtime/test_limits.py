"""Time limits, enumeration throttling and per-address admission (issue 8, abuse).

Sans-IO where the behaviour is the session's (an injected clock, no sleeping), through a
real listener where it is the switchboard's."""

from __future__ import annotations

import asyncio

import pytest

from pages import ResultsService
from pages.guard import EnumerationGuard, GuardPolicy
from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.harness import Caller
from tests.helpers.results import ELODIE
from videotex.channels.telnet import start_telnet
from videotex.protocols.gate import Gatekeeper, GatePolicy
from videotex.runtime.switchboard import Switchboard
from videotex.store import ResultsStore
from videotex.teletel import Limits, SessionConfig, SystemClock


def caller(service, clock, **limits) -> Caller:
    return Caller(service, clock, config=SessionConfig(limits=Limits(**limits)))


def advance(c: Caller, clock, seconds: float) -> None:
    """Let time pass the way interact() would: tick at every deadline on the way."""
    end = clock.monotonic() + seconds
    while True:
        deadline = c.session.next_deadline()
        if deadline is None or deadline > end:
            clock.advance(max(0.0, end - clock.monotonic()))
            c.session.tick()
            c.pump()
            return
        clock.advance(max(0.0, deadline - clock.monotonic()))
        c.session.tick()
        c.pump()


def test_idle_caller_is_warned_then_hung_up(service, clock) -> None:
    c = caller(service, clock, idle_timeout=120, idle_warning=30)
    advance(c, clock, 95)
    assert "Sans action, fin dans 25 s" in c.row(0)
    assert not c.session.closed
    advance(c, clock, 30)
    assert c.session.closed and c.session.close_reason == "idle"
    assert "AU REVOIR" in c.text and "faute d'activité" in c.text


def test_a_key_resets_the_idle_clock(service, clock) -> None:
    c = caller(service, clock, idle_timeout=120, idle_warning=30)
    advance(c, clock, 100)
    assert "Sans action" in c.row(0)
    c.type("1")
    assert "Sans action" not in c.row(0) and "01:40" in c.row(0)
    advance(c, clock, 100)
    assert not c.session.closed


def test_maximum_call_length_with_warning(service, clock) -> None:
    c = caller(service, clock, idle_timeout=None, max_session=600, max_warning=60)
    for _ in range(10):
        advance(c, clock, 55)
        c.type("1")
        c.press(Key.CORRECTION)
    assert "Fin de l'appel dans" in c.row(0)
    advance(c, clock, 60)
    assert c.session.closed and c.session.close_reason == "max-duration"


def test_wall_clock_jumps_do_not_change_durations(service, clock) -> None:
    from datetime import timedelta

    c = caller(service, clock, idle_timeout=120)
    clock.jump_wall(timedelta(hours=-3))
    advance(c, clock, 60)
    assert "01:00" in c.row(0)  # a minute of calling, not -2:59:00
    clock.jump_wall(timedelta(hours=5))
    c.session.tick()
    c.pump()
    assert not c.session.closed


def test_failed_lookups_slow_down_then_stop_without_slowing_honest_callers(
        store_dir, clock) -> None:
    service = ResultsService(ResultsStore(store_dir))
    c = Caller(service, clock)

    def retry(birth: str) -> None:
        """Retour to the form (focus on the birth date), clear it, type, Envoi."""
        c.press(Key.RETOUR)
        c.press(Key.ANNULATION)
        c.type(birth)
        c.press(Key.ENVOI)

    # honest mistakes: answered at once
    c.search(ELODIE[0], "01011980")
    assert "AUCUN RESULTAT" in c.text
    for birth in ("02011980", "03011980"):
        retry(birth)
        assert "AUCUN RESULTAT" in c.text
    # the 4th failure waits a second, the 5th two...
    retry("01011990")
    assert "Recherche en cours" in c.text and "AUCUN RESULTAT" not in c.text
    c.type("7")  # keys typed meanwhile are ignored
    advance(c, clock, 1.0)
    assert "AUCUN RESULTAT" in c.text
    for birth in ("02011990", "03011990", "04011990", "05011990", "06011990", "07011990"):
        retry(birth)
        advance(c, clock, 20)
        assert "AUCUN RESULTAT" in c.text
    retry(ELODIE[1])  # even the right answer is refused after 10 failures
    assert "RECHERCHE REFUSEE" in c.text
    assert "Très bien" not in c.text
    # another caller from another address is not slowed
    other = Caller(service, clock)
    other.session.ctx.identity = "192.0.2.99"
    other.search(*ELODIE)
    assert "Très bien" in other.text


def test_address_guard_counts_failures_in_a_window() -> None:
    g = EnumerationGuard(GuardPolicy(address_slow=3, address_delay=5, address_refuse=5,
                                     window=60))
    for i in range(3):
        g.failed("10.0.0.1", float(i))
    assert g.before_lookup("10.0.0.1", 0, 3.0).delay == 5
    for i in range(2):
        g.failed("10.0.0.1", 4.0 + i)
    assert not g.before_lookup("10.0.0.1", 0, 6.0).allowed
    assert g.before_lookup("10.0.0.2", 0, 6.0).allowed
    assert g.before_lookup("10.0.0.1", 0, 100.0).delay == 0  # the window moved on


def test_gatekeeper_caps_concurrency_and_rate() -> None:
    g = Gatekeeper(GatePolicy(max_concurrent=2, burst=3, rate=1.0))
    assert g.admit("a", 0.0) is None
    assert g.admit("a", 0.0) is None
    assert g.admit("a", 0.0) == "concurrent"
    g.release("a")
    assert g.admit("a", 0.0) is None  # third token
    g.release("a")
    g.release("a")
    assert g.admit("a", 0.0) == "rate"  # bucket empty
    assert g.admit("a", 1.0) is None  # refilled one token
    assert g.admit("b", 1.0) is None  # another address is not affected


async def test_listener_refuses_a_flood_from_one_address_unbilled(service) -> None:
    opened: list[object] = []

    class Hooks:
        def call_opened(self, call: object) -> None:
            opened.append(call)

        def call_closed(self, call: object, reason: str) -> None:
            pass

    board = Switchboard(service, SystemClock(), hooks=[Hooks()],
                        gate=GatePolicy(max_concurrent=3, burst=10, rate=0.1))
    server = await start_telnet(board.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clients = [await MinitelClient.connect(f"telnet://127.0.0.1:{port}") for _ in range(4)]
    texts = []
    for c in clients:
        await c.wait_for(lambda cl: "RESULTATS" in cl.text or "Trop d'appels" in cl.text,
                         timeout=10, what="home page or refusal")
        texts.append(c.text)
    assert sum("RESULTATS" in t for t in texts) == 3
    assert sum("Trop d'appels" in t for t in texts) == 1
    assert len(opened) == 3  # the refused caller was never billed
    for c in clients:
        await c.close()
    server.close()
    await board.shutdown(grace=2)


async def test_unhealthy_service_tells_new_callers_instead_of_serving_unbilled(service) -> None:
    board = Switchboard(service, SystemClock(), health=lambda: "ledger: disk full")
    server = await start_telnet(board.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    c = await MinitelClient.connect(f"telnet://127.0.0.1:{port}")
    await c.wait_for_text("indisponible", timeout=10)
    await c.wait_closed(timeout=10)
    assert board.total_calls == 0
    server.close()


@pytest.mark.parametrize("bad", [
    "[limits]\nidle_timeout = -1\n",
    "[limits]\nper_address_rate = 'fast'\n",
    "[limits]\nexempt = '127.0.0.1'\n",
    "[limits]\nunknown = 1\n",
])
def test_bad_limits_configuration_names_the_key(tmp_path, bad: str) -> None:
    from videotex.runtime.config import ConfigError, load_config

    path = tmp_path / "server.toml"
    path.write_text(bad)
    with pytest.raises(ConfigError, match=r"\[limits\]"):
        load_config(path)


def test_limits_configuration_is_applied(tmp_path) -> None:
    from videotex.runtime.config import load_config

    path = tmp_path / "server.toml"
    path.write_text("[limits]\nidle_timeout = 0\nmax_session = 600\n"
                    "per_address_concurrent = 40\nexempt = ['127.0.0.1']\n")
    cfg = load_config(path)
    assert cfg.limits.idle_timeout is None and cfg.limits.max_session == 600
    assert cfg.gate.max_concurrent == 40 and "127.0.0.1" in cfg.gate.exempt
    asyncio.get_event_loop_policy()  # config loading needs no event loop
