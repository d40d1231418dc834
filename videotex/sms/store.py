"""The SMS channel's durable state, in its own LMDB environment (``sms.lmdb`` beside the
billing ledger): messages received, the outbox, alert subscriptions, publication waves.

Owns: what survives a crash. An MO is acknowledged to the SMSC only once :meth:`SmsStore.write`
has committed it (with its answer already in the outbox, in the same transaction); an
outbox entry leaves ``due`` only when the SMSC has accepted every part; a wave of alerts
records how far it went with the entries it made, in the same transaction.

Tables (keys and values are bytes; values are compact JSON):

- ``mo``: message key (``id:<smsc id>`` or ``h:<hash of sender and text>``) -> the message;
- ``out``: outbox key (``R:<mo key>`` an answer, ``A:<subscription>`` an alert) -> entry;
- ``due``: outbox keys the SMSC has not accepted yet (what a restart sends);
- ``smscid``: the SMSC's message id -> outbox key (delivery receipts find their entry);
- ``subs``: ``exam|académie|numéro|msisdn`` -> an alert subscription;
- ``subs_by``: ``msisdn|<subs key>`` -> b"" (a sender's alerts: STOP, the limit per sender);
- ``waves``: ``exam|académie`` -> how far that batch's wave of alerts went;
- ``unbilled``: ``mo`` or ``out`` keys whose ledger record is not known durable yet;
- ``parts``: ``msisdn|ref|total|index`` -> a part of a concatenated MO still incomplete.

Writes go to one writer thread that commits whatever queued up in one synced transaction
(group commit) and resolves the callers' futures on their loop; reads are short read
transactions in the caller's thread. Open it after any fork.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lmdb

__all__ = ["Op", "SmsStore", "SmsStoreError", "dumps", "loads"]

log = logging.getLogger("videotex.sms")

_TABLES = ("mo", "out", "due", "smscid", "subs", "subs_by", "waves", "unbilled", "parts")
#: (table, key, value or None to delete)
Op = tuple[str, bytes, bytes | None]
MAP_SIZE = 8 << 30


class SmsStoreError(RuntimeError):
    """The SMS store cannot be opened or written; the message names the path."""


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict):
        raise SmsStoreError(f"SMS store: a record is not an object: {data[:60]!r}")
    return value


class SmsStore:
    def __init__(self, directory: str | Path, *, map_size: int = MAP_SIZE) -> None:
        path = Path(directory) / "sms.lmdb"
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.env = lmdb.open(str(path), map_size=map_size, max_dbs=len(_TABLES) + 1,
                                 max_readers=1024, subdir=True)
            self.db = {name: self.env.open_db(name.encode()) for name in _TABLES}
        except lmdb.Error as e:
            raise SmsStoreError(f"{path}: cannot open the SMS store: {e}") from None
        self.path = path
        self._queue: queue.SimpleQueue[
            tuple[list[Op], asyncio.AbstractEventLoop, asyncio.Future[None]] | None
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Transactions committed (tests and benchmarks read it).
        self.commits = 0

    # -- writes -----------------------------------------------------------------------

    def write(self, ops: list[Op]) -> asyncio.Future[None]:
        """Queue ``ops`` for the next group commit; the future is done once they are on
        disk (or fails with :class:`SmsStoreError`: then nothing of them was written)."""
        if self._closed:
            raise SmsStoreError(f"{self.path}: the SMS store is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._queue.put((ops, loop, fut))
        if self._thread is None:
            self._thread = threading.Thread(target=self._writer, name="sms-store", daemon=True)
            self._thread.start()
        return fut

    def write_now(self, ops: list[Op]) -> None:
        """Commit ``ops`` in this thread (startup, tools, tests: no loop running)."""
        self._commit(ops)

    def _writer(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 10_000:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            error: BaseException | None = None
            try:
                self._commit([op for ops, _, _ in batch for op in ops])
            except SmsStoreError as e:
                error = e
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, loop, fut in batch:
                by_loop.setdefault(loop, []).append(fut)
            for loop, futs in by_loop.items():
                # a closed loop: nobody waits any more
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_resolve, futs, error)

    def _commit(self, ops: list[Op]) -> None:
        try:
            with self.env.begin(write=True) as txn:
                for table, key, value in ops:
                    if value is None:
                        txn.delete(key, db=self.db[table])
                    else:
                        txn.put(key, value, db=self.db[table])
        except (lmdb.Error, OSError) as e:
            log.error("SMS store cannot write: %s", e, extra={"alarm": "sms-store"})
            raise SmsStoreError(f"{self.path}: cannot write: {e}") from None
        self.commits += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(30)
        self.env.close()

    # -- reads ------------------------------------------------------------------------

    def get(self, table: str, key: bytes) -> dict[str, Any] | None:
        with self.env.begin(db=self.db[table]) as txn:
            raw = txn.get(key)
        return None if raw is None else loads(raw)

    def get_raw(self, table: str, key: bytes) -> bytes | None:
        with self.env.begin(db=self.db[table]) as txn:
            raw = txn.get(key)
        return None if raw is None else bytes(raw)

    def has(self, table: str, key: bytes) -> bool:
        with self.env.begin(db=self.db[table]) as txn:
            return txn.get(key) is not None

    def keys(self, table: str, prefix: bytes = b"", *, after: bytes | None = None,
             limit: int = 1_000) -> list[bytes]:
        """Up to ``limit`` keys of ``table`` starting with ``prefix``, past ``after``."""
        return [key for key, _ in self._scan(table, prefix, after, limit, values=False)]

    def items(self, table: str, prefix: bytes = b"", *, after: bytes | None = None,
              limit: int = 1_000) -> list[tuple[bytes, dict[str, Any]]]:
        """As :meth:`keys`, with the records."""
        return [(key, loads(value)) for key, value in self._scan(table, prefix, after, limit)]

    def _scan(self, table: str, prefix: bytes, after: bytes | None, limit: int, *,
              values: bool = True) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        with self.env.begin(db=self.db[table]) as txn:
            cur = txn.cursor()
            if not cur.set_range(after if after is not None else prefix):
                return out
            if after is not None and cur.key() == after and not cur.next():
                return out
            for key, value in cur.iternext(values=True):
                if not key.startswith(prefix) or len(out) >= limit:
                    break
                out.append((bytes(key), bytes(value) if values else b""))
        return out

    def iter_keys(self, table: str, prefix: bytes = b"") -> Iterator[bytes]:
        """Every key of ``table`` with ``prefix``, in pages (no transaction held between)."""
        after: bytes | None = None
        while True:
            page = self.keys(table, prefix, after=after, limit=5_000)
            yield from page
            if len(page) < 5_000:
                return
            after = page[-1]

    def count(self, table: str) -> int:
        with self.env.begin(db=self.db[table]) as txn:
            return int(txn.stat(self.db[table])["entries"])


def _resolve(futs: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futs:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(SmsStoreError(str(error)))
