"""Billing hooks for the switchboard: the meter starts when the caller is connected,
stops at the end whatever the cause; records are opened, checkpointed, closed.

``call_opened`` runs when a transport hands the call to the switchboard (telnet/raw
accept, SSH session, modem CONNECT), before the first page; the switchboard then awaits
``call_ready``, which returns once the record's opening is committed, so that no caller
is ever served unrecorded (a crash before that leaves a caller who saw nothing, billed
nothing or, if the commit made it, billed the connection as recovered); ``call_closed``
runs at the end whatever the cause (Connexion/Fin, hang-up, carrier loss, idle timeout,
shutdown). A call whose opening is not on disk within the switchboard's
``ready_timeout`` (a stalled disk) is told the service is unavailable and closed with
reason ``unavailable``: 0 s, 0 units, 0 € (never served, not billed).
One asyncio task checkpoints every live call a little more often than every
``checkpoint_every`` seconds (so that the checkpoint is on disk within the interval).

Times: durations come from the session's monotonic clock only. ``started_at`` is the
wall clock (UTC) at connection; ``checkpoint_at`` and ``ended_at`` are ``started_at`` +
the metered duration, so a wall-clock jump during a call changes neither the duration
nor the record's consistency.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .ledger import CallRecord, Ledger, utc_iso
from .meter import Meter
from .offer import OfferBook
from .tariff import TariffBook, TariffPlan

__all__ = ["BillingHooks", "caller_identity"]

#: Calls updated between two yields to the event loop while checkpointing.
CHUNK = 64


def caller_identity(call: Any) -> str:
    """Who pays: ``call.extra["identity"]`` when the transport knows better, else the
    connection's identity (the address without the port)."""
    extra = getattr(call, "extra", None) or {}
    if extra.get("identity"):
        return str(extra["identity"])
    conn = call.conn
    identity = getattr(conn, "identity", None)
    if isinstance(identity, str) and identity:
        return identity
    peer = str(getattr(conn, "peer", ""))
    host, sep, port = peer.rpartition(":")
    return host.strip("[]") if sep and port.isdigit() else peer


class _Live:
    __slots__ = ("amount_eur", "call", "charges_eur", "extras", "facts", "meter", "record",
                 "started_utc", "ticket", "units")

    def __init__(self, call: Any, record: CallRecord, meter: Meter,
                 started_wall: datetime) -> None:
        self.call = call
        self.record = record
        self.meter = meter
        #: The facts of the part this record bills (a gateway call moves on to another
        #: part's facts before this record is closed).
        self.facts = call.session.ctx.facts
        #: The wall clock at connection, UTC, naive (what ``started_at`` reads: a naive
        #: time is UTC already, see :func:`utc_iso`).
        self.started_utc = (started_wall if started_wall.tzinfo is None
                            else started_wall.astimezone(UTC).replace(tzinfo=None))
        #: The ledger ticket of the record's opening (see :meth:`Ledger.durable`).
        self.ticket = 0
        #: ``meter.amount`` and ``meter.extras`` as text, for ``units`` units and these
        #: ``extras`` (the Decimal object: a charge replaces it); they change only when
        #: a unit falls or a charge is made, not at each checkpoint.
        self.units = -1
        self.extras: Decimal | None = None
        self.amount_eur = ""
        self.charges_eur = ""


class BillingHooks:
    """A ``CallHooks`` for the switchboard (see module docstring)."""

    def __init__(self, book: TariffBook, ledger: Ledger, access_code: str,
                 checkpoint_every: float = 10.0) -> None:
        if not checkpoint_every > 0:
            raise ValueError(f"checkpoint_every must be a positive number of seconds, "
                             f"not {checkpoint_every!r}")
        self.book = book
        self.ledger = ledger
        self.access_code = access_code
        self.checkpoint_every = checkpoint_every
        self.live: dict[str, _Live] = {}
        self._task: asyncio.Task[None] | None = None

    def health(self) -> str | None:
        """Why calls cannot be billed now (the switchboard refuses them), or None."""
        return None if self.ledger.healthy else (self.ledger.problem or "billing ledger")

    def call_opened(self, call: Any) -> None:
        """Start the meter (``ctx.meter``) and open the call's record. A gateway call
        (kiosk, then services) opens one record per part: see :meth:`part_changed`."""
        self._open_part(call, 1)
        listeners = getattr(call.session, "part_listeners", None)
        if listeners is not None:
            listeners.append(lambda session: self.part_changed(call))

    def _plan(self, call: Any, access_code: str) -> TariffPlan:
        name = getattr(call.session, "plan_name", None)
        if name is not None:
            plan = self.book.plans.get(name)
            if plan is None:  # checked at startup (videotex.gateway.setup): never here
                raise ValueError(f"service {access_code!r}: no tariff plan named {name!r}")
            return plan
        return self.book.plan_for(access_code, call.conn.channel)

    def _open_part(self, call: Any, part: int) -> None:
        session = call.session
        clock = session.clock
        access_code = getattr(session, "access_code", self.access_code)
        plan = self._plan(call, access_code)
        if part > 1:  # the connection charge is the call's, paid in its first part
            plan = dataclasses.replace(plan, connection_charge=Decimal(0))
        meter = Meter(plan, clock.monotonic())
        session.ctx.meter = meter
        if plan.per_consultation:
            session.ctx.facts.offers = OfferBook(self.ledger, plan)
        wall = clock.wall()
        rec = CallRecord(
            session_id=str(call.id) if part == 1 else f"{call.id}.{part}",
            channel=call.conn.channel, caller=caller_identity(call),
            service=access_code, started_at=utc_iso(wall), ended_at=None,
            duration_s=0.0, units=meter.units(meter.started),
            amount_eur=str(meter.amount(meter.started)), result_found=False, lookups=0,
            plan=plan.name, vat_rate=str(plan.vat_rate),
            provider_share=str(plan.provider_share), peer=str(getattr(call.conn, "peer", "")),
            call_id=str(call.id), part=part,
        )
        rec.checkpoint_at = rec.started_at
        live = self.live[str(call.id)] = _Live(call, rec, meter, wall)
        live.units, live.extras = rec.units, meter.extras  # the amounts just computed
        live.amount_eur, live.charges_eur = rec.amount_eur, str(meter.extras)
        live.ticket = self.ledger.open_record(rec)

    def part_changed(self, call: Any) -> None:
        """The caller went on to another service (or back to the kiosk): the part that
        ended is closed at its tariff, the next one opened at its own."""
        live = self.live.get(str(call.id))
        if live is None:
            return
        self._close(live, call.session.clock.monotonic(), "service change")
        self._open_part(call, live.record.part + 1)

    async def call_ready(self, call: Any) -> None:
        """Return once the call's record is on disk (the first page waits for this; the
        event loop does not)."""
        live = self.live.get(str(call.id))
        if live is not None:
            await self.ledger.durable(live.ticket)

    @staticmethod
    def _update(live: _Live, now: float) -> None:
        rec, meter, facts = live.record, live.meter, live.facts
        millis = meter.millis(now)
        units = meter.units_in(millis)
        extras = meter.extras
        if units != live.units or extras is not live.extras:
            live.units, live.extras = units, extras
            live.amount_eur = str(meter.amount(now))
            live.charges_eur = str(extras)
        rec.duration_s = millis / 1000
        rec.units = units
        rec.amount_eur = live.amount_eur
        rec.charges_eur = live.charges_eur
        rec.result_found = facts.result_found
        rec.lookups = facts.lookups
        rec.checkpoint_at = utc_iso(live.started_utc + timedelta(milliseconds=millis))

    def call_closed(self, call: Any, reason: str) -> None:
        """Stop the meter and close the record, whatever ended the call."""
        live = self.live.pop(str(call.id), None)
        if live is None:
            return
        self._close(live, call.session.clock.monotonic(), reason)

    def _close(self, live: _Live, now: float, reason: str) -> None:
        if reason == "unavailable":  # never served (see Switchboard.ready_timeout)
            now = live.meter.started
        live.meter.stop(now)
        self._update(live, now)
        if reason == "unavailable":
            live.meter.final_amount = Decimal(0)
            live.record.amount_eur = "0"
            live.record.units = 0
        live.record.ended_at = live.record.checkpoint_at
        live.record.close_reason = reason
        self.ledger.close_record(live.record)

    def checkpoint_all(self) -> int:
        """Queue a checkpoint of every live call; returns how many."""
        update, checkpoint = self._update, self.ledger.checkpoint
        for live in list(self.live.values()):
            update(live, live.call.session.clock.monotonic())
            checkpoint(live.record)
        return len(self.live)

    async def checkpoint_all_async(self) -> int:
        """:meth:`checkpoint_all`, yielding to the event loop every ``CHUNK`` calls."""
        done = 0
        update, checkpoint, get = self._update, self.ledger.checkpoint, self.live.get
        for n, key in enumerate(list(self.live), start=1):
            live = get(key)
            if live is not None:  # not closed meanwhile
                update(live, live.call.session.clock.monotonic())
                checkpoint(live.record)
                done += 1
            if n % CHUNK == 0:
                await asyncio.sleep(0)
        return done

    @property
    def period(self) -> float:
        """Seconds between checkpoint rounds: a margin under ``checkpoint_every`` for the
        time the checkpoints take to reach the disk."""
        return max(self.checkpoint_every - 0.25, self.checkpoint_every / 2)

    async def start(self) -> None:
        """Start the checkpoint task."""
        if self._task is not None:
            return

        async def loop() -> None:
            while True:
                await asyncio.sleep(self.period)
                await self.checkpoint_all_async()

        self._task = asyncio.ensure_future(loop())

    async def stop(self) -> None:
        """Stop checkpointing and wait (in a thread) for the queued records to be written."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.ledger.flush, 30.0)
