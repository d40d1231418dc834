"""Past one machine: a real HAProxy (TCP mode) in front of two server processes.

HAProxy speaks PROXY v1 to one node and v2 to the other; callers are spread across both,
and each node sees (logs, and so bills) the caller's real address, not HAProxy's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_emu.client import MinitelClient

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

pytestmark = pytest.mark.skipif(not Path(HAPROXY).exists(),
                                reason="haproxy is not installed (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _node(store: Path, tmp: Path, name: str) -> tuple[subprocess.Popen[str], int, Path]:
    log = tmp / f"{name}.log"
    proc = subprocess.Popen(
        [VIDEOTEX, "serve", "--store", str(store), "--telnet", "127.0.0.1:0",
         "--proxy-protocol", "--metrics-dir", str(tmp / f"metrics-{name}")],
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("listening telnet://"):
            return proc, int(line.rsplit(":", 1)[1]), log
    raise AssertionError(f"node {name} did not start: {log.read_text()}")


@pytest.fixture
def cluster(store_dir: Path, tmp_path: Path) -> Iterator[tuple[int, list[Path]]]:
    procs = []
    logs = []
    ports = []
    for name in ("node1", "node2"):
        proc, port, log = _node(store_dir, tmp_path, name)
        procs.append(proc)
        ports.append(port)
        logs.append(log)
    front = _free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(f"""
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend minitel
    bind 127.0.0.1:{front}
    default_backend nodes
backend nodes
    balance roundrobin
    server node1 127.0.0.1:{ports[0]} send-proxy
    server node2 127.0.0.1:{ports[1]} send-proxy-v2
""")
    haproxy = subprocess.Popen([HAPROXY, "-f", str(cfg), "-db"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(haproxy)
    yield front, logs
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


async def _connect(port: int) -> MinitelClient:
    for _ in range(50):  # haproxy may still be binding its port
        try:
            return await MinitelClient.connect(f"telnet://127.0.0.1:{port}")
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError("haproxy never listened")


async def test_callers_are_spread_and_seen_with_their_real_address(cluster) -> None:
    front, logs = cluster
    clients = []
    for _ in range(6):
        c = await _connect(front)
        await c.wait_for_text("RESULTATS", timeout=10)
        clients.append(c)
    local = {c.local_address for c in clients}
    seen: dict[str, set[str]] = {}
    for log in logs:
        peers = set()
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("msg") == "call opened":
                peers.add(entry["peer"])
        seen[log.stem] = peers
    assert seen["node1"] and seen["node2"], f"not spread: {seen}"
    assert seen["node1"] | seen["node2"] == local
    for c in clients:
        await c.close()
