"""Live calls: each connection becomes a session; hooks see calls open and close.

The switchboard is what every listener hands a new connection to. It builds the session
(service, clock, caller identity), runs :func:`interact`, and tells its hooks when a call
opens and when it closes, whatever the cause (billing plugs in here). On shutdown every
connected caller gets the goodbye page before the line is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from videotex.channels.connection import Connection, Pacer
from videotex.protocols.gate import Gatekeeper, GatePolicy
from videotex.teletel import Clock, Session, SessionConfig

from .interact import interact, send_pending

__all__ = ["BoardView", "Call", "CallHooks", "Switchboard"]

log = logging.getLogger("videotex.calls")


@dataclass(eq=False)
class Call:
    """One connected caller."""

    id: str
    conn: Connection
    session: Session
    pacer: Pacer | None
    task: asyncio.Task[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CallHooks(Protocol):
    """``call_opened``/``call_closed`` around every call; a hook may also have
    ``async call_ready(call)``, awaited before the first page is sent."""

    def call_opened(self, call: Call) -> None: ...
    def call_closed(self, call: Call, reason: str) -> None: ...


class Switchboard:
    """Connects callers to the service and keeps track of who is on the line."""

    def __init__(
        self,
        service: Any,
        clock: Clock,
        *,
        hooks: list[CallHooks] | None = None,
        session_config: SessionConfig | None = None,
        session_factory: Callable[..., Session] = Session,
        gate: GatePolicy | None = None,
        health: Callable[[], str | None] | None = None,
        ready_timeout: float = 10.0,
    ) -> None:
        self.service = service
        self.clock = clock
        self.hooks = hooks or []
        self.session_config = session_config or SessionConfig()
        self._session_factory = session_factory
        self.calls: set[Call] = set()
        self.closing = False
        self.total_calls = 0
        self.gate = Gatekeeper(gate)
        #: Returns why the service cannot take calls now (disk full...), or None.
        self.health = health
        #: Seconds a call may wait for its hooks' ``call_ready`` (billing: the record on
        #: disk) before the caller is told the service is unavailable, unbilled.
        self.ready_timeout = ready_timeout

    async def handle(self, conn: Connection, *, pacer: Pacer | None = None,
                     config: SessionConfig | None = None, start: str | None = None,
                     session_factory: Callable[..., Any] | None = None) -> None:
        """Serve one connection until it ends (the transports' entry point). ``start``:
        the service a gateway's listener leads straight to (its ``service`` option);
        ``session_factory``: another kind of session for this call (a voice call's
        dialogue), made like the switchboard's own."""
        if self.closing:
            conn.close()
            return
        identity = conn.identity
        problem = self.health() if self.health is not None else None
        refused = problem or self.gate.admit(identity, self.clock.monotonic())
        if refused is not None:
            await self._refuse(conn, refused, problem is not None)
            return
        try:
            await self._serve(conn, pacer, config, start, session_factory)
        finally:
            self.gate.release(identity)

    async def _refuse(self, conn: Connection, why: str, unavailable: bool) -> None:
        """Tell the caller in a few bytes, unbilled, and hang up."""
        log.warning("call refused", extra={"channel": conn.channel, "peer": conn.peer,
                                           "why": why})
        for hook in self.hooks:
            refused = getattr(hook, "call_refused", None)
            if refused is not None:
                refused(conn, why)
        await self._say_sorry(conn, unavailable)
        conn.close()

    @staticmethod
    async def _say_sorry(conn: Connection, unavailable: bool) -> None:
        text = (b"Service momentanement indisponible." if unavailable
                else b"Trop d'appels depuis votre ligne.")
        conn.write(b"\x0c\x1f\x4c\x43" + text + b"\x1f\x4e\x43Rappelez plus tard.")
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(conn.drain(), 5)

    async def _serve(self, conn: Connection, pacer: Pacer | None,
                     config: SessionConfig | None, start: str | None = None,
                     session_factory: Callable[..., Any] | None = None) -> None:
        call_id = secrets.token_hex(8)
        # a transport chooses only how the terminal is linked; limits are the server's
        chosen = (self.session_config if config is None
                  else dataclasses.replace(self.session_config, link=config.link))
        where = {} if start is None else {"start": start}
        session = (session_factory or self._session_factory)(
            self.service, self.clock, caller=conn.peer, channel=conn.channel,
            identity=conn.identity, config=chosen, **where,
        )
        call = Call(call_id, conn, session, pacer, asyncio.current_task())
        self.calls.add(call)
        self.total_calls += 1
        log.info("call opened", extra={"call": call_id, "channel": conn.channel,
                                       "peer": conn.peer})
        for hook in self.hooks:
            hook.call_opened(call)
        reason = "error"
        try:
            try:
                async with asyncio.timeout(self.ready_timeout):
                    for hook in self.hooks:
                        ready = getattr(hook, "call_ready", None)
                        if ready is not None:  # billing: the call's record is on disk
                            await ready(call)
            except TimeoutError:
                # a stalled disk: better no service than a service nobody can bill
                log.error("call not served: not ready after %s s", self.ready_timeout,
                          extra={"call": call_id, "why": "call_ready timeout"})
                reason = "unavailable"
                await self._say_sorry(conn, True)
                return
            if not session.closed:  # a shutdown may have said goodbye meanwhile
                await interact(conn, session, pacer)
            reason = session.close_reason or "hangup"
        except asyncio.CancelledError:
            reason = session.close_reason or "cancelled"
            raise
        except Exception:
            log.exception("call failed", extra={"call": call_id})
            raise
        finally:
            self.calls.discard(call)
            for hook in self.hooks:
                hook.call_closed(call, reason)
            log.info("call closed", extra={"call": call_id, "reason": reason,
                                           "seconds": round(session.ctx.connected_seconds(), 3)})
            conn.close()

    async def shutdown(self, reason: str = "shutdown", grace: float = 5.0) -> None:
        """Say goodbye to every caller, then drop the lines (at most ``grace`` seconds)."""
        self.closing = True
        calls = list(self.calls)

        async def goodbye(call: Call) -> None:
            call.session.hangup(reason)
            try:
                await send_pending(call.conn, call.session, None)
            finally:
                call.conn.close()

        if calls:
            done = await asyncio.wait(
                [asyncio.ensure_future(goodbye(c)) for c in calls], timeout=grace
            )
            for task in done[1]:
                task.cancel()
        tasks = [c.task for c in calls if c.task is not None and not c.task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)


class BoardView:
    """The switchboard as one listener sees it: its calls go straight to the service
    ``start`` (a listener's ``service = "EXAMENS"`` at a gateway). Everything else is the
    switchboard's."""

    def __init__(self, board: Switchboard, start: str) -> None:
        self._board = board
        self.start = start

    async def handle(self, conn: Connection, *, pacer: Pacer | None = None,
                     config: SessionConfig | None = None,
                     session_factory: Callable[..., Any] | None = None) -> None:
        await self._board.handle(conn, pacer=pacer, config=config, start=self.start,
                                 session_factory=session_factory)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._board, name)
