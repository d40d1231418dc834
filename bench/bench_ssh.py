"""SSH transport figures against a real ``videotex serve --ssh`` in a subprocess.

    .venv/bin/python bench/bench_ssh.py [--connections 300] [--concurrency 20] [--hold 300]

1. Connections per second: each caller connects (key exchange, ``none`` auth, a PTY
   session), waits for the home page on its emulated screen, and disconnects;
   ``--connections`` callers, at most ``--concurrency`` at once.
2. Server memory per connected SSH session: ``--hold`` callers connected at once, all
   showing the home page; the server's RSS delta divided by the count. The same is
   measured for raw TCP callers on the same server, for comparison.

Clients (asyncssh and the emulator) run in this process, the server in its own; both
share the machine, so the figures are a floor, not a capacity claim.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import pct, rss_kib  # noqa: E402
from terminal_emu.client import MinitelClient  # noqa: E402
from tests.helpers.results import build_store  # noqa: E402

HOME = "RESULTATS DES EXAMENS"


def start_server(tmp: Path) -> tuple[subprocess.Popen[str], dict[str, int]]:
    store = build_store(tmp)
    config = tmp / "bench-ssh.toml"
    config.write_text((ROOT / "bench/loopback.toml").read_text() + f"""
[[listen]]
kind = "ssh"
address = "127.0.0.1:0"
host_key = "{tmp / 'host_key'}"

[[listen]]
kind = "raw"
address = "127.0.0.1:0"
""")
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/videotex"), "serve", "--store", str(store),
         "--config", str(config), "--metrics-dir", str(tmp / "metrics"), "--log", "text"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    for line in proc.stdout:
        if line.startswith("listening"):
            kind, _, rest = line.split()[1].partition("://")
            ports[kind] = int(rest.rsplit(":", 1)[1])
        if len(ports) == 2:
            break
    return proc, ports


async def one_call(url: str) -> float:
    start = time.perf_counter()
    t = await MinitelClient.connect(url, timeout=60)
    await t.wait_for_text(HOME, 60)
    await t.close()
    return time.perf_counter() - start


async def rate(url: str, total: int, concurrency: int) -> tuple[float, list[float]]:
    gate = asyncio.Semaphore(concurrency)

    async def limited() -> float:
        async with gate:
            return await one_call(url)

    start = time.perf_counter()
    times = await asyncio.gather(*(limited() for _ in range(total)))
    return total / (time.perf_counter() - start), list(times)


async def memory(url: str, pid: int, count: int) -> float:
    await one_call(url)  # warm: lazy imports and caches are not per-session cost
    gc.collect()
    before = rss_kib(pid)
    clients: list[MinitelClient] = []
    for i in range(0, count, 20):
        batch = await asyncio.gather(*(MinitelClient.connect(url, timeout=60)
                                       for _ in range(min(20, count - i))))
        await asyncio.gather(*(c.wait_for_text(HOME, 60) for c in batch))
        clients += batch
    after = rss_kib(pid)
    await asyncio.gather(*(c.close() for c in clients))
    return (after - before) / count


async def main(args: argparse.Namespace) -> None:
    logging.getLogger("terminal_emu.ssh").setLevel(logging.ERROR)  # no fingerprint lines
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # a fresh server for each memory figure: freed memory of earlier calls would hide it
    for kind in ("ssh", "raw"):
        with tempfile.TemporaryDirectory() as tmp:
            proc, ports = start_server(Path(tmp))
            try:
                url = _url(kind, ports)
                kib = await memory(url, proc.pid, args.hold)
                print(f"server RSS per connected {kind} session: {kib:.1f} KiB "
                      f"({args.hold} sessions held, fresh server)")
            finally:
                proc.terminate()
                proc.wait(30)
    with tempfile.TemporaryDirectory() as tmp:
        proc, ports = start_server(Path(tmp))
        try:
            for kind in ("ssh", "raw"):
                per_s, times = await rate(_url(kind, ports), args.connections,
                                          args.concurrency)
                print(f"{kind} connect + home page + disconnect: {per_s:.1f} connections/s "
                      f"({args.connections} connections, concurrency {args.concurrency}); "
                      f"per call p50 {pct(times, 0.5) * 1000:.0f} ms, "
                      f"p99 {pct(times, 0.99) * 1000:.0f} ms")
        finally:
            proc.terminate()
            proc.wait(30)


def _url(kind: str, ports: dict[str, int]) -> str:
    return (f"ssh://bench@127.0.0.1:{ports['ssh']}" if kind == "ssh"
            else f"raw://127.0.0.1:{ports['raw']}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--hold", type=int, default=300)
    asyncio.run(main(p.parse_args()))
