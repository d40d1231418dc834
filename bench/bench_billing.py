"""Billing figures of issue 5.

    .venv/bin/python bench/bench_billing.py [--closes 50000] [--sessions 10000] [--kills 3]

1. Close rate: N calls opened and closed through the Ledger API from an asyncio event
   loop, while a monitor measures how late the loop runs (its worst stall): records
   per second once all are on disk, and the stall.
2. Billed = metered, with SIGKILLs: a player process runs N sessions against the ledger
   with a simulated clock (durations 5 s to 15 min, 10 s checkpoints, the real
   BillingHooks/Meter code paths); the bench SIGKILLs it several times mid-run and
   restarts it (recovery at start). At the end: every session billed exactly once;
   every closed record's units = the meter's units for its duration; every recovered
   record lost less than the checkpoint interval; totals compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videotex.billing import DEFAULT_PLAN, CallRecord, Ledger, Meter  # noqa: E402


def close_rate(n: int) -> dict[str, float]:
    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Ledger(tmp, batch_interval=0.2)
            worst = 0.0
            running = True

            async def monitor() -> None:
                nonlocal worst
                loop = asyncio.get_running_loop()
                while running:
                    t = loop.time()
                    await asyncio.sleep(0.001)
                    worst = max(worst, loop.time() - t - 0.001)

            mon = asyncio.ensure_future(monitor())
            t0 = time.perf_counter()
            for i in range(n):
                rec = CallRecord(session_id=f"{i:08d}", channel="telnet", caller="10.0.0.1",
                                 service="3615 EXAMENS",
                                 started_at=f"2005-07-08T08:{i // 60000 % 60:02d}:{i % 60:02d}",
                                 ended_at=None, duration_s=0.0, units=1, amount_eur="0.13",
                                 result_found=False, lookups=0)
                ledger.open_record(rec)
                rec.ended_at = rec.started_at
                rec.duration_s = 42.0
                ledger.close_record(rec)
                if i % 100 == 0:
                    await asyncio.sleep(0)
            queued = time.perf_counter() - t0
            await asyncio.to_thread(ledger.flush, 120)
            total = time.perf_counter() - t0
            running = False
            await mon
            stored = sum(1 for _ in ledger.iter_records())
            ledger.close()
            return {"records": stored, "closes_per_s": round(n / total),
                    "queue_seconds": round(queued, 3), "disk_seconds": round(total, 2),
                    "worst_loop_stall_ms": round(worst * 1000, 2), "commits": ledger.commits}

    return asyncio.run(run())


PLAYER = r'''
import json, random, sys, time
sys.path.insert(0, sys.argv[1])
from videotex.billing import DEFAULT_PLAN, BillingHooks, Ledger, TariffBook
from videotex.teletel import Context, FakeClock

store, start_sim, n, seed = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ledger = Ledger(store, batch_interval=0.05)
ledger.recover()
# go on after the last session that reached the ledger: each session is played once
first = max((int(r.session_id) + 1 for r in ledger.iter_records()), default=0)
hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS", checkpoint_every=10)
from datetime import UTC, datetime, timedelta
clock = FakeClock(datetime(2005, 7, 8, 8, 0, tzinfo=UTC) + timedelta(seconds=start_sim),
                  monotonic=start_sim)

class Conn:
    channel = "telnet"
    peer = "10.0.0.1:1"

class Session:
    def __init__(self):
        self.clock = clock
        self.ctx = Context(service=None, clock=clock)

class Call:
    def __init__(self, i):
        self.id = f"{i:06d}"
        self.conn = Conn()
        self.session = Session()

rng = random.Random(seed)
plan = [(i, rng.uniform(5, 900)) for i in range(n)]
live = []
i = first
step = 1.0
while i < n or live:
    # ten new calls a simulated second while there are some left
    for _ in range(10):
        if i < n:
            call = Call(i)
            hooks.call_opened(call)
            live.append((clock.monotonic() + plan[i][1], call))
            i += 1
    clock.advance(step)
    ended = [(t, c) for t, c in live if t <= clock.monotonic()]
    live = [(t, c) for t, c in live if t > clock.monotonic()]
    for t, c in ended:
        # close at the exact end time
        back = clock.monotonic() - t
        clock._mono -= back
        hooks.call_closed(c, "caller")
        clock._mono += back
    if int(clock.monotonic()) % 10 == 0:
        hooks.checkpoint_all()
        ledger.flush()
        print(json.dumps({"sim": clock.monotonic(), "next": i,
                          "starts": {c.id: t - plan[int(c.id)][1] for t, c in live}}),
              flush=True)
ledger.flush()
ledger.close()
print(json.dumps({"done": True}), flush=True)
'''


def billed_equals_metered(n: int, kills: int, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "player.py"
        script.write_text(PLAYER)
        store = Path(tmp) / "store"
        store.mkdir()
        sim = 0.0
        killed = 0
        kill_sims: list[tuple[float, dict[str, float]]] = []
        rng = random.Random(seed)
        t0 = time.perf_counter()
        while True:
            proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(store),
                                     str(sim), str(n), str(seed)], stdout=subprocess.PIPE,
                                    text=True)
            assert proc.stdout is not None
            kill_after = rng.randint(5, 25) if killed < kills else math.inf
            last: dict[str, object] = {}
            for lines, line in enumerate(proc.stdout, start=1):
                last = json.loads(line)
                if "done" in last:
                    break
                if lines >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                    kill_sims.append((float(last["sim"]), dict(last["starts"])))  # type: ignore[arg-type]
                    break
            proc.wait()
            if "done" in last:
                break
            sim = float(last["sim"]) + 20.0  # the restart comes a little later
        elapsed = time.perf_counter() - t0
        ledger = Ledger(store)
        ledger.recover()
        recs = list(ledger.iter_records())
        ledger.close()
    ids = [r.session_id for r in recs]
    rng2 = random.Random(seed)
    plan_durations = [rng2.uniform(5, 900) for _ in range(n)]
    mismatched = 0
    lost_max = 0.0
    billed_units = 0
    metered_units = 0
    # calls live at a kill: metered until the kill, at least until the last checkpoint
    # printed before it (the kill comes less than one checkpoint interval later)
    at_kill: dict[str, float] = {}
    for sim_at, starts in kill_sims:
        for sid, start in starts.items():
            at_kill[sid] = sim_at - start
    for r in recs:
        i = int(r.session_id)
        billed_units += r.units
        m = Meter(DEFAULT_PLAN, 0.0)
        if r.recovered:
            lived = at_kill.get(r.session_id, r.duration_s)
            lost_max = max(lost_max, lived - r.duration_s)
            metered_units += m.units(r.duration_s)
            if r.units != m.units(r.duration_s):
                mismatched += 1
        else:
            metered_units += m.units(plan_durations[i])
            if r.units != m.units(plan_durations[i]) or abs(r.duration_s - plan_durations[i]) > 0.01:
                mismatched += 1
        expected = (DEFAULT_PLAN.connection_charge + r.units * DEFAULT_PLAN.unit_price)
        if Decimal(r.amount_eur) != expected.quantize(Decimal("0.01")):
            mismatched += 1
    recovered = [r for r in recs if r.recovered]
    return {"sessions": n, "records": len(recs), "distinct": len(set(ids)),
            "never_recorded": n - len(set(ids)),
            "kills": killed, "recovered": len(recovered),
            "records_not_matching_their_meter": mismatched,
            "billed_units": billed_units, "units_of_metered_durations": metered_units,
            "worst_loss_on_recovered_s": round(max(0.0, lost_max), 2),
            "checkpoint_interval_s": 10, "seconds": round(elapsed, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--closes", type=int, default=50_000)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps({"close_rate": close_rate(args.closes)}, indent=1), flush=True)
    print(json.dumps({"billed_equals_metered": billed_equals_metered(
        args.sessions, args.kills, args.seed)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
