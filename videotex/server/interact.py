"""``interact``: the one coroutine that drives a session behind every transport.

It moves bytes between a :class:`Connection` and a sans-IO
:class:`~videotex.teletel.Session`, wakes the session at its deadlines (status row,
later idle timers), and settles ambiguous keyboard input with ``flush_input`` when the
caller goes quiet. It never looks at what the bytes mean.
"""

from __future__ import annotations

import asyncio

from videotex.teletel import Session

from .connection import Connection, Pacer

__all__ = ["interact", "send_pending"]

#: How long a half-typed sequence may wait before the decoder settles it.
_FLUSH_AFTER = 0.5


async def send_pending(conn: Connection, session: Session, pacer: Pacer | None) -> None:
    data = session.data_to_send()
    if not data:
        return
    if pacer is None:
        conn.write(data)
        await conn.drain()
    else:
        await pacer.send(conn, data)


class _Deadlines:
    """Wakes a session at its deadlines (status row, billing unit, time limits).

    On a line whose writes go out at once (``conn.writes_now``) and with no pacing, the
    timer ticks the session and writes its bytes itself while the read goes on: no
    cancelled read, no exception, no task wake-up for the ticks of a held call (most of
    what an idle call costs). Otherwise (pacing, a write in progress, the call ending on
    the tick) it interrupts the read and :func:`interact` ticks. A plain object, not
    closures: nothing of an ended call is left in a reference cycle."""

    __slots__ = ("conn", "direct", "due", "loop", "reading", "session", "timer")

    def __init__(self, conn: Connection, session: Session, pacer: Pacer | None) -> None:
        self.conn = conn
        self.session = session
        self.loop = asyncio.get_running_loop()
        self.direct = pacer is None and conn.writes_now
        #: The read's timeout while :func:`interact` waits for input, else None.
        self.reading: asyncio.Timeout | None = None
        self.timer: asyncio.TimerHandle | None = None
        #: A deadline passed while :func:`interact` was not reading: it ticks next.
        self.due = False

    def loop_time(self, deadline: float) -> float:
        return self.loop.time() + max(0.0, deadline - self.session.clock.monotonic())

    def arm(self) -> None:
        """Set the timer for the session's next deadline (if it moved)."""
        deadline = self.session.next_deadline()
        when = None if deadline is None else self.loop_time(deadline)
        timer = self.timer
        if timer is not None:
            if when is not None and abs(timer.when() - when) < 1e-3:
                return
            timer.cancel()
            self.timer = None
        if when is not None:
            self.timer = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self.timer = None
        session, reading = self.session, self.reading
        if session.closed:
            return
        if reading is None or reading.expired():
            self.due = True  # writing, or woken already
            return
        if not self.direct:
            reading.reschedule(self.loop.time())  # interact ticks (paced output)
            return
        session.tick()
        data = session.data_to_send()
        if data:
            self.conn.write(data)
        if session.closed:
            reading.reschedule(self.loop.time())  # interact ends the call
            return
        self.arm()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.reading = None


async def interact(conn: Connection, session: Session, pacer: Pacer | None = None) -> None:
    """Run ``session`` on ``conn`` until either side ends the call (see
    :class:`_Deadlines` for how time wakes it)."""
    session.start()
    await send_pending(conn, session, pacer)
    wake = _Deadlines(conn, session, pacer)
    loop = wake.loop
    quiet_flush = False
    try:
        while not session.closed:
            if wake.due:
                wake.due = False
                session.tick()
                await send_pending(conn, session, pacer)
                continue
            wake.arm()
            try:
                async with asyncio.timeout(
                        loop.time() + _FLUSH_AFTER if quiet_flush else None) as reading:
                    wake.reading = reading
                    data = await conn.read()
            except TimeoutError:
                wake.reading = None
                if quiet_flush:
                    session.flush_input()
                    quiet_flush = False
                session.tick()
            else:
                wake.reading = None
                session.receive_data(data)
                quiet_flush = session.input_pending
            await send_pending(conn, session, pacer)
    finally:
        wake.stop()
