"""``interact``: the one coroutine that drives a session behind every transport.

It moves bytes between a :class:`Connection` and a sans-IO
:class:`~videotex.teletel.Session`, wakes the session at its deadlines (status row,
later idle timers), and settles ambiguous keyboard input with ``flush_input`` when the
caller goes quiet. It never looks at what the bytes mean.
"""

from __future__ import annotations

import asyncio
import weakref

from videotex.channels.connection import Connection, Pacer
from videotex.teletel import Session

from .effects import CallEffects

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


#: Resolution of the deadline wheel: a deadline fires up to this late, never early.
_SLOT = 0.05


class _Wheel:
    """The deadlines of every call of one event loop, in 50 ms slots: one loop timer per
    slot instead of one per call in asyncio's timer heap, and the calls due in the same
    slot ticked in one pass (one loop wake-up, not one each). The status row shows
    seconds; 50 ms late is never seen."""

    __slots__ = ("_loop", "slots")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # weak: the wheel is the value of a weak-keyed table of loops
        self._loop = weakref.ref(loop)
        self.slots: dict[int, dict[_Deadlines, None]] = {}

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        if loop is None:
            raise RuntimeError("the event loop of this wheel is gone")
        return loop

    @staticmethod
    def slot_of(when: float) -> int:
        """The slot a deadline at loop time ``when`` waits in (it ends after ``when``)."""
        return int(when / _SLOT) + 1

    def add(self, member: _Deadlines, when: float) -> int:
        slot = self.slot_of(when)
        members = self.slots.get(slot)
        if members is None:
            members = self.slots[slot] = {}
            self.loop.call_at(slot * _SLOT, self._run, slot)
        members[member] = None
        return slot

    def remove(self, member: _Deadlines, slot: int) -> None:
        members = self.slots.get(slot)
        if members is not None:
            members.pop(member, None)

    def _run(self, slot: int) -> None:
        for member in self.slots.pop(slot, {}):
            try:
                member.fire()
            except Exception as exc:  # one call's fault must not stop the others' ticks
                self.loop.call_exception_handler({
                    "message": "a call's deadline failed", "exception": exc})


_WHEELS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Wheel] = (
    weakref.WeakKeyDictionary())


def _wheel(loop: asyncio.AbstractEventLoop) -> _Wheel:
    wheel = _WHEELS.get(loop)
    if wheel is None:
        wheel = _WHEELS[loop] = _Wheel(loop)
    return wheel


class _Deadlines:
    """Wakes a session at its deadlines (status row, billing unit, time limits).

    On a line whose writes go out at once (``conn.writes_now``) and with no pacing, the
    timer ticks the session and writes its bytes itself while the read goes on: no
    cancelled read, no exception, no task wake-up for the ticks of a held call (most of
    what an idle call costs). Otherwise (pacing, a write in progress, the call ending on
    the tick) it interrupts the read and :func:`interact` ticks. A plain object, not
    closures: nothing of an ended call is left in a reference cycle."""

    __slots__ = ("conn", "direct", "due", "effects", "loop", "reading", "session", "slot",
                 "wheel")

    def __init__(self, conn: Connection, session: Session, pacer: Pacer | None) -> None:
        self.conn = conn
        self.session = session
        self.loop = asyncio.get_running_loop()
        self.direct = pacer is None and conn.writes_now
        #: The read's timeout while :func:`interact` waits for input, else None.
        self.reading: asyncio.Timeout | None = None
        self.wheel = _wheel(self.loop)
        #: The wheel slot this call waits in (None: no deadline set).
        self.slot: int | None = None
        #: A deadline passed while :func:`interact` was not reading: it ticks next.
        self.due = False
        #: The session's effects (a voice call's prompts, a gateway's requests), carried out
        #: after a tick as after input: a tick may ask for them (a question said again).
        self.effects: CallEffects | None = None

    def loop_time(self, deadline: float) -> float:
        return self.loop.time() + max(0.0, deadline - self.session.clock.monotonic())

    def arm(self) -> None:
        """Wait in the wheel for the session's next deadline (if it moved)."""
        deadline = self.session.next_deadline()
        if deadline is None:
            self._leave()
            return
        when = self.loop_time(deadline)
        if self.slot is not None:
            if self.wheel.slot_of(when) == self.slot:
                return
            self._leave()
        self.slot = self.wheel.add(self, when)

    def _leave(self) -> None:
        if self.slot is not None:
            self.wheel.remove(self, self.slot)
            self.slot = None

    def fire(self) -> None:
        """The wheel's slot came (the deadline has passed)."""
        self.slot = None
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
        if self.effects is not None:
            self.effects.pump()
        data = session.data_to_send()
        if data:
            self.conn.write(data)
        if session.closed:
            reading.reschedule(self.loop.time())  # interact ends the call
            return
        self.arm()

    def poke(self) -> None:
        """Something outside the session's deadlines changed it (a gateway's HTTP answer):
        :func:`interact` ticks it and sends what it has to say."""
        reading = self.reading
        if reading is not None and not reading.expired():
            reading.reschedule(self.loop.time())
        else:
            self.due = True

    def stop(self) -> None:
        self._leave()
        self.reading = None


async def interact(conn: Connection, session: Session, pacer: Pacer | None = None) -> None:
    """Run ``session`` on ``conn`` until either side ends the call (see
    :class:`_Deadlines` for how time wakes it)."""
    wake = _Deadlines(conn, session, pacer)
    # a gateway call's HTTP requests and bridges (MiniPavi services) run beside the reads
    effects = wake.effects = (CallEffects(session, wake.poke, conn=conn)
                              if hasattr(session, "effects") else None)
    session.start()
    if effects is not None:
        effects.pump()
    await send_pending(conn, session, pacer)
    loop = wake.loop
    quiet_flush = False
    try:
        while not session.closed:
            if wake.due:
                wake.due = False
                session.tick()
                if effects is not None:
                    effects.pump()
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
            if effects is not None:
                effects.pump()
            await send_pending(conn, session, pacer)
    finally:
        wake.stop()
        if effects is not None:
            effects.pump()  # what the call's end asked for (a FIN to the service)
            await effects.close()
