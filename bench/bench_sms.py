"""The SMS channel's figures (issue 17), against ``videotex serve --smpp`` in a subprocess
and the node-smpp SMSC of the tests (tests/sms/smsc), both on loopback.

    .venv/bin/python bench/bench_sms.py roundtrip [--count 30000] [--rate 1000]
    .venv/bin/python bench/bench_sms.py wave [--subscribers 200000] [--kill-at 0.5]

``roundtrip``: the SMSC sends ``--count`` MOs (``BAC numéro date``, published results, one
sender per MO) at ``--rate`` a second; for each it times, on its own clock, from writing the
deliver_sm to reading the submit_sm that answers it (so the figure holds the server's
recording, the lookup and the submission). Prints the achieved rate, p50/p90/p99/max, and
the server's CPU per message.

``wave``: ``--subscribers`` candidates of an unpublished batch each ask for an alert (an MO
flood from as many phones); the SMSC's counters are reset; the batch is published; once
``--kill-at`` of the alerts reached the SMSC the server gets SIGKILL and is started again on
the same stores. Prints the time to submit all, and from the SMSC: alerts lost (phones that
got nothing), duplicates (a phone that got its alert twice), resubmissions its keys caught;
from the ledger: alert records (each alert billed once). Bounded: loopback, one server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.results import build_synthetic_store as build  # noqa: E402
from tests.helpers.results import synthetic_birth as birth_of  # noqa: E402
from tests.sms.smsc import Smsc, smsc_running  # noqa: E402
from videotex.store import publish_batch  # noqa: E402
from videotex.store.exams import ACADEMY_CODES, EXAM_CODES  # noqa: E402

LILLE = ACADEMY_CODES["lille"] + EXAM_CODES["bac"]
PARIS = ACADEMY_CODES["paris"] + EXAM_CODES["bac"]


def start_server(tmp: Path, store: Path, url: str, window: int) -> subprocess.Popen[bytes]:
    config = tmp / "bench-sms.toml"
    config.write_text(f'[smpp]\nwindow = {window}\nenquire_every = 30\n'
                      '[log]\nformat = "text"\n')
    log = open(tmp / "server.log", "ab")  # noqa: SIM115 - the server's, closed with it
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/videotex"), "serve", "--store", str(store), "--config",
         str(config), "--smpp", url, "--metrics-dir", str(tmp / "metrics")],
        stdout=log, stderr=subprocess.STDOUT)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def roundtrip(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sms-") as t:
        tmp = Path(t)
        store, _ = build(tmp, 5_000, 10)
        texts = [f"BAC {LILLE}{i:07d} {birth_of(i).strftime('%d%m%Y')}" for i in range(1, 5_001)]
        async with smsc_running() as smsc:
            server = start_server(tmp, store, smsc.url, args.window)
            try:
                await smsc.wait_bound(30)
                for rate in args.rate:
                    await smsc.reset()
                    cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
                    report = await smsc.flood(count=args.count, rate=rate, texts=texts,
                                              source_base="3360", source_count=args.count,
                                              grace_ms=5000)
                    wall = time.perf_counter() - t0
                    cpu = cpu_seconds(server.pid) - cpu0
                    lat = report["latency_ms"]
                    print(f"roundtrip rate {rate}/s: sent {report['sent']} at "
                          f"{report['rate_achieved']:.0f}/s, answered {report['answered']}, "
                          f"unanswered {report['unanswered']}; MO->MT ms p50 {lat['p50']:.1f} "
                          f"p90 {lat['p90']:.1f} p99 {lat['p99']:.1f} max {lat['max']:.1f}; "
                          f"server CPU {cpu / max(1, report['answered']) * 1e6:.0f} us/message "
                          f"({cpu / wall * 100:.0f}% of a core over {wall:.1f} s)", flush=True)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(30)


async def _progress(smsc: Smsc, target: int, *, timeout: float) -> dict[str, Any]:
    """Wait until the SMSC holds ``target`` distinct destinations (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = await smsc.stats()
        if int(stats["unique_destinations"]) >= target or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.2)


async def wave(args: argparse.Namespace) -> None:
    n = args.subscribers
    with tempfile.TemporaryDirectory(prefix="bench-sms-") as t:
        tmp = Path(t)
        t0 = time.perf_counter()
        store, key = build(tmp, 10, n)
        print(f"store: {n} staged results in {time.perf_counter() - t0:.1f} s", flush=True)
        texts = [f"ALERTE {PARIS}{i:07d} {birth_of(i).strftime('%d%m%Y')}"
                 for i in range(1, n + 1)]
        async with smsc_running(events=["bind"]) as smsc:
            server = start_server(tmp, store, smsc.url, args.window)
            try:
                await smsc.wait_bound(30)
                t0 = time.perf_counter()
                report = await smsc.flood(count=n, rate=args.subscribe_rate, texts=texts,
                                          source_base="3370", source_count=n, grace_ms=10000)
                print(f"subscriptions: {report['answered']} of {n} confirmed in "
                      f"{time.perf_counter() - t0:.1f} s ({report['rate_achieved']:.0f} MO/s; "
                      f"p99 {report['latency_ms']['p99']:.1f} ms)", flush=True)
                await smsc.reset()
                t_publish = time.perf_counter()
                publish_batch(store, "bac", "paris", key, force=True)
                stats = await _progress(smsc, int(n * args.kill_at), timeout=600)
                t_kill = time.perf_counter()
                server.send_signal(signal.SIGKILL)
                server.wait()
                print(f"SIGKILL after {t_kill - t_publish:.1f} s with "
                      f"{stats['unique_destinations']} alerts at the SMSC", flush=True)
                server = start_server(tmp, store, smsc.url, args.window)
                await smsc.wait_event("bind", since=smsc.mark(), timeout=60)
                t_restart = time.perf_counter()
                stats = await _progress(smsc, n, timeout=900)
                t_done = time.perf_counter()
                await asyncio.sleep(3)  # anything more (a duplicate) would come now
                stats = await smsc.stats()
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
        alerts = count_alert_records(store)
        lost = n - int(stats["unique_destinations"])
        print(f"wave of {n}: all submitted {t_done - t_publish:.1f} s after publication "
              f"(down {t_restart - t_kill:.1f} s of it, from SIGKILL to the new bind; "
              f"{n / (t_done - t_publish):.0f} alerts/s overall); lost {lost}, "
              f"duplicates delivered {stats['destinations_with_more_than_one_mt']}, "
              f"resubmissions caught by the SMSC's key {stats['dups_suppressed']}, "
              f"throttled {stats['throttled']}; ledger alert records {alerts}", flush=True)


def count_alert_records(store: Path) -> int:
    from videotex.billing import Ledger

    ledger = Ledger(store, readonly=True)
    try:
        return sum(1 for r in ledger.records() if r.close_reason == "alert sent")
    finally:
        ledger.env.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("roundtrip")
    r.add_argument("--count", type=int, default=30_000)
    r.add_argument("--rate", type=int, nargs="+", default=[1000])
    r.add_argument("--window", type=int, default=64)
    w = sub.add_parser("wave")
    w.add_argument("--subscribers", type=int, default=200_000)
    w.add_argument("--kill-at", type=float, default=0.5)
    w.add_argument("--subscribe-rate", type=int, default=3000)
    w.add_argument("--window", type=int, default=200)
    args = p.parse_args()
    asyncio.run(roundtrip(args) if args.what == "roundtrip" else wave(args))


if __name__ == "__main__":
    main()
