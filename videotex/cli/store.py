"""``videotex`` subcommands of the results store.

keygen, seal, ingest, publish, schedule, lookup, demo-data, store-info. Each
handler returns the exit status: 0 success (a lookup that finds nothing
included), 1 failure (bad file, wrong key, early key...), 2 usage. Errors are
one line on stderr naming the file, line and field; never a traceback for
bad input.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from videotex.store.csvfile import parse_results
from videotex.store.errors import StoreError
from videotex.store.exams import ACADEMIES, EXAMS
from videotex.store.lmdbstore import UTC, ResultsStore
from videotex.store.publish import (
    commit_batch,
    ingest,
    prepare_batch,
    publish_all,
    publish_batch,
    published_sha256,
    set_schedule,
    sha256_file,
    staged_batches,
)
from videotex.store.records import result_to_json
from videotex.store.sealed import generate_key, read_key, seal_bytes, write_key

__all__ = ["register"]

PARIS = ZoneInfo("Europe/Paris")
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad arguments that argparse cannot see (exit status 2)."""


def _guard(name: str, func: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except UsageError as exc:
            print(f"videotex {name}: {exc}", file=sys.stderr)
            return 2
        except (StoreError, ValueError, OSError) as exc:
            print(f"videotex {name}: {exc}", file=sys.stderr)
            return 1
    return run


def _add(sub: Any, name: str, func: Handler, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=_guard(name, func))
    return parser


def _batch_args(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--exam", choices=list(EXAMS), required=required)
    parser.add_argument("--academie", choices=list(ACADEMIES), required=required,
                        metavar="ACADEMIE", help="académie id, e.g. versailles")


def _when(text: str) -> datetime.datetime:
    """An ISO date-time; without an offset it is Paris time."""
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time") from None
    return when.replace(tzinfo=PARIS) if when.tzinfo is None else when


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _paris(when: datetime.datetime | None) -> str | None:
    return None if when is None else when.astimezone(PARIS).isoformat()


def register(subparsers: Any) -> None:
    """Add the store's subcommands to the ``videotex`` parser."""
    p = _add(subparsers, "keygen", cmd_keygen, "make a 128-bit key file (hex, mode 0600)")
    p.add_argument("-o", "--output", required=True, type=Path)
    p.add_argument("--force", action="store_true", help="overwrite an existing key file")

    p = _add(subparsers, "seal", cmd_seal, "validate and encrypt a results CSV")
    p.add_argument("csv", type=Path)
    p.add_argument("--key", required=True, type=Path)
    _batch_args(p)
    p.add_argument("--session", required=True, type=int)
    p.add_argument("-o", "--output", required=True, type=Path)

    p = _add(subparsers, "ingest", cmd_ingest, "stage sealed files (no key needed)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--store", required=True, type=Path)
    p.add_argument("--replace", action="store_true",
                   help="stage a correction of an already published batch")

    p = _add(subparsers, "publish", cmd_publish, "decrypt, validate and publish batches")
    p.add_argument("--store", required=True, type=Path)
    _batch_args(p, required=False)
    p.add_argument("--key", type=Path)
    p.add_argument("--all", action="store_true", help="publish every staged batch")
    p.add_argument("--keys", type=Path, help="with --all: directory of <exam>-<academie>.key")
    p.add_argument("--force", action="store_true", help="publish before the official hour")
    p.add_argument("--wait", action="store_true",
                   help="hold the key until the official hour, then publish at once")

    p = _add(subparsers, "schedule", cmd_schedule, "record or list official publication hours")
    p.add_argument("--store", required=True, type=Path)
    _batch_args(p, required=False)
    p.add_argument("--at", type=_when, help="ISO date-time (Paris time if no offset)")
    p.add_argument("--clear", action="store_true", help="remove the batch's hour")
    p.add_argument("--list", action="store_true", help="list hours and publications")

    p = _add(subparsers, "lookup", cmd_lookup, "find results (JSON list on stdout)")
    p.add_argument("--store", required=True, type=Path)
    p.add_argument("--number")
    p.add_argument("--birth", type=_date)
    p.add_argument("--name")
    p.add_argument("--first")
    _batch_args(p, required=False)
    p.add_argument("--limit", type=int, default=50)

    p = _add(subparsers, "demo-data", cmd_demo_data, "write synthetic sealed files and keys")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--count", type=int, default=2_250_000)
    p.add_argument("--seed", type=int, default=2005)
    p.add_argument("--session", type=int, default=2005)
    p.add_argument("--keep-csv", action="store_true", help="also write the plain CSVs")

    p = _add(subparsers, "store-info", cmd_store_info, "batches, counts and sizes of a store")
    p.add_argument("--store", required=True, type=Path)


def cmd_keygen(args: argparse.Namespace) -> int:
    if args.output.exists() and not args.force:
        raise StoreError(f"{args.output} exists; use --force to overwrite a key")
    write_key(args.output, generate_key())
    print(f"wrote 128-bit key {args.output}")
    return 0


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def cmd_seal(args: argparse.Namespace) -> int:
    key = read_key(args.key)
    try:
        data = args.csv.read_bytes()
    except OSError as exc:
        raise StoreError(f"{args.csv}: cannot read: {exc.strerror}") from None
    parsed = parse_results(data, str(args.csv), args.exam, args.academie, args.session)
    sealed = seal_bytes(data, key, exam=args.exam, academie=args.academie,
                        session=args.session, rows=parsed.rows, source=args.csv.name)
    _atomic_write(args.output, sealed)
    print(f"sealed {parsed.rows} results of {args.exam} {args.academie} {args.session} "
          f"into {args.output}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    bar: Any = None
    if sys.stderr.isatty() and len(args.files) > 1:
        from tqdm import tqdm

        bar = tqdm(total=len(args.files), unit="file", desc="ingest", leave=False)
    try:
        for path in args.files:
            header = ingest(path, args.store, replace=args.replace)
            line = (f"staged {path}: {header.exam} {header.academie} session {header.session}, "
                    f"{header.rows} results (sealed)")
            if bar is not None:
                bar.write(line, file=sys.stdout)
                bar.update(1)
            else:
                print(line)
    finally:
        if bar is not None:
            bar.close()
    return 0


def _published(status: Any) -> str:
    return (f"published {status.exam} {status.academie}: {status.rows} results at "
            f"{_paris(status.published_at)}")


def cmd_publish(args: argparse.Namespace) -> int:
    progress = sys.stderr.isatty()
    if args.all:
        if args.keys is None:
            raise UsageError("--all needs --keys KEYDIR")
        publish_all(args.store, args.keys, force=args.force, progress=progress,
                    on_batch=lambda status: print(_published(status), flush=True))
        return 0
    if not (args.exam and args.academie and args.key):
        raise UsageError("give --exam, --academie and --key (or --all --keys KEYDIR)")
    key = read_key(args.key)
    if not args.wait:
        print(_published(publish_batch(args.store, args.exam, args.academie, key,
                                       force=args.force, progress=progress)))
        return 0
    # --wait: decrypt and validate now, keep it in memory, commit at the hour.
    prepared = prepare_batch(args.store, args.exam, args.academie, key)
    store = ResultsStore(args.store)
    scheduled = store.status(args.exam, args.academie, datetime.datetime.now(UTC)).scheduled_at
    if scheduled is not None:
        print(f"{prepared.parsed.rows} results ready; publishing at {_paris(scheduled)}",
              file=sys.stderr)
        while (remaining := (scheduled - datetime.datetime.now(UTC)).total_seconds()) > 0:
            time.sleep(min(remaining, 0.5))
    print(_published(commit_batch(args.store, prepared, datetime.datetime.now(UTC),
                                  force=args.force)))
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    if args.list:
        store = ResultsStore(args.store)
        for st in store.statuses(datetime.datetime.now(UTC)):
            print(json.dumps({"exam": st.exam, "academie": st.academie,
                              "scheduled_at": _paris(st.scheduled_at),
                              "published": st.published,
                              "published_at": _paris(st.published_at)}, ensure_ascii=False))
        return 0
    if not (args.exam and args.academie) or (args.at is None) == (not args.clear):
        raise UsageError("give --exam, --academie and one of --at or --clear (or --list)")
    Path(args.store).mkdir(parents=True, exist_ok=True)
    set_schedule(args.store, args.exam, args.academie, None if args.clear else args.at)
    print(f"{args.exam} {args.academie}: "
          f"{'no official hour' if args.clear else 'comes out at ' + str(_paris(args.at))}")
    return 0


def cmd_lookup(args: argparse.Namespace) -> int:
    if args.number is None and args.name is None:
        raise UsageError("give --number N --birth YYYY-MM-DD, or --name NAME --exam E "
                         "--academie A")
    if not (Path(args.store) / "results.lmdb").is_dir():
        raise StoreError(f"{args.store}: not a results store (no results.lmdb)")
    if args.number is not None:
        if args.birth is None or args.name is not None:
            raise UsageError("--number needs --birth (and no --name)")
        store = ResultsStore(args.store)
        found = store.lookup_number(args.number, args.birth)
        results = [] if found is None else [found]
    else:
        if not (args.exam and args.academie):
            raise UsageError("--name needs --exam and --academie")
        store = ResultsStore(args.store)
        results = store.lookup_name(args.name, args.exam, args.academie, args.first,
                                    limit=args.limit)
    print(json.dumps([result_to_json(r) for r in results], ensure_ascii=False, indent=1))
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from videotex.store.demo import batch_sizes, write_demo_data

    if args.count < 1:
        raise UsageError(f"--count must be positive, got {args.count}")
    started = time.perf_counter()
    bar: Any = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=sum(batch_sizes(args.count).values()), unit="row", desc="demo-data")
    try:
        total = write_demo_data(args.out, args.count, args.seed, args.session, args.keep_csv,
                                on_batch=(lambda e, a, n: bar.update(n)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    print(f"wrote {total} results in {len(EXAMS) * len(ACADEMIES)} sealed files to {args.out} "
          f"(keys in {args.out / 'keys'}) in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_store_info(args: argparse.Namespace) -> int:
    if not (Path(args.store) / "results.lmdb").is_dir():
        raise StoreError(f"{args.store}: not a results store (no results.lmdb)")
    store = ResultsStore(args.store)
    now = datetime.datetime.now(UTC)
    published = {(s.exam, s.academie): s for s in store.statuses(now)}
    staged_size = 0
    for exam, academie, path in staged_batches(args.store):
        staged_size += path.stat().st_size
        st = published.get((exam, academie))
        if st is None or not st.published:
            print(f"{exam:10} {academie:17} staged")
        elif published_sha256(args.store, exam, academie) != sha256_file(path):
            print(f"{exam:10} {academie:17} correction staged (not yet published)")
    total = 0
    for (exam, academie), st in published.items():
        if st.published:
            total += st.rows or 0
            print(f"{exam:10} {academie:17} published {st.rows:>8} results, session "
                  f"{st.session}, at {_paris(st.published_at)}")
        elif st.scheduled_at is not None:
            print(f"{exam:10} {academie:17} scheduled at {_paris(st.scheduled_at)}")
    print(f"total: {total} published results; LMDB {store.disk_size() / 2**20:.1f} MiB on disk;"
          f" staged files {staged_size / 2**20:.1f} MiB")
    return 0
