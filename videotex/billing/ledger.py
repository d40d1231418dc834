"""The durable call ledger: LMDB, written in batches by a background thread.

A record is opened when the caller is connected, checkpointed at least every
``checkpoint_every`` seconds, and closed at the end. The event loop never waits on a
disk sync: :meth:`Ledger.open_record`, :meth:`checkpoint` and :meth:`close_record`
only queue; one writer thread per process commits what is queued in one LMDB write
transaction (synced) at most every ``batch_interval`` seconds. Each operation has a
ticket (its rank in the queue); ``await`` :meth:`Ledger.durable` waits, without blocking
the loop, for the commit that holds it: a call is served only once its opening is on
disk, so a crash never leaves a served caller without a record. An opening is
committed without the gathering delay (whatever else is queued goes with it).

Keys are ``started_at (UTC ISO) | session_id``, so reports scan a time range in order.
An ``open`` table lists the records not closed yet with their owner (host, pid, process
start time: a reused pid is not mistaken for the owner). :meth:`recover` closes the
open records of owners that are dead at their last checkpoint, marked ``recovered``, so
several processes can share one ledger and a restarted worker recovers a dead one's.

A full disk or a full map raises an alarm (``healthy`` False, a log error); queued
records stay queued and are retried, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lmdb

__all__ = ["PUBLIC_FIELDS", "CallRecord", "Ledger", "LedgerError", "owner_alive", "this_owner",
           "utc_iso"]

log = logging.getLogger("videotex.billing")

#: Sparse: the file grows with what is written, not with the map size.
MAP_SIZE = 16 << 30
#: Most operations committed in one transaction.
MAX_BATCH = 20000

#: The record fields of the issue, in order (``--format json`` lists exactly these).
PUBLIC_FIELDS = ("session_id", "channel", "caller", "service", "started_at", "ended_at",
                 "duration_s", "units", "amount_eur", "result_found", "lookups", "recovered")


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def _c_encoder() -> Any:
    """The C encoder that ``_ENCODE`` builds anew at each call (most of its cost), built
    once: the same bytes (ASCII, the rest escaped), without the circularity check (a
    record is flat). None without the C accelerator."""
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        return make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
                    None, ":", ",", False, False, True) if make else None
    except TypeError:  # another signature: use the plain encoder
        return None


_C_ENCODE = _c_encoder()


def _encode_flat(obj: dict[str, Any]) -> str:
    """``_ENCODE(obj)`` for a dict of plain values."""
    if _C_ENCODE is None:
        return _ENCODE(obj)
    return "".join(_C_ENCODE(obj, 0))


class LedgerError(RuntimeError):
    """The ledger cannot be opened or written."""


def utc_iso(when: datetime) -> str:
    """A fixed-width UTC timestamp, ``2005-07-08T08:00:00.000Z``: keys sort in time order.

    Naive datetimes are taken as UTC. (The string of ``strftime("%Y-%m-%dT%H:%M:%S.%f")``
    cut to the millisecond, but a year before 1000 has its four digits too.)"""
    if when.tzinfo is not None:
        if when.tzinfo is not UTC:
            when = when.astimezone(UTC)
        when = when.replace(tzinfo=None)
    return when.isoformat(timespec="milliseconds") + "Z"


@dataclass
class CallRecord:
    """One call as the ledger keeps it (times UTC, see :func:`utc_iso`)."""

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
    #: Tariff plan name, so that reports use its VAT rate and provider share.
    plan: str = ""
    #: ``host:pid:process start ticks`` of the process that opened the record.
    owner: str = ""
    #: Time of the last checkpoint (where a crash leaves the record).
    checkpoint_at: str | None = None
    #: Why the call ended ("caller", "idle", "shutdown", ..., "recovered").
    close_reason: str = ""
    #: One-off charges included in ``amount_eur`` (per-consultation purchases).
    charges_eur: str = "0"
    #: When recovery closed the record (None unless ``recovered``).
    recovered_at: str | None = None
    #: The plan's VAT rate and provider share when the call was made (reports use them:
    #: a tariff changed later does not rewrite past revenue).
    vat_rate: str = "0.196"
    provider_share: str = "0.70"
    #: The line as the transport knows it (``address:port``, a modem line): which
    #: connection this record bills, to match it with a caller's own log.
    peer: str = ""
    #: A call through the kiosk is billed in parts, one record per service visited (each
    #: at its service's tariff): the call's id, shared by its parts, and this part's rank.
    call_id: str = ""
    part: int = 1

    @property
    def key(self) -> bytes:
        return f"{self.started_at}|{self.session_id}".encode()

    def to_bytes(self) -> bytes:
        """Compact JSON (the instance dict holds exactly the fields, all plain values)."""
        return _encode_flat(self.__dict__).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> CallRecord:
        raw = json.loads(data)
        try:
            return cls(**raw)
        except TypeError:  # written by a newer version with more fields
            names = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in names})

    def public(self) -> dict[str, Any]:
        """The fields of the issue, for JSON reports."""
        d = asdict(self)
        return {k: d[k] for k in PUBLIC_FIELDS}


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def this_owner() -> str:
    """``host:pid:start ticks`` of this process (a reused pid has other start ticks)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(owner: str) -> bool:
    """Whether the process that wrote ``owner`` still runs (other hosts: assumed so)."""
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


#: What a queued operation does besides writing the record. An opening lists the record
#: in the ``open`` table (and is committed without the gathering delay: a caller waits for
#: it); a checkpoint leaves that table alone (the record's opening was queued before it,
#: and the writer commits in queue order); a closing takes the record out of it.
_OPEN, _CHECKPOINT, _CLOSE = 0, 1, 2
#: A queued operation: (kind, key, value).
_Op = tuple[int, bytes, bytes]


def _resolve(futs: list[asyncio.Future[None]]) -> None:
    for fut in futs:
        if not fut.done():  # a waiter cancelled meanwhile (its caller hung up, shutdown)
            fut.set_result(None)


class Ledger:
    """One ledger environment for this process (open it after any fork).

    Writes only queue (the event loop never waits on the disk); one writer thread commits
    what is queued in one synced transaction (group commit: whatever queued up during the
    previous commit, after at most ``batch_interval`` s of gathering)."""

    def __init__(self, store_dir: str | os.PathLike[str], *, batch_interval: float = 0.01,
                 readonly: bool = False) -> None:
        if not 0 <= batch_interval <= 1:
            raise ValueError(f"batch_interval must be between 0 and 1 s, not {batch_interval}")
        path = Path(store_dir) / "billing.lmdb"
        try:
            if not readonly:
                path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=MAP_SIZE, max_dbs=4, max_readers=1024,
                                 subdir=True, readonly=readonly, lock=True)
            self._records_db = self.env.open_db(b"records", create=not readonly)
            self._open_db = self.env.open_db(b"open", create=not readonly)
            #: Per-consultation entitlements (see :class:`~videotex.billing.OfferBook`).
            self.offers_db = self.env.open_db(b"offers", create=not readonly)
        except lmdb.Error as e:
            raise LedgerError(f"{path}: cannot open the billing ledger: {e}") from None
        self.path = path
        self.owner = this_owner()
        #: False while records cannot be written (disk or map full); ``problem`` says why.
        self.healthy = True
        self.problem = ""
        self.batch_interval = batch_interval
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._queued = 0
        self._written = 0
        #: Held to take a ticket (``with self._lock``: C-level, unlike the condition's).
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        #: (ticket, n, loop, future) of the coroutines waiting in :meth:`durable`.
        self._waiters: list[tuple[int, int, asyncio.AbstractEventLoop,
                                  asyncio.Future[None]]] = []
        self._waiter_n = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Transactions committed, and operations (opens, checkpoints, closes) written.
        self.commits = 0

    # -- writes (queued) -------------------------------------------------------------

    def _put(self, record: CallRecord, kind: int) -> int:
        if self._closed:
            raise LedgerError(f"{self.path}: the ledger is closed; record "
                              f"{record.session_id} was not queued")
        # the bytes are taken now: later changes to the record go with a later operation
        op = (kind, record.key, record.to_bytes())
        with self._lock:  # tickets in queue order, whatever thread queues
            self._queued += 1
            ticket = self._queued
            self._queue.put(op)
        if self._thread is None:
            self._start()
        return ticket

    def open_record(self, record: CallRecord) -> int:
        """Queue a new record (still open), stamped with this process as owner; it is
        committed without waiting to gather more. Returns its ticket for
        :meth:`durable`: serve the caller once that returns."""
        record.owner = self.owner
        if record.checkpoint_at is None:
            record.checkpoint_at = record.started_at
        return self._put(record, _OPEN)

    def checkpoint(self, record: CallRecord) -> int:
        """Queue the current state of an open record (where a crash would leave it); its
        :meth:`open_record` must have been queued before (the ``open`` table keeps the
        entry that put there)."""
        record.owner = record.owner or self.owner
        return self._put(record, _CHECKPOINT)

    def close_record(self, record: CallRecord) -> int:
        """Queue the final state of a record; it is no longer open."""
        record.owner = record.owner or self.owner
        return self._put(record, _CLOSE)

    def is_durable(self, ticket: int) -> bool:
        """Whether the operation of ``ticket`` (and every one queued before) is on disk."""
        return self._written >= ticket

    async def durable(self, ticket: int) -> None:
        """Wait, without blocking the event loop, until the operation of ``ticket`` is
        committed (the writer wakes the loop once per commit for all its waiters)."""
        if self._written >= ticket:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._written >= ticket:
                return
            heapq.heappush(self._waiters, (ticket, next(self._waiter_n), loop, fut))
        await fut

    def _wake(self) -> None:
        """Called by the writer (``_cond`` held) after a commit: resolve the waiters whose
        operation is now on disk, one call into each waiting loop."""
        ready: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        while self._waiters and self._waiters[0][0] <= self._written:
            _ticket, _n, loop, fut = heapq.heappop(self._waiters)
            ready.setdefault(loop, []).append(fut)
        for loop, futs in ready.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                loop.call_soon_threadsafe(_resolve, futs)

    @property
    def pending(self) -> int:
        """Operations queued and not yet on disk."""
        with self._cond:
            return self._queued - self._written

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._writer, name="ledger-writer", daemon=True)
        self._thread.start()

    def _writer(self) -> None:
        pending: list[_Op] = []
        stop = False
        retry = 0.05
        while True:
            if not pending:
                if stop:
                    break
                item = self._queue.get()
                if item is None:
                    break
                pending.append(item)
            # gather what is already queued, waiting at most batch_interval for more,
            # and not at all once an opening is in the batch (a caller waits for it)
            urgent = any(op[0] == _OPEN for op in pending)
            deadline = time.monotonic() + self.batch_interval
            while len(pending) < MAX_BATCH and not stop:
                try:
                    timeout = 0.0 if urgent else deadline - time.monotonic()
                    item = (self._queue.get(timeout=timeout) if timeout > 0
                            else self._queue.get_nowait())
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    pending.append(item)
                    urgent = urgent or item[0] == _OPEN
            if self._commit(pending):
                with self._cond:
                    self._written += len(pending)
                    self._cond.notify_all()
                    if self._waiters:
                        self._wake()
                pending = []
                retry = 0.05
            else:
                time.sleep(retry)  # disk or map full: keep the batch, retry
                retry = min(1.0, retry * 2)

    def _commit(self, batch: list[_Op]) -> bool:
        owner = self.owner.encode()
        try:
            with self.env.begin(write=True) as txn:
                records = txn.cursor(db=self._records_db)
                listed = txn.cursor(db=self._open_db)
                for kind, key, value in batch:
                    records.put(key, value)
                    if kind == _OPEN:
                        listed.put(key, owner)
                    elif kind == _CLOSE and listed.set_key(key):
                        listed.delete()
        except (lmdb.Error, OSError) as e:
            if self.healthy:
                log.error("billing ledger cannot write: %s; %d records waiting", e,
                          len(batch), extra={"alarm": "ledger"})
            self.problem = f"billing ledger {self.path}: {e}"
            self.healthy = False
            return False
        if not self.healthy:
            log.warning("billing ledger writes again", extra={"alarm": "ledger"})
        self.healthy = True
        self.problem = ""
        self.commits += 1
        if log.isEnabledFor(logging.DEBUG):  # what a test of another process can await
            log.debug("ledger commit", extra={"operations": len(batch)})
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is on disk; False after ``timeout`` s."""
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._written >= target, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, stop the writer, close the environment."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("billing ledger: %d records still queued at close; they stay "
                          "open on disk and are recovered at the next start", self.pending,
                          extra={"alarm": "ledger"})
                return  # the writer still uses the environment
            self._thread = None
        self.env.close()

    # -- recovery and reading -------------------------------------------------------

    def recover(self, now_wall: datetime | None = None) -> int:
        """Close the records left open by dead owners at their last checkpoint, marked
        ``recovered`` (``recovered_at`` = ``now_wall``); a live owner's are left alone.
        Returns how many were closed."""
        stamp = utc_iso(now_wall or datetime.now(UTC))
        closed = 0
        alive: dict[str, bool] = {}
        with self.env.begin(write=True) as txn:
            cur = txn.cursor(db=self._open_db)
            stale = []
            for k, v in cur:
                owner = bytes(v).decode()
                if owner not in alive:
                    alive[owner] = owner_alive(owner)
                if not alive[owner]:
                    stale.append(bytes(k))
            for key in stale:
                raw = txn.get(key, db=self._records_db)
                txn.delete(key, db=self._open_db)
                if raw is None:
                    continue
                rec = CallRecord.from_bytes(raw)
                rec.ended_at = rec.checkpoint_at or rec.started_at
                rec.recovered = True
                rec.recovered_at = stamp
                rec.close_reason = "recovered"
                txn.put(key, rec.to_bytes(), db=self._records_db)
                closed += 1
        if closed:
            log.warning("billing records recovered after a crash", extra={"records": closed})
        return closed

    def records(self, frm: datetime | str | None = None, to: datetime | str | None = None
                ) -> Iterator[CallRecord]:
        """Records started in ``[frm, to)`` (UTC; naive datetimes are UTC), in time order."""
        lo = (utc_iso(frm) if isinstance(frm, datetime) else frm or "").encode()
        hi = (utc_iso(to) if isinstance(to, datetime) else to or "").encode() or None
        with self.env.begin(db=self._records_db) as txn:
            cur = txn.cursor()
            if not cur.set_range(lo):
                return
            for key, value in cur:
                if hi is not None and bytes(key) >= hi:
                    break
                yield CallRecord.from_bytes(bytes(value))

    iter_records = records

    def open_count(self) -> int:
        """Records not closed yet (live calls, or a crash not yet recovered)."""
        with self.env.begin(db=self._open_db) as txn:
            return int(txn.stat(self._open_db)["entries"])
