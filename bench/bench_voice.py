"""The voice channel's figures: N voice calls at once, each doing consultations.

    .venv/bin/python bench/bench_voice.py                       # 1,000 calls
    .venv/bin/python bench/bench_voice.py --calls 100 --seconds 20   # smoke run

A real server process (``videotex serve --sip ...,voice=*``: every number gets the voice menu;
a demo store in a temp folder; JSON logs) on 127.0.0.1, and ``--procs`` load-generator
processes of telephones (``bench/telephones.py``: the voice tests' SIP calls and keys as
in-band DTMF tones, the media done for all lines at once and only "was there sound" kept of
what is heard; ``--full-phones``: the voice tests' own telephones, about 3 times the CPU).
Each call dials within ``--ramp`` seconds, waits for the question to end, types a candidate
number and #, waits, types the birth date, hears the answer, then presses 1 and starts
again until ``--seconds`` of steady state have passed, then hangs up. Printed, never
asserted:

- **last digit → the answer's first sample**, p50/p99, as the caller hears it: from the
  first tone frame of the last key (the press; the tone lasts 80 ms) to the first frame with
  sound received, plus the telephone's playout delay (4 frames, 80 ms);
- the server's **RTP send lateness** p50/p99 (its ``phone media`` log records during the
  steady state), **CPU per call** and **RSS per call**;
- the speech figures the server logs (synthesis cost per name, cache hit rate).

``--embargo``: every call looks up numbers of académies not yet published instead, half of
them real candidates and half numbers nobody has in the same batches, alternately; the
latency is printed for each half (an embargo that leaks would show in the timing).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_phone import (  # noqa: E402
    PhoneServer,
    _epoch,
    _quantile,
    caller_priority,
    calls_up,
    records,
)
from bench.bench_phone import start_server as phone_server  # noqa: E402
from bench.loadgen import load_candidates, published_only  # noqa: E402


def start_server(store: Path, calls: int, work: Path, workers: int = 1,
                 media_priority: int = 0) -> PhoneServer:
    """bench_phone's server, every called number given the voice menu."""
    return phone_server(store, calls, work, extra=",voice=*", workers=workers,
                        media_priority=media_priority)


class _Script:
    """One caller, advanced by the generator's scan every 50 ms."""

    def __init__(self, line: Any, numero: str, birth: str, end_at: float,
                 kind: str = "", caller: str = "") -> None:
        self.line, self.numero, self.birth, self.end_at = line, numero, birth, end_at
        #: The calling number (the server's log records name the call by it).
        self.caller = caller
        #: "real" or "nobody" (--embargo), for the latency of each kind.
        self.kind = kind
        self.state = "dialing"
        self.deadline = time.monotonic() + 30
        self.mark = 0.0
        self.consults = 0
        self.latency: list[float] = []
        self.failure = ""
        #: What the caller saw of a failed call.
        self.detail = ""
        self.bye: asyncio.Future[Any] | None = None
        self.ended_at = 0.0

    def quiet(self, now: float, seconds: float = 0.6) -> bool:
        """The server spoke since the mark and has been silent for ``seconds``."""
        line = self.line
        return line.last_sound_at > self.mark and now - line.last_sound_at >= seconds

    def step(self, phones: Any, now: float) -> None:
        line = self.line
        if now > self.deadline:
            self.failure = f"timeout while {self.state}"
            heard = getattr(phones, "tally", None)
            if heard is not None:
                heard()
            self.detail = (f"last sound heard {line.last_sound_at - self.mark:+.2f} s after "
                           f"the state began, {line.frames_heard} frames heard, "
                           f"{line.sent_frames} sent, {len(line.outgoing)} frames to send")
        elif self.state == "dialing":
            if line.response is not None and line.response.done():
                status = line.response.result().status
                if status >= 300:
                    self.failure = f"{status} {line.response.result().reason}"
                else:
                    self._next("question", now)
        elif line.state == "ended" and self.state != "bye":
            self.failure = f"line ended ({line.end_reason}) while {self.state}"
        elif self.state == "question" and self.quiet(now):
            phones.keys(line, self.numero + "#")
            self._next("birth", now)
        elif self.state == "birth" and not line.outgoing and self.quiet(now):
            phones.keys(line, self.birth)
            self._next("answer", now)
        elif self.state == "answer" and not line.outgoing and self.quiet(now, 1.0):
            if line.answered_at is None or line.answered_at < line.last_key_at:
                self.failure = "no answer heard"
            else:
                self.latency.append(line.answered_at - line.last_key_at)
                self.consults += 1
            if time.time() >= self.end_at:
                self.bye = asyncio.ensure_future(phones.hangup(line))
                self._next("bye", now, 10)
            else:
                phones.keys(line, "1")
                self._next("question", now)
        elif self.state == "bye" and line.state == "ended":
            self.state = "done"
            self.ended_at = now
        if self.failure:
            self.state = "failed"

    def _next(self, state: str, now: float, wait: float = 40) -> None:
        self.state, self.mark, self.deadline = state, now, now + wait


async def _generate(port: int, n: int, first: int, ramp: float, steady: float,
                    cands: list[tuple[str, str, str]], start_at: float, full: bool
                    ) -> dict[str, Any]:
    from bench.telephones import LeanTelephones
    from tests.voice.caller import VoicePhones

    # a telephone holds 80 ms (4 frames), not the test phones' 500 ms: that would be counted
    kind = VoicePhones if full else LeanTelephones
    phones = await kind(("127.0.0.1", port), capacity=n, emulate=False, jitter=4).open()
    phones.keep_audio = False
    cpu0, wall0 = time.process_time(), time.monotonic()
    end_at = start_at + ramp + 10 + steady
    scripts: list[_Script] = []
    while len(scripts) < n or any(s.state not in ("done", "failed") for s in scripts):
        while len(scripts) < n and time.time() >= start_at + len(scripts) * ramp / n:
            i = len(scripts)
            numero, birth, kind = cands[(first + i) % len(cands)]
            caller = f"06{first + i:08d}"
            line = phones.invite(caller, called="3617",
                                 codecs=("PCMA",) if i % 2 else ("PCMU",))
            scripts.append(_Script(line, numero, birth, end_at, kind, caller))
        now = time.monotonic()
        for script in scripts:
            if script.state not in ("done", "failed"):
                script.step(phones, now)
        await asyncio.sleep(0.05)
    failures: dict[str, int] = {}
    for s in scripts:
        if s.failure:
            failures[s.failure] = failures.get(s.failure, 0) + 1
    # the BYEs' answers (one unanswered at the end is the server already gone, not a failure)
    byes = await asyncio.gather(*(s.bye for s in scripts if s.bye is not None),
                                return_exceptions=True)
    unanswered = sum(1 for b in byes if isinstance(b, BaseException))
    late = sorted(phones.lateness)
    cpu = time.process_time() - cpu0
    call_seconds = sum(max(0.0, (s.ended_at or time.monotonic()) - s.line.t_answer)
                       for s in scripts if s.line.t_answer)
    await phones.close()
    by_kind: dict[str, list[float]] = {}
    for sc in scripts:
        by_kind.setdefault(sc.kind, []).extend(sc.latency)
    return {"latency": [x for s in scripts for x in s.latency], "by_kind": by_kind,
            "consults": sum(s.consults for s in scripts), "failures": failures,
            "failed": [(s.caller, s.numero, s.birth, s.failure, s.consults, s.detail)
                       for s in scripts if s.failure],
            "answered": sum(1 for s in scripts if s.line.t_answer),
            "byes_unanswered": unanswered,
            "gen_late_p99_ms": 1000 * late[int(len(late) * 0.99)] if late else 0.0,
            "gen_cpu": cpu, "gen_wall": time.monotonic() - wall0,
            "gen_call_seconds": call_seconds}


def _worker(args: tuple[Any, ...]) -> dict[str, Any]:
    *job, priority, nice = args
    caller_priority(priority, nice)
    return asyncio.run(_generate(*job))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--ramp", type=float, default=40.0)
    ap.add_argument("--seconds", type=float, default=60.0, help="steady state")
    ap.add_argument("--full-phones", action="store_true",
                    help="the voice tests' telephones (a jitter buffer and every frame decoded "
                    "a line; about 3 times the CPU) instead of bench/telephones.py")
    ap.add_argument("--caller-priority", type=int, default=0, metavar="N",
                    help="run the load generators SCHED_RR at N (below the server's "
                    "--media-priority): telephones are hardware that never falls behind, "
                    "a generator starved by the server and its speech engine does; 0: nice 5")
    ap.add_argument("--caller-nice", type=int, default=5, metavar="N",
                    help="the load generators' nice value without --caller-priority")
    ap.add_argument("--embargo", action="store_true",
                    help="unpublished numbers: real candidates against numbers nobody has")
    ap.add_argument("--workers", type=int, default=1,
                    help="the server's serve --workers: one SIP port each; generator i calls "
                    "worker i mod N (a dispatcher's part)")
    ap.add_argument("--media-priority", type=int, default=0, metavar="N",
                    help="the server's serve --media-priority (real-time audio; 0: normal)")
    ap.add_argument("--keep-log", type=Path, metavar="PATH",
                    help="copy the server's JSON log there (failed calls are named by their "
                    "calling number in it)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        from videotex.runtime.demo import ensure_demo_store

        store = work / "store"
        ensure_demo_store(store, work / "files")
        everyone = load_candidates(work / "files" / "csv", 5000, 2005)
        pairs: list[tuple[str, str, str]]
        if args.embargo:
            published = {c.numero for c in published_only(everyone, store)}
            unpublished = [c for c in everyone if c.numero not in published]
            taken = {c.numero for c in everyone}
            pairs = []
            for c in unpublished:  # a real one, then one nobody has in the same batch
                pairs.append((c.numero, c.birth, "real"))
                for k in range(1, 1000):
                    fake = c.numero[:-3] + f"{(int(c.numero[-3:]) + k) % 1000:03d}"
                    if fake not in taken:
                        pairs.append((fake, c.birth, "nobody"))
                        break
            if not pairs:
                raise SystemExit("the demo store has no académie unpublished now")
        else:
            pairs = [(c.numero, c.birth, "") for c in published_only(everyone, store)]
        server = start_server(store, args.calls, work, args.workers, args.media_priority)
        proc, log = server.proc, server.log
        print(f"server: {args.workers} worker(s), SIP ports {server.ports}, media priority "
              f"{args.media_priority or 'normal'}", flush=True)
        try:
            n, procs = args.calls, args.procs
            start_at = time.time() + 3
            per = [n // procs + (i < n % procs) for i in range(procs)]
            jobs = [(server.port_for(i), per[i], sum(per[:i]), args.ramp, args.seconds, pairs,
                     start_at, args.full_phones, args.caller_priority, args.caller_nice)
                    for i in range(procs)]
            rss0 = server.rss()
            with multiprocessing.get_context("spawn").Pool(procs) as pool:
                pending = pool.map_async(_worker, jobs)
                time.sleep(max(0.0, start_at + args.ramp + 10 - time.time()))
                c0, t0, rss_n = server.cpu(), time.monotonic(), server.rss()
                t_steady0 = time.time()
                time.sleep(args.seconds)
                c1, t1 = server.cpu(), time.monotonic()
                t_steady1 = time.time()
                results = pending.get(timeout=args.ramp + args.seconds + 600)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep_log:
            shutil.copyfile(log, args.keep_log)
        latency = sorted(x for r in results for x in r["latency"])
        failures: dict[str, int] = {}
        for r in results:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        media = [r for r in records(log, "phone media")
                 if t_steady0 + 5 <= _epoch(r["ts"]) <= t_steady1 + 5]
        cpu = (c1 - c0) / (t1 - t0)
        print(f"voice load: {n} calls in {procs} generator process(es), ramp {args.ramp:g} s, "
              f"steady {args.seconds:g} s")
        print(f"  calls answered {sum(r['answered'] for r in results)}, failures "
              f"{sum(failures.values())} {failures if failures else ''}; BYEs unanswered "
              f"{sum(r['byes_unanswered'] for r in results)}")
        print(f"  calls up at once (server, most): {calls_up(media)}")
        said = records(log, "voice said")
        for caller, numero, birth, why, done, seen in [f for r in results
                                                       for f in r["failed"]][:3]:
            heard = [" ".join(str(i) for i in r["items"]) for r in said
                     if r.get("caller") == caller]
            print(f"  failed call {caller} ({why}; keyed {numero}# then {birth}, "
                  f"{done} consultation(s) before{'; ' + seen if seen else ''}): the server "
                  "said")
            for h in heard[-8:]:
                print(f"      {h[:110]}")
            for e in records(log, "phone call ended"):
                if e.get("caller") == caller:
                    print(f"    its line: concealed {e['concealed']}, drained "
                          f"{e.get('drained', 0)}, lost {e.get('lost', 0)}, dropped held "
                          f"{e.get('overflow', 0)}, ended: {e['reason']}")
        # what the server said, by its first words: every consultation should be a result
        # (or, with --embargo, "not yet published"); anything else is a key heard wrong
        # ("not found", an invalid entry) or a question said again on silence
        firsts: dict[str, int] = {}
        for r in said:
            first = str(r["items"][0]) if r["items"] else "-"
            firsts[first] = firsts.get(first, 0) + 1
        print("  the server said, by first prompt: " + ", ".join(
            f"{k} {v:,}" for k, v in sorted(firsts.items(), key=lambda kv: -kv[1])))
        ended = records(log, "phone call ended")
        print(f"  server ticks without the caller's frame: held (late: the detector "
              f"waits) {sum(e['held'] for e in ended):,}, concealed (not yet started, or "
              f"gone) {sum(e['concealed'] for e in ended):,}; quiet frames dropped to shrink a "
              f"grown delay {sum(e.get('drained', 0) for e in ended):,}; frames lost "
              f"{sum(e.get('lost', 0) for e in ended):,}, dropped when too many were held "
              f"{sum(e.get('overflow', 0) for e in ended):,}")
        print(f"  consultations: {sum(r['consults'] for r in results)}")
        if latency:
            print(f"  last digit -> first sample of the answer (as heard): "
                  f"p50 {1000 * latency[len(latency) // 2]:.0f} ms, "
                  f"p99 {1000 * latency[int(len(latency) * 0.99)]:.0f} ms, "
                  f"max {1000 * latency[-1]:.0f} ms over {len(latency)}")
        if media:
            merged: dict[int, int] = {}
            for m in media:
                for ms, count in m["late_ms_counts"].items():
                    merged[int(ms)] = merged.get(int(ms), 0) + count
            print(f"  server RTP send lateness over {sum(merged.values()):,} packets: "
                  f"p50 {_quantile(merged, 0.5)} ms, p99 {_quantile(merged, 0.99)} ms, "
                  f"max {max(merged)} ms; tick CPU "
                  f"{statistics.median(m['cpu_ms_per_tick'] for m in media):.2f} ms")
        gen_cpu = sum(r["gen_cpu"] for r in results)
        gen_cs = sum(r["gen_call_seconds"] for r in results)
        which = "the voice tests' telephones" if args.full_phones else "lean telephones"
        print(f"  generators ({which}): "
              f"own RTP lateness p99 {max(r['gen_late_p99_ms'] for r in results):.2f} ms; "
              f"CPU {gen_cpu:.1f} s over {max(r['gen_wall'] for r in results):.0f} s = "
              f"{1000 * gen_cpu / max(1.0, gen_cs):.2f} ms per call-second")
        print(f"  server CPU: {100 * cpu:.1f} % of a core for {n} calls = "
              f"{1000 * cpu / max(1, n):.2f} ms CPU per call-second")
        print(f"  server RSS: {rss0:.1f} MiB before, {rss_n:.1f} MiB with {n} up = "
              f"{1024 * (rss_n - rss0) / max(1, n):.0f} KiB per call")
        kinds: dict[str, list[float]] = {}
        for r in results:
            for k, v in r["by_kind"].items():
                kinds.setdefault(k, []).extend(v)
        for k, v in sorted(kinds.items()):
            if k and v:
                v.sort()
                print(f"  embargo, {k}: {len(v)} answers, p50 {1000 * v[len(v) // 2]:.1f} ms, "
                      f"p90 {1000 * v[int(len(v) * 0.9)]:.1f} ms, "
                      f"p99 {1000 * v[int(len(v) * 0.99)]:.1f} ms, "
                      f"mean {1000 * sum(v) / len(v):.1f} ms")
        speech = records(log, "voice speech")
        if speech:
            print(f"  speech: {speech[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
