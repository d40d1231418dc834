"""When the cyclic garbage collector runs in a server process.

CPython's automatic full collection scans every tracked object. A call holds about 60
(raw) to 90 (telnet) of them, so a worker with 16,000 callers holds over a million, and a
full collection then stops the event loop for half a second; by default one starts each
time the old generation has grown by a quarter, which during a results-day ramp means
every few seconds, and the p99 of every caller on that worker goes with it.

The policy here:

* objects alive after startup are frozen (never scanned again);
* automatic collection is off: CPython triggers it on allocations minus deallocations,
  and a server that replaces old objects by new ones (a status row per caller every few
  seconds) lets the young generation grow to tens of thousands of objects between two
  triggers (10-50 ms pauses measured at 5,000 callers). Instead the event loop collects
  the youngest generation every ``YOUNG_EVERY`` seconds and the middle one every
  ``MIDDLE_EVERY``, so each pause covers only what survived since the last one;
* a full collection runs every ``full_every`` seconds; its duration is logged and
  counted (metric ``videotex_gc_full_seconds``). Workers of one machine spread theirs
  (``phase``: worker *i* (``run_server(config, worker=i)``) starts its cycle ``i`` × 0.38 of a period later, modulo one
  period), so that they never all stop at once on cores they share;
* ended calls are freed by reference counting, not by the collector: the listeners
  break the reference cycles a finished connection leaves (telnetlib3's objects are
  unlinked at the hand-over, ``channels/telnet_negotiation.py``; asyncio's transport by
  ``channels/raw.close_and_forget``), and tests check that an ended call leaves no
  cyclic garbage.

``full_every = 0`` keeps CPython's own policy.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

__all__ = ["GcPolicy", "worker_phase"]

log = logging.getLogger("videotex.gc")

#: Seconds between collections of the youngest generation, and of the middle one.
YOUNG_EVERY = 0.1
MIDDLE_EVERY = 1.0


def worker_phase(index: int) -> float:
    """Where worker ``index``'s full collections fall in the period: spread for any number
    of workers (multiples of 0.382, the golden ratio's fractional complement, mod 1)."""
    return (max(0, index) * 0.381966) % 1.0


class GcPolicy:
    def __init__(self, full_every: float = 600.0,
                 on_full: Callable[[float, int], None] | None = None,
                 phase: float = 0.0) -> None:
        if full_every < 0:
            raise ValueError(f"gc full_every must be >= 0 seconds, not {full_every!r}")
        if not 0 <= phase < 1:
            raise ValueError(f"gc phase must be a fraction of the period in [0, 1), "
                             f"not {phase!r}")
        self.full_every = full_every
        #: The first full collection comes (1 + phase) periods after start.
        self.phase = phase
        self.on_full = on_full
        self.fulls = 0
        self.longest = 0.0
        self._was_enabled: bool | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Freeze what startup built and take over full collections (in the loop)."""
        if not self.full_every:
            return
        gc.collect()
        gc.freeze()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="gc-full")

    def collect(self) -> int:
        """One full collection now; its duration is logged and kept."""
        t = time.perf_counter()
        found = gc.collect()
        took = time.perf_counter() - t
        self.fulls += 1
        self.longest = max(self.longest, took)
        log.info("full garbage collection", extra={"seconds": round(took, 4), "found": found})
        if self.on_full is not None:
            self.on_full(took, found)
        return found

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        middle = loop.time() + MIDDLE_EVERY
        full = loop.time() + self.full_every * (1 + self.phase)
        while True:
            await asyncio.sleep(YOUNG_EVERY)
            now = loop.time()
            if now >= full:
                self.collect()
                full = now + self.full_every
                middle = now + MIDDLE_EVERY
            elif now >= middle:
                gc.collect(1)
                middle = now + MIDDLE_EVERY
            else:
                gc.collect(0)

    def stop(self) -> None:
        """Back to CPython's own policy (the server is stopping)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._was_enabled is not None:
            if self._was_enabled:
                gc.enable()
            gc.unfreeze()
            self._was_enabled = None
