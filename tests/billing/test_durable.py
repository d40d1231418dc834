"""Waiting for a record to be on disk (``Ledger.durable``) on a real LMDB environment: the
wait ends only after the commit, other coroutines run meanwhile, an opening is committed
without the gathering delay, a cancelled waiter harms nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path

from videotex.billing import CallRecord, Ledger

__all__ = []  # the results service fixtures, for the server test


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


async def test_a_stalled_disk_tells_new_callers_unavailable_and_bills_them_nothing(
        tmp_path: Path, service) -> None:
    """The ledger is healthy but its commits hang (another writer holds LMDB's write
    lock, as a stalled disk would): a new caller is not left facing a blank screen, it
    is told the service is unavailable after ``ready_timeout``; when the disk is back
    its record is written, closed ``unavailable`` with nothing billed."""
    from terminal_emu.client import MinitelClient
    from videotex.billing import BillingHooks, TariffBook
    from videotex.channels.raw import start_raw
    from videotex.runtime.switchboard import Switchboard
    from videotex.teletel import SystemClock

    ledger = Ledger(tmp_path)
    billing = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS")
    board = Switchboard(service, SystemClock(), hooks=[billing], health=billing.health,
                        ready_timeout=0.5)
    server = await start_raw(board.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stall = ledger.env.begin(write=True)  # the writer thread now waits for the lock
    try:
        client = await MinitelClient.connect(f"raw://127.0.0.1:{port}")
        await client.wait_for_text("indisponible", timeout=10)
        await client.wait_closed(timeout=10)
        assert "RESULTATS" not in client.text
        assert ledger.healthy  # nothing failed: the disk was slow
    finally:
        stall.abort()
    assert ledger.flush(10)
    (rec,) = on_disk(ledger).values()
    assert rec.close_reason == "unavailable" and rec.ended_at is not None
    assert (rec.duration_s, rec.units, rec.amount_eur) == (0.0, 0, "0")
    server.close()
    await board.shutdown(grace=2)
    ledger.close()
