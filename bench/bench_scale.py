"""Results day on one machine: the figures of issue 7, end to end.

    .venv/bin/python bench/bench_scale.py [--workers 3] [--sessions 50000] [--ramp 60]
                                          [--storm 10000] [--transport telnet]

Starts ``videotex serve --workers N`` on loopback (the demo store, bench/loopback.toml:
no per-address caps for 127.0.0.1, no time limits), then runs bench/loadgen.py twice
against it, as separate processes:

1. the hold: ``--sessions`` callers arrive within ``--ramp`` seconds, each completes a
   consultation (number, Suite, birth date, Envoi, the complete result page) and stays
   connected until everyone has (simultaneous sessions, p50/p95/p99 from Envoi to the
   complete result, errors, server memory per session held);
2. the accept storm: ``--storm`` callers connect at once and wait for the complete
   home page (connects/s).

Callers come from 127.0.0.1-4 (one source address per 25,000 callers: ephemeral ports);
the server listens on 127.0.0.1 only.

Pacing is off. Everything is bounded (loadgen's --timeout and --deadline). Prints one
JSON report.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv/bin/python")


def start_server(workers: int, transport: str, metrics: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/videotex"), "serve", "--store", str(ROOT / "var/store"),
         "--config", str(ROOT / "bench/loopback.toml"), "--workers", str(workers),
         f"--{transport}", "127.0.0.1:0", "--metrics-dir", str(metrics), "--log", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.startswith("listening "):
            return proc, line.split()[1]
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("the server did not start (is var/store built? run `make run` once)")


def stop_server(proc: subprocess.Popen[str]) -> None:
    """SIGTERM (a clean stop: calls closed, ledger written), SIGKILL after 120 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()


def sessions_now(metrics: Path) -> int | None:
    """Sessions the server holds now, from ``videotex status`` (None: unreadable)."""
    status = subprocess.run([str(ROOT / ".venv/bin/videotex"), "status",
                             "--metrics-dir", str(metrics)],
                            capture_output=True, text=True, check=False)
    lines = status.stdout.splitlines()
    try:
        at = lines.index("sessions by transport:")
    except ValueError:
        return None
    total = 0
    for line in lines[at + 1:]:
        if not line.startswith("  "):
            break
        total += int(line.split()[-1])
    return total


def wait_calls_gone(metrics: Path, timeout: float = 300.0) -> float:
    """Wait until the server holds no call (the callers of the last run have hung up
    and their calls are closed); returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sessions_now(metrics) == 0:
            break
        time.sleep(1.0)
    return round(time.monotonic() - t0, 1)


def loadgen(url: str, pid: int, out: Path, *extra: str) -> dict[str, Any]:
    cmd = [PY, str(ROOT / "bench/loadgen.py"), "--url", url, "--server-pid", str(pid),
           "--candidates", str(ROOT / "var/demo-files/csv"), "--store", str(ROOT / "var/store"),
           "--json", str(out), *extra]
    print("$", " ".join(cmd[1:]), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=False, timeout=1800)
    if not out.exists():
        return {"failed": f"loadgen exited {done.returncode} without a report (see above)"}
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=50_000)
    ap.add_argument("--ramp", type=float, default=60.0)
    ap.add_argument("--storm", type=int, default=10_000, help="0: no storm run")
    ap.add_argument("--transport", choices=("telnet", "raw"), default="telnet")
    args = ap.parse_args()
    report: dict[str, Any] = {"workers": args.workers, "transport": args.transport,
                              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(args.workers, args.transport, Path(tmp) / "metrics")
        try:
            if args.sessions:
                report["hold"] = loadgen(url, proc.pid, Path(tmp) / "hold.json",
                                         "--mode", "ramp", "--ramp", str(args.ramp), "--stay",
                                         "--sessions", str(args.sessions),
                                         "--timeout", "120", "--deadline", str(args.ramp + 600))
                print(json.dumps({"hold": report["hold"]}, indent=1), file=sys.stderr,
                      flush=True)
                report["calls_closed_after_s"] = wait_calls_gone(Path(tmp) / "metrics")
            if args.storm:
                report["storm"] = loadgen(url, proc.pid, Path(tmp) / "storm.json",
                                          "--mode", "storm", "--sessions", str(args.storm),
                                          "--timeout", "60", "--deadline", "300")
            status = subprocess.run([str(ROOT / ".venv/bin/videotex"), "status",
                                     "--metrics-dir", str(Path(tmp) / "metrics")],
                                    capture_output=True, text=True, check=False)
            report["status_after"] = status.stdout.strip().splitlines()
        finally:
            stop_server(proc)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
