"""Codec figures: encoder pages/s, keyboard decoder bytes/s, sample-page bytes, 1200-baud time.

Run: ``.venv/bin/python bench/bench_codec.py`` (reads ../shared/vdt-samples). Prints figures;
asserts nothing. ``--quick`` skips the sample pages and the keyboard decoder.

Per-call figures of the session's use of the encoder (one ``Encoder`` per caller, a new
``Frame`` composed per screen change): echo of one digit in a form field, a status-row
tick, home page -> result page, a full home page, composing a page, and the encoder's
retained memory per idle session (tracemalloc over 200 sessions on the home page, each
with its own status row). Each figure is the best of several rounds, in microseconds.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from videotex.cli.page import optimize_page
from videotex.codec import (
    Color,
    Encoder,
    Frame,
    KeyboardDecoder,
    Size,
    encode_frame,
    encode_update,
)

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


def status_row(f: Frame, text: str = "3615 RESULTATS   0,34 EUR   00:42") -> Frame:
    """The session's status row (row 0), as ``Session.compose`` writes it."""
    f.text(0, 1, text[:36])
    return f


def home_page(number: str = "", status: str = "3615 RESULTATS   0,34 EUR   00:42") -> Frame:
    """A realistic home page with a form field (what ``Session.compose`` builds)."""
    f = Frame()
    f.fill(1, 1, 40, bg=Color.BLUE)
    f.fill(2, 1, 40, bg=Color.BLUE)
    f.fill(3, 1, 40, bg=Color.BLUE)
    f.text(3, 4, "RÉSULTATS", fg=Color.YELLOW, bg=Color.BLUE, size=Size.DOUBLE)
    f.text(2, 26, "Session 2026", bg=Color.BLUE)
    f.text(3, 26, "Baccalauréat", fg=Color.CYAN, bg=Color.BLUE)
    f.hline(5, 1, 40, fg=Color.CYAN)
    lines = [
        "Bienvenue sur le service des résultats",
        "du baccalauréat, du brevet et des BTS.",
        "",
        "Tapez votre numéro de candidat puis",
        "appuyez sur SUITE ; tapez ensuite votre",
        "date de naissance et appuyez sur ENVOI.",
    ]
    for i, line in enumerate(lines):
        f.text(7 + i, 2, line)
    f.text(14, 2, "N° candidat :", fg=Color.CYAN)
    f.text(14, 16, (number + ".." * 10)[:10])
    f.text(16, 2, "Né(e) le (JJMMAAAA) :", fg=Color.CYAN)
    f.text(16, 24, "........")
    f.text(19, 2, "Service gratuit les 3 premières", fg=Color.GREEN)
    f.text(20, 2, "minutes, puis 0,34 € la minute.", fg=Color.GREEN)
    f.fill(24, 1, 40, bg=Color.BLUE)
    f.text(24, 2, "Guide", bg=Color.BLUE, inverse=True)
    f.text(24, 9, "aide", bg=Color.BLUE)
    f.text(24, 26, "Suite", bg=Color.BLUE, inverse=True)
    f.text(24, 33, "valider", bg=Color.BLUE)
    f.cursor = (14, 16 + min(len(number), 9))
    return status_row(f, status)


def compose_typical() -> Frame:
    """Frame(), 30 text runs and 3 bands: the composition cost of a typical page."""
    f = Frame()
    f.fill(1, 1, 40, bg=Color.BLUE)
    f.fill(2, 1, 40, bg=Color.BLUE)
    f.fill(24, 1, 40, bg=Color.BLUE)
    for i in range(24):
        f.text(1 + i, 2, "Ligne de texte numéro", fg=Color.CYAN)
    for i in range(6):
        f.text(4 + i, 24, "valeur 12,5", fg=Color.WHITE)
    f.cursor = (14, 16)
    return f


def _per_call(fn: object, n: int, rounds: int = 5) -> float:
    """Best per-call time over ``rounds`` rounds of ``n`` calls, in microseconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def _alternating(enc: Encoder, frames: list[Frame]) -> object:
    """A callable that updates ``enc`` to the next frame of ``frames``, round robin."""
    state = {"i": 0}

    def step() -> None:
        state["i"] = (state["i"] + 1) % len(frames)
        enc.update(frames[state["i"]])

    return step


def session_figures() -> None:
    """The per-call costs of the session's use of the encoder, and memory per session."""
    home = home_page()
    echo_a, echo_b = home_page("0"), home_page("01")
    res_a = status_row(result_page())
    res_b = status_row(result_page("MARTIN Paul", "Admis"))

    enc = Encoder()
    enc.frame(echo_a)
    echo = _per_call(_alternating(enc, [echo_a, echo_b]), 2000)
    one = Encoder()
    one.frame(echo_a)
    print(f"echo one digit in a form field: Encoder.update {echo:.1f} us "
          f"({len(one.update(echo_b))} bytes)")

    ticks = [home_page(status=f"3615 RESULTATS   0,34 EUR   00:{s:02d}") for s in range(40, 60)]
    enc = Encoder()
    enc.frame(ticks[0])
    tick = _per_call(_alternating(enc, ticks), 2000)
    one = Encoder()
    one.frame(ticks[0])
    print(f"status row tick (row 0 text change): Encoder.update {tick:.1f} us "
          f"({len(one.update(ticks[1]))} bytes)")

    # home page -> result page, a different candidate each time (nothing cached per page)
    results = [status_row(result_page(f"CANDIDAT {i:04d}", "Admis" if i % 2 else "Ajourné"))
               for i in range(200)]
    encs = []
    for _ in results:
        e = Encoder()
        e.frame(home)
        encs.append(e)
    pairs = iter(list(zip(encs, results, strict=True)))
    best = float("inf")
    times = []
    for e, r in pairs:
        start = time.perf_counter()
        e.update(r)
        times.append(time.perf_counter() - start)
    best, med = min(times) * 1e6, statistics.median(times) * 1e6
    one = Encoder()
    one.frame(home)
    print(f"home page -> result page: Encoder.update best {best:.0f} us, median {med:.0f} us "
          f"({len(one.update(res_a))} bytes)")
    print(f"result page -> other candidate: Encoder.update "
          f"{_per_call(_alternating(Encoder(), [res_a, res_b]), 200):.0f} us")

    # a full home page: a fresh encoder's first page (the same for every caller but the
    # status row), and a redraw of a page never seen before
    homes = [home_page(status=f"3615 RESULTATS  {i:5d}") for i in range(200)]
    times = []
    for h in homes:
        start = time.perf_counter()
        Encoder().frame(h)
        times.append(time.perf_counter() - start)
    print(f"full home page, fresh encoder, own status row: Encoder.frame best "
          f"{min(times) * 1e6:.0f} us, median {statistics.median(times) * 1e6:.0f} us "
          f"({len(encode_frame(home))} bytes)")
    fresh = [home_page(number=f"{i:04d}") for i in range(200)]
    times = []
    for h in fresh:
        e = Encoder()
        start = time.perf_counter()
        e.frame(h)
        times.append(time.perf_counter() - start)
    print(f"full page never drawn before: Encoder.frame best {min(times) * 1e6:.0f} us, "
          f"median {statistics.median(times) * 1e6:.0f} us")
    print(f"same first page, fresh encoder (cached): "
          f"{_per_call(lambda: Encoder().frame(home), 2000):.1f} us")
    print(f"compose a typical page (Frame(), 30 text, 3 fill): "
          f"{_per_call(compose_typical, 1000):.0f} us; home page {_per_call(home_page, 1000):.0f} us")

    # memory: encoders of 200 idle sessions on the home page, each with its own status row
    warm = [Encoder() for _ in range(200)]
    for i, e in enumerate(warm):
        e.frame(home_page(status=f"3615 RESULTATS  warm {i:5d}"))
    del warm
    pages = [home_page(status=f"3615 RESULTATS  {i:5d} 00:00") for i in range(200)]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = []
    for p in pages:
        e = Encoder()
        e.frame(p)
        e.update(p)
        kept.append(e)
    del pages, p
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(f"encoder memory per idle session (home page, own status row): "
          f"{used / len(kept) / 1024:.2f} KiB (tracemalloc, {len(kept)} encoders)")

    # one consultation: home page, 3 typed digits, result page (compose + encode)
    def consultation() -> None:
        e = Encoder()
        e.frame(home_page())
        for k in ("0", "01", "012"):
            e.update(home_page(k))
        e.update(status_row(result_page("CANDIDAT X", "Admis")))

    print(f"one consultation (compose + encode: home, 3 echoes, result): "
          f"{_per_call(consultation, 50) / 1000:.2f} ms")


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
    session_figures()
    if "--quick" in sys.argv:
        return

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
