"""media_priority: the phone process's audio at real-time priority, and what refuses it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from videotex.runtime import realtime
from videotex.runtime.config import ConfigError, load_config
from videotex.runtime.realtime import RealtimeError, check, enter

ROOT = Path(__file__).resolve().parents[2]
RESET = getattr(os, "SCHED_RESET_ON_FORK", 0)


def _policy() -> int:
    return os.sched_getscheduler(0) & ~RESET


def _in_thread(job):  # type: ignore[no-untyped-def]
    """Run ``job`` in a thread of its own (the test runner's thread keeps its scheduling)."""
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(job()))
    thread.start()
    thread.join()
    return out[0]


def _can_realtime() -> bool:
    try:
        check(1)
    except RealtimeError:
        return False
    return True


needs_rt = pytest.mark.skipif(not _can_realtime(), reason="this machine refuses SCHED_RR")


def test_bad_priorities_are_named() -> None:
    for bad in (-1, 100, 2.5, True, "10"):
        with pytest.raises(RealtimeError, match=r"from 1 to 99 \(0: off\), got"):
            check(bad)  # type: ignore[arg-type]
    check(0)  # off: nothing asked


@needs_rt
def test_check_leaves_the_process_as_it_was() -> None:
    before = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    check(10)
    assert (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) == before


@needs_rt
def test_every_thread_of_the_server_takes_the_priority() -> None:
    """A thread holding the GIL at normal priority would make the real-time loop wait for
    it: the threads already running, and those the server starts for its own work (the
    speech workers: ``join`` as their initializer), take the priority; the programs it
    starts do not."""
    def job() -> tuple[int, ...]:
        go, done = threading.Event(), threading.Event()
        seen: list[int] = []

        def writer() -> None:  # like the ledger's writer: started before
            go.wait()
            seen.append(_policy())
            done.set()

        threading.Thread(target=writer).start()
        enter(10)
        go.set()
        done.wait()
        with ThreadPoolExecutor(1, initializer=realtime.join) as speech:
            theirs = speech.submit(_policy).result()
        return (_policy(), os.sched_getparam(0).sched_priority, seen[0], theirs)

    try:
        assert _in_thread(job) == (os.SCHED_RR, 10, os.SCHED_RR, os.SCHED_RR)
        assert _policy() == os.SCHED_RR  # (the test runner's thread too: every thread)
    finally:  # the test runner's process back to normal
        realtime._priority = 0
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):
                os.sched_setscheduler(int(tid), os.SCHED_OTHER, os.sched_param(0))


def test_join_does_nothing_where_no_priority_was_set() -> None:
    assert realtime._priority == 0
    assert _in_thread(lambda: (realtime.join(), _policy())[1]) == os.SCHED_OTHER


@needs_rt
def test_programs_the_server_starts_run_at_normal_priority() -> None:
    def job() -> str:
        enter(10)
        return subprocess.run(["chrt", "-p", "0"], capture_output=True, text=True,
                              check=True, env={**os.environ}).stdout
    if shutil.which("chrt") is None:
        pytest.skip("no chrt")
    # (chrt -p 0 reports on itself: the forked program)
    assert "SCHED_OTHER" in _in_thread(job)


def test_the_configuration_key_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[runtime]\nmedia_priority = 20\n")
    assert load_config(str(good)).media_priority == 20
    assert load_config(None).media_priority == 0
    for value in ("120", "-3", '"high"', "true", "1.5"):
        bad = tmp_path / "bad.toml"
        bad.write_text(f"[runtime]\nmedia_priority = {value}\n")
        with pytest.raises(ConfigError, match=r"\[runtime\] media_priority must be a whole "
                                              r"number from 0 \(normal scheduling\) to 99"):
            load_config(str(bad))


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to drop to an unprivileged user")
def test_serve_refuses_at_once_where_real_time_is_not_allowed() -> None:
    """An unprivileged user (no CAP_SYS_NICE, rtprio limit 0): exit 2, told what to do."""
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
         sys.executable, "-m", "videotex.cli", "serve", "--sip", "127.0.0.1:0",
         "--media-priority", "10", "--store", "/nonexistent"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert "--media-priority = 10: this process may not use real-time scheduling" in done.stderr
    assert "CAP_SYS_NICE" in done.stderr


@needs_rt
async def test_a_phone_server_runs_its_loop_at_that_priority(tmp_path: Path) -> None:
    """A real ``videotex serve --sip --media-priority 7``: its loop's thread is SCHED_RR 7,
    and so is every other thread it has (which ones depends on what it did so far)."""
    from tests.helpers.processes import start_server
    from tests.helpers.results import build_synthetic_store
    from tests.phone.conftest import free_rtp_range

    store, _key = build_synthetic_store(tmp_path, 5, 20)
    config = tmp_path / "rt.toml"
    config.write_text("")
    server = start_server(store, config, tmp_path / "rt.log", "--sip",
                          f"127.0.0.1:0,rtp_ports={free_rtp_range()}", "--media-priority", "7",
                          ready="listening sip://")
    try:
        pid = server.proc.pid
        await server.log.wait_for("media at real-time priority")
        assert os.sched_getscheduler(pid) & ~RESET == os.SCHED_RR
        assert os.sched_getparam(pid).sched_priority == 7
        normal = {Path(f"/proc/{pid}/task/{t}/comm").read_text().strip()
                  for t in map(int, os.listdir(f"/proc/{pid}/task"))
                  if os.sched_getscheduler(t) & ~RESET != os.SCHED_RR}
        assert not normal, f"threads at normal priority: {normal}"
    finally:
        server.proc.terminate()
        server.proc.wait(20)
