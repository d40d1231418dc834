"""What a held call costs the server while nothing happens: CPU per call per second.

    .venv/bin/python bench/bench_upkeep.py [--calls 15000] [--workers 1] [--window 30]

Starts ``videotex serve`` on loopback (the demo store, bench/loopback.toml), holds
``--calls`` telnet callers idle on the home page (bench/loadgen.py ``--idle --hold``,
arriving at ``--rate``/s), waits until the server holds them all and a little more, then
reads the CPU time of every server process and of the load generator over ``--window``
seconds. What a held call costs: its status-row ticks (each billing unit, about every
20 s), its billing checkpoints (every 10 s), the collector's young-generation passes.
Prints one JSON report; asserts nothing. Everything is bounded (the hold, every wait).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_scale import PY, ROOT, sessions_now, start_server, stop_server
from bench.loadgen import process_cpu_s, process_tree


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=15_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rate", type=float, default=250.0, help="arrivals per second")
    ap.add_argument("--window", type=float, default=30.0, help="seconds of measurement")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="upkeep-"))
    proc, url = start_server(args.workers, "telnet", tmp / "metrics")
    arrival = args.calls / args.rate
    gen = subprocess.Popen(
        [PY, str(ROOT / "bench/loadgen.py"), "--url", url, "--mode", "steady", "--idle",
         "--rate", str(args.rate), "--sessions", str(args.calls),
         "--hold", str(arrival + args.window + 300), "--timeout", "120",
         "--deadline", str(2 * arrival + args.window + 600),
         "--candidates", str(ROOT / "var/demo-files/csv"), "--store", str(ROOT / "var/store"),
         "--json", str(tmp / "loadgen.json")],
        stdout=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    report: dict[str, object] = {"calls": args.calls, "workers": args.workers,
                                 "window_s": args.window}
    try:
        t0 = time.monotonic()
        held = 0
        while time.monotonic() - t0 < 2 * arrival + 120:
            held = sessions_now(tmp / "metrics") or 0
            if held >= args.calls * 0.995:
                break
            time.sleep(2)
        report["held"] = held
        report["seconds_to_hold"] = round(time.monotonic() - t0, 1)
        time.sleep(20)  # the last arrivals' first ticks and checkpoints
        server, client = process_tree(proc.pid), process_tree(gen.pid)
        before = {p: process_cpu_s(p) for p in server + client}
        t = time.monotonic()
        time.sleep(args.window)
        dt = time.monotonic() - t
        used = {p: process_cpu_s(p) - before[p] for p in server + client}
        server_s = sum(used[p] for p in server)
        report["server_cores"] = round(server_s / dt, 3)
        report["server_cores_by_process"] = [round(used[p] / dt, 3) for p in server]
        report["loadgen_cores"] = round(sum(used[p] for p in client) / dt, 3)
        report["held_at_end"] = sessions_now(tmp / "metrics")
        report["server_us_per_call_per_s"] = round(server_s / dt / max(held, 1) * 1e6, 1)
    finally:
        with_children = process_tree(gen.pid)
        for p in with_children:  # the load generator's pool too: no stray callers
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        stop_server(proc)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
