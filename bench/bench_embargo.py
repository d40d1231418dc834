"""Timing of the embargo (issue 8): does a number of a staged, unpublished batch answer
measurably faster or slower than a number that does not exist?

    .venv/bin/python bench/bench_embargo.py [--lookups 3000] [--rows 20000]
                                            [--store-lookups 200000]

The store: bac Lille published, bac Paris sealed and staged with ``--rows`` results (its
key not released, its official hour in 2100). Three kinds of lookup of the Paris batch:
``right`` (a staged candidate's number and birth date), ``wrong`` (the same number, a
wrong birth date) and ``absent`` (a number of the batch that does not exist); and, as a
control that the figures can show a difference, ``control``: a published Lille result.

1. Store: ``ResultsStore.lookup_number`` in this process, the three kinds in turn,
   ``--store-lookups`` of each (8 numbers per kind in turn); nanoseconds per lookup.
2. Over raw TCP, against ``videotex serve`` in a subprocess on loopback: two callers per
   kind, each on its own connection with its number and birth date typed once. In turn
   (so drift hits all kinds alike), ``--lookups`` times: Envoi and a key no page takes,
   timed until the server's beep for that key (it follows every byte of the answer
   page), then Retour to the home page (values kept).

3. As 1 once the staged file is removed: the same numbers when nothing of the batch exists
   anywhere. What differs between kinds in 1 and also in 3 is the numbers' bytes, not
   the embargo (staging leaves the LMDB file byte for byte the same:
   tests/abuse/test_embargo.py).

For each: p50, p90, p99 and mean, and the AUC of each kind against ``absent`` (the chance
that a random ``right`` lookup is slower than a random ``absent`` one: 0.5 means that an
observer cannot tell them apart from timing). Bounded: loopback only, eight connections.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import pct  # noqa: E402
from terminal_emu import Key  # noqa: E402
from terminal_emu.client import MinitelClient  # noqa: E402
from videotex.store import ResultsStore, ingest, publish_batch, set_schedule  # noqa: E402
from videotex.store.exams import ACADEMY_CODES, EXAM_CODES  # noqa: E402
from videotex.store.sealed import generate_key, seal_bytes  # noqa: E402

UTC = datetime.UTC
HOUR = datetime.datetime(2100, 7, 8, 12, 0, tzinfo=UTC)
HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"
PARIS = ACADEMY_CODES["paris"] + EXAM_CODES["bac"]
LILLE = ACADEMY_CODES["lille"] + EXAM_CODES["bac"]
NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS")


def rows(prefix: str, n: int) -> list[str]:
    out = []
    for i in range(1, n + 1):
        born = datetime.date(1987, 1 + i % 12, 1 + i % 28)
        outcome = ("admis", "ajourné", "second groupe")[i % 3]
        out.append(f"{prefix}{i:07d},{NAMES[i % 8]},Prénom{i},{born.isoformat()},S,{outcome},"
                   f",oui,Lycée Voltaire,J{i % 90:02d}")
    return out


def birth_of(serial: int) -> datetime.date:
    return datetime.date(1987, 1 + serial % 12, 1 + serial % 28)


def build(root: Path, n: int) -> Path:
    store = root / "store"
    for prefix, academie, publish in ((LILLE, "lille", True), (PARIS, "paris", False)):
        key = generate_key()
        data = (HEADER + "\n".join(rows(prefix, n)) + "\n").encode()
        sealed = root / f"bac-{academie}.sealed"
        sealed.write_bytes(seal_bytes(data, key, exam="bac", academie=academie,
                                      session=2005, rows=n))
        ingest(sealed, store)
        if publish:
            publish_batch(store, "bac", academie, key,
                          now=datetime.datetime(2005, 7, 8, 8, 0, tzinfo=UTC))
        else:
            set_schedule(store, "bac", academie, HOUR)
    return store


#: Numbers per kind, used in turn: a single number's timing also depends on its bytes
#: (which LMDB page entries it is compared with: about 20 ns between two absent numbers
#: side by side), which says nothing about the embargo.
SPREAD = 8
#: Over the wire, one connection per number: this many numbers per kind.
WIRE_SPREAD = 2


def kinds(n: int) -> dict[str, list[tuple[str, datetime.date]]]:
    """The batch's last numbers and the next ones, which do not exist: neighbours in the
    LMDB key order (none of them is in LMDB before publication)."""
    last = range(max(1, n - SPREAD + 1), n + 1)
    return {
        "right": [(f"{PARIS}{i:07d}", birth_of(i)) for i in last],
        "wrong": [(f"{PARIS}{i:07d}", birth_of(i) + datetime.timedelta(days=1)) for i in last],
        "absent": [(f"{PARIS}{n + 1 + k:07d}", birth_of(i)) for k, i in enumerate(last)],
        # published results, to show what a difference looks like in these figures
        "control": [(f"{LILLE}{i:07d}", birth_of(i)) for i in last],
    }


def auc(slow: list[float], fast: list[float]) -> float:
    """P(a value of ``slow`` > a value of ``fast``), ties counting half (Mann-Whitney)."""
    tagged = sorted([(v, 0) for v in slow] + [(v, 1) for v in fast])
    ranks = [0.0] * len(tagged)
    i = 0
    while i < len(tagged):
        j = i
        while j + 1 < len(tagged) and tagged[j + 1][0] == tagged[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(r for r, (_, tag) in zip(ranks, tagged, strict=True) if tag == 0)
    u = rank_sum - len(slow) * (len(slow) + 1) / 2
    return u / (len(slow) * len(fast))


def report(title: str, unit: str, scale: float, samples: dict[str, list[float]]) -> None:
    print(f"\n{title} ({unit})")
    print(f"  {'kind':<8} {'n':>7} {'p50':>9} {'p90':>9} {'p99':>9} {'mean':>9}  AUC vs absent")
    for kind, values in samples.items():
        v = [x * scale for x in values]
        versus = "" if kind == "absent" else f"  {auc(values, samples['absent']):.3f}"
        print(f"  {kind:<8} {len(v):>7} {pct(v, 0.5):>9.1f} {pct(v, 0.9):>9.1f} "
              f"{pct(v, 0.99):>9.1f} {statistics.fmean(v):>9.1f}{versus}")


def store_figures(store: Path, n: int, count: int) -> dict[str, list[float]]:
    s = ResultsStore(store)
    plan = kinds(n)
    samples: dict[str, list[float]] = {k: [] for k in plan}
    order = list(plan)
    clock = time.perf_counter_ns
    for round_ in range(count):
        random.shuffle(order)
        for kind in order:
            numero, birth = plan[kind][round_ % len(plan[kind])]
            start = clock()
            found = s.lookup_number(numero, birth)
            samples[kind].append(clock() - start)
            assert (found is None) == (kind != "control")
    return samples


def start_server(tmp: Path, store: Path) -> tuple[subprocess.Popen[str], int]:
    config = tmp / "bench-embargo.toml"
    config.write_text((ROOT / "bench/loopback.toml").read_text()
                      + '\n[[listen]]\nkind = "raw"\naddress = "127.0.0.1:0"\n')
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/videotex"), "serve", "--store", str(store),
         "--config", str(config), "--metrics-dir", str(tmp / "metrics"), "--log", "text"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("listening raw://"):
            return proc, int(line.split()[1].rsplit(":", 1)[1])
    raise RuntimeError("videotex serve did not start")


class Caller:
    """One connection on the home page with a number and birth date typed once."""

    def __init__(self, client: MinitelClient) -> None:
        self.t = client
        self.bells = 0
        self.rang = asyncio.Event()
        self.rang_at = 0.0
        client.on_data = self._data

    def _data(self, data: bytes) -> None:
        if b"\x07" in data:
            self.bells += data.count(b"\x07")
            self.rang_at = time.perf_counter()
            self.rang.set()

    async def beep_after(self, key: Key) -> float:
        """Press ``key`` and a key no page takes; seconds until that key's beep."""
        self.rang.clear()
        self.t.minitel.press(key)
        self.t.minitel.type("*")
        start = time.perf_counter()
        self.t.flush_keys()
        await asyncio.wait_for(self.rang.wait(), 10)
        return self.rang_at - start


async def wire_figures(port: int, n: int, count: int) -> dict[str, list[float]]:
    plan = {kind: numbers[:WIRE_SPREAD] for kind, numbers in kinds(n).items()}
    callers: dict[tuple[str, int], Caller] = {}
    numbered = [(kind, i, numero, birth) for kind, numbers in plan.items()
                for i, (numero, birth) in enumerate(numbers)]
    for kind, i, numero, birth in numbered:
        t = await MinitelClient.connect(f"raw://127.0.0.1:{port}")
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), 10, "home page")
        await t.type(numero)
        await t.press(Key.SUITE)
        typed = birth.strftime("%d%m%Y")
        await t.type(typed)
        await t.wait_for(lambda c: typed in c.text, 10, "birth date echoed")  # noqa: B023
        caller = callers[kind, i] = Caller(t)
        await caller.beep_after(Key.ENVOI)  # warm: first page, lazy imports
        answer = "RESULTAT 2005" if kind == "control" else "PAS ENCORE PUBLIE"
        assert caller.t.shows(answer), caller.t.text
        await caller.beep_after(Key.RETOUR)
    samples: dict[str, list[float]] = {k: [] for k in plan}
    order = list(plan)
    for round_ in range(count):
        random.shuffle(order)
        for kind in order:
            c = callers[kind, round_ % WIRE_SPREAD]
            samples[kind].append(await c.beep_after(Key.ENVOI))
            await c.beep_after(Key.RETOUR)
    for key, caller in callers.items():
        assert caller.t.shows("RESULTATS DES EXAMENS"), (key, caller.t.text)
        await caller.t.close()
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lookups", type=int, default=3000, help="per kind, over raw TCP")
    ap.add_argument("--rows", type=int, default=20000, help="results per batch")
    ap.add_argument("--store-lookups", type=int, default=200_000, help="per kind, in-process")
    args = ap.parse_args()
    if not (1 <= args.lookups <= 100_000 and 1 <= args.rows <= 1_000_000
            and 1 <= args.store_lookups <= 10_000_000):
        ap.error("out of bounds: --lookups 1..100000, --rows 1..1000000, "
                 "--store-lookups 1..10000000")
    random.seed(8)
    with tempfile.TemporaryDirectory(prefix="bench-embargo-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        store = build(tmp, args.rows)
        print(f"store: bac lille published, bac paris staged ({args.rows} results each) "
              f"in {time.perf_counter() - started:.1f} s; pid {os.getpid()}")
        report("1. ResultsStore.lookup_number, in-process", "ns", 1.0,
               store_figures(store, args.rows, args.store_lookups))
        proc, port = start_server(tmp, store)
        try:
            samples = asyncio.run(wire_figures(port, args.rows, args.lookups))
        finally:
            proc.terminate()
            proc.wait(10)
        report("2. raw TCP, Envoi to the end of the answer page", "µs", 1e6, samples)
        (store / "staged" / "bac-paris.sealed").unlink()
        report("3. as 1, with the staged file removed (nothing of the batch anywhere)", "ns",
               1.0, store_figures(store, args.rows, args.store_lookups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
