"""The durable call ledger: LMDB, written in batches by a background thread.

A record is opened when the caller is connected, checkpointed at least every
``checkpoint_every`` seconds, and closed at the end. The event loop never waits on a
disk sync: :meth:`Ledger.open_record`, :meth:`checkpoint` and :meth:`close_record`
only queue; one writer thread per process commits what is queued in one LMDB write
transaction (synced) at most every ``batch_interval`` seconds.

Keys are ``started_at (UTC ISO) | session_id``, so reports scan a time range in order.
An ``open`` table lists the records not closed yet with their owner (host, pid, process
start time: a reused pid is not mistaken for the owner). :meth:`recover` closes the
open records of owners that are dead at their last checkpoint, marked ``recovered``, so
several processes can share one ledger and a restarted worker recovers a dead one's.

A full disk or a full map raises an alarm (``healthy`` False, a log error); queued
records stay queued and are retried, never dropped.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import lmdb

__all__ = ["CallRecord", "Ledger", "LedgerError", "owner_alive", "this_owner"]

log = logging.getLogger("videotex.billing")

MAP_SIZE = 16 << 30


class LedgerError(RuntimeError):
    """The ledger cannot be opened or written."""


@dataclass
class CallRecord:
    session_id: str
    channel: str
    caller: str
    service: str
    started_at: str
    ended_at: str | None
    duration_s: float
    units: int
    amount_eur: str
    result_found: bool
    lookups: int
    recovered: bool = False
    plan: str = ""
    owner: str = ""
    checkpoint_at: str | None = None
    close_reason: str = ""

    @property
    def key(self) -> bytes:
        return f"{self.started_at}|{self.session_id}".encode()

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> CallRecord:
        raw = json.loads(data)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})

    def public(self) -> dict[str, Any]:
        """The fields of the issue, for JSON reports."""
        keys = ("session_id", "channel", "caller", "service", "started_at", "ended_at",
                "duration_s", "units", "amount_eur", "result_found", "lookups", "recovered")
        d = asdict(self)
        return {k: d[k] for k in keys}


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def this_owner() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if host != socket.gethostname():
        return True  # another node's record: never ours to recover
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return ticks == _start_ticks(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_ticks(pid) == ticks


class Ledger:
    """One ledger environment for this process (open it after any fork)."""

    def __init__(self, store_dir: str | os.PathLike[str], *, batch_interval: float = 0.5,
                 readonly: bool = False) -> None:
        path = Path(store_dir) / "billing.lmdb"
        try:
            if not readonly:
                path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=4, max_readers=1024,
                                 subdir=True, readonly=readonly, lock=True)
        except lmdb.Error as e:
            raise LedgerError(f"{path}: cannot open the billing ledger: {e}") from None
        self.path = path
        self.records = self.env.open_db(b"records", create=not readonly)
        self.open_index = self.env.open_db(b"open", create=not readonly)
        self.offers = self.env.open_db(b"offers", create=not readonly)
        self.owner = this_owner()
        self.healthy = True
        self.problem = ""
        self.batch_interval = batch_interval
        self._queue: queue.SimpleQueue[tuple[str, bytes, bytes | None] | None] = queue.SimpleQueue()
        self._queued = 0
        self._written = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.commits = 0

    # -- writes (queued) -------------------------------------------------------------

    def _put(self, record: CallRecord, *, is_open: bool) -> None:
        with self._cond:
            self._queued += 1
        self._queue.put(("open" if is_open else "close", record.key, record.to_bytes()))
        if self._thread is None:
            self._start()

    def open_record(self, record: CallRecord) -> None:
        record.owner = self.owner
        self._put(record, is_open=True)

    def checkpoint(self, record: CallRecord) -> None:
        self._put(record, is_open=True)

    def close_record(self, record: CallRecord) -> None:
        self._put(record, is_open=False)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._writer, name="ledger-writer", daemon=True)
        self._thread.start()

    def _writer(self) -> None:
        pending: list[tuple[str, bytes, bytes | None]] = []
        stop = False
        while not stop:
            if not pending:
                item = self._queue.get()
                if item is None:
                    break
                pending.append(item)
            deadline = time.monotonic() + self.batch_interval
            while len(pending) < 20000:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                pending.append(item)
            if self._commit(pending):
                with self._cond:
                    self._written += len(pending)
                    self._cond.notify_all()
                pending = []
            else:
                time.sleep(1.0)  # disk full: keep the batch, retry
        if pending:
            self._commit(pending)
            with self._cond:
                self._written += len(pending)
                self._cond.notify_all()

    def _commit(self, batch: list[tuple[str, bytes, bytes | None]]) -> bool:
        try:
            with self.env.begin(write=True) as txn:
                for kind, key, value in batch:
                    assert value is not None
                    txn.put(key, value, db=self.records)
                    if kind == "open":
                        txn.put(key, self.owner.encode(), db=self.open_index)
                    else:
                        txn.delete(key, db=self.open_index)
        except (lmdb.MapFullError, lmdb.DiskError, OSError, lmdb.Error) as e:
            if self.healthy:
                log.error("billing ledger cannot write: %s; %d records waiting", e,
                          len(batch), extra={"alarm": "ledger"})
            self.healthy = False
            self.problem = f"billing ledger: {e}"
            return False
        if not self.healthy:
            log.warning("billing ledger writes again", extra={"alarm": "ledger"})
        self.healthy = True
        self.problem = ""
        self.commits += 1
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is on disk."""
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._written >= target, timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        self.env.close()

    # -- recovery and reading -------------------------------------------------------

    def recover(self) -> int:
        """Close the records left open by dead owners at their last checkpoint."""
        closed = 0
        with self.env.begin(write=True) as txn:
            cur = txn.cursor(db=self.open_index)
            stale = [(bytes(k), bytes(v).decode()) for k, v in cur
                     if not owner_alive(bytes(v).decode())]
            for key, _owner in stale:
                raw = txn.get(key, db=self.records)
                txn.delete(key, db=self.open_index)
                if raw is None:
                    continue
                rec = CallRecord.from_bytes(raw)
                rec.ended_at = rec.checkpoint_at or rec.started_at
                rec.recovered = True
                rec.close_reason = "recovered"
                txn.put(key, rec.to_bytes(), db=self.records)
                closed += 1
        if closed:
            log.warning("billing records recovered after a crash", extra={"records": closed})
        return closed

    def iter_records(self, frm: datetime | None = None, to: datetime | None = None
                     ) -> Iterator[CallRecord]:
        lo = frm.isoformat().encode() if frm else b""
        hi = to.isoformat().encode() if to else None
        with self.env.begin(db=self.records) as txn:
            cur = txn.cursor()
            if not cur.set_range(lo):
                return
            for key, value in cur:
                if hi is not None and bytes(key) >= hi:
                    break
                yield CallRecord.from_bytes(bytes(value))

    def open_count(self) -> int:
        with self.env.begin(db=self.open_index) as txn:
            return int(txn.stat(self.open_index)["entries"])
