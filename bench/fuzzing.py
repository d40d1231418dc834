"""The fuzz run of bench/bench_fuzz.py: targets, invariants, mutated inputs, the run loop."""

from __future__ import annotations

import random
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


#: Problems seen outside the target's own call: loop exception handler, ERROR records.
_SIDE_ERRORS: list[str] = []
SLOW = 1.0  # seconds for one input: a hang


class Target(NamedTuple):
    seeds: list[bytes]
    #: input -> True (accepted), False (rejected as documented) or None (neither)
    run: Callable[[bytes], bool | None]
    #: exceptions that are the parser's documented answer to bad input (rejected)
    expected: tuple[type[BaseException], ...] = ()
    #: extra counters printed after the run
    stats: dict[str, int] | None = None
    #: called after the last input (ends a connection still open)
    finish: Callable[[], None] | None = None


class Invariant(AssertionError):
    """A target's check failed: always unexpected."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Invariant(what)


# -- input generation ----------------------------------------------------------------

def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[pos % len(data)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 2 and data:
            del data[pos:pos + rng.randint(1, 8)]
        elif op == 3 and data:
            data[pos % len(data)] = rng.choice((0x00, 0x1B, 0x13, 0x19, 0x1F, 0xFF, 0x0A, 0x0D))
        elif op == 4:
            chunk = data[pos:pos + rng.randint(1, 16)]
            data[pos:pos] = bytes(chunk) * rng.randint(1, 4)
        elif op == 5:
            del data[rng.randrange(len(data) + 1):]
        else:
            data += rng.randbytes(rng.randint(1, 16))
    return bytes(data)


def inputs(rng: random.Random, seeds: list[bytes], n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield (rng.randbytes(rng.randrange(64)) if i % 5 == 0
               else mutate(rng, rng.choice(seeds)))


# -- the run -----------------------------------------------------------------------

def run(name: str, target: Target, n: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}:{name}")
    counts = {"accepted": 0, "rejected": 0, "neither": 0, "unexpected": 0}
    examples: list[str] = []
    slowest = (0.0, b"")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    for data in inputs(rng, target.seeds, n):
        _SIDE_ERRORS.clear()
        t = time.perf_counter()
        problem = None
        try:
            result = target.run(data)
        except target.expected:
            result = False
        except Exception:
            problem = traceback.format_exc(limit=4)
        took = time.perf_counter() - t
        if took > slowest[0]:
            slowest = (took, data)
        if problem is None and _SIDE_ERRORS:
            problem = "\n".join(_SIDE_ERRORS)
        if problem is None and took > SLOW:
            problem = f"took {took:.2f} s"
        if problem is not None:
            counts["unexpected"] += 1
            if len(examples) < 5:
                examples.append(f"{data[:300]!r}:\n{problem}")
            continue
        counts["accepted" if result else "neither" if result is None else "rejected"] += 1
    if target.finish is not None:
        _SIDE_ERRORS.clear()
        try:
            target.finish()
        except Exception:
            _SIDE_ERRORS.append(traceback.format_exc(limit=4))
        if _SIDE_ERRORS:
            counts["unexpected"] += 1
            examples.append("after the last input:\n" + "\n".join(_SIDE_ERRORS))
    dt = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"parser": name, "inputs": n, "seconds": dt, "per_s": n / dt, **counts,
            "slowest_ms": slowest[0] * 1000, "slowest_input": slowest[1][:80],
            "peak_rss_growth_mib": (rss1 - rss0) / 1024, "examples": examples,
            "stats": dict(target.stats or {})}
