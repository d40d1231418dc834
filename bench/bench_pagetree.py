"""Benchmark of page trees: load time and bytes sent. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_pagetree.py [--pages 200] [--rounds 5] [--keep]

Builds a tree of ``--pages`` pages in a temporary folder from the real sample pages of
../shared/vdt-samples (read in place, written again into the folder): the 61 samples, then
the same ones again each with its own label on row 24, so every page's bytes differ (no
two pages share a cache entry). The pages are chained by Suite/Retour; one page in ten has
an input field.

Timed: ``load_tree`` cold (no cache file, nothing in memory), two figures:

- **ready to serve**: ``load_tree(folder, optimize=False)`` returns, every page checked,
  decoded by the emulator and servable with its original bytes (what ``videotex serve``
  waits for; the issue's figure, ≤ 1 s for 200 pages);
- **all pages optimized**: then ``tree.optimizer.run()`` has made every optimizer
  decision (re-encode, emulate, compare; a server makes them from its event loop, a
  page at a time, while it serves) and written ``.pagetree-cache.json``;

then the same cold load in fresh processes (imports included), with ``optimize=False``
and with the default ``optimize=True`` (``page check``: every decision made before it
returns); from the cache file in this process (memory cleared: what a server restart
costs), in a fresh process, and again with the decisions in memory. Then bytes: what
the pages hold, what is sent (re-encoding where smaller and the same screen, else the
original), with the framing that makes a page draw from any screen, and at 1200 baud.
Last, a caller paging through the whole tree with Suite (sans-IO session, no emulator).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from videotex.pagetree import PageTreeService, load_tree
from videotex.pagetree.render import CACHE_NAME, clear_memory
from videotex.teletel import FakeClock, Session, SessionConfig

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vdt-samples"
BAUD_CPS = 120  # 1200 Bd, 7E1: 10 bits per character
SUITE = b"\x13\x48"


def build(folder: Path, count: int) -> None:
    """``count`` pages made from the samples, and their tree.toml."""
    samples = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")
    lines = ['name = "BENCH"', 'first = "p000"', ""]
    for k in range(count):
        data = samples[k % len(samples)].read_bytes()
        if k >= len(samples):  # varied: a label of its own on row 24
            data += b"\x1f\x58\x41" + f"page {k:03d}".encode()
        name = f"p{k:03d}"
        (folder / f"{name}.vdt").write_bytes(data)
        lines += [f"[pages.{name}]", f'vdt = "{name}.vdt"']
        if k % 10 == 5:
            lines += [f"[[pages.{name}.fields]]", 'name = "f"', "row = 24", "col = 30",
                      "length = 5"]
        keys = [f'suite = "p{k + 1:03d}"'] if k + 1 < count else []
        keys += [f'retour = "p{k - 1:03d}"'] if k else []
        lines += [f"[pages.{name}.keys]", *keys, ""]
    (folder / "tree.toml").write_text("\n".join(lines), encoding="utf-8")


def timed(fn, rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def fresh_process(folder: Path, *, cold: bool = False, optimize: bool = True) -> float:
    """Seconds from the first import to ``load_tree``'s return, in a new process
    (``cold``: the cache file removed first)."""
    if cold:
        (folder / CACHE_NAME).unlink(missing_ok=True)
    code = ("import time, sys; from pathlib import Path; t = time.perf_counter(); "
            "from videotex.pagetree import load_tree; "
            f"load_tree(Path(sys.argv[1]), optimize={optimize}); "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="leave the tree folder in place")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-pagetree-"))
    try:
        build(folder, args.pages)
        n = args.pages
        print(f"tree: {n} pages in {folder}")

        clear_memory()
        t = time.perf_counter()
        tree = load_tree(folder, optimize=False)
        ready = time.perf_counter() - t
        assert tree.optimizer is not None
        pending = tree.optimizer.remaining
        tree.optimizer.run()
        done = time.perf_counter() - t
        size = (folder / CACHE_NAME).stat().st_size
        print(f"load_tree cold, ready to serve (every page checked, decoded, servable as "
              f"made): {ready:.2f} s ({ready / n * 1000:.1f} ms a page)")
        print(f"load_tree cold, all pages optimized ({pending} decisions made after it "
              f"returned, cache written): {done:.2f} s ({done / n * 1000:.1f} ms a page); "
              f"cache file {size / 1024:.0f} KiB")
        procs = [fresh_process(folder, cold=True, optimize=False) for _ in range(3)]
        print(f"load_tree cold in a fresh process (imports included), ready to serve: best "
              f"{min(procs):.2f} s, median {statistics.median(procs):.2f} s")
        procs = [fresh_process(folder, cold=True) for _ in range(3)]
        print(f"load_tree cold in a fresh process, optimize=True (every decision made "
              f"before it returns, as page check): best {min(procs):.2f} s, "
              f"median {statistics.median(procs):.2f} s")

        def from_file() -> None:
            clear_memory()
            load_tree(folder)

        best, med = timed(from_file, args.rounds)
        print(f"load_tree from the cache file (memory cleared): best {best * 1000:.0f} ms, "
              f"median {med * 1000:.0f} ms ({med / n * 1000:.2f} ms a page)")
        procs = [fresh_process(folder) for _ in range(3)]
        print(f"load_tree in a fresh process (imports included): best {min(procs):.2f} s, "
              f"median {statistics.median(procs):.2f} s")
        best, med = timed(lambda: load_tree(folder), args.rounds)
        print(f"load_tree with the decisions in memory: best {best * 1000:.0f} ms, "
              f"median {med * 1000:.0f} ms")
        best, med = timed(lambda: load_tree(folder, cache=False), 1)
        print(f"load_tree without any cache (cache=False): {best:.2f} s")

        pages = list(tree.pages.values())
        original = sum(len(p.rendering.original) for p in pages)
        body = sum(len(p.rendering.body) for p in pages)
        wire = sum(len(p.rendering.wire) for p in pages)
        reencoded = sum(1 for p in pages if p.rendering.reencoded)
        print(f"bytes: original {original}, chosen {body} ({body / original:.1%}; "
              f"{reencoded} of {n} pages re-encoded, {n - reencoded} sent as made), "
              f"with framing {wire} (+{(wire - body) / n:.1f} a page)")
        print(f"at 1200 baud, every page once: original {original / BAUD_CPS:.0f} s, "
              f"sent {wire / BAUD_CPS:.0f} s")
        reasons: dict[str, int] = {}
        for p in pages:
            why = p.rendering.reason.split(":")[0].split(" (")[0]
            why = "smaller re-encoding" if p.rendering.reencoded else why
            reasons[why] = reasons.get(why, 0) + 1
        print("why: " + json.dumps(reasons, ensure_ascii=False))

        clock = FakeClock()
        session = Session(PageTreeService(tree), clock, config=SessionConfig(identify=False))
        session.start()
        sent = len(session.data_to_send())
        t = time.perf_counter()
        for _ in range(n - 1):
            session.receive_data(SUITE)
            sent += len(session.data_to_send())
        walk = time.perf_counter() - t
        print(f"a caller pages through all {n} pages with Suite: {walk * 1000:.0f} ms "
              f"({walk / (n - 1) * 1e6:.0f} us a page), {sent} bytes sent "
              f"(pages, fields and status rows)")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
