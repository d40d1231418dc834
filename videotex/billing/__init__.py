"""Billing by connection time, with call records that survive a crash.

- ``tariff``  tariff plans from the ``[billing]`` configuration (money in Decimal)
- ``meter``   the sans-IO meter of one call: units, amount, caps
- ``ledger``  the durable LMDB ledger: records opened, checkpointed, closed by a
              background writer in batches; crash recovery
- ``offer``   the per-consultation offer (3 € a view, 5 more views for 3 €)
- ``hooks``   what the switchboard calls when a call opens and closes
- ``report``  ``videotex billing report``: aggregates, formats, plot

See docs/billing.md.
"""

from __future__ import annotations

from .hooks import BillingHooks
from .ledger import CallRecord, Ledger, LedgerError
from .meter import Meter
from .offer import OfferBook, Quote
from .tariff import DEFAULT_PLAN, TariffBook, TariffError, TariffPlan

__all__ = [
    "DEFAULT_PLAN",
    "BillingHooks",
    "CallRecord",
    "Ledger",
    "LedgerError",
    "Meter",
    "OfferBook",
    "Quote",
    "TariffBook",
    "TariffError",
    "TariffPlan",
]
