"""Billing figures of issue 5.

    .venv/bin/python bench/bench_billing.py [--closes 50000] [--live 10000]
                                            [--sessions 10000] [--kills 3] [--speed 50]
                                            [--concurrency 1000]

1. Close rate: N calls opened and closed through the Ledger API from an asyncio event
   loop, while a monitor measures how late the loop runs (its worst stall): records
   per second once all are on disk, and the stall. The same as the server now serves a
   caller (``--concurrency`` sessions at a time, each awaiting its opening on disk before
   closing): closes per second, the wait for the opening (what the first page waits),
   the stall. Then one checkpoint round of ``--live`` calls through BillingHooks (the
   stall it causes).
2. Billed = metered, with SIGKILLs: a player process runs N sessions (10 new calls a
   simulated second, 5 s to 400 s each) through the real BillingHooks/Meter/Ledger with
   a simulated clock running ``--speed`` times real time (calls open and close at exact
   simulated instants; checkpoints every 10 simulated seconds). The bench SIGKILLs it
   at random real moments and restarts it (recovery at start) 20 simulated seconds
   later. The truth is computed independently: each session's start (from the run's
   schedule), its planned length, and the simulated instant of each kill. At the end:
   every session billed exactly once; every record's units = ceil(duration / unit)
   and its amount = connection + units × unit price; calls that ended normally are
   billed their exact length; calls cut by a kill lost at most the checkpoint interval
   (plus the commit delay × speed); billed units against the units of the true metered
   durations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videotex.billing import DEFAULT_PLAN, CallRecord, Ledger  # noqa: E402
from videotex.billing.ledger import utc_iso  # noqa: E402
from videotex.billing.meter import units_for  # noqa: E402

START = datetime(2005, 7, 8, 6, 0, tzinfo=UTC)


def close_rate(n: int) -> dict[str, float]:
    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Ledger(tmp)
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
                                 started_at=utc_iso(START + timedelta(milliseconds=i)),
                                 ended_at=None, duration_s=0.0, units=1, amount_eur="0.13",
                                 result_found=False, lookups=0)
                ledger.open_record(rec)
                rec.ended_at = rec.started_at
                rec.duration_s = 42.0
                ledger.close_record(rec)
                if i % 10 == 0:  # sessions are tasks: the loop turns between them
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


def close_rate_served(n: int, concurrency: int) -> dict[str, float]:
    """As the server does since the record's opening must be on disk before the first
    page: N sessions as tasks (``concurrency`` connecting at a time), each opens its
    record, awaits ``Ledger.durable`` for it, then closes it. Closes per second once all
    are on disk, the wait before the first page, the loop's worst stall."""

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Ledger(tmp)
            worst = 0.0
            running = True
            waits: list[float] = []
            gate = asyncio.Semaphore(concurrency)

            async def monitor() -> None:
                nonlocal worst
                loop = asyncio.get_running_loop()
                while running:
                    t = loop.time()
                    await asyncio.sleep(0.001)
                    worst = max(worst, loop.time() - t - 0.001)

            async def session(i: int) -> None:
                rec = CallRecord(session_id=f"{i:08d}", channel="telnet",
                                 caller="10.0.0.1", service="3615 EXAMENS",
                                 started_at=utc_iso(START + timedelta(milliseconds=i)),
                                 ended_at=None, duration_s=0.0, units=1,
                                 amount_eur="0.13", result_found=False, lookups=0)
                t = time.perf_counter()
                await ledger.durable(ledger.open_record(rec))
                waits.append(time.perf_counter() - t)
                rec.ended_at = rec.started_at
                rec.duration_s = 42.0
                ledger.close_record(rec)
                gate.release()

            mon = asyncio.ensure_future(monitor())
            t0 = time.perf_counter()
            tasks = set()
            for i in range(n):  # a new caller as soon as one of ``concurrency`` is done
                await gate.acquire()
                task = asyncio.ensure_future(session(i))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            for _ in range(concurrency):  # every session done
                await gate.acquire()
            await asyncio.to_thread(ledger.flush, 120)
            total = time.perf_counter() - t0
            running = False
            await mon
            stored = sum(1 for r in ledger.iter_records() if r.ended_at)
            ledger.close()
            waits.sort()
            return {"records_closed": stored, "closes_per_s": round(n / total),
                    "concurrency": concurrency, "disk_seconds": round(total, 2),
                    "wait_for_opening_ms_p50": round(waits[len(waits) // 2] * 1000, 2),
                    "wait_for_opening_ms_p99": round(waits[int(len(waits) * 0.99)] * 1000, 2),
                    "worst_loop_stall_ms": round(worst * 1000, 2), "commits": ledger.commits}

    return asyncio.run(run())


def checkpoint_stall(live: int) -> dict[str, float]:
    """One checkpoint round of ``live`` calls through BillingHooks: the loop's worst stall."""
    from videotex.billing import BillingHooks, TariffBook
    from videotex.teletel import Context, FakeClock

    class Conn:
        channel = "telnet"
        peer = "10.0.0.1:1"

    class Session:
        def __init__(self, clock: FakeClock) -> None:
            self.clock = clock
            self.ctx = Context(service=None, clock=clock)

    class Call:
        def __init__(self, i: int, clock: FakeClock) -> None:
            self.id = f"{i:06d}"
            self.conn = Conn()
            self.session = Session(clock)
            self.extra: dict[str, object] = {}

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            ledger = Ledger(tmp)
            clock = FakeClock(START)
            hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS")
            for i in range(live):
                hooks.call_opened(Call(i, clock))
            await asyncio.to_thread(ledger.flush, 60)
            clock.advance(10)
            worst = 0.0
            running = True

            async def monitor() -> None:
                nonlocal worst
                loop = asyncio.get_running_loop()
                while running:
                    t = loop.time()
                    await asyncio.sleep(0)
                    worst = max(worst, loop.time() - t)

            mon = asyncio.ensure_future(monitor())
            await asyncio.sleep(0)
            t0 = time.perf_counter()
            await hooks.checkpoint_all_async()
            queued = time.perf_counter() - t0
            await asyncio.to_thread(ledger.flush, 60)
            on_disk = time.perf_counter() - t0
            running = False
            await mon
            ledger.close()
            return {"live_calls": live, "round_queued_ms": round(queued * 1000, 1),
                    "round_on_disk_ms": round(on_disk * 1000, 1),
                    "worst_loop_stall_ms": round(worst * 1000, 2)}

    return asyncio.run(run())


PLAYER = r'''
import heapq, mmap, random, struct, sys, time
from datetime import UTC, datetime, timedelta
sys.path.insert(0, sys.argv[1])
from videotex.billing import BillingHooks, Ledger, TariffBook
from videotex.teletel import Context

store, n, seed, first, sim_start, speed, state_path = (
    sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]),
    float(sys.argv[7]), sys.argv[8])
START = datetime(2005, 7, 8, 6, 0, tzinfo=UTC)

class SimClock:
    """The simulated clock: set by the player to the instant of each event."""
    def __init__(self, t):
        self.t = t
    def monotonic(self):
        return self.t
    def wall(self):
        return START + timedelta(seconds=self.t)

clock = SimClock(sim_start)
ledger = Ledger(store)
ledger.recover()
hooks = BillingHooks(TariffBook.from_config({}), ledger, "3615 EXAMENS", checkpoint_every=10)

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
        self.extra = {}

rng = random.Random(seed)
lengths = [round(rng.uniform(5, 400), 3) for _ in range(n)]
with open(state_path, "r+b") as f:
    state = mmap.mmap(f.fileno(), 16)

def publish(sim, opened):
    state[:16] = struct.pack("<dq", sim, opened)

closes = []          # (end, session index)
calls = {}
nxt = first          # next session to open
next_checkpoint = sim_start + 10
t0 = time.monotonic()
publish(sim_start, first)
print("started", flush=True)
while nxt < n or closes:
    now = sim_start + (time.monotonic() - t0) * speed
    while True:
        t_open = sim_start + (nxt - first) / 10 if nxt < n else float("inf")
        t_close = closes[0][0] if closes else float("inf")
        t = min(t_open, t_close, next_checkpoint)
        if t > now:
            break
        clock.t = t
        if t == t_close:
            _, j = heapq.heappop(closes)
            hooks.call_closed(calls.pop(j), "caller")
        elif t == t_open:
            calls[nxt] = call = Call(nxt)
            hooks.call_opened(call)
            heapq.heappush(closes, (t + lengths[nxt], nxt))
            nxt += 1
        else:
            hooks.checkpoint_all()
            next_checkpoint += 10
    clock.t = now
    publish(now, nxt)
    time.sleep(0.001)
ledger.close()
print("done", flush=True)
'''


def billed_equals_metered(n: int, kills: int, seed: int, speed: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "player.py"
        script.write_text(PLAYER)
        store = Path(tmp) / "store"
        store.mkdir()
        state = Path(tmp) / "state"
        rng = random.Random(seed + 1)
        runs: list[dict[str, float]] = []  # first, sim_start, killed_at (inf: ran to the end)
        first, sim = 0, 0.0
        t0 = time.perf_counter()
        while True:
            state.write_bytes(bytes(16))
            proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(store), str(n),
                                     str(seed), str(first), str(sim), str(speed), str(state)],
                                    stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "started"
            run = {"first": first, "sim_start": sim, "killed_at": math.inf}
            if len(runs) < kills:
                try:
                    proc.wait(rng.uniform(1.0, 4.0))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    sim_now, opened = struct.unpack("<dq", state.read_bytes())
                    run["killed_at"] = sim_now
                    runs.append(run)
                    # go on after the last session opened (on disk or announced)
                    ledger = Ledger(store, readonly=True)
                    on_disk = max((int(r.session_id) + 1 for r in ledger.records()), default=0)
                    ledger.close()
                    first, sim = max(opened, on_disk), sim_now + 20.0
                    continue
            assert proc.wait(600) == 0
            runs.append(run)
            break
        elapsed = time.perf_counter() - t0
        ledger = Ledger(store)
        ledger.recover()
        recs = list(ledger.records())
        ledger.close()
    rng2 = random.Random(seed)
    lengths = [round(rng2.uniform(5, 400), 3) for _ in range(n)]
    # the truth, from the schedule: which run opened each session, when, and when it ended
    truth: dict[int, tuple[float, bool]] = {}  # index -> (true metered seconds, cut by a kill)
    for k, run in enumerate(runs):
        last = runs[k + 1]["first"] if k + 1 < len(runs) else n
        for j in range(int(run["first"]), int(last)):
            start = run["sim_start"] + (j - run["first"]) / 10
            end = start + lengths[j]
            cut = end > run["killed_at"]
            truth[j] = (max(0.0, min(end, run["killed_at"]) - start), cut)
    plan = DEFAULT_PLAN
    counts = {"records": len(recs), "distinct": len({r.session_id for r in recs})}
    bad_units = bad_amount = bad_length = 0
    loss: list[float] = []
    billed_units = true_units = 0
    billed_eur = Decimal(0)
    for r in recs:
        j = int(r.session_id)
        millis = round(r.duration_s * 1000)
        bad_units += r.units != units_for(plan, millis)
        amount = (plan.connection_charge + r.units * plan.unit_price).quantize(
            Decimal("0.01"), ROUND_HALF_UP)
        bad_amount += Decimal(r.amount_eur) != amount
        seconds, _cut = truth[j]
        if not r.recovered:
            # closed normally: it lived its whole length (a close processed just after the
            # last published instant of a killed run is still a whole call)
            seconds = lengths[j]
        billed_units += r.units
        billed_eur += Decimal(r.amount_eur)
        true_units += units_for(plan, round(seconds * 1000))
        if r.recovered:
            loss.append(seconds - r.duration_s)
        elif abs(r.duration_s - seconds) > 0.0005:
            bad_length += 1
    never_recorded = sorted(set(range(n)) - {int(r.session_id) for r in recs})
    return {
        "sessions": n, **counts, "never_recorded": len(never_recorded),
        "kills": sum(1 for r in runs if r["killed_at"] != math.inf),
        "kill_sim_seconds": [round(r["killed_at"], 1) for r in runs
                             if r["killed_at"] != math.inf],
        "recovered": len(loss),
        "records_units_not_ceil_duration_over_unit": bad_units,
        "records_amount_not_units_times_price": bad_amount,
        "normally_closed_not_billed_their_exact_length": bad_length,
        "billed_units": billed_units, "units_of_true_metered_durations": true_units,
        "billed_eur_incl_tax": str(billed_eur),
        "worst_loss_on_recovered_sim_s": round(max(loss, default=0.0), 3),
        "best_loss_on_recovered_sim_s": round(min(loss, default=0.0), 3),
        "checkpoint_interval_s": 10, "speed": speed, "seconds": round(elapsed, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--closes", type=int, default=50_000)
    ap.add_argument("--live", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=1000,
                    help="sessions waiting for their opening at once (close_rate_served)")
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--speed", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps({"close_rate": close_rate(args.closes)}, indent=1), flush=True)
    print(json.dumps({"close_rate_served": close_rate_served(args.closes, args.concurrency)},
                     indent=1), flush=True)
    print(json.dumps({"checkpoint_round": checkpoint_stall(args.live)}, indent=1), flush=True)
    print(json.dumps({"billed_equals_metered": billed_equals_metered(
        args.sessions, args.kills, args.seed, args.speed)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
