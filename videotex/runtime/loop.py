"""The server's event loop: asyncio's, with one timer that does not wait its turn.

A phone call's audio leaves every 20 ms from one timer of the process (the media tick,
``videotex/channels/phone/media.py``). asyncio runs a timer that falls due only after every
callback already ready in that pass of the loop; when many sessions become ready together
(a burst of keys after a caller's network stalled: each draws a page, a few milliseconds
each), the tick waited for all of them: 50 sessions' work made RTP 100 ms late (measured
with 500 calls, ``bench/bench_phone.py``). :class:`ServerLoop` checks, between two ready
callbacks, whether the **urgent** timer (:meth:`ServerLoop.call_urgent_at`, at most one: the
media clock) is due, and runs it there. Nothing else changes: the other callbacks run in
the same order, in the same pass.

``_run_once`` below is asyncio's (CPython 3.11, ``base_events.py``) with that check added
and the debug-mode timing left out (debug mode is not used by the server); the tests pin
what it must keep doing (``tests/runtime/test_loop.py``).
"""

from __future__ import annotations

import asyncio
import heapq
from asyncio import base_events
from collections.abc import Callable
from typing import Any

__all__ = ["ServerLoop"]

bev: Any = base_events  # (its constants are not in the type stubs)


class ServerLoop(asyncio.SelectorEventLoop):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        #: (when, callback, args, the plain timer that fires it when the loop is idle)
        self._urgent: tuple[float, Callable[..., Any], tuple[Any, ...],
                            asyncio.TimerHandle] | None = None

    def call_urgent_at(self, when: float, callback: Callable[..., Any], *args: Any
                       ) -> asyncio.TimerHandle:
        """Like :meth:`call_at`, and once due, run between two ready callbacks rather than
        after them. One urgent timer at a time: a new one replaces the last."""
        if self._urgent is not None:
            self._urgent[3].cancel()
        handle = self.call_at(when, self._fire_urgent)
        self._urgent = (when, callback, args, handle)
        return handle

    def _fire_urgent(self) -> None:
        urgent, self._urgent = self._urgent, None
        if urgent is not None:
            urgent[1](*urgent[2])

    def _run_urgent(self) -> None:
        urgent, self._urgent = self._urgent, None
        assert urgent is not None
        urgent[3].cancel()
        try:
            urgent[1](*urgent[2])
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.call_exception_handler({
                "message": f"Exception in urgent callback {urgent[1]!r}", "exception": exc})

    def _run_once(self) -> None:
        me: Any = self  # asyncio's private attributes, as base_events uses them
        sched_count = len(me._scheduled)
        if (sched_count > bev._MIN_SCHEDULED_TIMER_HANDLES and
                me._timer_cancelled_count / sched_count >
                bev._MIN_CANCELLED_TIMER_HANDLES_FRACTION):
            new_scheduled = []
            for handle in me._scheduled:
                if handle._cancelled:
                    handle._scheduled = False
                else:
                    new_scheduled.append(handle)
            heapq.heapify(new_scheduled)
            me._scheduled = new_scheduled
            me._timer_cancelled_count = 0
        else:
            while me._scheduled and me._scheduled[0]._cancelled:
                me._timer_cancelled_count -= 1
                handle = heapq.heappop(me._scheduled)
                handle._scheduled = False

        timeout = None
        if me._ready or me._stopping:
            timeout = 0
        elif me._scheduled:
            when = me._scheduled[0]._when
            timeout = min(max(0, when - self.time()), bev.MAXIMUM_SELECT_TIMEOUT)

        event_list = me._selector.select(timeout)
        me._process_events(event_list)
        event_list = None

        end_time = self.time() + me._clock_resolution
        while me._scheduled:
            handle = me._scheduled[0]
            if handle._when >= end_time:
                break
            handle = heapq.heappop(me._scheduled)
            handle._scheduled = False
            me._ready.append(handle)

        ready = me._ready
        ntodo = len(ready)
        for _ in range(ntodo):
            handle = ready.popleft()
            if handle._cancelled:
                continue
            handle._run()
            urgent = self._urgent
            if urgent is not None and urgent[0] <= self.time():
                self._run_urgent()  # (the media clock: see the module docstring)
        handle = None

