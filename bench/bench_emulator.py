"""Emulator throughput over the real sample pages.

Run: ``.venv/bin/python bench/bench_emulator.py [--seconds 5]``. Feeds every page of
``../shared/vdt-samples`` to a fresh Minitel, whole and in 64-byte chunks, repeating for
about the requested time, and prints bytes per second; then times each render once per page.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from terminal_emu import Minitel

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vdt-samples"


def _pages() -> list[bytes]:
    pages = [p.read_bytes() for p in sorted(SAMPLES.iterdir()) if p.name != "README.md"]
    if not pages:
        raise SystemExit(f"no sample pages in {SAMPLES}")
    return pages


def _feed(pages: list[bytes], seconds: float, chunk: int | None) -> tuple[int, float]:
    total = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for data in pages:
            m = Minitel()
            if chunk is None:
                m.feed(data)
            else:
                for i in range(0, len(data), chunk):
                    m.feed(data[i : i + chunk])
            total += len(data)
    return total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per feed mode")
    args = parser.parse_args()
    pages = _pages()
    size = sum(map(len, pages))
    print(f"{len(pages)} pages, {size} bytes")
    for label, chunk in (("whole pages", None), ("64-byte chunks", 64)):
        total, elapsed = _feed(pages, args.seconds, chunk)
        print(f"feed {label:15s}: {total / elapsed / 1e6:6.2f} MB/s "
              f"({total} bytes in {elapsed:.2f} s)")
    for render in ("render_text", "snapshot", "render_ansi", "render_png"):
        start = time.perf_counter()
        for data in pages:
            m = Minitel()
            m.feed(data)
            if render == "render_png":
                m.render_png(io.BytesIO())
            else:
                getattr(m, render)()
        per_page = (time.perf_counter() - start) / len(pages) * 1e3
        print(f"feed + {render:11s}: {per_page:6.2f} ms per page")


if __name__ == "__main__":
    main()
