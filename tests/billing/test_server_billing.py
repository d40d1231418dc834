"""Billing through a real server process: the cost on the status row, a record per call,
and records that survive a SIGKILL during live calls (closed at their last checkpoint,
marked recovered, at the next start)."""

from __future__ import annotations

import signal
import time
from decimal import Decimal
from pathlib import Path

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.processes import start_server
from tests.helpers.results import ELODIE, build_store
from videotex.billing import Ledger


def records(store: Path) -> dict[str, object]:
    ledger = Ledger(store, readonly=True)
    try:
        return {r.session_id: r for r in ledger.iter_records()}
    finally:
        ledger.close()


async def test_calls_are_billed_and_survive_a_sigkill(tmp_path: Path) -> None:
    store = build_store(tmp_path)
    config = tmp_path / "server.toml"
    config.write_text("[billing]\ncheckpoint_every = 1\n[limits]\nexempt = ['127.0.0.1']\n"
                      "[log]\nlevel = 'debug'\n")  # the ledger logs its commits
    log = tmp_path / "server.log"
    server = start_server(store, config, log)
    proc, url = server.proc, server.url
    try:
        callers = [await MinitelClient.connect(url) for _ in range(3)]
        for c in callers:
            await c.wait_for_text("RESULTATS")
        assert "0,13 EUR" in callers[0].text.splitlines()[0]  # connection + first unit
        consult, leaver, _stayer = callers  # the third just stays on the line
        await consult.type(ELODIE[0])
        await consult.press(Key.SUITE)
        await consult.type(ELODIE[1])
        await consult.press(Key.ENVOI)
        await consult.wait_for_text("Mention Très bien")
        await leaver.press(Key.CONNEXION_FIN)
        await leaver.wait_closed()
        t_connected = time.monotonic()
        # wait for two checkpoints of the live calls, as the ledger shows them
        while True:
            mark = server.log.mark()
            live = [r for r in records(store).values() if not r.ended_at]  # type: ignore[attr-defined]
            if len(live) == 2 and all(r.duration_s >= 2 for r in live):  # type: ignore[attr-defined]
                break
            await server.log.wait_for("ledger commit", after=mark)
        lived = time.monotonic() - t_connected
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    for c in callers:
        await c.close()
    # the next start closes what the crash left open
    proc2 = start_server(store, config, log).proc
    proc2.send_signal(signal.SIGTERM)
    assert proc2.wait(30) == 0
    recs = list(records(store).values())
    assert len(recs) == 3
    closed = [r for r in recs if not r.recovered]  # type: ignore[attr-defined]
    recovered = [r for r in recs if r.recovered]  # type: ignore[attr-defined]
    assert len(closed) == 1 and closed[0].close_reason == "caller"  # type: ignore[attr-defined]
    assert len(recovered) == 2
    for r in recovered:
        assert r.ended_at  # type: ignore[attr-defined]
        # nothing lost beyond the checkpoint interval (1 s) and the batch delay
        assert r.duration_s >= lived - 2.5  # type: ignore[attr-defined]
    found = [r for r in recs if r.result_found]  # type: ignore[attr-defined]
    assert len(found) == 1 and found[0].lookups == 1  # type: ignore[attr-defined]
    for r in recs:
        assert r.units >= 1 and r.amount_eur.startswith("0.")  # type: ignore[attr-defined]


async def test_per_consultation_channel_asks_before_charging(tmp_path: Path) -> None:
    """A channel configured for the offer: the price is shown, Envoi confirms, the
    amount is charged once; the next view of the same result is a re-purchase of 5."""
    from pages import ResultsService
    from tests.helpers.harness import Caller
    from tests.helpers.results import NOW
    from videotex.billing import BillingHooks, TariffBook
    from videotex.store import ResultsStore
    from videotex.teletel import FakeClock

    store = build_store(tmp_path)
    book = TariffBook.from_config({"plans": {"web": {"per_consultation": True,
                                                     "price_per_minute": 0,
                                                     "connection_charge": 0}},
                                   "routes": [{"channel": "test", "plan": "web"}]})
    ledger = Ledger(store)
    hooks = BillingHooks(book, ledger, "3615 EXAMENS")
    service = ResultsService(ResultsStore(store))
    clock = FakeClock(NOW)

    class Call:
        def __init__(self, caller: Caller) -> None:
            self.id = "c1"
            self.session = caller.session
            self.conn = type("Conn", (), {"channel": "test", "peer": "192.0.2.5:9"})()

    c = Caller(service, clock)
    hooks.call_opened(Call(c))
    c.session.ctx.identity = "192.0.2.5"
    c.press(Key.REPETITION)  # the harness drew the home page before the hooks ran
    assert "Consultation : 3,00 EUR le résultat" in c.text
    c.search(*ELODIE)
    assert "Une consultation : 3,00 EUR" in c.text and "Très bien" not in c.text
    c.press(Key.ENVOI)
    assert "Très bien" in c.text
    assert c.session.ctx.meter.amount(clock.monotonic()) == Decimal("3.00")
    c.press(Key.RETOUR)
    c.press(Key.ENVOI)
    assert "5 consultations : 3,00 EUR" in c.text
    ledger.close()
