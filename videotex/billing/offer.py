"""The per-consultation offer: 3 € buys one view of a result; 3 € more buys 5 further
views of the same result. Tracked per caller identity and result, durably (in the
ledger's LMDB environment), with the charge and the view counted in one write
transaction, so that concurrent sessions (threads or worker processes) of the same
caller never get a view twice for one payment nor pay twice for one view.

A purchase is one small synced LMDB commit made by the caller of :meth:`consume` (it
waits for the ledger's writer if that is committing a batch): it only happens when the
caller confirms a purchase with Envoi, and it must not be acknowledged before it is
durable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import lmdb

from .ledger import Ledger, utc_iso
from .tariff import TariffPlan

__all__ = ["OfferBook", "Quote"]


@dataclass(frozen=True)
class Quote:
    """What the next view of a result costs this caller."""

    #: Price of the next view (0 when views already paid for are left).
    price: Decimal
    #: Views left after this one is taken.
    views_after: int
    #: True when the view is already paid for.
    free: bool
    #: "first" (first purchase), "repurchase" (a batch of more views) or "paid".
    kind: str


class OfferBook:
    """Entitlements per (caller identity, result number)."""

    def __init__(self, ledger: Ledger | lmdb.Environment, plan: TariffPlan | None = None
                 ) -> None:
        if isinstance(ledger, Ledger):
            self.env = ledger.env
            self.db = ledger.offers_db
        else:
            self.env = ledger
            self.db = ledger.open_db(b"offers")
        self.plan = plan or TariffPlan(per_consultation=True)

    @staticmethod
    def _key(identity: str, numero: str) -> bytes:
        if not identity or not numero:
            raise ValueError(f"an offer needs a caller identity and a result number, "
                             f"not {identity!r} and {numero!r}")
        return f"{identity}|{numero}".encode()

    @staticmethod
    def _state(raw: bytes | None) -> dict[str, Any]:
        if not raw:
            return {"views_left": 0, "purchases": 0, "log": []}
        return dict(json.loads(raw))

    def quote(self, caller_identity: str, numero: str) -> Quote:
        """The price of the next view, without taking it."""
        key = self._key(caller_identity, numero)
        with self.env.begin(db=self.db) as txn:
            st = self._state(txn.get(key))
        return self._price(st)

    def _price(self, st: dict[str, Any]) -> Quote:
        if st["views_left"] > 0:
            return Quote(Decimal(0), st["views_left"] - 1, True, "paid")
        if st["purchases"] == 0:
            return Quote(self.plan.consultation_price, 0, False, "first")
        return Quote(self.plan.repurchase_price, self.plan.repurchase_views - 1, False,
                     "repurchase")

    def consume(self, caller_identity: str, numero: str, session_id: str = "") -> Decimal:
        """Take one view; return what it cost (charged once, atomically, durably)."""
        key = self._key(caller_identity, numero)
        with self.env.begin(write=True, db=self.db) as txn:
            st = self._state(txn.get(key))
            q = self._price(st)
            if q.free:
                st["views_left"] -= 1
            else:
                st["purchases"] += 1
                st["views_left"] = q.views_after
                st.setdefault("log", []).append(
                    {"at": utc_iso(datetime.now(UTC)), "session": session_id,
                     "price": str(q.price), "kind": q.kind})
            txn.put(key, json.dumps(st, separators=(",", ":")).encode())
        return q.price

    def purchases(self, caller_identity: str, numero: str) -> list[dict[str, str]]:
        """The purchases of one caller for one result (when, session, price, kind)."""
        with self.env.begin(db=self.db) as txn:
            return list(self._state(txn.get(self._key(caller_identity, numero)))["log"])
