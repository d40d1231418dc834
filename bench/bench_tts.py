"""Benchmark of the voice channel's speech: prints figures, asserts nothing.

    .venv/bin/python bench/bench_tts.py [--names 200] [--workers 2] [--calls 20000]
        [--lru 1024] [--zipf 1.0] [--ramp 60] [--engine espeak|pico]

1. Fixed prompts: every :class:`Prompt` rendered once (the start-up cost), then read back
   from the disk cache (a restart).
2. Names, cold: ``--names`` distinct "Prénom Nom." texts from the demo store, one at a time
   (wall ms and CPU ms per name: the engine's subprocess and our resampling and G.711),
   then all at once through ``--workers`` workers (names per second). Cached: the same
   names again, LRU hits (µs per :meth:`Speech.speak`).
3. Results day: ``--calls`` calls, each wanting the name of a demo candidate drawn Zipf-like
   (rank r of the demo's full names by frequency has weight 1/r^zipf), arriving at a rate
   that ramps linearly from 0 over ``--ramp`` seconds, through one :class:`Speech` with the
   real engine and an LRU of ``--lru`` texts: hit rate, syntheses, queue waits, latency of
   :meth:`Speech.speak`, and how late a 20 ms ticker on the same loop runs (under the
   server's :class:`GcPolicy`, as in ``videotex serve``). Then the hit rate alone for other LRU sizes (same draw, no engine).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import resource
import statistics
import tempfile
import time

from videotex.runtime.gcpolicy import GcPolicy
from videotex.store.demo import generate_batch
from videotex.voice.prompts import CANDIDATE, Prompt, speakable_name
from videotex.voice.speech import Speech
from videotex.voice.tts import ESPEAK_FR, PICO_FR, Engine, render

ENGINES = {"espeak": ESPEAK_FR, "pico": PICO_FR}


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def demo_names(seed: int = 2005) -> list[tuple[str, int]]:
    """Distinct spoken names of demo candidates (the largest bac batches), most frequent
    first, with their counts."""
    counts: collections.Counter[str] = collections.Counter()
    for academie in ("versailles", "creteil", "lille", "aix-marseille"):
        text = generate_batch("bac", academie, 20_000, 2005, seed)
        for line in text.splitlines()[1:]:
            cells = line.split(",")
            counts[CANDIDATE.format(prenom=speakable_name(cells[2]),
                                    nom=speakable_name(cells[1]))] += 1
    return counts.most_common()


async def prompts_cost(engine: Engine, workers: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        for label in ("first start (synthesised)", "restart (disk cache)"):
            async with Speech(engine, workers=workers, cache_dir=cache) as speech:
                t0, c0 = time.perf_counter(), _cpu()
                await speech.warm()
                wall, cpu = time.perf_counter() - t0, _cpu() - c0
            seconds = sum(speech.cached(p).seconds for p in Prompt)
            kib = sum(len(speech.cached(p).ulaw) * 2 for p in Prompt) / 1024
            print(f"{len(Prompt)} prompts, {label}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms "
                  f"CPU; {seconds:.1f} s of speech, {kib:.0f} KiB in both laws")


async def names_cost(engine: Engine, names: list[str], workers: int) -> None:
    walls, cpus = [], []
    for text in names:  # one at a time: the cost of one name, nothing else running
        t0, c0 = time.perf_counter(), _cpu()
        render(engine, text)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    walls.sort()
    print(f"cold, one at a time ({len(names)} names): wall p50 {statistics.median(walls) * 1000:.1f} ms,"
          f" p99 {walls[int(len(walls) * 0.99) - 1] * 1000:.1f} ms; CPU {statistics.mean(cpus) * 1000:.1f} "
          "ms a name (engine subprocess + resampling + G.711)")
    async with Speech(engine, workers=workers, queue=len(names), lru_size=len(names)) as speech:
        t0 = time.perf_counter()
        await asyncio.gather(*(speech.speak(t) for t in names))
        wall = time.perf_counter() - t0
        print(f"cold, {workers} workers at once: {len(names) / wall:.0f} names/s "
              f"({wall * 1000 / len(names):.1f} ms of wall per name)")
        t0, c0 = time.perf_counter(), _cpu()
        for _ in range(10):
            for text in names:
                await speech.speak(text)
        n = 10 * len(names)
        print(f"cached (LRU hit): {(time.perf_counter() - t0) / n * 1e6:.1f} us wall, "
              f"{(_cpu() - c0) / n * 1e6:.1f} us CPU a name")


def draw_calls(names: list[tuple[str, int]], calls: int, s: float, seed: int) -> list[str]:
    weights = [1.0 / (rank ** s) for rank in range(1, len(names) + 1)]
    return random.Random(seed).choices([n for n, _ in names], weights=weights, k=calls)


async def ramp(engine: Engine, wanted: list[str], workers: int, lru: int, ramp_s: float) -> None:
    gc_policy = GcPolicy()  # the server's: startup frozen, no automatic full collection
    gc_policy.start()
    try:
        await _ramp(engine, wanted, workers, lru, ramp_s)
    finally:
        gc_policy.stop()


async def _ramp(engine: Engine, wanted: list[str], workers: int, lru: int, ramp_s: float) -> None:
    async with Speech(engine, workers=workers, queue=4096, lru_size=lru) as speech:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        late: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:  # a 20 ms media clock: how late the loop lets it be
            due = loop.time() + 0.02
            while not done.is_set():
                await asyncio.sleep(max(0.0, due - loop.time()))
                late.append(loop.time() - due)
                due += 0.02

        async def call(text: str) -> None:
            t0 = time.perf_counter()
            await speech.speak(text)
            latencies.append(time.perf_counter() - t0)

        # arrivals at rate r(t) = k t: the n-th call at t = ramp * sqrt(n / calls)
        tick = asyncio.ensure_future(ticker())
        start = loop.time()
        tasks = []
        for n, text in enumerate(wanted):
            due = start + ramp_s * (n / len(wanted)) ** 0.5
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            tasks.append(asyncio.ensure_future(call(text)))
        await asyncio.gather(*tasks)
        took = loop.time() - start
        done.set()
        await tick
        late.sort()
        s = speech.stats
        latencies.sort()
        peak_rate = 2 * len(wanted) / ramp_s
        print(f"results-day ramp: {len(wanted):,} calls over {ramp_s:.0f} s (0 -> {peak_rate:.0f} "
              f"calls/s), {workers} workers, LRU {lru}: done in {took:.1f} s")
        print(f"  hit rate {s.hit_rate:.1%} ({s.hits:,} hits, {s.coalesced:,} shared runs, "
              f"{s.misses:,} syntheses); synthesis mean {s.synth_seconds / max(1, s.syntheses) * 1000:.1f}"
              f" ms, max {s.synth_max * 1000:.0f} ms")
        print(f"  queue: {s.queue_waits:,} waited, longest {s.queue_wait_max * 1000:.0f} ms, peak "
              f"{s.peak_admitted} admitted; speak() p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.0f} ms, max {latencies[-1] * 1e3:.0f} ms")
        print(f"  a 20 ms ticker on the same loop: late p50 {late[len(late) // 2] * 1e3:.1f} ms, "
              f"p99 {late[int(len(late) * 0.99)] * 1e3:.1f} ms, max {late[-1] * 1e3:.1f} ms")


def lru_rates(wanted: list[str], sizes: list[int]) -> None:
    cells = []
    for size in sizes:
        lru: collections.OrderedDict[str, None] = collections.OrderedDict()
        hits = 0
        for text in wanted:
            if text in lru:
                hits += 1
                lru.move_to_end(text)
            else:
                lru[text] = None
                if len(lru) > size:
                    lru.popitem(last=False)
        cells.append(f"{size}: {hits / len(wanted):.1%}")
    print("  LRU size -> hit rate, same calls: " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), default="espeak")
    parser.add_argument("--names", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--lru", type=int, default=1024)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--ramp", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=2005)
    args = parser.parse_args()
    engine = ENGINES[args.engine]
    names = demo_names(args.seed)
    print(f"engine {engine.name} ({engine.voice}); {len(names):,} distinct names among 80,000 "
          f"demo bac candidates, most frequent {names[0][0]!r} x{names[0][1]}")
    asyncio.run(prompts_cost(engine, args.workers))
    sample = [n for n, _ in random.Random(args.seed).sample(names, min(args.names, len(names)))]
    asyncio.run(names_cost(engine, sample, args.workers))
    wanted = draw_calls(names, args.calls, args.zipf, args.seed)
    print(f"calls want {len(set(wanted)):,} distinct names (Zipf s={args.zipf})")
    asyncio.run(ramp(engine, wanted, args.workers, args.lru, args.ramp))
    lru_rates(wanted, [128, 256, 512, 1024, 2048, 4096])


if __name__ == "__main__":
    main()
