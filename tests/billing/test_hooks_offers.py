"""Billing hooks with a fake clock (meter start/stop, checkpoints, wall-clock jumps,
caller identity), the checkpoint task, and the per-consultation offer under
concurrency (threads and processes)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from videotex.billing import (
    BillingHooks,
    CallRecord,
    Ledger,
    LedgerError,
    OfferBook,
    TariffBook,
    TariffPlan,
)
from videotex.billing.hooks import caller_identity
from videotex.teletel import Context, FakeClock

START = datetime(2005, 7, 8, 8, 0, tzinfo=UTC)


@dataclass
class Conn:
    channel: str = "telnet"
    peer: str = "192.0.2.7:40312"


@dataclass
class Session:
    clock: FakeClock
    ctx: Context


@dataclass
class Call:
    id: str
    session: Session
    conn: Conn = field(default_factory=Conn)
    extra: dict[str, Any] = field(default_factory=dict)


def make_call(clock: FakeClock, call_id: str = "c1", **kw: Any) -> Call:
    return Call(call_id, Session(clock, Context(service=None, clock=clock)), **kw)


def stored(ledger: Ledger) -> dict[str, CallRecord]:
    assert ledger.flush(10)
    return {r.session_id: r for r in ledger.records()}


def test_meter_runs_from_open_to_close_on_the_monotonic_clock(tmp_path: Path) -> None:
    clock = FakeClock(START)
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS")
    call = make_call(clock)
    hooks.call_opened(call)
    meter = call.session.ctx.meter
    assert meter is not None and meter.units(clock.monotonic()) == 1
    rec = stored(ledger)["c1"]
    assert rec.ended_at is None and rec.started_at == "2005-07-08T08:00:00.000Z"
    assert rec.caller == "192.0.2.7" and rec.service == "3615 EXAMENS" and rec.units == 1
    assert ledger.open_count() == 1

    clock.advance(25)
    call.session.ctx.facts.lookups = 2
    call.session.ctx.facts.result_found = True
    assert hooks.checkpoint_all() == 1
    rec = stored(ledger)["c1"]
    assert (rec.duration_s, rec.units, rec.amount_eur) == (25.0, 2, "0.24")
    assert rec.checkpoint_at == "2005-07-08T08:00:25.000Z" and rec.ended_at is None

    clock.jump_wall(timedelta(hours=-3))  # the wall clock steps back: nothing changes
    clock.advance(5.5)
    hooks.call_closed(call, "caller")
    hooks.call_closed(call, "caller")  # a second close is ignored
    rec = stored(ledger)["c1"]
    assert rec.duration_s == 30.5 and rec.units == 2 and rec.amount_eur == "0.24"
    assert rec.ended_at == "2005-07-08T08:00:30.500Z" and rec.close_reason == "caller"
    assert rec.result_found and rec.lookups == 2 and not rec.recovered
    assert meter.final_units == 2 and meter.units(clock.monotonic() + 100) == 2
    assert ledger.open_count() == 0 and len(stored(ledger)) == 1
    ledger.close()


def test_caller_identity_prefers_what_the_transport_knows() -> None:
    clock = FakeClock()
    assert caller_identity(make_call(clock)) == "192.0.2.7"
    assert caller_identity(make_call(clock, conn=Conn(peer="[2001:db8::1]:23"))) == "2001:db8::1"
    assert caller_identity(make_call(clock, conn=Conn(peer="ttyUSB0"))) == "ttyUSB0"
    assert caller_identity(make_call(clock, extra={"identity": "0320123456"})) == "0320123456"


def test_per_consultation_channel_gets_an_offer_book(tmp_path: Path) -> None:
    book = TariffBook.from_config({
        "plans": {"web": {"per_consultation": True, "price_per_minute": 0,
                          "connection_charge": 0}},
        "routes": [{"channel": "ws", "plan": "web"}]})
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(book, ledger, "3615 EXAMENS")
    clock = FakeClock(START)
    web, tel = make_call(clock, "w", conn=Conn(channel="ws")), make_call(clock, "t")
    hooks.call_opened(web)
    hooks.call_opened(tel)
    assert isinstance(web.session.ctx.facts.offers, OfferBook)
    assert tel.session.ctx.facts.offers is None
    offers = web.session.ctx.facts.offers
    web.session.ctx.meter.charge(offers.consume("192.0.2.7", "1111000001", "w"))
    clock.advance(3600)
    hooks.call_closed(web, "caller")
    hooks.call_closed(tel, "caller")
    recs = stored(ledger)
    assert recs["w"].units == 0 and recs["w"].amount_eur == "3.00"
    assert recs["w"].charges_eur == "3.00" and recs["w"].plan == "web"
    assert recs["t"].units == 181  # 3600 s / 19.94 s → 180.5 → 181
    ledger.close()


async def test_checkpoint_task_checkpoints_live_calls(tmp_path: Path) -> None:
    clock = FakeClock(START)
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS",
                         checkpoint_every=0.05)
    calls = [make_call(clock, f"c{i}") for i in range(3)]
    for c in calls:
        hooks.call_opened(c)
    seen: list[str] = []
    two_rounds = asyncio.Event()
    real_checkpoint = ledger.checkpoint

    def spy(rec: CallRecord) -> int:
        seen.append(rec.session_id)
        ticket = real_checkpoint(rec)
        if len(seen) >= 6:
            two_rounds.set()
        return ticket

    ledger.checkpoint = spy  # type: ignore[method-assign,assignment]
    clock.advance(12)
    await hooks.start()
    await asyncio.wait_for(two_rounds.wait(), 10)
    await hooks.stop()
    assert sorted(seen[:3]) == ["c0", "c1", "c2"]
    recs = stored(ledger)
    assert all(r.duration_s == 12.0 and r.ended_at is None for r in recs.values())
    ledger.close()


def test_bad_hook_and_ledger_arguments_are_named(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive"):
        BillingHooks(TariffBook.from_config({}), ledger, "x", checkpoint_every=0)
    with pytest.raises(ValueError, match="batch_interval must be between 0 and 1"):
        Ledger(tmp_path, batch_interval=5)
    ledger.close()
    rec = CallRecord("s1", "telnet", "x", "s", "2005-07-08T08:00:00.000Z", None, 0.0, 1,
                     "0.13", False, 0)
    with pytest.raises(LedgerError, match="the ledger is closed; record s1"):
        ledger.open_record(rec)
    with pytest.raises(ValueError, match="needs a caller identity"):
        OfferBook(Ledger(tmp_path / "other")).quote("", "1111000001")


def test_offer_one_view_then_five_more_per_identity_and_result(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    offers = OfferBook(ledger, TariffPlan(per_consultation=True))
    q = offers.quote("10.0.0.1", "1111000001")
    assert (q.price, q.views_after, q.free, q.kind) == (Decimal("3.00"), 0, False, "first")
    assert offers.consume("10.0.0.1", "1111000001", "s1") == Decimal("3.00")  # one view
    q = offers.quote("10.0.0.1", "1111000001")
    assert (q.price, q.views_after, q.free, q.kind) == (Decimal("3.00"), 4, False, "repurchase")
    assert offers.consume("10.0.0.1", "1111000001", "s2") == Decimal("3.00")
    for left in (3, 2, 1, 0):
        q = offers.quote("10.0.0.1", "1111000001")
        assert q.free and q.price == 0 and q.views_after == left
        assert offers.consume("10.0.0.1", "1111000001", "s2") == Decimal(0)
    assert offers.consume("10.0.0.1", "1111000001", "s3") == Decimal("3.00")  # again 5
    assert offers.quote("10.0.0.2", "1111000001").kind == "first"  # per identity
    assert offers.quote("10.0.0.1", "1111000002").kind == "first"  # per result
    log = offers.purchases("10.0.0.1", "1111000001")
    assert [(p["session"], p["kind"]) for p in log] == [
        ("s1", "first"), ("s2", "repurchase"), ("s3", "repurchase")]
    ledger.close()
    # durable: a new process (here a new environment) sees the same entitlements
    again = OfferBook(Ledger(tmp_path))
    assert again.quote("10.0.0.1", "1111000001").views_after == 3


def expected_total(views: int) -> Decimal:
    """3 € for the first view, then 3 € per batch of 5 views."""
    return Decimal(3) + Decimal(3) * -(-(views - 1) // 5)


def test_concurrent_consumption_charges_each_view_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    offers = OfferBook(ledger)
    charged: list[Decimal] = []
    lock = threading.Lock()

    def take(n: int) -> None:
        for _ in range(n):
            price = offers.consume("10.0.0.9", "2222000002")
            with lock:
                charged.append(price)

    threads = [threading.Thread(target=take, args=(6,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(charged) == 48
    assert sum(charged) == expected_total(48) == Decimal(33)
    assert len(offers.purchases("10.0.0.9", "2222000002")) == 11
    ledger.close()


def test_concurrent_consumption_across_processes(tmp_path: Path) -> None:
    Ledger(tmp_path).close()
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from videotex.billing import Ledger, OfferBook
        offers = OfferBook(Ledger({str(tmp_path)!r}))
        print(sum(offers.consume("10.0.0.9", "3333000003") for _ in range(20)))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    totals = [Decimal(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(totals) == expected_total(60)
    ledger = Ledger(tmp_path)
    assert len(OfferBook(ledger).purchases("10.0.0.9", "3333000003")) == 1 + 12
    ledger.close()


def old_iso(when: datetime) -> str:
    """``utc_iso`` as it was written before (strftime), the reference for the records."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_checkpoints_carry_the_meter_figures_across_units_and_charges(tmp_path: Path) -> None:
    start = datetime(2005, 7, 8, 8, 0, 0, 987654, tzinfo=UTC)  # truncated, not rounded
    clock = FakeClock(start)
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS")
    call = make_call(clock)
    hooks.call_opened(call)
    meter = call.session.ctx.meter
    assert meter is not None
    assert stored(ledger)["c1"].started_at == "2005-07-08T08:00:00.987Z"
    seen = []
    # (seconds to advance, one-off charge before the checkpoint)
    steps = [(5, None), (14.941, None), (0.001, None), (0, Decimal("3.00")), (10, None),
             (0, Decimal("0.50")), (19.94, Decimal("0")), (3600, None)]
    for advance, charge in steps:
        clock.advance(advance)
        if charge is not None:
            meter.charge(charge, "a consultation")
        assert hooks.checkpoint_all() == 1
        rec = stored(ledger)["c1"]
        now = clock.monotonic()
        millis = meter.millis(now)
        assert (rec.duration_s, rec.units, rec.amount_eur, rec.charges_eur) == (
            millis / 1000, meter.units(now), str(meter.amount(now)), str(meter.extras))
        assert rec.checkpoint_at == old_iso(start + timedelta(milliseconds=millis))
        assert rec.ended_at is None and ledger.open_count() == 1
        seen.append((rec.units, rec.amount_eur, rec.charges_eur))
    assert seen == [
        (1, "0.13", "0"), (1, "0.13", "0"),
        (2, "0.24", "0"),                      # 19.942 s: the second unit has started
        (2, "3.24", "3.00"),                   # a charge, the same units
        (2, "3.24", "3.00"), (2, "3.74", "3.50"),
        (3, "3.86", "3.50"),                   # 49.882 s
        (184, "24.31", "3.50"),
    ]
    clock.advance(1)
    hooks.call_closed(call, "caller")
    rec = stored(ledger)["c1"]
    assert (rec.units, rec.amount_eur, rec.charges_eur) == (184, "24.31", "3.50")
    assert rec.ended_at == rec.checkpoint_at == "2005-07-08T09:00:51.869Z"  # 3650.882 s
    assert ledger.open_count() == 0
    ledger.close()


def test_a_checkpoint_on_a_free_time_plan_follows_the_charges(tmp_path: Path) -> None:
    book = TariffBook.from_config({
        "plans": {"web": {"per_consultation": True, "price_per_minute": 0,
                          "connection_charge": 0}},
        "routes": [{"channel": "ws", "plan": "web"}]})
    ledger = Ledger(tmp_path)
    hooks = BillingHooks(book, ledger, "3615 EXAMENS")
    clock = FakeClock(START)
    call = make_call(clock, "w", conn=Conn(channel="ws"))
    hooks.call_opened(call)
    clock.advance(10)
    hooks.checkpoint_all()
    assert (stored(ledger)["w"].units, stored(ledger)["w"].amount_eur) == (0, "0.00")
    call.session.ctx.meter.charge(Decimal("3.00"))
    hooks.checkpoint_all()
    rec = stored(ledger)["w"]
    assert (rec.units, rec.amount_eur, rec.charges_eur) == (0, "3.00", "3.00")
    ledger.close()
