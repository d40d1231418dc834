"""``videotex serve --workers N`` as real processes: connections spread over workers that
share the port, a worker killed with SIGKILL is replaced while other callers go on, and
SIGTERM says goodbye to everyone."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal_emu.client import MinitelClient
from tests.helpers.results import ELODIE

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))


class Server:
    def __init__(self, proc: subprocess.Popen[str], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log

    def events(self, msg: str) -> list[dict[str, object]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == msg:
                out.append(entry)
        return out


@pytest.fixture
def server(store_dir: Path, tmp_path: Path) -> Iterator[Server]:
    log = tmp_path / "server.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [VIDEOTEX, "serve", "--store", str(store_dir), "--telnet", "127.0.0.1:0",
             "--workers", "2", "--metrics-dir", str(tmp_path / "metrics")],
            stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if line.startswith("listening telnet://"):
                url = line.split()[1]
            if line.startswith("2 workers"):
                break
        assert url, "the server did not announce its listener"
        yield Server(proc, url, log)
        if proc.poll() is None:
            proc.terminate()  # the supervisor stops its workers
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _connect_all(url: str, n: int) -> list[MinitelClient]:
    # n callers, each from its own loopback address: the per-address limit (16 calls per
    # worker) is not what is tested here, and SO_REUSEPORT may send 17 of 24 to one worker
    clients = [await MinitelClient.connect(f"{url}?bind=127.0.1.{i + 1}") for i in range(n)]
    await asyncio.gather(*(c.wait_for_text("RESULTATS", timeout=20) for c in clients))
    return clients


async def test_workers_share_the_port_and_survive_a_kill(server: Server) -> None:
    clients = await _connect_all(server.url, 24)
    pids = {e["pid"] for e in server.events("call opened")}
    assert len(pids) == 2, f"connections all went to {pids}"
    started = server.events("worker started")
    victim = int(started[0]["pid"])  # type: ignore[call-overload]
    on_victim = sum(1 for e in server.events("call opened") if e["pid"] == victim)
    os.kill(victim, signal.SIGKILL)
    # the supervisor says it replaced the worker
    assert server.proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(server.proc.stdout.readline), 30)
    assert f"(pid {victim}," in line and "restarted" in line
    # the victim's callers lose their line; the other worker's callers do not
    waits = {asyncio.ensure_future(c.wait_closed(timeout=30)): c for c in clients}
    closed = 0
    pending = set(waits)
    while closed < on_victim:
        done, pending = await asyncio.wait(pending, timeout=30,
                                           return_when=asyncio.FIRST_COMPLETED)
        assert done, "the killed worker's callers were not disconnected"
        closed += len(done)
    for task in pending:
        task.cancel()
    assert sum(c.closed for c in clients) == on_victim
    survivor = next(c for c in clients if not c.closed)
    from terminal_emu import Key

    await survivor.type(ELODIE[0])
    await survivor.press(Key.SUITE)
    await survivor.type(ELODIE[1])
    await survivor.press(Key.ENVOI)
    await survivor.wait_for_text("Mention Très bien", timeout=20)
    # a new caller gets through; one redial is allowed: a connection that landed in the
    # killed worker's accept queue is reset by the kernel (SO_REUSEPORT), as a real
    # caller would see a failed call
    fresh = await MinitelClient.connect(server.url)
    try:
        await fresh.wait_for_text("RESULTATS", timeout=20)
    except ConnectionError:
        fresh = await MinitelClient.connect(server.url)
        await fresh.wait_for_text("RESULTATS", timeout=20)
    # the replacement is up and logged
    assert len(server.events("worker started")) >= 3
    assert any(e["pid"] == victim for e in server.events("worker died"))
    for c in [*clients, fresh]:
        await c.close()


async def test_sigterm_says_goodbye_to_every_caller(server: Server) -> None:
    clients = await _connect_all(server.url, 6)
    server.proc.send_signal(signal.SIGTERM)
    for c in clients:
        await c.wait_for_text("AU REVOIR", timeout=20)
        await c.wait_closed(timeout=20)
    assert await asyncio.to_thread(server.proc.wait, 30) == 0


def test_workers_die_with_a_killed_supervisor(server: Server) -> None:
    workers = {int(e["pid"]) for e in server.events("worker started")}  # type: ignore[call-overload]
    server.proc.kill()
    server.proc.wait()
    for pid in workers:
        # each worker gets SIGTERM from the kernel and exits: wait on a pidfd, which
        # becomes readable when the process ends (it is not our child)
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            readable, _, _ = select.select([fd], [], [], 20)
            assert readable, f"worker {pid} outlived its supervisor"
        finally:
            os.close(fd)
