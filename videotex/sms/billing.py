"""Billing of the SMS channel: one ledger record per message received and per alert the
SMSC accepted, with fixed keys (a record written again after a crash overwrites itself).

Owns: the records' fields (channel ``sms``, the plan's prices, ``close_reason``
``message:<kind>`` or ``alert sent``), writing them once their message is on disk, and at
startup writing again those whose ``unbilled`` mark is still in the SMS store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from videotex.billing.ledger import CallRecord, utc_iso

from .store import Op, SmsStore

__all__ = ["SmsBilling", "parse_iso"]


def parse_iso(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class SmsBilling:
    """Mixed into :class:`~videotex.sms.engine.SmsEngine` (its ledger, plan, store)."""

    ledger: Any
    plan: Any
    store: SmsStore
    config: Any
    _pending: set[asyncio.Future[Any]]
    _write: Callable[[list[Op]], asyncio.Future[None]]

    def _price(self, name: str) -> Decimal:
        return Decimal(getattr(self.plan, name, 0)) if self.plan is not None else Decimal(0)

    def _record(self, session_id: str, msisdn: str, at: datetime, price: Decimal,
                found: bool, lookups: int, kind: str) -> CallRecord:
        plan = self.plan
        stamp = utc_iso(at)
        return CallRecord(
            session_id=session_id, channel="sms", caller=msisdn, service=self.config.service,
            started_at=stamp, ended_at=stamp, duration_s=0.0, units=0,
            amount_eur=str(price), result_found=found, lookups=lookups,
            plan=getattr(plan, "name", "sms"), close_reason=kind, charges_eur=str(price),
            vat_rate=str(getattr(plan, "vat_rate", "0.196")),
            provider_share=str(getattr(plan, "provider_share", "0.70")),
            peer=self.config.short_code, call_id=session_id)

    def _bill(self, unbilled: bytes, record: CallRecord) -> None:
        ticket = self.ledger.close_record(record)

        async def forget() -> None:
            await self.ledger.durable(ticket)
            await self._write([("unbilled", unbilled, None)])

        task = asyncio.get_running_loop().create_task(forget())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _bill_again(self, unbilled: list[bytes]) -> None:
        """At startup: write again the ledger records of ``unbilled`` (same keys: a record
        already there is overwritten with itself), then forget the marks."""
        if self.ledger is None or not unbilled:
            return
        for mark in unbilled:
            table, _, key = mark.partition(b":")
            if table == b"mo":
                mo = self.store.get("mo", key)
                if mo is not None:
                    self.ledger.close_record(self._record(
                        f"sms-{key.decode()}", mo["src"], parse_iso(mo["at"]),
                        Decimal(mo["price"]), mo["found"], mo["lookups"],
                        f"message:{mo['kind']}"))
            elif table == b"out":
                entry = self.store.get("out", key)
                if entry is not None and entry.get("state") != "due":
                    self.ledger.close_record(self._record(
                        f"sms-{key.decode()}", entry["dst"], parse_iso(entry["at"]),
                        self._price("alert_price"), True, 1, "alert sent"))
        if self.ledger.flush():  # on disk: the marks can go
            self.store.write_now([("unbilled", mark, None) for mark in unbilled])


