"""Codec figures: encoder pages/s, keyboard decoder bytes/s, sample-page bytes, 1200-baud time.

Run: ``.venv/bin/python bench/bench_codec.py`` (reads ../shared/vdt-samples). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from videotex.codec import Color, Frame, KeyboardDecoder, Size, encode_frame, encode_update
from videotex.codec.cli import optimize_page

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "vdt-samples"
BAUD_CPS = 120  # 1200 Bd, 7E1: 10 bits per character


def result_page(name: str = "DUPONT Marie", mention: str = "Admise mention Très bien") -> Frame:
    """A realistic results page: title band, 8 lines of text, a footer."""
    f = Frame()
    f.text(0, 1, "Résultats du baccalauréat 2026")
    f.fill(1, 1, 40, bg=Color.BLUE)
    f.text(2, 3, "RÉSULTATS", fg=Color.YELLOW, size=Size.DOUBLE)
    f.fill(2, 21, 20, bg=Color.BLUE)
    f.text(2, 23, "Académie de Lyon", bg=Color.BLUE)
    f.hline(4, 1, 40, fg=Color.CYAN)
    lines = [
        ("Candidat", name),
        ("N° candidat", "0123456789"),
        ("Série", "Générale"),
        ("Établissement", "Lycée Ampère"),
        ("Session", "Juin 2026"),
        ("Résultat", mention),
        ("Moyenne", "16,42 / 20"),
        ("Rattrapage", "non"),
    ]
    for i, (label, value) in enumerate(lines):
        row = 6 + 2 * i
        f.text(row, 2, label, fg=Color.CYAN)
        f.text(row, 17, value, fg=Color.WHITE if i != 5 else Color.GREEN)
    f.fill(24, 1, 40, bg=Color.BLUE)
    f.text(24, 2, "Autre candidat", bg=Color.BLUE)
    f.text(24, 30, " SUITE ", bg=Color.BLUE, inverse=True)
    f.text(22, 2, "N° candidat : ..........")
    f.cursor = (22, 16)
    return f


def _rate(fn: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return n / (time.perf_counter() - start)


def main() -> None:
    page = result_page()
    other = result_page("MARTIN Paul", "Admis")
    full = encode_frame(page)
    update = encode_update(page, other)
    print(f"result page: {len(full)} bytes full, {len(full) / BAUD_CPS:.2f} s at 1200 baud")
    print(f"result page update (other candidate): {len(update)} bytes, "
          f"{len(update) / BAUD_CPS:.2f} s at 1200 baud")
    print(f"encode_frame: {_rate(lambda: encode_frame(page), 200):.0f} pages/s")
    print(f"encode_update: {_rate(lambda: encode_update(page, other), 200):.0f} updates/s "
          "(includes re-planning the old page)")

    rng = random.Random(1)
    typed = bytearray()
    pieces = [b"ABCDEFGH 0123", b"\x19\x42e", b"\x13\x41", b"\x1b[A", b"\x01Cu<\x04",
              b"\x1b:sB", b"\x1fAD", b"\x13\x53"]
    while len(typed) < 1_000_000:
        typed += rng.choice(pieces)
    d = KeyboardDecoder()
    start = time.perf_counter()
    for i in range(0, len(typed), 4096):
        d.feed(bytes(typed[i : i + 4096]))
    rate = len(typed) / (time.perf_counter() - start)
    print(f"keyboard decoder: {rate / 1e6:.2f} MB/s ({len(typed)} bytes, garbage {d.garbage})")

    pages = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")
    total_in = total_out = optimized = 0
    start = time.perf_counter()
    for p in pages:
        data = p.read_bytes()
        res = optimize_page(data)
        total_in += len(data)
        total_out += len(res.data)
        optimized += res.optimized
    elapsed = time.perf_counter() - start
    if pages:
        print(f"sample pages: {len(pages)}, {optimized} re-encoded, {len(pages) - optimized} "
              f"kept as they were; {total_in} -> {total_out} bytes "
              f"({100 * total_out / total_in:.1f} %), {total_in / len(pages):.0f} -> "
              f"{total_out / len(pages):.0f} bytes per page; optimize took {elapsed:.1f} s")
    else:
        print(f"no sample pages in {SAMPLES}")


if __name__ == "__main__":
    main()
