"""Phone line figures: INVITE → home page, Envoi → result page, and N calls at once.

    .venv/bin/python bench/bench_phone.py                      # 500 calls, about 4 minutes
    .venv/bin/python bench/bench_phone.py --calls 50 --seconds 20 --rounds 1   # smoke run

A real server process (``videotex serve --sip``, a demo store in a temp folder, JSON logs)
on 127.0.0.1; the callers are Minitels on phone lines (``tests/phone/caller.py``: SIP, RTP,
the V.23 originate modem as one bank per process). Printed, never asserted:

1. **Latency** (``--rounds`` calls, one at a time, the independent emulator on each line):
   from the INVITE sent to the complete home page, and from Envoi to the complete result
   page, as the Minitel sees them: "complete" is the first decoded chunk after which the
   screen (rows 1-24, the cursor and its visibility) is what it is once the line is quiet.
2. **Load** (``--calls`` calls in ``--procs`` load-generator processes): every call dials
   within ``--ramp`` seconds, types a number, Suite, a birth date and Envoi, reads the result,
   then RETOUR and Envoi again until ``--seconds`` of steady state have passed, then CNX/FIN;
   the server hangs up when its goodbye is sent. Reported: calls up at once, consultations,
   **byte errors** (every call's bytes received against what the server's log says it sent:
   count and CRC-32, both directions; SUB bytes are parity or framing errors), the
   server's **RTP send lateness** p50/p99 (each packet against its 20 ms schedule, from the
   server's ``phone media`` log records during the steady state), the server's **CPU per
   call** (CPU seconds per second of steady state ÷ calls) and **RSS per call** (RSS with N
   calls up minus RSS before the first call, ÷ N).

The machine's 2 cores are shared by the server, the load generators and whatever else runs:
the figures say what this run saw.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: see bench_v23.py

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Candidate, load_candidates, published_only  # noqa: E402

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))
SUITE, ENVOI, RETOUR, FIN = b"\x13\x48", b"\x13\x41", b"\x13\x42", b"\x13\x49"


# -- the server ---------------------------------------------------------------------------------

class PhoneServer:
    """``videotex serve --sip`` under test: its process (the supervisor with ``--workers``),
    the SIP ports (one a worker), its JSON log."""

    def __init__(self, proc: subprocess.Popen[str], ports: list[int], log: Path) -> None:
        self.proc, self.ports, self.log = proc, ports, log

    @property
    def pids(self) -> list[int]:
        """The process and its children (the workers)."""
        pid = self.proc.pid
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        return [pid, *map(int, kids)]

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in self.pids)

    def rss(self) -> float:
        return sum(rss_mib(p) for p in self.pids)

    def port_for(self, i: int) -> int:
        """The port generator ``i`` calls (a dispatcher's round robin over the workers)."""
        return self.ports[i % len(self.ports)]


def start_server(store: Path, calls: int, work: Path, jitter: int = 4, extra: str = "",
                 media_priority: int = 0, workers: int = 1) -> PhoneServer:
    """``videotex serve --sip`` for ``calls`` calls; ``extra``: more listener options
    (``,voice=*`` for bench_voice); ``media_priority``: ``serve --media-priority``;
    ``workers``: ``serve --workers`` (one SIP port each)."""
    config = work / "server.toml"
    config.write_text("[limits]\nexempt = ['127.0.0.1']\nidle_timeout = 0\n"
                      "[billing]\ncheckpoint_every = 10\n")
    log = work / "server.log"
    sip = (f"127.0.0.1:0,max_calls={calls + 20 * workers},"
           f"rtp_ports=30000-{30000 + 2 * calls + 99 * workers},"
           f"media_log=5,transport=udp,jitter={jitter}{extra}")
    proc = subprocess.Popen([VIDEOTEX, "serve", "--store", str(store), "--config", str(config),
                             "--sip", sip, "--log", "json", "--metrics-dir", str(work / "m"),
                             "--media-priority", str(media_priority),
                             "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    assert proc.stdout is not None
    ports = []
    for line in proc.stdout:
        if line.startswith("listening sip://"):
            ports.append(int(line.split(":")[-1].split(";")[0]))
            if workers == 1:
                return PhoneServer(proc, ports, log)
        if line.startswith(f"{workers} workers"):
            return PhoneServer(proc, ports, log)
    raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def records(log: Path, msg: str) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text().splitlines():
        if f'"msg": "{msg}"' in line:
            out.append(json.loads(line))
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- latency ------------------------------------------------------------------------------------

def _snap(line: Any) -> tuple[str, tuple[int, int], bool]:
    rows = line.minitel.render_text().split("\n", 1)[1]
    return rows, line.minitel.cursor, line.minitel.cursor_visible


async def _quiet(line: Any, quiet: float, timeout: float, since: int = 0) -> None:
    """Until bytes came after ``since`` and none for ``quiet`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and line.state == "up":
        last = line.arrivals[-1][0] if line.arrivals else 0.0
        if len(line.received) > since and time.monotonic() - last >= quiet:
            return
        line.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(line.changed.wait(), quiet / 2)
    if line.state != "up":
        raise RuntimeError(f"line ended: {line.end_reason}")


def _complete(snaps: list[tuple[float, Any]], final: Any, start: float) -> float:
    for t, s in snaps:
        if s == final:
            return t - start
    return float("nan")


#: The latency calls' Minitel holds what a box in modem mode holds, 80 ms (the tests' phones
#: hold 500 ms, for a loop shared with everything else; that delay would be counted here).
LATENCY_JITTER = 4


async def latency(port: int, cand: Candidate, rounds: int) -> list[tuple[float, float]]:
    from tests.phone.caller import Phones

    out = []
    for _ in range(rounds):
        phones = await Phones(("127.0.0.1", port), jitter=LATENCY_JITTER).open()
        try:
            snaps: list[tuple[float, Any]] = []
            line = phones.invite("0320000001")
            line.watch = lambda ln, t, snaps=snaps: snaps.append((t, _snap(ln)))  # type: ignore[misc]
            await phones.answered(line)
            await _quiet(line, 1.5, 30)
            home = _complete(snaps, _snap(line), line.t_invite)
            phones.type(line, cand.numero)
            phones.press(line, __import__("terminal_emu").Key.SUITE)
            phones.type(line, cand.birth)
            await phones.wait(line, lambda ln: cand.birth in ln.text, what="birth date")
            await _quiet(line, 0.5, 30)
            snaps.clear()
            since = len(line.received)
            t_envoi = time.monotonic()
            phones.press(line, __import__("terminal_emu").Key.ENVOI)
            await _quiet(line, 1.5, 30, since)
            result = _complete(snaps, _snap(line), t_envoi)
            assert cand.nom.split()[0][:8].upper() in line.text.upper(), line.text
            out.append((home, result))
            phones.press(line, __import__("terminal_emu").Key.CONNEXION_FIN)
            await asyncio.wait_for(line.ended.wait(), 30)
        finally:
            await phones.close()
    return out


# -- load ---------------------------------------------------------------------------------------

class _Script:
    """One simulated caller's consultations, advanced by the generator's scan (no task or
    wake-up per line: at 250 lines a process, those would cost more than the modems)."""

    def __init__(self, line: Any, numero: str, birth: str, end_at: float) -> None:
        self.line, self.numero, self.birth, self.end_at = line, numero, birth, end_at
        self.state = "dialing"
        self.since = 0
        self.deadline = time.monotonic() + 30
        self.consults = 0
        self.failure = ""

    def quiet(self, now: float) -> bool:
        line = self.line
        return len(line.received) > self.since and now - line.arrivals[-1][0] >= 0.8

    def step(self, phones: Any, now: float) -> None:
        line = self.line
        if now > self.deadline:
            self.failure = f"timeout while {self.state}"
        elif self.state == "dialing":
            if line.response is not None and line.response.done():
                status = line.response.result().status
                if status >= 300:
                    self.failure = f"{status} {line.response.result().reason}"
                else:
                    self._next("home", now)
        elif line.state == "ended" and self.state != "bye":
            self.failure = f"line ended ({line.end_reason}) while {self.state}"
        elif self.state == "home" and self.quiet(now):
            phones.send(line, self.numero.encode() + SUITE + self.birth.encode() + ENVOI)
            self._next("result", now)
        elif self.state == "result" and self.quiet(now):
            self.consults += 1
            if time.time() >= self.end_at:
                phones.send(line, FIN)
                self._next("bye", now, 60)
            else:
                phones.send(line, RETOUR)
                self._next("retour", now)
        elif self.state == "retour" and self.quiet(now):
            phones.send(line, ENVOI)
            self._next("result", now)
        elif self.state == "bye" and line.state == "ended":
            self.state = "done"
        if self.failure:
            self.state = "failed"

    def _next(self, state: str, now: float, wait: float = 40) -> None:
        self.state, self.since, self.deadline = state, len(self.line.received), now + wait


async def _generate(port: int, n: int, first: int, ramp: float, steady: float,
                    cands: list[tuple[str, str]], start_at: float, jitter: int
                    ) -> dict[str, Any]:
    from tests.phone.caller import Phones

    phones = await Phones(("127.0.0.1", port), capacity=n, emulate=False, jitter=jitter).open()
    end_at = start_at + ramp + 10 + steady
    scripts: list[_Script] = []
    while len(scripts) < n or any(s.state not in ("done", "failed") for s in scripts):
        while len(scripts) < n and time.time() >= start_at + len(scripts) * ramp / n:
            i = len(scripts)
            numero, birth = cands[(first + i) % len(cands)]
            line = phones.invite(f"06{first + i:08d}", codecs=("PCMA",) if i % 2 else ("PCMU",))
            scripts.append(_Script(line, numero, birth, end_at))
        now = time.monotonic()
        for script in scripts:
            if script.state not in ("done", "failed"):
                script.step(phones, now)
        await asyncio.sleep(0.1)
    failures: dict[str, int] = {}
    calls = []
    for script in scripts:
        line = script.line
        if script.failure:
            failures[script.failure] = failures.get(script.failure, 0) + 1
        if line.t_answer:
            calls.append({"call": line.call_id, "down": len(line.received),
                          "crc_down": f"{zlib.crc32(bytes(line.received)):08x}",
                          "up": len(line.sent), "crc_up": f"{zlib.crc32(bytes(line.sent)):08x}",
                          "sub": line.received.count(0x1A), "consults": script.consults,
                          "end": line.end_reason, "jitter": str(line.jitter.stats)})
    late = sorted(phones.lateness)
    await phones.close()
    return {"calls": calls, "failures": failures,
            "gen_late_p50_ms": 1000 * late[len(late) // 2] if late else 0.0,
            "gen_late_p99_ms": 1000 * late[int(len(late) * 0.99)] if late else 0.0}


def caller_priority(priority: int, nice: int = 5) -> None:
    """A load generator's scheduling: ``priority`` > 0 runs it SCHED_RR at that priority
    (below the server's ``--media-priority``: the callers it simulates are hardware that
    never falls behind, while a generator left what the server and its helpers do not use
    of 2 cores does), else at ``nice`` (5: the server goes first when the cores are short;
    below 0: before the server's speech engine, still after a real-time server)."""
    if priority > 0:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    else:
        os.nice(nice)


def _worker(args: tuple[Any, ...]) -> dict[str, Any]:
    *job, priority = args
    caller_priority(priority)
    return asyncio.run(_generate(*job))


def load(server: PhoneServer, cands: list[Candidate], n: int, procs: int,
         ramp: float, steady: float, jitter: int, priority: int = 0) -> None:
    log = server.log
    pairs = [(c.numero, c.birth) for c in cands]
    start_at = time.time() + 3
    per = [n // procs + (i < n % procs) for i in range(procs)]
    jobs = [(server.port_for(i), per[i], sum(per[:i]), ramp, steady, pairs, start_at, jitter,
             priority) for i in range(procs)]
    rss0 = server.rss()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        pending = pool.map_async(_worker, jobs)
        # steady state: from ramp + 10 s (every home page out) for `steady` seconds
        time.sleep(max(0.0, start_at + ramp + 10 - time.time()))
        c0, t0, rss_n = server.cpu(), time.monotonic(), server.rss()
        t_steady0 = time.time()
        time.sleep(steady)
        c1, t1 = server.cpu(), time.monotonic()
        t_steady1 = time.time()
        results = pending.get(timeout=ramp + steady + 600)
    calls = [c for r in results for c in r["calls"]]
    failures: dict[str, int] = {}
    for r in results:
        for k, v in r["failures"].items():
            failures[k] = failures.get(k, 0) + v
    time.sleep(1)
    ended = {r["call"]: r for r in records(log, "phone call ended")}
    bad_down = bad_up = sub = missing = 0
    for c in calls:
        s = ended.get(c["call"])
        if s is None:
            missing += 1
            continue
        bad_down += (c["down"], c["crc_down"]) != (s["down"], s["crc_down"])
        bad_up += (c["up"], c["crc_up"]) != (s["up"], s["crc_up"])
        if os.environ.get("BENCH_PHONE_DEBUG") and ((c["down"], c["crc_down"]) != (
                s["down"], s["crc_down"]) or (c["up"], c["crc_up"]) != (s["up"], s["crc_up"])):
            print("   ", c["down"], s["down"], c["up"], s["up"], c["sub"], c["end"], s["reason"],
                  "server concealed", s["concealed"], "held", s.get("held"), c["jitter"])
        sub += c["sub"]
    media = [r for r in records(log, "phone media")
             if t_steady0 + 5 <= _epoch(r["ts"]) <= t_steady1 + 5]
    cpu = (c1 - c0) / (t1 - t0)
    print(f"load: {n} calls in {procs} generator process(es), ramp {ramp:g} s, "
          f"steady {steady:g} s")
    print(f"  calls answered {len(calls)}, refused/failed {sum(failures.values())} "
          f"{dict(failures) if failures else ''}")
    print(f"  calls up at once (server, most): {calls_up(media)}")
    print(f"  consultations: {sum(c['consults'] for c in calls)} "
          f"(median {statistics.median([c['consults'] for c in calls] or [0])} per call)")
    print(f"  byte errors: calls whose bytes differ from what the server sent: down {bad_down}, "
          f"up {bad_up}; SUB bytes received {sub}; calls without a server record {missing}; "
          f"bytes down {sum(c['down'] for c in calls):,}, up {sum(c['up'] for c in calls):,}")
    mine = [ended[c["call"]] for c in calls if c["call"] in ended]
    print(f"  server ticks with the caller's frame late: held (the modem stood still) "
          f"{sum(s.get('held', 0) for s in mine):,}, concealed "
          f"{sum(s['concealed'] for s in mine):,}")
    if media:
        merged: dict[int, int] = {}
        for m in media:
            for ms, count in m["late_ms_counts"].items():
                merged[int(ms)] = merged.get(int(ms), 0) + count
        print(f"  server RTP send lateness over {sum(merged.values()):,} packets: "
              f"p50 {_quantile(merged, 0.5)} ms, p99 {_quantile(merged, 0.99)} ms, "
              f"p99.9 {_quantile(merged, 0.999)} ms, max {max(merged)} ms (whole ms); per 5 s "
              f"window p99: {', '.join(str(round(m['late_p99_ms'])) for m in media)} ms; "
              f"ticks given up {sum(m['skipped'] for m in media)}, "
              f"tick CPU {statistics.median(m['cpu_ms_per_tick'] for m in media):.2f} ms")
    print(f"  generators' own RTP lateness p50/p99: "
          f"{statistics.median(r['gen_late_p50_ms'] for r in results):.2f} / "
          f"{max(r['gen_late_p99_ms'] for r in results):.2f} ms")
    print(f"  server CPU: {100 * cpu:.1f} % of a core for {n} calls = "
          f"{1000 * cpu / max(1, n):.2f} ms CPU per call-second")
    print(f"  server RSS: {rss0:.1f} MiB before the calls, {rss_n:.1f} MiB with {n} up = "
          f"{1024 * (rss_n - rss0) / max(1, n):.0f} KiB per call")


def calls_up(media: list[dict[str, Any]]) -> int:
    """Most calls up at once: each worker's most, added (its ``phone media`` records)."""
    most: dict[int, int] = {}
    for m in media:
        most[m["pid"]] = max(most.get(m["pid"], 0), m["calls_max"])
    return sum(most.values())


def _quantile(counts: dict[int, int], q: float) -> str:
    """The ``q`` quantile of whole-millisecond counts, as "<1" or "N-N+1"."""
    total, seen = sum(counts.values()), 0
    for ms in sorted(counts):
        seen += counts[ms]
        if seen >= q * total:
            return "<1" if ms == 0 else f"{ms}-{ms + 1}"
    return "?"


def _epoch(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts).timestamp()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--procs", type=int, default=2, help="load generator processes")
    ap.add_argument("--ramp", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=60.0, help="steady state")
    ap.add_argument("--rounds", type=int, default=3, help="latency calls")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--server-jitter", type=int, default=4,
                    help="the server's jitter buffer (its option jitter), in 20 ms frames")
    ap.add_argument("--jitter", type=int, default=10,
                    help="the simulated Minitels' jitter buffer, in 20 ms frames: a real "
                    "box holds 40-200 ms in modem mode; the generators share the cores")
    ap.add_argument("--workers", type=int, default=1,
                    help="the server's serve --workers: one SIP port each; generator i calls "
                    "worker i mod N (a dispatcher's part)")
    ap.add_argument("--media-priority", type=int, default=0, metavar="N",
                    help="the server's serve --media-priority (real-time audio; 0: normal)")
    ap.add_argument("--caller-priority", type=int, default=0, metavar="N",
                    help="run the load generators SCHED_RR at N (below --media-priority): "
                    "a Minitel's modem is hardware that never falls behind, a generator "
                    "starved on the cores the server leaves does; 0: nice 5")
    args = ap.parse_args()
    from videotex.runtime.demo import ensure_demo_store

    with tempfile.TemporaryDirectory(prefix="bench_phone") as tmp:
        work = Path(tmp)
        print("building a demo store ...", flush=True)
        ensure_demo_store(work / "store", work / "files", count=5000)
        cands = published_only(load_candidates(work / "files" / "csv", 3000, 7), work / "store")
        server = start_server(work / "store", args.calls, work, args.server_jitter,
                              media_priority=args.media_priority, workers=args.workers)
        proc, port, log = server.proc, server.ports[0], server.log
        print(f"server: {args.workers} worker(s), SIP ports {server.ports}, media priority "
              f"{args.media_priority or 'normal'}", flush=True)
        try:
            if args.rounds:
                got = asyncio.run(latency(port, cands[0], args.rounds))
                homes, results = [g[0] for g in got], [g[1] for g in got]
                print(f"INVITE -> complete home page: median {statistics.median(homes):.3f} s "
                      f"({', '.join(f'{h:.3f}' for h in homes)}); goal <= 6 s")
                print(f"Envoi -> complete result page: median {statistics.median(results):.3f} s "
                      f"({', '.join(f'{r:.3f}' for r in results)}); goal <= 2.8 s")
                ended = records(log, "phone call ended")
                deadline = time.monotonic() + 10
                while len(ended) < args.rounds and time.monotonic() < deadline:
                    time.sleep(0.1)  # the server logs the end a moment after the BYE
                    ended = records(log, "phone call ended")
                page = ended[-1]
                print(f"  (bytes down per call: {page['down']}; answer tone 1.0 s)")
            if not args.skip_load:
                load(server, cands, args.calls, args.procs, args.ramp, args.seconds,
                     args.jitter, args.caller_priority)
        finally:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
