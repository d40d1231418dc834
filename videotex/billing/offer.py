"""The per-consultation offer: 3 € buys one view of a result; 3 € more buys 5 further
views of the same result. Tracked per caller identity and result, durably (in the
ledger's environment), with the charge and the view counted in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from .ledger import Ledger
from .tariff import TariffPlan

__all__ = ["OfferBook", "Quote"]


@dataclass(frozen=True)
class Quote:
    #: What the next view costs (0 when views are left).
    price: Decimal
    #: Views left after this one is taken.
    views_after: int
    #: First purchase, a re-purchase, or a view already paid for.
    kind: str  # "first" | "repurchase" | "paid"


class OfferBook:
    def __init__(self, ledger: Ledger, plan: TariffPlan) -> None:
        self.ledger = ledger
        self.plan = plan

    @staticmethod
    def _key(identity: str, numero: str) -> bytes:
        return f"{identity}|{numero}".encode()

    def _state(self, raw: bytes | None) -> dict[str, int]:
        return json.loads(raw) if raw else {"views_left": 0, "purchases": 0}

    def quote(self, identity: str, numero: str) -> Quote:
        with self.ledger.env.begin(db=self.ledger.offers) as txn:
            st = self._state(txn.get(self._key(identity, numero)))
        return self._price(st)

    def _price(self, st: dict[str, int]) -> Quote:
        if st["views_left"] > 0:
            return Quote(Decimal(0), st["views_left"] - 1, "paid")
        if st["purchases"] == 0:
            return Quote(self.plan.consultation_price, 0, "first")
        return Quote(self.plan.repurchase_price, self.plan.repurchase_views - 1, "repurchase")

    def consume(self, identity: str, numero: str) -> Decimal:
        """Take one view; return what it cost (charged once, atomically)."""
        key = self._key(identity, numero)
        with self.ledger.env.begin(write=True, db=self.ledger.offers) as txn:
            st = self._state(txn.get(key))
            q = self._price(st)
            if q.kind == "paid":
                st["views_left"] -= 1
            elif q.kind == "first":
                st["purchases"] = 1
                st["views_left"] = 0
            else:
                st["purchases"] += 1
                st["views_left"] = self.plan.repurchase_views - 1
            txn.put(key, json.dumps(st).encode())
        return q.price
