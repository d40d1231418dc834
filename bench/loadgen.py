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
server's memory (RSS of ``--server-pid`` and its children) and CPU time. "Complete" is
when the page's last bytes reached the caller's socket (the kernel's receive timestamp,
``SO_TIMESTAMPNS``); the ``as_read`` figures are when this process's event loop read them,
which adds the load generator's own delays (it shares the machine's cores with the
server; ``client_loop_lag`` shows how late its loop runs). Everything is bounded: the
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
import contextlib
import csv
import json
import os
import random
import resource
import socket
import struct
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
    #: Envoi sent -> last byte of the result page at the caller's socket (kernel time).
    result_latency: list[float] = field(default_factory=list)
    #: Envoi sent -> the same bytes read by this process's event loop.
    result_loop_latency: list[float] = field(default_factory=list)
    result_at: list[float] = field(default_factory=list)  # when Envoi was sent
    errors: dict[str, int] = field(default_factory=dict)
    validated: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


#: Linux: timestamp received data (struct timespec, CLOCK_REALTIME) in recvmsg.
SO_TIMESTAMPNS = 35


class LightCaller:
    """A caller that only watches bytes (telnet framing removed), on a plain socket.

    It reads with ``recvmsg`` and asks the kernel for the time each read's last segment
    reached the socket (``SO_TIMESTAMPNS``): when a page was complete at the caller's
    end, whatever this process's event loop was doing then (it runs thousands of other
    callers, on the same cores as the server). Between waits it does not read at all:
    what a held call is sent waits in the kernel."""

    def __init__(self, sock: socket.socket, telnet: bool, keep: bool) -> None:
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self.telnet = TelnetCodec() if telnet else None
        self.buf = bytearray()
        self.keep = keep
        self.stream = bytearray()  # everything, for validation
        #: Wall time the last bytes read reached the socket (kernel), and were read.
        self.arrived = 0.0
        self.read_at = 0.0

    @classmethod
    async def connect(cls, host: str, port: int, local: tuple[str, int] | None,
                      telnet: bool, keep: bool) -> LightCaller:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                             socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if local is not None:
                sock.bind(local)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except BaseException:
            sock.close()
            raise
        return cls(sock, telnet, keep)

    async def until(self, tail: bytes | None, timeout: float) -> None:
        """Read until the bytes received end with ``tail`` (None: until the server hangs
        up, raising ConnectionError; TimeoutError in either case after ``timeout``);
        sets :attr:`arrived`."""
        if tail is not None and self.buf.endswith(tail):
            return
        done: asyncio.Future[None] = self.loop.create_future()
        fd = self.sock.fileno()
        self.loop.add_reader(fd, self._readable, tail, done)
        try:
            async with asyncio.timeout(timeout):
                await done
        finally:
            self.loop.remove_reader(fd)

    async def closed_within(self, timeout: float) -> bool:
        """Read (and drop) what comes until the server hangs up (True) or ``timeout``
        passes (False)."""
        try:
            await self.until(None, timeout)
        except ConnectionError:
            return True
        except TimeoutError:
            return False
        return True

    def _readable(self, tail: bytes | None, done: asyncio.Future[None]) -> None:
        if done.done():
            return
        try:
            data, anc, _flags, _addr = self.sock.recvmsg(65536, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            done.set_exception(ConnectionError(f"read: {e}"))
            return
        if not data:
            done.set_exception(ConnectionError("server hung up"))
            return
        self.read_at = time.time()
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= 16:
                sec, nsec = struct.unpack("qq", raw[:16])
                self.arrived = sec + nsec / 1e9
        if self.telnet is not None and (0xFF in data or self.telnet._state != "data"):
            data = self.telnet.decode(data)
            if self.telnet.replies:
                self.send(bytes(self.telnet.replies), clear=False)
                self.telnet.replies.clear()
        if tail is None:
            return  # waiting for the hang-up: nothing kept
        self.buf += data
        if self.keep:
            self.stream += data
        if self.buf.endswith(tail):
            done.set_result(None)

    def send(self, data: bytes, *, clear: bool = True) -> None:
        """Send now (a few bytes: the socket buffer takes them at once)."""
        if clear:
            self.buf.clear()
        sent = self.sock.send(data)
        if sent != len(data):
            raise ConnectionError(f"sent {sent} of {len(data)} bytes")

    def close(self) -> None:
        # read what waits first: closing with unread bytes sends a reset, not a FIN
        with contextlib.suppress(OSError):
            while self.sock.recv(65536):
                pass
        self.sock.close()


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
    assert parts.hostname is not None and parts.port is not None
    try:
        caller = await asyncio.wait_for(LightCaller.connect(
            parts.hostname, parts.port, source_address(i, args.sources),
            parts.scheme == "telnet", validate), args.timeout)
    except (OSError, TimeoutError):
        stats.error("connect")
        return
    try:
        await caller.until(tails[0], args.timeout)
        t1 = time.monotonic()
        stats.connected.append(t1)
        stats.connect_latency.append(t1 - t0)
        if args.mode == "storm" or args.idle:
            if args.hold > 0:  # background callers: held idle on the home page
                await asyncio.sleep(max(0.0, end_at + args.hold - time.monotonic()))
                caller.send(FIN)
            return
        caller.send(cand.numero.encode())
        caller.send(SUITE)
        caller.send(cand.birth.encode())
        await asyncio.sleep(0)  # let the echo start; Envoi is timed on its own
        caller.buf.clear()
        t2 = time.monotonic()
        sent_wall = time.time()
        caller.send(ENVOI)
        await caller.until(tails[1], args.timeout)
        stats.result_latency.append(caller.arrived - sent_wall)
        stats.result_loop_latency.append(caller.read_at - sent_wall)
        stats.result_at.append(t2)
        if validate:
            m = Minitel()
            m.feed(bytes(caller.stream))
            if _plain(cand.nom.split()[0][:5]) not in _plain(m.render_text()):
                stats.error("wrong-result")
            else:
                stats.validated += 1
        if args.stay or args.hold > 0:
            remaining = end_at + args.hold - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
        caller.send(FIN)
    except TimeoutError:
        stats.error("timeout")
    except (ConnectionError, OSError):
        stats.error("closed")
    finally:
        caller.close()


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
        lag_task = asyncio.ensure_future(watch_lag(lags))
        _done, pending = await asyncio.wait(tasks, timeout=args.deadline)
        lag_task.cancel()
        for t in pending:
            t.cancel()
            stats.error("deadline")

    lags: list[float] = []
    asyncio.run(run())
    base_wall = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "loop_lag": lags,
        "connected": [t - base_wall for t in stats.connected],
        "connect_latency": stats.connect_latency,
        "result_latency": stats.result_latency,
        "result_loop_latency": stats.result_loop_latency,
        "result_at": [t - base_wall for t in stats.result_at],
        "errors": stats.errors,
        "validated": stats.validated,
    }


async def watch_lag(lags: list[float], every: float = 0.05) -> None:
    """How late this process's event loop wakes a 50 ms timer: the load generator's own
    share of the latencies it measures (its loop also runs the callers)."""
    while True:
        t = time.monotonic()
        await asyncio.sleep(every)
        lags.append(time.monotonic() - t - every)


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (those alive now)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            continue
    return out


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_rss_kib(pid: int) -> int:
    """RSS of one process, KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants so far."""
    return sum(process_cpu_s(p) for p in process_tree(pid))


def rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants, KiB."""
    return sum(process_rss_kib(p) for p in process_tree(pid))


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
    ap.add_argument("--hold", type=float, default=0.0, help="stay connected this many "
                    "seconds more after the last caller's arrival (with --mode storm: callers "
                    "held idle on the home page, a background load for another run)")
    ap.add_argument("--idle", action="store_true", help="callers stop at the home page "
                    "(no consultation): with --hold, idle calls held as a background load")
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
    cpu_before = cpu_s(args.server_pid) if args.server_pid else 0.0
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
    llat = [x for r in results for x in r["result_loop_latency"]]
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
        "envoi_to_result_as_read_p50_ms": round(pct(llat, 0.5) * 1000, 1),
        "envoi_to_result_as_read_p99_ms": round(pct(llat, 0.99) * 1000, 1),
        "errors": errors, "validated": sum(r["validated"] for r in results),
        "envoi_to_result_p99_ms_by_tenth": by_tenth(
            [(at, x) for r in results for at, x in zip(r["result_at"], r["result_latency"],
                                                       strict=True)]),
    }
    lags = [x for r in results for x in r["loop_lag"]]
    report["client_cpu_s"] = round(sum(r["cpu_s"] for r in results), 1)
    report["client_loop_lag_p99_ms"] = round(pct(lags, 0.99) * 1000, 1)
    report["client_loop_lag_max_ms"] = round(max(lags, default=float("nan")) * 1000, 1)
    if args.server_pid:
        report["server_cpu_s"] = round(cpu_s(args.server_pid) - cpu_before, 1)
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
