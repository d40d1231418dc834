"""A bounded load generator that plays real callers against a server on loopback.

Each caller connects (telnet or raw), waits for the complete home page, types a real
candidate number, Suite, the birth date, presses Envoi, waits for the complete result
page, then hangs up or stays connected until the end of the run. Modes:

- ``ramp``:   every caller connects within ``--ramp`` seconds (results day, the first
              minute after publication), consultations follow as each home page arrives;
- ``steady``: callers arrive at ``--rate`` per second;
- ``storm``:  connections only, as fast as possible: the accept storm (connects/s to a
              complete home page), callers hang up at once.

It reports connects/s, p50/p95/p99 from Envoi to the complete result page, errors, and the
server's memory (RSS of ``--server-pid`` and its children). Everything is bounded: the
number of callers, every wait (``--timeout``), and the whole run (``--deadline``).

Callers are light (no emulator each): a page is complete when the bytes received end with
the signature learnt from one reference caller whose screen is checked with the real
emulator; every ``--validate-every``-th caller also feeds its whole stream to an emulator
and checks the result shows the candidate's name.

    .venv/bin/python bench/loadgen.py --url telnet://127.0.0.1:3615 --sessions 1000 \\
        --candidates var/demo-files/csv --mode ramp --ramp 10
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from terminal_emu import Key, Minitel
from terminal_emu.telnet import TelnetCodec

SUITE = b"\x13\x48"
ENVOI = b"\x13\x41"
FIN = b"\x13\x49"


@dataclass
class Candidate:
    numero: str
    birth: str  # DDMMYYYY
    nom: str


def load_candidates(directory: Path, limit: int, seed: int) -> list[Candidate]:
    out: list[Candidate] = []
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {directory} (make run builds var/demo-files/csv)")
    for path in files:
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                y, m, d = row["naissance"].split("-")
                out.append(Candidate(row["numero"], d + m + y, row["nom"]))
    random.Random(seed).shuffle(out)
    return out[:limit] if limit else out


def published_only(cands: list[Candidate], store: Path) -> list[Candidate]:
    """The candidates whose result the store shows now (the demo store keeps some
    académies unpublished, whose callers get the publication hour instead)."""
    import datetime

    from videotex.store import ResultsStore

    rs = ResultsStore(store)
    try:
        out = []
        for c in cands:
            birth = datetime.date(int(c.birth[4:]), int(c.birth[2:4]), int(c.birth[:2]))
            if rs.lookup_number(c.numero, birth) is not None:
                out.append(c)
        return out
    finally:
        rs.close()


@dataclass
class Stats:
    connected: list[float] = field(default_factory=list)  # time home page complete
    connect_latency: list[float] = field(default_factory=list)
    result_latency: list[float] = field(default_factory=list)
    result_at: list[float] = field(default_factory=list)  # when Envoi was sent
    errors: dict[str, int] = field(default_factory=dict)
    validated: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class LightCaller:
    """A caller that only watches bytes (telnet framing removed)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 telnet: bool, keep: bool) -> None:
        self.reader = reader
        self.writer = writer
        self.telnet = TelnetCodec() if telnet else None
        self.buf = bytearray()
        self.keep = keep
        self.stream = bytearray()  # everything, for validation

    async def until(self, tail: bytes, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not self.buf.endswith(tail):
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("server hung up")
                if (self.telnet is not None and 0xFF in data) or (
                        self.telnet is not None and self.telnet._state != "data"):
                    data = self.telnet.decode(data)
                    if self.telnet.replies:
                        self.writer.write(bytes(self.telnet.replies))
                        self.telnet.replies.clear()
                self.buf += data
                if self.keep:
                    self.stream += data

    def send(self, data: bytes) -> None:
        self.buf.clear()
        self.writer.write(data)


async def reference(url: str, cand: Candidate, timeout: float) -> tuple[bytes, bytes]:
    """Learn the last bytes of the home page and of a result page, checked on screen."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    codec = TelnetCodec() if parts.scheme == "telnet" else None
    m = Minitel()
    chunks: list[bytes] = []

    async def read_until(check: Any) -> bytes:
        got = bytearray()
        async with asyncio.timeout(timeout):
            while not check(m):
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("reference caller: server hung up")
                if codec is not None:
                    data = codec.decode(data)
                    if codec.replies:
                        writer.write(bytes(codec.replies))
                        codec.replies.clear()
                m.feed(data)
                back = m.take_output()
                if back:
                    writer.write(back)
                got += data
        # the page is complete once nothing more comes for a moment
        try:
            async with asyncio.timeout(0.5):
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    got += codec.decode(data) if codec else data
        except TimeoutError:
            pass
        return bytes(got)

    home = await read_until(lambda t: t.cursor == (10, 15) and "RESULTATS" in t.render_text())
    writer.write(cand.numero.encode() + SUITE + cand.birth.encode() + ENVOI)
    result = await read_until(lambda t: "CNX/FIN" in t.render_text()
                              and "RESULTAT" in t.render_text().splitlines()[1])
    chunks.append(result)
    m.press(Key.CONNEXION_FIN)
    writer.write(m.take_output())
    writer.close()
    return home[-12:], result[-12:]


#: Connections one source address can hold to one server port: Linux's ephemeral ports
#: (net.ipv4.ip_local_port_range, 32768-60999 by default), with a margin.
PORTS_PER_SOURCE = 25_000


def source_address(i: int, sources: int) -> tuple[str, int] | None:
    """Caller ``i``'s own loopback address (127.0.0.1, .2, ...) when one address has not
    enough ephemeral ports for every caller; the server is still only 127.0.0.1."""
    return None if sources <= 1 else (f"127.0.0.{1 + i % sources}", 0)


async def one_caller(i: int, url: str, cand: Candidate, start_at: float, tails: tuple[bytes, bytes],
                     args: argparse.Namespace, stats: Stats, end_at: float, validate: bool) -> None:
    parts = urlsplit(url)
    delay = start_at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port,
                                    local_addr=source_address(i, args.sources)), args.timeout)
    except (OSError, TimeoutError):
        stats.error("connect")
        return
    caller = LightCaller(reader, writer, parts.scheme == "telnet", validate)
    try:
        await caller.until(tails[0], args.timeout)
        t1 = time.monotonic()
        stats.connected.append(t1)
        stats.connect_latency.append(t1 - t0)
        if args.mode == "storm":
            return
        caller.send(cand.numero.encode())
        caller.send(SUITE)
        caller.send(cand.birth.encode())
        await writer.drain()
        await asyncio.sleep(0)  # let the echo start; Envoi is timed on its own
        caller.buf.clear()
        t2 = time.monotonic()
        caller.send(ENVOI)
        await caller.until(tails[1], args.timeout)
        stats.result_latency.append(time.monotonic() - t2)
        stats.result_at.append(t2)
        if validate:
            m = Minitel()
            m.feed(bytes(caller.stream))
            if _plain(cand.nom.split()[0][:5]) not in _plain(m.render_text()):
                stats.error("wrong-result")
            else:
                stats.validated += 1
        if args.stay:
            remaining = end_at - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
        writer.write(FIN)
    except TimeoutError:
        stats.error("timeout")
    except (ConnectionError, OSError):
        stats.error("closed")
    finally:
        writer.close()


def _plain(text: str) -> str:
    """Upper case without accents: the page may show a name accented or not."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.upper())
                   if not unicodedata.combining(c))


def _raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker(payload: dict[str, Any]) -> dict[str, Any]:
    _raise_nofile()
    args = argparse.Namespace(**payload["args"])
    cands = [Candidate(**c) for c in payload["cands"]]
    offsets = payload["offsets"]
    tails = (bytes.fromhex(payload["tails"][0]), bytes.fromhex(payload["tails"][1]))
    stats = Stats()

    async def run() -> None:
        base = time.monotonic() + 0.2
        end_at = base + payload["end_offset"]
        tasks = [
            asyncio.ensure_future(one_caller(
                i, args.url, c, base + off, tails, args, stats, end_at,
                validate=args.validate_every > 0 and (payload["first"] + i) % args.validate_every == 0))
            for i, (c, off) in enumerate(zip(cands, offsets, strict=True))
        ]
        _done, pending = await asyncio.wait(tasks, timeout=args.deadline)
        for t in pending:
            t.cancel()
            stats.error("deadline")

    asyncio.run(run())
    base_wall = time.monotonic()
    return {
        "connected": [t - base_wall for t in stats.connected],
        "connect_latency": stats.connect_latency,
        "result_latency": stats.result_latency,
        "result_at": [t - base_wall for t in stats.result_at],
        "errors": stats.errors,
        "validated": stats.validated,
    }


def rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants, KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            continue
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def by_tenth(samples: list[tuple[float, float]]) -> list[float]:
    """p99 (ms) of the latencies of each tenth of the run (by when Envoi was sent): where
    in the run the slow answers are."""
    if not samples:
        return []
    samples.sort()
    lo, hi = samples[0][0], samples[-1][0]
    width = (hi - lo) / 10 or 1.0
    tenths: list[list[float]] = [[] for _ in range(10)]
    for at, x in samples:
        tenths[min(9, int((at - lo) / width))].append(x)
    return [round(pct(t, 0.99) * 1000, 1) if t else float("nan") for t in tenths]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True, help="telnet://127.0.0.1:PORT or raw://...")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=0, help="client processes (default: enough "
                    "for the open-file limit, at least 1)")
    ap.add_argument("--mode", choices=("ramp", "steady", "storm"), default="ramp")
    ap.add_argument("--ramp", type=float, default=60.0, help="ramp: seconds to connect everyone")
    ap.add_argument("--rate", type=float, default=100.0, help="steady: callers per second")
    ap.add_argument("--stay", action="store_true", help="stay connected after the result "
                    "until every caller is done (simultaneous sessions)")
    ap.add_argument("--candidates", type=Path, default=Path("var/demo-files/csv"))
    ap.add_argument("--store", type=Path, help="only candidates whose result this store "
                    "shows now (others get the publication hour, a different page)")
    ap.add_argument("--timeout", type=float, default=30.0, help="any single wait")
    ap.add_argument("--deadline", type=float, default=600.0, help="the whole run")
    ap.add_argument("--validate-every", type=int, default=100)
    ap.add_argument("--server-pid", type=int, default=0)
    ap.add_argument("--seed", type=int, default=2005)
    ap.add_argument("--sources", type=int, default=0, help="loopback source addresses "
                    "127.0.0.1..N (default: one per 25,000 callers)")
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args()
    parts = urlsplit(args.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load generator only targets loopback")
    cands = load_candidates(args.candidates, 0, args.seed)
    if args.store is not None:
        cands = published_only(cands, args.store)
    cands = cands[:args.sessions]
    if not cands:
        raise SystemExit(f"no candidates in {args.candidates}")
    distinct = len(cands)
    # more callers than candidates: some look the same result up (parents, friends...)
    cands = [cands[i % distinct] for i in range(args.sessions)]
    tails = asyncio.run(reference(args.url, cands[0], args.timeout))
    n = args.sessions
    if args.mode == "ramp":
        offsets = [args.ramp * i / n for i in range(n)]
    elif args.mode == "steady":
        offsets = [i / args.rate for i in range(n)]
    else:
        offsets = [0.0] * n
    end_offset = (offsets[-1] if offsets else 0) + 5.0
    procs = args.procs or max(1, -(-n // 15000))
    args.sources = args.sources or -(-n // PORTS_PER_SOURCE)
    rss_before = rss_kib(args.server_pid) if args.server_pid else 0
    payloads = []
    for p in range(procs):
        sl = slice(p, n, procs)
        payloads.append({
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "cands": [vars(c) for c in cands[sl]], "offsets": offsets[sl], "first": p,
            "tails": (tails[0].hex(), tails[1].hex()), "end_offset": end_offset,
        })
    t0 = time.monotonic()
    peak = [0]

    def sample_memory() -> None:
        if args.server_pid:
            peak[0] = max(peak[0], rss_kib(args.server_pid))

    with get_context("spawn").Pool(procs) as pool:
        result = pool.map_async(worker, payloads)
        while not result.ready():
            sample_memory()
            result.wait(0.5)
        results = result.get()
    wall = time.monotonic() - t0
    connected = sorted(t for r in results for t in r["connected"])
    lat = [x for r in results for x in r["result_latency"]]
    clat = [x for r in results for x in r["connect_latency"]]
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    span = (connected[-1] - connected[0]) if len(connected) > 1 else float("nan")
    report = {
        "mode": args.mode, "sessions": n, "distinct_candidates": distinct,
        "client_procs": procs, "wall_s": round(wall, 2),
        "home_pages": len(connected),
        "connects_per_s": round(len(connected) / span, 1) if span == span and span > 0 else None,
        "connect_to_home_p50_ms": round(pct(clat, 0.5) * 1000, 1),
        "connect_to_home_p99_ms": round(pct(clat, 0.99) * 1000, 1),
        "results": len(lat),
        "envoi_to_result_p50_ms": round(pct(lat, 0.5) * 1000, 1),
        "envoi_to_result_p95_ms": round(pct(lat, 0.95) * 1000, 1),
        "envoi_to_result_p99_ms": round(pct(lat, 0.99) * 1000, 1),
        "errors": errors, "validated": sum(r["validated"] for r in results),
        "envoi_to_result_p99_ms_by_tenth": by_tenth(
            [(at, x) for r in results for at, x in zip(r["result_at"], r["result_latency"],
                                                       strict=True)]),
    }
    if args.server_pid:
        report["server_rss_before_mib"] = round(rss_before / 1024, 1)
        report["server_rss_peak_mib"] = round(peak[0] / 1024, 1)
        if args.stay and connected:  # per session actually held at the peak
            report["server_kib_per_session"] = round((peak[0] - rss_before) / len(connected), 1)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
