"""Records and SIGKILL on real server processes: a caller who was shown the home page is
on record even if the server dies right after; a worker killed under ``--workers`` has
its records recovered by its replacement while the server goes on (not only at the next
full start), the other workers' live records untouched."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import lmdb

from terminal_emu.client import MinitelClient
from tests.helpers.processes import Server, ServerLog, start_server
from tests.helpers.results import build_store
from videotex.billing import DEFAULT_PLAN, CallRecord, Ledger
from videotex.billing.meter import units_for

CONFIG = ("[billing]\ncheckpoint_every = 1\n[limits]\nexempt = ['127.0.0.1']\n"
          "[log]\nlevel = 'debug'\n")  # the ledger logs its commits


def records(store: Path) -> list[CallRecord]:
    ledger = Ledger(store, readonly=True)
    try:
        return list(ledger.records())
    finally:
        ledger.close()


async def test_a_caller_shown_the_home_page_is_on_record_even_if_killed_at_once(
        tmp_path: Path) -> None:
    store = build_store(tmp_path)
    config = tmp_path / "server.toml"
    config.write_text(CONFIG)
    log = tmp_path / "server.log"
    lines: list[str] = []
    for _ in range(2):
        server = start_server(store, config, log)
        proc, url = server.proc, server.url
        try:
            caller = await MinitelClient.connect(url)
            await caller.wait_for_text("RESULTATS")
            proc.send_signal(signal.SIGKILL)  # at once: no time for a batch to go out
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
        lines.append(caller.local_address)
        await caller.close()
    proc = start_server(store, config, log).proc  # recovers the last one
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    by_line = {r.peer: r for r in records(store)}
    assert len(by_line) == 2
    for line in lines:
        rec = by_line[line]  # the caller's own address:port is on record
        assert rec.recovered and rec.ended_at and rec.units == 1


async def test_the_home_page_waits_for_the_record_to_be_committed(tmp_path: Path) -> None:
    """Commits held up (this test holds LMDB's write lock): the caller is connected and
    metered but sees nothing; killed then, the server leaves neither a served caller
    nor a record; once commits go through, callers are served."""
    store = build_store(tmp_path)
    config = tmp_path / "server.toml"
    config.write_text(CONFIG)
    log = tmp_path / "server.log"
    server = start_server(store, config, log)
    proc, url = server.proc, server.url
    env = lmdb.open(str(store / "billing.lmdb"), max_dbs=4, max_readers=1024)
    try:
        txn = env.begin(write=True)  # the server's writer now waits for the lock
        caller = await MinitelClient.connect(url)
        await server.log.wait_for('"call opened"')
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        await caller.wait_closed(timeout=20)
        assert "RESULTATS" not in caller.text  # never served...
        txn.abort()
        env.close()
        server = start_server(store, config, log)
        proc, url = server.proc, server.url
        assert caller.local_address not in {r.peer for r in records(store)}  # ...nor billed
        served = await MinitelClient.connect(url)
        await served.wait_for_text("RESULTATS", timeout=20)
        await served.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        env.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [r.peer for r in records(store)] == [served.local_address]


def serve_workers(store: Path, config: Path, log: Path) -> Server:
    return start_server(store, config, log, "--workers", "2", ready="2 workers")


async def wait_records(store: Path, log: ServerLog, ok: object,
                       timeout: float = 30) -> list[CallRecord]:
    """The ledger (as another process reads it) once ``ok(records)``, read again after
    each commit or recovery the server logs."""
    async with asyncio.timeout(timeout):
        while True:
            mark = log.mark()
            recs = records(store)
            if ok(recs):  # type: ignore[operator]
                return recs
            await log.wait_for("ledger commit", "records recovered", after=mark,
                               timeout=timeout)


async def test_a_restarted_worker_recovers_the_dead_workers_records(tmp_path: Path) -> None:
    store = build_store(tmp_path)
    config = tmp_path / "server.toml"
    config.write_text(CONFIG)
    log = tmp_path / "server.log"
    server = serve_workers(store, config, log)
    proc, url = server.proc, server.url
    try:
        clients = [await MinitelClient.connect(url) for _ in range(16)]
        await asyncio.gather(*(c.wait_for_text("RESULTATS", timeout=20) for c in clients))
        # every call checkpointed at least once, on both workers
        recs = await wait_records(store, server.log, lambda rs: len(rs) == 16 and all(
            r.duration_s >= 1 and not r.ended_at for r in rs))
        owners = sorted({r.owner for r in recs})
        assert len(owners) == 2, f"calls all went to {owners}"
        victim = owners[0]
        os.kill(int(victim.split(":")[1]), signal.SIGKILL)
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        assert "restarted" in line
        # the replacement closes the victim's records at their checkpoint, server running
        recs = await wait_records(store, server.log, lambda rs: all(
            r.recovered for r in rs if r.owner == victim))
        assert proc.poll() is None
        dead = [r for r in recs if r.owner == victim]
        alive = [r for r in recs if r.owner != victim]
        assert dead and alive
        for r in dead:
            assert r.ended_at and r.close_reason == "recovered" and r.duration_s >= 1
            assert r.units == units_for(DEFAULT_PLAN, round(r.duration_s * 1000))
        assert all(not r.ended_at and not r.recovered for r in alive)  # still live
        lines = {r.peer for r in dead}
        for c in clients:
            if c.local_address in lines:
                await c.wait_closed(timeout=20)  # the victim's callers lost their line
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    final = {r.session_id: r for r in records(store)}
    assert len(final) == 16
    for r in alive:
        got = final[r.session_id]
        assert got.ended_at and not got.recovered and got.close_reason == "shutdown"
    for c in clients:
        await c.close()
