"""Many processes: atomic visibility, SIGKILL mid-publication, fork safety."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from videotex.store import ResultsStore, publish_batch
from videotex.store.lmdbstore import close_env

from .helpers import KEY, NOW, many_rows, number, row, stage
from .test_publish import _dump

ROOT = Path(__file__).resolve().parents[2]
BIRTH = datetime.date(1987, 3, 4)


def _spawn(code: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.fixture
def store_dir(tmp_path: Path):
    yield tmp_path / "store"
    close_env(tmp_path / "store")


def test_reader_in_another_process_never_sees_a_partial_batch(tmp_path: Path,
                                                              store_dir: Path) -> None:
    stage(tmp_path, many_rows(3000))
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    stage(tmp_path, many_rows(12000), replace=True)
    reader = _spawn(f"""
        import json, select, sys
        from videotex.store.lmdbstore import open_env
        s = open_env({str(store_dir)!r})
        seen = set()
        def count(txn, db, prefix):
            cursor = txn.cursor(db=db)
            n = 0
            if cursor.set_range(prefix):
                for key in cursor.iternext(values=False):
                    if not key.startswith(prefix):
                        break
                    n += 1
            return n
        def look():  # both databases in one read transaction
            with s.env.begin() as txn:
                seen.add((count(txn, s.results, b"261"), count(txn, s.names, b"261NOM1\x1f")))
        look()
        print("ready", flush=True)
        while not select.select([sys.stdin], [], [], 0)[0]:
            look()
        look()
        print(json.dumps(sorted(seen)), flush=True)
    """)
    assert reader.stdout is not None and reader.stdin is not None
    assert reader.stdout.readline().strip() == "ready"
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    reader.stdin.write("stop\n")
    reader.stdin.flush()
    seen = {tuple(pair) for pair in json.loads(reader.stdout.readline())}
    assert reader.wait() == 0
    # "Nom1" is row 1, 98, 195...: 31 of 3000, 124 of 12000. Nothing in between.
    assert seen <= {(3000, 31), (12000, 124)}
    assert (12000, 124) in seen


def test_sigkill_halfway_leaves_previous_state_and_can_publish_again(
        tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, [row("bac", "creteil", 1)], academie="creteil", name="c.sealed")
    publish_batch(store_dir, "bac", "creteil", KEY, NOW)
    stage(tmp_path, many_rows(500))
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    stage(tmp_path, many_rows(20000), replace=True)
    before = _dump(store_dir)
    child = _spawn(f"""
        import sys
        import videotex.store.publish as publish
        from videotex.store.publish import publish_batch
        from tests.store.helpers import KEY, NOW

        def pausing(items):
            for i, item in enumerate(items):
                if i == len(items) // 2:
                    print("half", flush=True)  # inside the write transaction
                    sys.stdin.readline()  # wait here until killed
                yield item

        publish._records_iter = pausing
        publish_batch({str(store_dir)!r}, "bac", "versailles", KEY, NOW)
        print("finished", flush=True)
    """)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "half"
    # While the writer is stuck mid-transaction, readers keep the previous state.
    store = ResultsStore(store_dir)
    assert store.count_rows("bac", "versailles") == 500
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    close_env(store_dir)  # reopen from scratch
    assert _dump(store_dir) == before
    assert ResultsStore(store_dir).count_rows("bac", "versailles") == 500
    status = publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    assert status.rows == 20000
    assert ResultsStore(store_dir).lookup_number(number("bac", "versailles", 20000), BIRTH)


def test_store_reopens_after_fork(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, [row(serial=1)])
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    store = ResultsStore(store_dir)
    assert store.lookup_number(number("bac", "versailles", 1), BIRTH) is not None
    inherited = store._opened
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's environment
        code = 1
        try:
            found = store.lookup_number(number("bac", "versailles", 1), BIRTH)
            code = 0 if found is not None and store._opened is not inherited else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store._opened is inherited  # the parent keeps its own, still working
    assert store.lookup_number(number("bac", "versailles", 1), BIRTH) is not None
    stage(tmp_path, [row(serial=1), row(serial=2)], replace=True)
    assert publish_batch(store_dir, "bac", "versailles", KEY, NOW).rows == 2
    assert store.lookup_number(number("bac", "versailles", 2), BIRTH) is not None
