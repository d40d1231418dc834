"""The LMDB results store: environment handling and the read API.

``DIR/results.lmdb`` holds four named databases: ``results`` (numero ->
record, see :mod:`records`), ``names`` (consenting candidates by normalised
name), ``batches`` (published batch metadata, JSON) and ``schedule`` (official
hours, UTC). Only published batches are ever written here: staged files stay
ciphertext under ``DIR/staged/``, so nothing of an embargoed batch can leak
through a lookup. Environments are opened lazily once per process and path,
and re-opened after a fork (an inherited environment is never touched).
Each lookup is one short read transaction.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lmdb

from .errors import StoreError
from .exams import ACADEMIES, EXAMS, batch_prefix, normalise_name
from .records import US, Result, decode_public, lazy_result

__all__ = ["MAP_SIZE", "BatchStatus", "ResultsStore", "StoreEnv", "batch_id", "close_env", "env_key", "open_env"]

#: Sparse map size: far above 2.25 M results (about 0.3 GiB).
MAP_SIZE = 8 << 30
MAX_READERS = 1024
UTC = datetime.UTC


@dataclass(frozen=True)
class StoreEnv:
    """An open environment and its named databases (one per process and path)."""

    env: lmdb.Environment
    results: Any
    names: Any
    batches: Any
    schedule: Any
    pid: int
    writable: bool


_ENVS: dict[str, StoreEnv] = {}
#: Generation of the registry: bumped whenever ``_ENVS`` changes and in a
#: forked child, so a :class:`ResultsStore` re-checks its cached environment
#: with one integer comparison per lookup.
_GEN = [0]


def _after_fork() -> None:
    _GEN[0] += 1


os.register_at_fork(after_in_child=_after_fork)
_DB_NAMES = (b"results", b"names", b"batches", b"schedule")


def env_key(store_dir: str | os.PathLike[str]) -> str:
    """The registry key (absolute environment path) of a store directory."""
    return str(Path(store_dir).resolve() / "results.lmdb")


def open_env(store_dir: str | os.PathLike[str], write: bool = False) -> StoreEnv:
    """The process's environment for ``store_dir``, opened on first use.

    Readers get a read-only environment, so opening never waits for a
    publisher's write lock; the first writer in a process re-opens it
    writable (creating the store if needed). Raises :class:`StoreError` if
    the store directory does not exist."""
    path = env_key(store_dir)
    pid = os.getpid()
    cached = _ENVS.get(path)
    if cached is not None:
        if cached.pid != pid:
            # Inherited through fork: never used here. py-lmdb refuses a second
            # open of the same files in a process, so release the inherited
            # handle first; LMDB's close only clears reader slots owned by
            # this pid and the parent's fcntl locks are not inherited.
            del _ENVS[path]
            _GEN[0] += 1
            cached.env.close()
        elif cached.writable or not write:
            return cached
        else:
            del _ENVS[path]
            _GEN[0] += 1
            cached.env.close()
    if not Path(store_dir).is_dir():
        raise StoreError(f"{store_dir}: no such store directory")
    opened = None
    if not write and Path(path, "data.mdb").exists():
        opened = _open(path, pid, readonly=True)
    if opened is None:
        opened = _open(path, pid, readonly=False)
        if opened is None:
            raise StoreError(f"{store_dir}: cannot create the LMDB store")
    _ENVS[path] = opened
    _GEN[0] += 1
    return opened


def _open(path: str, pid: int, readonly: bool) -> StoreEnv | None:
    try:
        env = lmdb.open(path, map_size=MAP_SIZE, max_dbs=8, max_readers=MAX_READERS,
                        lock=True, subdir=True, readahead=False, readonly=readonly)
    except lmdb.Error as exc:
        raise StoreError(f"{path}: cannot open the LMDB store: {exc}") from None
    try:
        env.reader_check()  # free the slots of readers that died (SIGKILL)
        dbs = [env.open_db(name, create=not readonly) for name in _DB_NAMES]
    except lmdb.NotFoundError:
        env.close()
        return None  # not initialised yet: a writable open creates the databases
    return StoreEnv(env, dbs[0], dbs[1], dbs[2], dbs[3], pid, not readonly)


def close_env(store_dir: str | os.PathLike[str]) -> None:
    """Close this process's environment for ``store_dir`` (if it opened one)."""
    cached = _ENVS.pop(env_key(store_dir), None)
    if cached is not None:
        _GEN[0] += 1
        if cached.pid == os.getpid():
            cached.env.close()


def batch_id(exam: str, academie: str) -> bytes:
    return f"{exam}/{academie}".encode()


@dataclass(frozen=True)
class BatchStatus:
    """Public state of one exam × académie: its official hour and publication.

    ``rows`` and ``session`` are known only once published; ``due`` says the
    official hour has come (always true without a schedule once published)."""

    exam: str
    academie: str
    scheduled_at: datetime.datetime | None
    published: bool
    published_at: datetime.datetime | None
    rows: int | None = None
    session: int | None = None
    due: bool = False


_Transaction = lmdb.Transaction
#: ISO bytes of the birth dates seen, as stored at the head of a record:
#: ``date.isoformat()`` costs more than the LMDB read. Bounded, so odd input
#: cannot grow it without limit (a human lifetime is about 30,000 dates).
_ISO_DATES: dict[datetime.date, bytes] = {}
_ISO_DATES_MAX = 1 << 16


def _iso_date(birth: datetime.date) -> bytes:
    iso = birth.isoformat().encode()
    if len(_ISO_DATES) < _ISO_DATES_MAX and type(birth) is datetime.date:
        _ISO_DATES[birth] = iso
    return iso


def _utc(text: bytes | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text.decode())


class ResultsStore:
    """Read API of the results store for the server (fork-safe, lazy)."""

    # The environment and results database of ``_opened``, for the hot path.
    _env: lmdb.Environment
    _results: Any

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._key = env_key(path)
        self._opened: StoreEnv | None = None
        self._gen = -1

    def _store(self) -> StoreEnv:
        opened = self._opened
        # Re-open on first use, after a fork, or when the registry changed (a
        # writer in this process re-opened the environment, or it was closed).
        if opened is None or self._gen != _GEN[0]:
            opened = self._opened = open_env(self.path)
            self._env, self._results = opened.env, opened.results
            self._gen = _GEN[0]
        return opened

    def close(self) -> None:
        """Release the environment (only if this process opened it)."""
        if self._opened is not None:
            close_env(self.path)
            self._opened = None
            self._gen = -1

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup_number(self, numero: str, birth: datetime.date) -> Result | None:
        """A candidate's full result (ajourné and mention included), or None
        when the number is unknown, unpublished, or the birth date differs.

        The returned result decodes its fields on first access (see
        :class:`Result`); the birth date is compared on the stored bytes."""
        # The server's hot path, kept flat on purpose (bench/bench_store.py).
        if self._gen != _GEN[0]:
            self._store()
        if len(numero) != 10 or not numero.isascii():
            return None
        # One short read transaction: py-lmdb recycles the reader slot of the
        # previous one (mdb_txn_reset/renew), so this is cheap; it is never
        # held beyond the get, and the value is copied out as bytes.
        txn = _Transaction(self._env, self._results)
        try:
            value = txn.get(numero.encode())
        finally:
            txn.abort()  # read-only: cheaper than the context manager's commit
        if value is None:
            return None
        iso = _ISO_DATES.get(birth)
        if iso is None:
            iso = _iso_date(birth)
        if value[:10] != iso:
            return None
        return lazy_result(numero, value, birth)

    def lookup_name(self, nom: str, exam: str, academie: str, prenom: str | None = None,
                    limit: int = 50) -> list[Result]:
        """Consenting candidates of a published batch with this surname, accent-
        and case-insensitive, sorted by nom then prénom; homonyms all listed.
        ``prenom`` keeps those whose first names equal it or start with it as
        whole words ("Jean" finds "Jean-Pierre"). Mentions are not public data:
        results found by name carry ``mention=None``."""
        start = batch_prefix(exam, academie)
        nn = normalise_name(nom)
        if not nn or limit <= 0:
            return []
        pn = normalise_name(prenom) if prenom else ""
        head = f"{start}{nn}{US}".encode()
        found: list[Result] = []
        s = self._store()
        with s.env.begin() as txn:
            cursor = txn.cursor(db=s.names)
            if not cursor.set_range(head):
                return []
            for key in cursor.iternext(values=False):
                if not key.startswith(head):
                    break
                first, numero = key[len(head):].decode().split(US)
                if pn and first != pn and not first.startswith(pn + " "):
                    continue
                value = txn.get(numero.encode(), db=s.results)
                if value is None:  # cannot happen: written in the same transaction
                    continue
                found.append(decode_public(numero, value))
                if len(found) >= limit:
                    break
        return found

    def count_rows(self, exam: str, academie: str) -> int:
        """How many results of this batch are published (0 if none)."""
        prefix = batch_prefix(exam, academie).encode()
        s = self._store()
        count = 0
        with s.env.begin(db=s.results) as txn:
            cursor = txn.cursor()
            if cursor.set_range(prefix):
                for key in cursor.iternext(values=False):
                    if not key.startswith(prefix):
                        break
                    count += 1
        return count

    def status(self, exam: str, academie: str, now: datetime.datetime) -> BatchStatus:
        """Public state of one batch (the schedule is public; rows only once out)."""
        batch_prefix(exam, academie)
        s = self._store()
        with s.env.begin() as txn:
            scheduled = _utc(txn.get(batch_id(exam, academie), db=s.schedule))
            meta = txn.get(batch_id(exam, academie), db=s.batches)
        return _status(exam, academie, scheduled, meta, now)

    def statuses(self, now: datetime.datetime) -> list[BatchStatus]:
        """Every exam × académie with a schedule or a publication, in id order."""
        s = self._store()
        found: dict[bytes, tuple[datetime.datetime | None, bytes | None]] = {}
        with s.env.begin() as txn:
            for key, value in txn.cursor(db=s.schedule):
                found[key] = (_utc(value), None)
            for key, value in txn.cursor(db=s.batches):
                found[key] = (found.get(key, (None, None))[0], value)
        out = []
        for key, (scheduled, meta) in found.items():
            exam, academie = key.decode().split("/")
            out.append(_status(exam, academie, scheduled, meta, now))
        order = {e: i for i, e in enumerate(EXAMS)} | {a: i for i, a in enumerate(ACADEMIES)}
        out.sort(key=lambda st: (order[st.exam], order[st.academie]))
        return out

    def disk_size(self) -> int:
        """Bytes used on disk by the LMDB environment (the map file is sparse)."""
        data = Path(self._key) / "data.mdb"
        return data.stat().st_blocks * 512 if data.exists() else 0


def _status(exam: str, academie: str, scheduled: datetime.datetime | None,
            meta_raw: bytes | None, now: datetime.datetime) -> BatchStatus:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (UTC)")
    meta = json.loads(meta_raw) if meta_raw else None
    published_at = datetime.datetime.fromisoformat(meta["published_at"]) if meta else None
    due = scheduled <= now if scheduled is not None else meta is not None
    return BatchStatus(exam, academie, scheduled, meta is not None, published_at,
                       meta["rows"] if meta else None, meta["session"] if meta else None, due)
