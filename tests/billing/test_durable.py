"""Waiting for a record to be on disk (``Ledger.durable``) on a real LMDB environment: the
wait ends only after the commit, other coroutines run meanwhile, an opening is committed
without the gathering delay, a cancelled waiter harms nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path

from videotex.billing import CallRecord, Ledger


def record(i: int) -> CallRecord:
    return CallRecord(session_id=f"d{i:04d}", channel="raw", caller="10.0.0.1",
                      service="3615 EXAMENS", started_at="2005-07-08T08:00:00.000Z",
                      ended_at=None, duration_s=0.0, units=1, amount_eur="0.13",
                      result_found=False, lookups=0, peer=f"10.0.0.1:{40000 + i}")


def on_disk(ledger: Ledger) -> dict[str, CallRecord]:
    """What a new read transaction sees: committed (synced) records only."""
    return {r.session_id: r for r in ledger.records()}


async def test_durable_returns_after_the_commit_and_the_loop_runs_meanwhile(
        tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=1.0)
    rec = record(1)
    ticket = ledger.checkpoint(rec)  # not an opening: the writer gathers for up to 1 s
    assert not ledger.is_durable(ticket)
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    await asyncio.wait_for(ledger.durable(ticket), 10)
    task.cancel()
    assert turns > 10  # the loop was not blocked while the record went to disk
    assert ledger.is_durable(ticket)
    assert on_disk(ledger)["d0001"].peer == "10.0.0.1:40001"
    ledger.close()


async def test_an_opening_is_committed_without_the_gathering_delay(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=1.0)
    first = ledger.checkpoint(record(1))  # would wait 1 s for company
    opening = ledger.open_record(record(2))
    assert opening == first + 1  # tickets follow the queue
    # well within the 1 s the writer would otherwise gather for
    await asyncio.wait_for(ledger.durable(opening), 0.9)
    assert ledger.is_durable(first)  # committed with it, in queue order
    assert set(on_disk(ledger)) == {"d0001", "d0002"}
    ledger.close()


async def test_a_cancelled_waiter_harms_nobody(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=1.0)
    ticket = ledger.checkpoint(record(1))
    gone = asyncio.ensure_future(ledger.durable(ticket))
    stays = asyncio.ensure_future(ledger.durable(ticket))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.wait_for(stays, 10)
    assert gone.cancelled() and stays.done() and stays.exception() is None
    # many waiters, one per opening, all released by the commits that hold them
    tickets = [ledger.open_record(record(i)) for i in range(2, 200)]
    await asyncio.wait_for(asyncio.gather(*(ledger.durable(t) for t in tickets)), 10)
    assert len(on_disk(ledger)) == 199
    ledger.close()
