"""Chaos benchmark of issues 5 and 8: real callers, workers killed at random, and a ledger
that must balance at the end.

    nice -n 5 .venv/bin/python bench/bench_chaos.py [--sessions 10000] [--kills 24]
        [--workers 3] [--load-seconds 100] [--hold 1 15] [--lookups 0.5]
        [--checkpoint 10] [--unit-seconds 2] [--deadline 600] [--keep DIR]

It builds the demo results store in a temporary directory, starts ``videotex serve
--workers N --raw 127.0.0.1:0`` on it (``bench/loopback.toml``: loopback callers are not
capped nor timed out; the kiosque plan's unit is made ``--unit-seconds`` long, 2 s by
default, so that calls of a few seconds span several units), and plays ``--sessions``
callers arriving evenly over ``--load-seconds`` (loadgen's light caller, imported): each
connects, waits for the home
page, looks a candidate up (a share ``--lookups`` of them), stays on the line reading for
a random time in ``--hold``, then presses Connexion/Fin and waits for the server to hang
up. Each caller logs its own address:port, when it connected and when the line ended
(its hang-up or the line dropping), on the monotonic clock. Meanwhile the bench SIGKILLs
a random worker at least ``--kills`` times (never one younger than 2.5 s: the supervisor
pauses before restarting a worker that dies at once); the supervisor restarts each.

At the end the server is stopped (SIGTERM) and the ledger is read with the function
``videotex billing report`` uses (and the command itself is run for its total row):

- every caller shown the home page has exactly one record (0 lost), no caller has two
  (0 double-billed), no record lacks its caller, no record is left open;
- every record's units are the tariff's units for its recorded duration and its amount
  the connection charge + units x unit price (to the unit and the cent); the sums too;
- calls closed normally are billed their length as the caller saw it (difference
  printed); calls cut by a kill (records recovered) lost at most the checkpoint interval
  against the caller's own duration (from dialling to the line dropping).

All waits are bounded (``--timeout`` for one step, ``--deadline`` for the run). The
figures are printed as JSON, with examples of any caller or record that fails a check;
the exit status is 1 if a check fails. ``--keep DIR`` keeps the ledger and the callers'
logs.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import (  # noqa: E402
    ENVOI,
    FIN,
    SUITE,
    Candidate,
    LightCaller,
    load_candidates,
    pct,
    published_only,
    reference,
    source_address,
)
from videotex.billing import CallRecord, TariffBook, TariffPlan  # noqa: E402
from videotex.billing.meter import units_for  # noqa: E402

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))
#: Slack for comparing the server's millisecond-truncated start with the callers' clock.
SLACK = 0.01


# -- callers (client processes) -----------------------------------------------------------


async def chaos_caller(i: int, host: str, port: int, cand: Candidate, start_at: float,
                       hold: float, lookup: bool, tails: tuple[bytes, bytes],
                       timeout: float, sources: int) -> dict[str, Any]:
    """One caller; returns its own log (times on the monotonic clock, shared by every
    process of the machine, plus the wall clock at connection for the ledger's
    ``started_at``)."""
    out: dict[str, Any] = {"i": i, "peer": "", "connected": None, "home": None,
                           "result": None, "end": None, "hung_up": False, "cut": False,
                           "error": ""}
    delay = start_at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    out["wall_start"] = time.time()
    out["t0"] = time.monotonic()
    try:
        caller = await asyncio.wait_for(LightCaller.connect(
            host, port, source_address(i, sources), False, False), timeout)
    except (OSError, TimeoutError) as e:
        out["error"] = f"connect: {type(e).__name__}"
        out["end"] = time.monotonic()
        out["wall_end"] = time.time()
        return out
    out["connected"] = time.monotonic()
    sock = caller.sock.getsockname()
    out["peer"] = f"{sock[0]}:{sock[1]}"
    try:
        await caller.until(tails[0], timeout)
        out["home"] = time.monotonic()
        if lookup:
            caller.send(cand.numero.encode() + SUITE + cand.birth.encode())
            await asyncio.sleep(0)
            caller.buf.clear()
            caller.send(ENVOI)
            await caller.until(tails[1], timeout)
            out["result"] = time.monotonic()
        # stay on the line, reading: a line dropped by a kill is seen at once
        if await caller.closed_within(hold):
            raise ConnectionError("server hung up")
        out["hung_up"] = True
        caller.send(FIN)
        if not await caller.closed_within(timeout):
            raise TimeoutError
    except TimeoutError:
        out["error"] = "timeout"
    except (ConnectionError, OSError):
        out["cut"] = not out["hung_up"]
    finally:
        out["end"] = time.monotonic()
        out["wall_end"] = time.time()
        caller.close()
    return out


def client_worker(payload: dict[str, Any]) -> list[dict[str, Any]]:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tails = (bytes.fromhex(payload["tails"][0]), bytes.fromhex(payload["tails"][1]))

    async def run() -> list[dict[str, Any]]:
        base = payload["base"]
        tasks = [asyncio.ensure_future(chaos_caller(
            s["i"], payload["host"], payload["port"], Candidate(**s["cand"]),
            base + s["offset"], s["hold"], s["lookup"], tails, payload["timeout"],
            payload["sources"])) for s in payload["sessions"]]
        done, pending = await asyncio.wait(tasks, timeout=payload["deadline"])
        for t in pending:
            t.cancel()
        return [t.result() for t in done if not t.cancelled() and t.exception() is None]

    return asyncio.run(run())


# -- the server and the kills ---------------------------------------------------------------


class Server:
    """``videotex serve --workers N``; its stdout is followed in a thread (restarts
    announced by the supervisor). Workers are the supervisor's children."""

    def __init__(self, store: Path, config: Path, workers: int, log: Path) -> None:
        self.workers = workers
        self.proc = subprocess.Popen(
            [VIDEOTEX, "serve", "--store", str(store), "--config", str(config),
             "--raw", "127.0.0.1:0", "--workers", str(workers),
             "--metrics-dir", str(store.parent / "metrics")],
            stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
        assert self.proc.stdout is not None
        self.url = ""
        for line in self.proc.stdout:
            if line.startswith("listening raw://"):
                self.url = line.split()[1]
            if line.startswith(f"{workers} workers"):
                break
        if not self.url:
            raise SystemExit(f"the server did not start; see {log}")
        self.restarted: list[float] = []
        self._follow = threading.Thread(target=self._read, daemon=True)
        self._follow.start()
        self.born: dict[int, float] = {}

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "restarted" in line:
                self.restarted.append(time.monotonic())

    def worker_pids(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            return []
        now = time.monotonic()
        for p in pids:
            self.born.setdefault(p, now)
        return pids

    def kill_one(self, rng: random.Random, min_age: float) -> int | None:
        """SIGKILL a random worker at least ``min_age`` seconds old; its pid, or None."""
        now = time.monotonic()
        pids = [p for p in self.worker_pids() if now - self.born[p] >= min_age]
        if len(pids) < self.workers:  # wait until the last one killed is back
            return None
        victim = rng.choice(pids)
        os.kill(victim, signal.SIGKILL)
        return victim

    def stop(self, timeout: float) -> int | None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


# -- the ledger against the callers' logs ---------------------------------------------------


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def tariff_amount(plan: TariffPlan, units: int, charges: Decimal) -> Decimal:
    return (plan.connection_charge + units * plan.unit_price + charges).quantize(
        Decimal("0.01"), ROUND_HALF_UP)


def check(records: list[CallRecord], calls: list[dict[str, Any]], kills: dict[int, float],
          load_wall0: float, checkpoint: float, book: TariffBook
          ) -> tuple[dict[str, Any], list[str]]:
    """Match records with callers (same address:port, record started within the caller's
    line) and check the bills; returns the figures and the failed checks."""
    early = [r for r in records if _epoch(r.started_at) < load_wall0 - SLACK]
    recs = [r for r in records if _epoch(r.started_at) >= load_wall0 - SLACK]
    by_peer: dict[str, list[dict[str, Any]]] = {}
    for c in calls:
        if c["peer"]:
            by_peer.setdefault(c["peer"], []).append(c)
    matched: dict[int, list[CallRecord]] = {}
    orphans = []
    for same in by_peer.values():
        same.sort(key=lambda c: c["wall_start"])
    for r in recs:
        # the last caller who dialled from that address:port before the record opened
        # (a port freed by a reset is reused at once, maybe before its first caller
        # noticed the reset); the record opened while that caller was on the line
        start = _epoch(r.started_at)
        before = [c for c in by_peer.get(r.peer, ()) if c["wall_start"] - 0.002 <= start]
        if not before or start > before[-1]["wall_end"] + SLACK:
            orphans.append(r)
            continue
        matched.setdefault(before[-1]["i"], []).append(r)
    served = [c for c in calls if c["home"] is not None]
    lost = [c for c in served if c["i"] not in matched]
    double = [i for i, rs in matched.items() if len(rs) > 1]
    unseen = [c for c in calls if c["home"] is None and c["i"] in matched]
    bad_units = bad_amount = still_open = 0
    billed_units = tariff_units = 0
    billed_eur = tariff_eur = Decimal(0)
    for r in records:
        plan = book.plans[r.plan]
        millis = round(r.duration_s * 1000)
        units = units_for(plan, millis)
        bad_units += r.units != units
        bad_amount += Decimal(r.amount_eur) != tariff_amount(plan, units,
                                                             Decimal(r.charges_eur))
        still_open += not r.ended_at
        billed_units += r.units
        tariff_units += units
        billed_eur += Decimal(r.amount_eur)
        tariff_eur += tariff_amount(plan, units, Decimal(r.charges_eur))
    by_i = {c["i"]: c for c in calls}
    normal_diff: list[float] = []   # caller's length - billed length, calls closed normally
    cut_loss: list[float] = []      # the same for records recovered after a kill
    kill_loss: list[float] = []     # kill instant - caller's connection - billed length
    over = 0.0                      # most billed beyond the caller's own length
    seen_units = 0                  # units of the callers' own lengths
    units_cut = 0                   # of which not billed on recovered calls
    lookups_missed = 0
    for i, rs in matched.items():
        c, r = by_i[i], rs[0]
        if c["connected"] is None or c["error"] == "timeout":
            continue
        lived = c["end"] - c["t0"]  # from dialing to the line's end, as the caller saw it
        seen = units_for(book.plans[r.plan], round(lived * 1000))
        seen_units += seen
        over = max(over, r.duration_s - lived)
        if r.recovered:
            units_cut += seen - r.units
            cut_loss.append(lived - r.duration_s)
            killed = kills.get(int(r.owner.split(":")[1]))
            if killed is not None:
                kill_loss.append(killed - c["t0"] - r.duration_s)
        else:
            normal_diff.append(lived - r.duration_s)
            if c["result"] is not None and not (r.result_found and r.lookups == 1):
                lookups_missed += 1
    figures = {
        "callers": len(calls), "callers_shown_home_page": len(served),
        "callers_cut_by_a_kill": sum(1 for c in calls if c["cut"]),
        "callers_never_served": len(calls) - len(served),
        "records": len(recs), "records_before_the_load (reference caller)": len(early),
        "records_recovered": sum(1 for r in recs if r.recovered),
        "lost (served, no record)": len(lost), "double_billed": len(double),
        "records_without_their_caller": len(orphans),
        "records_of_callers_not_shown_home_page": len(unseen),
        "records_left_open": still_open,
        "records_units_not_tariff_of_duration": bad_units,
        "records_amount_not_tariff_of_units": bad_amount,
        "billed_units": billed_units, "tariff_units_of_metered_durations": tariff_units,
        "billed_eur": str(billed_eur), "tariff_eur_of_metered_durations": str(tariff_eur),
        "metered_seconds": round(sum(r.duration_s for r in recs), 3),
        "units_of_callers_own_lengths": seen_units,
        "units_of_callers_own_lengths_not_billed_on_recovered_calls": units_cut,
        "normal_calls": len(normal_diff),
        "normal_caller_minus_billed_s_max": round(max(normal_diff, default=0.0), 4),
        "normal_caller_minus_billed_s_p50": round(pct(normal_diff, 0.5), 4),
        "normal_found_result_not_on_record": lookups_missed,
        "recovered_calls_compared": len(cut_loss),
        "recovered_under_billing_s_max": round(max(cut_loss, default=0.0), 3),
        "recovered_under_billing_s_p50": round(pct(cut_loss, 0.5), 3),
        "recovered_under_billing_vs_kill_instant_s_max": round(max(kill_loss, default=0.0), 3),
        "billed_beyond_callers_length_s_max": round(over, 4),
        "checkpoint_interval_s": checkpoint,
    }
    def caller(c: dict[str, Any]) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in c.items()}

    def rec(r: CallRecord) -> dict[str, Any]:
        return {"peer": r.peer, "started_at": r.started_at, "duration_s": r.duration_s,
                "recovered": r.recovered, "owner": r.owner, "close_reason": r.close_reason,
                "callers_of_this_peer": [caller(c) for c in by_peer.get(r.peer, ())]}

    figures["examples"] = {"lost": [caller(c) for c in lost[:5]],
                           "records_without_their_caller": [rec(r) for r in orphans[:5]],
                           "records_of_callers_not_shown_home_page":
                               [caller(c) for c in unseen[:5]]}
    failed = [name for name, bad in (
        ("lost", lost), ("double-billed", double), ("records without caller", orphans),
        ("records left open", still_open), ("units", bad_units), ("amounts", bad_amount),
        ("billed units = tariff units", billed_units != tariff_units),
        ("billed eur = tariff eur", billed_eur != tariff_eur),
        ("under-billing within the checkpoint interval",
         max(cut_loss, default=0.0) > checkpoint),
        ("normal calls billed their length", max(normal_diff, default=0.0) > 1.0
         or over > SLACK),
        ("found results on record", lookups_missed),
    ) if bad]
    return figures, failed


def report_total(store: Path) -> dict[str, str]:
    """The total row of ``videotex billing report --store STORE --format csv``."""
    out = subprocess.run([VIDEOTEX, "billing", "report", "--store", str(store),
                          "--format", "csv"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"videotex billing report failed: {out.stderr}")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    return rows[-1]


# -- the run --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--kills", type=int, default=24, help="at least this many SIGKILLs")
    ap.add_argument("--load-seconds", type=float, default=100.0,
                    help="callers arrive evenly over this time")
    ap.add_argument("--hold", type=float, nargs=2, default=(1.0, 15.0), metavar=("MIN", "MAX"),
                    help="seconds each caller stays after the home page (or the result)")
    ap.add_argument("--lookups", type=float, default=0.5, help="share of callers who look up")
    ap.add_argument("--checkpoint", type=float, default=10.0, help="[billing] checkpoint_every")
    ap.add_argument("--unit-seconds", type=float, default=2.0,
                    help="length of a unit of the kiosque plan (0.113 EUR): short, so that "
                    "calls of a few seconds span several units (the 3615 tariff: 19.94)")
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--timeout", type=float, default=30.0, help="any single wait")
    ap.add_argument("--deadline", type=float, default=600.0, help="the whole load")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--keep", type=Path, help="keep the store (ledger) in this directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        store = root / "store"
        from videotex.runtime.demo import ensure_demo_store

        ensure_demo_store(store, root / "demo-files")
        cands = published_only(load_candidates(root / "demo-files" / "csv", 0, args.seed),
                               store)
        config = root / "chaos.toml"
        per_minute = (Decimal("0.113") * 60 / Decimal(str(args.unit_seconds))).quantize(
            Decimal("0.000001"))
        config.write_text((ROOT / "bench" / "loopback.toml").read_text()
                          + f"\n[billing]\ncheckpoint_every = {args.checkpoint}\n"
                          f"[billing.plans.kiosque]\nprice_per_minute = {per_minute}\n")
        with config.open("rb") as f:
            book = TariffBook.from_config(tomllib.load(f)["billing"])
        server = Server(store, config, args.workers, root / "server.log")
        try:
            figures = run(server, args, cands, rng, store)
        finally:
            if server.proc.poll() is None:
                server.stop(60)
        from videotex.cli.billing import load

        records = load([str(store)])
        total = report_total(store)
        if args.keep:  # the callers' logs next to the ledger, to look at a failure again
            (root / "callers.json").write_text(json.dumps(
                {"calls": figures["_calls"], "kills": figures["_kills"],
                 "wall0": figures["_wall0"]}))
        figures["check"], failed = check(records, figures.pop("_calls"),
                                         figures.pop("_kills"), figures.pop("_wall0"),
                                         args.checkpoint, book)
        unit = book.plans["kiosque"].unit_seconds
        figures["unit_seconds"] = float(unit) if unit is not None else None
        figures["billing_report_total"] = total
        if int(total["sessions"]) != len(records):
            failed.append("report sessions = records")
        if figures["kills"] < args.kills:
            failed.append(f"kills >= {args.kills}")
        figures["failed_checks"] = failed
        figures["seconds"] = round(time.monotonic() - t_start, 1)
        print(json.dumps(figures, indent=1))
        return 1 if failed else 0


def run(server: Server, args: argparse.Namespace, cands: list[Candidate],
        rng: random.Random, store: Path) -> dict[str, Any]:
    host, port = server.url.split("//")[1].rsplit(":", 1)
    tails = asyncio.run(reference(server.url, cands[0], args.timeout))
    n = args.sessions
    sessions = [{"i": i, "cand": vars(cands[i % len(cands)]),
                 "offset": args.load_seconds * i / n,
                 "hold": rng.uniform(*args.hold), "lookup": rng.random() < args.lookups}
                for i in range(n)]
    wall0 = time.time()
    base = time.monotonic() + 5.0  # the client processes start meanwhile
    payloads = [{"host": host, "port": int(port), "base": base, "tails": [t.hex() for t in tails],
                 "timeout": args.timeout, "deadline": args.deadline, "sources": 2,
                 "sessions": sessions[p::args.procs]} for p in range(args.procs)]
    server.worker_pids()
    kills: dict[int, float] = {}  # pid -> when killed
    every = args.load_seconds / (args.kills + 2)  # spread over the arrivals
    next_kill = base + every
    with get_context("spawn").Pool(args.procs) as pool:
        result = pool.map_async(client_worker, payloads)
        while not result.ready():
            now = time.monotonic()
            if now >= next_kill and len(kills) < args.kills:
                victim = server.kill_one(rng, 2.5)  # None: a worker is not back yet
                if victim is not None:
                    kills[victim] = time.monotonic()
                    # at random moments: regular kills would meet the checkpoint rounds
                    # (every checkpoint - 0.25 s from a worker's start) at regular phases
                    next_kill += every * rng.uniform(0.5, 1.5)
            result.wait(max(0.01, min(0.25, next_kill - time.monotonic())))
        calls = [c for part in result.get() for c in part]
    alive = len(server.worker_pids())
    code = server.stop(60)
    connect = [c["home"] - c["t0"] for c in calls if c["home"] is not None]
    result_lat = [c["result"] - c["home"] for c in calls if c["result"] is not None]
    errors: dict[str, int] = {}
    for c in calls:
        if c["error"]:
            errors[c["error"]] = errors.get(c["error"], 0) + 1
    return {
        "sessions": n, "workers": args.workers, "kills": len(kills),
        "restarts_announced": len(server.restarted), "workers_alive_at_the_end": alive,
        "server_exit_status": code, "load_seconds": args.load_seconds,
        "hold_s": list(args.hold), "callers_logged": len(calls),
        "connect_to_home_page_ms_p50": round(pct(connect, 0.5) * 1000, 1),
        "connect_to_home_page_ms_p99": round(pct(connect, 0.99) * 1000, 1),
        "envoi_to_result_ms_p50": round(pct(result_lat, 0.5) * 1000, 1),
        "envoi_to_result_ms_p99": round(pct(result_lat, 0.99) * 1000, 1),
        "caller_errors": errors,
        "_calls": calls, "_kills": kills, "_wall0": wall0,
    }


if __name__ == "__main__":
    sys.exit(main())
