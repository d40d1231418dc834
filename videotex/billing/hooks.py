"""Billing hooks for the switchboard: the meter starts when the caller is connected,
stops at the end whatever the cause; records are opened, checkpointed, closed.

``call_opened`` runs when a transport hands the call to the switchboard (telnet/raw
accept, SSH session, modem CONNECT), before the first page; ``call_closed`` runs at the
end whatever the cause (Connexion/Fin, hang-up, carrier loss, idle timeout, shutdown).
One asyncio task checkpoints every live call every ``checkpoint_every`` seconds, in one
queued batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .ledger import CallRecord, Ledger
from .meter import Meter
from .offer import OfferBook
from .tariff import TariffBook

__all__ = ["BillingHooks"]


class BillingHooks:
    def __init__(self, book: TariffBook, ledger: Ledger, access_code: str,
                 checkpoint_every: float = 10.0) -> None:
        if checkpoint_every <= 0:
            raise ValueError("checkpoint_every must be positive")
        self.book = book
        self.ledger = ledger
        self.access_code = access_code
        self.checkpoint_every = checkpoint_every
        self.live: dict[str, tuple[Any, CallRecord, Meter]] = {}
        self._task: asyncio.Task[None] | None = None

    def health(self) -> str | None:
        """Why calls cannot be billed now (the switchboard refuses them), or None."""
        return None if self.ledger.healthy else (self.ledger.problem or "billing ledger")

    def call_opened(self, call: Any) -> None:
        session = call.session
        clock = session.clock
        plan = self.book.plan_for(self.access_code, call.conn.channel)
        meter = Meter(plan, clock.monotonic())
        session.ctx.meter = meter
        if plan.per_consultation:
            session.ctx.facts["offers"] = OfferBook(self.ledger, plan)
        rec = CallRecord(
            session_id=call.id, channel=call.conn.channel, caller=call.conn.peer,
            service=self.access_code, started_at=clock.wall().isoformat(), ended_at=None,
            duration_s=0.0, units=meter.units(meter.started),
            amount_eur=str(meter.amount(meter.started)), result_found=False, lookups=0,
            plan=plan.name,
        )
        rec.checkpoint_at = rec.started_at
        self.live[call.id] = (call, rec, meter)
        self.ledger.open_record(rec)

    def _update(self, call: Any, rec: CallRecord, meter: Meter, now: float) -> None:
        facts = call.session.ctx.facts
        rec.duration_s = round(meter.duration(now), 3)
        rec.units = meter.final_units if meter.final_units is not None else meter.units(now)
        amount = meter.final_amount if meter.final_amount is not None else meter.amount(now)
        rec.amount_eur = str(amount)
        rec.result_found = bool(facts.get("result_found"))
        rec.lookups = int(facts.get("lookups", 0))
        rec.checkpoint_at = call.session.clock.wall().isoformat()

    def call_closed(self, call: Any, reason: str) -> None:
        entry = self.live.pop(call.id, None)
        if entry is None:
            return
        _call, rec, meter = entry
        now = call.session.clock.monotonic()
        meter.stop(now)
        self._update(call, rec, meter, now)
        rec.ended_at = rec.checkpoint_at
        rec.close_reason = reason
        self.ledger.close_record(rec)

    def checkpoint_all(self) -> int:
        for call, rec, meter in list(self.live.values()):
            self._update(call, rec, meter, call.session.clock.monotonic())
            self.ledger.checkpoint(rec)
        return len(self.live)

    async def start(self) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.checkpoint_every)
                self.checkpoint_all()

        self._task = asyncio.ensure_future(loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.ledger.flush, 30.0)
