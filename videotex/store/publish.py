"""Staging sealed files and publishing batches atomically.

``ingest`` keeps only the sealed file (ciphertext) under ``DIR/staged/``,
atomically (temp file, fsync, rename). Re-ingesting a batch that is not yet
published replaces its staged file; for a published batch it is refused
unless ``replace=True`` (a correction, published by the next ``publish``).

``publish_batch`` checks the official hour, decrypts, validates every row,
then loads the batch in **one** LMDB write transaction that also removes the
batch's previous rows: readers see all of the batch or none of it, and any
failure (bad row, wrong key, a crash, SIGKILL) leaves the store as it was.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .csvfile import ParsedBatch, parse_results
from .errors import EarlyKeyError, SealError, StagingError
from .exams import batch_prefix, check_batch
from .lmdbstore import UTC, BatchStatus, ResultsStore, batch_id, open_env
from .sealed import SealedHeader, check_framing, read_header, unseal

__all__ = [
    "PreparedBatch",
    "commit_batch",
    "ingest",
    "prepare_batch",
    "publish_all",
    "publish_batch",
    "published_sha256",
    "set_schedule",
    "sha256_file",
    "staged_batches",
    "staged_path",
]


def staged_path(store_dir: str | os.PathLike[str], exam: str, academie: str) -> Path:
    """Where the sealed file of a batch is staged."""
    check_batch(exam, academie)
    return Path(store_dir) / "staged" / f"{exam}-{academie}.sealed"


def staged_batches(store_dir: str | os.PathLike[str]) -> list[tuple[str, str, Path]]:
    """(exam, académie, path) of every staged file, from their headers."""
    out = []
    for path in sorted((Path(store_dir) / "staged").glob("*.sealed")):
        with path.open("rb") as f:
            header = read_header(f, str(path))
        out.append((header.exam, header.academie, path))
    return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _published_meta(store_dir: str | os.PathLike[str], exam: str, academie: str) -> dict | None:
    s = open_env(store_dir)
    with s.env.begin(db=s.batches) as txn:
        raw = txn.get(batch_id(exam, academie))
    return json.loads(raw) if raw else None


def published_sha256(store_dir: str | os.PathLike[str], exam: str, academie: str) -> str | None:
    """SHA-256 of the sealed file a published batch came from (None if unpublished)."""
    meta = _published_meta(store_dir, exam, academie)
    return None if meta is None else str(meta["sha256"])


def sha256_file(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ingest(sealed_path: str | os.PathLike[str], store_dir: str | os.PathLike[str],
           replace: bool = False) -> SealedHeader:
    """Stage a sealed file (no key needed); return its header.

    The whole file's framing is checked first, so a truncated or extended
    file is refused at once. Raises :class:`StagingError` for a published
    batch unless ``replace`` (staging a correction)."""
    name = str(sealed_path)
    try:
        data = Path(sealed_path).read_bytes()
    except OSError as exc:
        raise StagingError(f"{name}: cannot read: {exc.strerror}") from None
    header = check_framing(io.BytesIO(data), name)
    Path(store_dir).mkdir(parents=True, exist_ok=True)
    staged_dir = Path(store_dir) / "staged"
    staged_dir.mkdir(exist_ok=True)
    target = staged_path(store_dir, header.exam, header.academie)
    if target.exists() and target.read_bytes() == data:
        return header  # the same file again: nothing to do
    meta = _published_meta(store_dir, header.exam, header.academie)
    if meta is not None and not replace:
        raise StagingError(f"{name}: {header.exam} {header.academie} is already published "
                           f"({meta['rows']} results, {meta['published_at']}); "
                           "ingest with --replace to stage a correction")
    fd, tmp = tempfile.mkstemp(dir=staged_dir, prefix=".ingest-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(staged_dir)
    return header


def set_schedule(store_dir: str | os.PathLike[str], exam: str, academie: str,
                 when: datetime.datetime | None) -> None:
    """Record (or with None, clear) the official publication hour of a batch."""
    check_batch(exam, academie)
    if when is not None and when.tzinfo is None:
        raise ValueError("the publication hour must be an aware datetime (with a time zone)")
    s = open_env(store_dir, write=True)
    with s.env.begin(write=True, db=s.schedule) as txn:
        if when is None:
            txn.delete(batch_id(exam, academie))
        else:
            txn.put(batch_id(exam, academie), when.astimezone(UTC).isoformat().encode())


def _check_hour(scheduled: bytes | None, exam: str, academie: str,
                now: datetime.datetime, force: bool) -> None:
    if scheduled is None or force:
        return
    when = datetime.datetime.fromisoformat(scheduled.decode())
    if now < when:
        from zoneinfo import ZoneInfo

        local = when.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%d %H:%M:%S %Z")
        raise EarlyKeyError(f"{exam} {academie} comes out at {local}; the key was given "
                            f"{str(when - now).split('.')[0]} early (use --force to publish anyway)")


@dataclass(frozen=True)
class PreparedBatch:
    """A decrypted, validated batch waiting for its write transaction."""

    header: SealedHeader
    parsed: ParsedBatch
    sha256: str


def prepare_batch(store_dir: str | os.PathLike[str], exam: str, academie: str,
                  key: bytes) -> PreparedBatch:
    """Decrypt and validate a staged batch (nothing is written)."""
    path = staged_path(store_dir, exam, academie)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StagingError(f"no staged file for {exam} {academie} in {store_dir}; "
                           "run videotex ingest first") from None
    header, plain = unseal(io.BytesIO(data), key, str(path))
    if header.batch != (exam, academie):
        raise SealError(f"{path}: holds {header.exam} {header.academie}, "
                        f"not {exam} {academie}")
    label = f"{path.name} ({header.source})" if header.source else path.name
    parsed = parse_results(plain, label, exam, academie, header.session)
    if parsed.rows != header.rows:
        raise SealError(f"{label}: the header announces {header.rows} results, "
                        f"the file holds {parsed.rows}")
    return PreparedBatch(header, parsed, hashlib.sha256(data).hexdigest())


def _records_iter(items: list[tuple[bytes, bytes]]) -> Iterable[tuple[bytes, bytes]]:
    """What is loaded, in order (a seam: the SIGKILL test pauses half-way here)."""
    return items


def _load(cursor: Any, items: Iterable[tuple[bytes, bytes]],
          sorted_items: list[tuple[bytes, bytes]]) -> None:
    """Insert sorted items; append (no search, full pages) when they all sort
    after the database's last key, as when batches are loaded in number order."""
    if not sorted_items:
        return
    append = not cursor.last() or cursor.key() < sorted_items[0][0]
    cursor.putmulti(items, dupdata=False, append=append)


def _delete_prefix(cursor: object, prefix: bytes) -> int:
    deleted = 0
    if cursor.set_range(prefix):  # type: ignore[attr-defined]
        while cursor.key().startswith(prefix):  # type: ignore[attr-defined]
            if not cursor.delete():  # type: ignore[attr-defined]
                break
            deleted += 1
    return deleted


def commit_batch(store_dir: str | os.PathLike[str], prepared: PreparedBatch,
                 now: datetime.datetime, force: bool = False) -> BatchStatus:
    """Publish a prepared batch in one write transaction (all or nothing)."""
    exam, academie = prepared.header.batch
    parsed = prepared.parsed
    prefix = batch_prefix(exam, academie).encode()
    s = open_env(store_dir, write=True)
    bid = batch_id(exam, academie)
    with s.env.begin(write=True) as txn:
        _check_hour(txn.get(bid, db=s.schedule), exam, academie, now, force)
        _delete_prefix(txn.cursor(db=s.results), prefix)
        _delete_prefix(txn.cursor(db=s.names), prefix)
        _load(txn.cursor(db=s.results), _records_iter(parsed.records), parsed.records)
        _load(txn.cursor(db=s.names), parsed.names, parsed.names)
        meta = {
            "rows": parsed.rows, "names": len(parsed.names), "session": parsed.session,
            "published_at": now.astimezone(UTC).isoformat(), "sha256": prepared.sha256,
            "source": prepared.header.source, "forced": force,
        }
        txn.put(bid, json.dumps(meta).encode(), db=s.batches)
    return ResultsStore(store_dir).status(exam, academie, now)


def publish_batch(store_dir: str | os.PathLike[str], exam: str, academie: str, key: bytes,
                  now: datetime.datetime | None = None, force: bool = False,
                  progress: bool = False) -> BatchStatus:
    """Check the hour, decrypt, validate and publish one batch atomically.

    Raises :class:`EarlyKeyError` before decrypting if the official hour has
    not come (unless ``force``); any error leaves the store unchanged."""
    now = now or datetime.datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    check_batch(exam, academie)
    s = open_env(store_dir)
    with s.env.begin(db=s.schedule) as txn:
        _check_hour(txn.get(batch_id(exam, academie)), exam, academie, now, force)
    bar = _bar(progress, 3, f"{exam} {academie}", "step")
    try:
        prepared = prepare_batch(store_dir, exam, academie, key)
        bar.update(2)
        status = commit_batch(store_dir, prepared, now, force)
        bar.update(1)
    finally:
        bar.close()
    return status


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(progress: bool, total: int, desc: str, unit: str) -> Any:
    """A tqdm bar on an interactive stderr when asked, else a silent stand-in."""
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, leave=False)
    return _NoBar()


def _publish_job(job: tuple[str, str, str, bytes, datetime.datetime, bool]) -> BatchStatus:
    store_dir, exam, academie, key, now, force = job
    return commit_batch(store_dir, prepare_batch(store_dir, exam, academie, key), now, force)


def publish_all(store_dir: str | os.PathLike[str], keys_dir: str | os.PathLike[str],
                now: datetime.datetime | None = None, force: bool = False,
                progress: bool = False, workers: int | None = None,
                on_batch: Callable[[BatchStatus], None] | None = None) -> list[BatchStatus]:
    """Publish every staged batch whose key is ``keys_dir/<exam>-<academie>.key``
    (demo convenience). Each batch is its own atomic transaction. Worker
    processes decrypt, validate and commit (LMDB serialises their write
    transactions), in candidate-number order so loads mostly append. On the
    first error, batches not yet started are cancelled and the error raised;
    batches already published (``on_batch`` saw them) stay published."""
    from concurrent.futures import ProcessPoolExecutor

    from .sealed import read_key

    now = now or datetime.datetime.now(UTC)
    jobs = []
    for exam, academie, _path in staged_batches(store_dir):
        key_path = Path(keys_dir) / f"{exam}-{academie}.key"
        if not key_path.exists():
            raise StagingError(f"no key {key_path} for staged batch {exam} {academie}")
        jobs.append((str(store_dir), exam, academie, read_key(key_path), now, force))
    jobs.sort(key=lambda job: batch_prefix(job[1], job[2]))
    s = open_env(store_dir)
    with s.env.begin(db=s.schedule) as txn:
        for _, exam, academie, _, _, _ in jobs:
            _check_hour(txn.get(batch_id(exam, academie)), exam, academie, now, force)
    statuses = []
    bar = _bar(progress, len(jobs), "publishing", "batch")
    workers = workers or os.cpu_count() or 1
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                statuses.append(_publish_job(job))
                bar.update(1)
                if on_batch:
                    on_batch(statuses[-1])
        else:
            with ProcessPoolExecutor(workers) as pool:
                futures = [pool.submit(_publish_job, job) for job in jobs]
                try:
                    for future in futures:
                        statuses.append(future.result())
                        bar.update(1)
                        if on_batch:
                            on_batch(statuses[-1])
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        bar.close()
    return statuses
