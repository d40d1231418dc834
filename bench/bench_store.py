"""Benchmark of the results store: prints figures, asserts nothing.

    .venv/bin/python bench/bench_store.py [--count 2250000] [--seed 2005] [--lookups 200000]
        [--keep]
    .venv/bin/python bench/bench_store.py --lookups-only --store DIR [--lookups 200000]

Steps, in a temporary directory under /tmp (removed at the end):
demo-data generation, ingest, publish of every batch (decrypt, validate,
load), one académie's bac batch from key to visible (Versailles, the
largest), lookups by number (random existing numbers, right birth date) and
by name in one process, store size on disk. ``--keep`` leaves the directory
in place (its path is printed) so that ``--lookups-only --store DIR/store``
can time the lookups again without rebuilding 2.25 M results.

Lookups by number return lazy results (fields decoded on first access): the
figure is the lookup itself; a second figure adds reading every field.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import random
import shutil
import tempfile
import time
from pathlib import Path

from videotex.store import ResultsStore, ingest, publish_all, publish_batch
from videotex.store.demo import write_demo_data
from videotex.store.lmdbstore import close_env, open_env
from videotex.store.records import FIELDS, US
from videotex.store.sealed import read_key

UTC = datetime.UTC


def _du(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_250_000)
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (store in DIR/store)")
    parser.add_argument("--lookups-only", action="store_true",
                        help="only time lookups, on the published store given by --store")
    parser.add_argument("--store", type=Path, help="an existing store (with --lookups-only)")
    args = parser.parse_args()
    if args.lookups_only:
        if args.store is None or not (args.store / "results.lmdb").is_dir():
            parser.error("--lookups-only needs --store DIR, a published store")
        store = ResultsStore(args.store)
        print(f"store {args.store}: {_count(args.store):,} results")
        time_lookups(store, args.store, args.lookups)
        store.close()
        return
    if args.store is not None:
        parser.error("--store goes with --lookups-only")
    base = Path(tempfile.mkdtemp(prefix="bench-store-", dir="/tmp"))
    try:
        run(base, args.count, args.seed, args.lookups)
    finally:
        if args.keep:
            print(f"kept {base} (store: {base / 'store'})")
        else:
            shutil.rmtree(base)


def run(base: Path, count: int, seed: int, lookups: int) -> None:
    demo, store_dir, single = base / "demo", base / "store", base / "single"
    t = time.perf_counter()
    total = write_demo_data(demo, count, seed)
    print(f"demo-data: {total:,} results in 210 sealed files: {time.perf_counter() - t:.1f} s "
          f"({_du(demo) / 2**20:.0f} MiB sealed)")

    t = time.perf_counter()
    for path in sorted(demo.glob("*.sealed")):
        ingest(path, store_dir)
    print(f"ingest (framing check, atomic copy): {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    statuses = publish_all(store_dir, demo / "keys")
    elapsed = time.perf_counter() - t
    rows = sum(s.rows or 0 for s in statuses)
    print(f"publish all: {rows:,} results, {len(statuses)} batches (decrypt, validate, load): "
          f"{elapsed:.1f} s ({rows / elapsed:,.0f} results/s)")

    # One académie's bac batch, from the key to a visible result.
    ingest(demo / "bac-versailles.sealed", single)
    store = ResultsStore(store_dir)
    probe = _sample_numbers(store_dir, b"261", 1)[0]
    t = time.perf_counter()
    key = read_key(demo / "keys" / "bac-versailles.key")
    status = publish_batch(single, "bac", "versailles", key)
    visible = ResultsStore(single).lookup_number(*probe)
    elapsed = time.perf_counter() - t
    print(f"bac versailles, key to visible (fresh store): {status.rows:,} results, "
          f"{elapsed:.2f} s, found={visible is not None}")
    t = time.perf_counter()
    status = publish_batch(store_dir, "bac", "versailles", key)
    visible = store.lookup_number(*probe)
    elapsed = time.perf_counter() - t
    print(f"bac versailles, key to visible (re-publish into the full store): "
          f"{elapsed:.2f} s, found={visible is not None}")
    close_env(single)

    time_lookups(store, store_dir, lookups)

    names = _sample_names(store_dir, 20_000)
    t = time.perf_counter()
    hits = sum(len(store.lookup_name(nom, exam, academie, prenom))
               for nom, prenom, exam, academie in names)
    elapsed = time.perf_counter() - t
    print(f"lookups by name + first name: {len(names):,} in {elapsed:.2f} s = "
          f"{len(names) / elapsed:,.0f}/s ({hits / len(names):.1f} results each)")
    t = time.perf_counter()
    hits = sum(len(store.lookup_name(nom, exam, academie, limit=50))
               for nom, _prenom, exam, academie in names[:2000])
    elapsed = time.perf_counter() - t
    print(f"lookups by name only (up to 50 homonyms): 2,000 in {elapsed:.2f} s = "
          f"{2000 / elapsed:,.0f}/s ({hits / 2000:.1f} results each)")

    print(f"store on disk: LMDB {store.disk_size() / 2**20:.0f} MiB "
          f"(results.lmdb total {_du(store_dir / 'results.lmdb') / 2**20:.0f} MiB), "
          f"staged {_du(store_dir / 'staged') / 2**20:.0f} MiB")
    store.close()


def time_lookups(store: ResultsStore, store_dir: Path, lookups: int) -> None:
    """Lookups by number in this process: random existing numbers, right birth date.

    Two passes on different random numbers: the first one also maps the
    store's pages into this process; their spread shows the noise of a
    shared machine."""
    lookup = store.lookup_number
    for seed, label in ((1, "pass 1"), (3, "pass 2, other numbers")):
        sample = _sample_numbers(store_dir, b"", lookups, seed)
        # A server's heap is small; the bench's own sample lists are not. Freeze
        # them out of the cyclic GC so its passes do not bill the lookups.
        gc.collect()
        gc.freeze()
        found = 0
        t = time.perf_counter()
        for numero, birth in sample:
            if lookup(numero, birth) is not None:
                found += 1
        elapsed = time.perf_counter() - t
        print(f"lookups by number ({label}): {len(sample):,} in {elapsed:.2f} s = "
              f"{len(sample) / elapsed:,.0f}/s (found {found:,})")
    wrong = [(numero, birth + datetime.timedelta(days=1)) for numero, birth in sample]
    t = time.perf_counter()
    found = sum(lookup(numero, birth) is not None for numero, birth in wrong)
    elapsed = time.perf_counter() - t
    print(f"lookups by number, wrong birth date: {len(wrong) / elapsed:,.0f}/s (found {found})")
    t = time.perf_counter()
    for numero, birth in sample:
        result = lookup(numero, birth)
        if result is not None:
            for name in FIELDS:
                getattr(result, name)
    elapsed = time.perf_counter() - t
    print(f"lookups by number + reading every field: {len(sample) / elapsed:,.0f}/s")
    gc.unfreeze()


def _count(store_dir: Path) -> int:
    s = open_env(store_dir)
    with s.env.begin(db=s.results) as txn:
        return int(txn.stat(s.results)["entries"])


def _sample_numbers(store_dir: Path, prefix: bytes, n: int,
                    seed: int = 1) -> list[tuple[str, datetime.date]]:
    s = open_env(store_dir)
    out = []
    with s.env.begin(db=s.results) as txn:
        cursor = txn.cursor()
        cursor.set_range(prefix)
        for key, value in cursor:
            if not key.startswith(prefix):
                break
            out.append((key.decode(), datetime.date.fromisoformat(value[:10].decode())))
    rng = random.Random(seed)
    return [rng.choice(out) for _ in range(n)]


def _sample_names(store_dir: Path, n: int) -> list[tuple[str, str, str, str]]:
    from videotex.store.exams import _PREFIXES

    s = open_env(store_dir)
    keys: list[str] = []
    with s.env.begin(db=s.names) as txn:
        for i, raw in enumerate(txn.cursor().iternext(values=False)):
            if i % 7 == 0:
                keys.append(raw.decode())
    rng = random.Random(2)
    out = []
    for key in rng.sample(keys, min(n, len(keys))):
        nom, prenom, _numero = key[3:].split(US)
        exam, academie = _PREFIXES[key[:3]]
        out.append((nom, prenom, exam, academie))
    return out


if __name__ == "__main__":
    main()
