"""Past one machine: a real HAProxy (TCP mode) in front of two server processes.

HAProxy speaks PROXY v1 to one node and v2 to the other; callers are spread across both,
and each node sees (logs, and so bills) the caller's real address, not HAProxy's.
"""

from __future__ import annotations

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


def _listening_socket() -> socket.socket:
    """HAProxy's front socket, listening before HAProxy starts (it inherits it as
    ``bind fd@N``): a caller can connect at once, the kernel queues it meanwhile."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


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
def cluster(store_dir: Path, tmp_path: Path
            ) -> Iterator[tuple[int, list[Path], list[subprocess.Popen[str]]]]:
    procs = []
    logs = []
    ports = []
    for name in ("node1", "node2"):
        proc, port, log = _node(store_dir, tmp_path, name)
        procs.append(proc)
        ports.append(port)
        logs.append(log)
    front_socket = _listening_socket()
    front = int(front_socket.getsockname()[1])
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
    bind fd@{front_socket.fileno()}
    default_backend nodes
backend nodes
    balance roundrobin
    server node1 127.0.0.1:{ports[0]} send-proxy
    server node2 127.0.0.1:{ports[1]} send-proxy-v2
""")
    haproxy = subprocess.Popen([HAPROXY, "-f", str(cfg), "-db"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               pass_fds=(front_socket.fileno(),))
    front_socket.close()  # HAProxy has its own copy
    nodes = list(procs)
    procs.append(haproxy)
    yield front, logs, nodes
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


async def _connect(port: int, bind: str) -> MinitelClient:
    return await MinitelClient.connect(f"telnet://127.0.0.1:{port}?bind={bind}")


async def test_callers_are_spread_and_seen_with_their_real_address(cluster, store_dir) -> None:
    front, logs, nodes = cluster
    clients = []
    # each caller from its own loopback address; HAProxy reaches the nodes from 127.0.0.1
    callers = [f"127.0.0.{10 + i}" for i in range(6)]
    for address in callers:
        c = await _connect(front, address)
        await c.wait_for_text("RESULTATS", timeout=10)
        clients.append(c)
    local = {c.local_address for c in clients}
    assert {a.rsplit(":", 1)[0] for a in local} == set(callers)
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
    for node in nodes:  # a clean stop: every call record closed and written
        node.terminate()
        node.wait(30)
    report = subprocess.run([VIDEOTEX, "billing", "report", "--store", str(store_dir),
                             "--format", "json"], capture_output=True, text=True, check=True)
    records = json.loads(report.stdout)
    records = records.get("records", records) if isinstance(records, dict) else records
    billed = [r["caller"] for r in records if r["caller"] in callers]
    assert sorted(billed) == sorted(callers)  # each caller billed once, by its own address
