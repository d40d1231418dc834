"""The Teletel gateway with a MiniPavi service: the figures of the gateway issue.

    .venv/bin/python bench/bench_gateway.py [--sessions 10000] [--workers 2] [--ramp 40]
                                            [--envois 10000] [--rate 250] [--procs 2]

Starts, as separate processes on loopback: a MiniPavi service (``tests/gateway/
pavi_service.py``: aiohttp, §8's worked example, ``--service-procs`` processes sharing the
port), ``videotex serve --minipavi URL`` (``--workers``, raw TCP, billing on) and the
callers (``--procs`` processes). Every caller connects within ``--ramp`` seconds and waits
for the service's first page (the gateway POSTs CNX, draws the page and the input field);
once all are connected they stay, and ``--envois`` of them, at ``--rate`` per second, type a
name and press Envoi: the gateway POSTs ENVOI with the field's content and draws the next
page. Measured: Envoi sent → the next page's last byte at the caller's socket (kernel
time), p50/p99; the service's own time per request (in its handler, reported by its
process); the server's memory per connected caller; errors. Bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv/bin/python")

from bench.loadgen import LightCaller, cpu_s, pct, rss_kib, source_address  # noqa: E402

#: The last bytes of the first page (InputTxt at x=13, y=10, cursor on: POS, CON) and of
#: the page after Envoi (its field at y=12): §4's drawing of an InputTxt.
FIRST_TAIL = b"\x1f\x4a\x4d\x11"
NEXT_TAIL = b"\x1f\x4c\x4d\x11"
ENVOI = b"\x13\x41"


def start(cmd: list[str], marker: str, env: dict[str, str] | None = None
          ) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=ROOT, env=env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if line.startswith(marker):
            return proc, line.split()[1]
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit(f"{cmd[:3]} did not start")


def stop(proc: subprocess.Popen[str], timeout: float = 120) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def caller_proc(payload: dict[str, Any]) -> dict[str, Any]:
    """One client process: its share of the callers, then its share of the Envois."""
    host, port = payload["host"], payload["port"]
    first, count, envois = payload["first"], payload["count"], payload["envois"]
    out: dict[str, Any] = {"connect": [], "latency": [], "errors": {}, "connected": 0}

    def error(kind: str) -> None:
        out["errors"][kind] = out["errors"].get(kind, 0) + 1

    async def run() -> None:
        t0 = payload["t0"]
        callers: list[LightCaller | None] = [None] * count

        async def connect(i: int) -> None:
            await asyncio.sleep(max(0.0, t0 + payload["ramp"] * i / count - time.time()))
            started = time.time()
            try:
                c = await LightCaller.connect(host, port,
                                              source_address(first + i, payload["sources"]),
                                              False, False)
                await c.until(FIRST_TAIL, payload["timeout"])
            except (OSError, TimeoutError, ConnectionError) as e:
                error(f"connect: {type(e).__name__}")
                return
            out["connect"].append(c.arrived - started)
            callers[i] = c

        await asyncio.gather(*(connect(i) for i in range(count)))
        out["connected"] = sum(1 for c in callers if c is not None)
        # everyone is held; now the Envois, spread at the rate over this process's share
        await asyncio.sleep(max(0.0, payload["envoi_at"] - time.time()))
        live = [c for c in callers if c is not None]
        random.Random(first).shuffle(live)
        start_at = time.time()

        async def envoi(k: int, c: LightCaller) -> None:
            await asyncio.sleep(max(0.0, start_at + k / payload["rate"] - time.time()))
            try:
                c.send(b"ALICE")
                sent = time.time()
                c.send(ENVOI, clear=False)
                await c.until(NEXT_TAIL, payload["timeout"])
            except (OSError, TimeoutError, ConnectionError) as e:
                error(f"envoi: {type(e).__name__}")
                return
            out["latency"].append(c.arrived - sent)

        await asyncio.gather(*(envoi(k, c) for k, c in enumerate(live[:envois])))
        await asyncio.sleep(max(0.0, payload["hold_until"] - time.time()))
        for c in live:
            c.close()

    import resource
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(run())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--procs", type=int, default=2, help="client processes")
    ap.add_argument("--ramp", type=float, default=40.0)
    ap.add_argument("--envois", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=250.0, help="Envois per second, in all")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--sources", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    service, url = start([PY, "-m", "tests.gateway.pavi_service", "--port", "0"], "serving")
    metrics = Path(tempfile.mkdtemp(prefix="gw-metrics-"))
    server, listen = start([str(ROOT / ".venv/bin/videotex"), "serve",
                            "--store", str(ROOT / "var/store"),
                            "--config", str(ROOT / "bench/loopback.toml"),
                            "--workers", str(args.workers), "--raw", "127.0.0.1:0",
                            "--minipavi", url, "--metrics-dir", str(metrics), "--log", "json"],
                           "listening")
    host, _, port = listen.split("://")[1].rpartition(":")
    report: dict[str, Any] = {"sessions": args.sessions, "workers": args.workers,
                              "service": url}
    try:
        time.sleep(1.0)
        rss0 = rss_kib(server.pid)
        cpu0 = cpu_s(server.pid)
        t0 = time.time() + 1.0
        per = args.sessions // args.procs
        envoi_at = t0 + args.ramp + 10.0
        hold_until = envoi_at + args.envois / args.rate + 5.0
        payloads = [{"host": host, "port": int(port), "first": k * per, "count": per,
                     "envois": args.envois // args.procs, "rate": args.rate / args.procs,
                     "ramp": args.ramp, "t0": t0, "timeout": args.timeout,
                     "sources": args.sources, "envoi_at": envoi_at,
                     "hold_until": hold_until} for k in range(args.procs)]
        with get_context("spawn").Pool(args.procs) as pool:
            pending = pool.map_async(caller_proc, payloads)
            # the server's memory with everyone held, before the Envois
            time.sleep(max(0.0, envoi_at - 2.0 - time.time()))
            rss_held = rss_kib(server.pid)
            cpu_held = cpu_s(server.pid)
            results = pending.get(timeout=hold_until - time.time() + 300)
        connect = [x for r in results for x in r["connect"]]
        latency = [x for r in results for x in r["latency"]]
        errors: dict[str, int] = {}
        for r in results:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        connected = sum(r["connected"] for r in results)
        report.update({
            "connected": connected,
            "connect_p50_ms": round(pct(connect, 0.50) * 1000, 1),
            "connect_p99_ms": round(pct(connect, 0.99) * 1000, 1),
            "envois": len(latency),
            "envoi_to_page_p50_ms": round(pct(latency, 0.50) * 1000, 1),
            "envoi_to_page_p99_ms": round(pct(latency, 0.99) * 1000, 1),
            "envoi_to_page_max_ms": round(max(latency) * 1000, 1) if latency else None,
            "errors": errors,
            "server_rss_mib_idle": round(rss0 / 1024, 1),
            "server_rss_mib_held": round(rss_held / 1024, 1),
            "kib_per_call": round((rss_held - rss0) / max(1, connected), 1),
            "server_cpu_s_ramp": round(cpu_held - cpu0, 1),
            "server_cpu_s_envois": round(cpu_s(server.pid) - cpu_held, 1),
        })
        import urllib.request

        base = url.rsplit("/", 1)[0]
        with urllib.request.urlopen(f"{base}/__stats", timeout=10) as r:
            own = json.loads(r.read())
        report["service_own_time"] = {k: round(v, 3) for k, v in own.items()}
        report["envoi_to_page_p99_over_service_ms"] = round(
            report["envoi_to_page_p99_ms"] - own.get("p99_ms", 0.0), 1)
    finally:
        stop(server)
        stop(service, 10)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
