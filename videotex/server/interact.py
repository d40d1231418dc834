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


async def interact(conn: Connection, session: Session, pacer: Pacer | None = None) -> None:
    """Run ``session`` on ``conn`` until either side ends the call."""
    session.start()
    await send_pending(conn, session, pacer)
    clock = session.clock
    quiet_flush = False
    while not session.closed:
        deadline = session.next_deadline()
        timeout = None if deadline is None else max(0.0, deadline - clock.monotonic())
        if quiet_flush:
            timeout = _FLUSH_AFTER if timeout is None else min(timeout, _FLUSH_AFTER)
        try:
            async with asyncio.timeout(timeout):
                data = await conn.read()
        except TimeoutError:
            if quiet_flush:
                session.flush_input()
                quiet_flush = False
            session.tick()
        else:
            session.receive_data(data)
            quiet_flush = session.input_pending
        await send_pending(conn, session, pacer)
