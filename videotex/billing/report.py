"""``videotex billing report``: what results day earned, from one or several ledgers.

Aggregates by day, hour, service or channel: sessions, minutes, revenue incl. and excl.
tax, the provider's share, sessions that found no result. ``--format json`` lists the
records themselves. Several ``--store`` directories (several nodes) are merged.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .ledger import CallRecord
from .tariff import DEFAULT_PLAN, TariffBook

__all__ = ["Row", "aggregate", "plot", "render"]


@dataclass
class Row:
    key: str
    sessions: int = 0
    seconds: float = 0.0
    units: int = 0
    revenue_incl: Decimal = Decimal(0)
    revenue_excl: Decimal = Decimal(0)
    provider_share: Decimal = Decimal(0)
    without_result: int = 0
    recovered: int = 0

    def as_dict(self) -> dict[str, Any]:
        q = Decimal("0.01")
        return {"key": self.key, "sessions": self.sessions,
                "minutes": round(self.seconds / 60, 1), "units": self.units,
                "revenue_incl_tax": str(self.revenue_incl.quantize(q)),
                "revenue_excl_tax": str(self.revenue_excl.quantize(q)),
                "provider_share": str(self.provider_share.quantize(q)),
                "without_result": self.without_result, "recovered": self.recovered}


def _key(rec: CallRecord, by: str) -> str:
    if by == "day":
        return rec.started_at[:10]
    if by == "hour":
        return rec.started_at[:13] + ":00"
    if by == "service":
        return rec.service
    return rec.channel


def aggregate(records: Iterable[CallRecord], by: str, book: TariffBook | None = None
              ) -> list[Row]:
    rows: dict[str, Row] = {}
    total = Row("total")
    for rec in records:
        plan = book.plans.get(rec.plan, DEFAULT_PLAN) if book else DEFAULT_PLAN
        amount = Decimal(rec.amount_eur)
        excl = plan.excluding_tax(amount)
        for row in (rows.setdefault(_key(rec, by), Row(_key(rec, by))), total):
            row.sessions += 1
            row.seconds += rec.duration_s
            row.units += rec.units
            row.revenue_incl += amount
            row.revenue_excl += excl
            row.provider_share += excl * plan.provider_share
            row.without_result += 0 if rec.result_found else 1
            row.recovered += 1 if rec.recovered else 0
    return [*(rows[k] for k in sorted(rows)), total]


_COLUMNS = ("key", "sessions", "minutes", "units", "revenue_incl_tax", "revenue_excl_tax",
            "provider_share", "without_result", "recovered")


def render(rows: list[Row], fmt: str, records: list[CallRecord] | None = None) -> str:
    if fmt == "json":
        return json.dumps([r.public() for r in records or []], indent=1)
    dicts = [r.as_dict() for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=_COLUMNS)
        w.writeheader()
        w.writerows(dicts)
        return out.getvalue()
    widths = {c: max(len(c), *(len(str(d[c])) for d in dicts)) for c in _COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in _COLUMNS)]
    for d in dicts:
        lines.append("  ".join(str(d[c]).rjust(widths[c]) if c != "key" else
                               str(d[c]).ljust(widths[c]) for c in _COLUMNS))
    return "\n".join(lines)


def plot(records: list[CallRecord], path: Path) -> None:
    """Sessions and revenue per hour, results day at a glance (matplotlib, PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_hour: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for rec in records:
        h = by_hour[rec.started_at[:13]]
        h[0] += 1
        h[1] += float(rec.amount_eur)
    hours = sorted(by_hour)
    labels = [h[11:13] + "h" if len(h) >= 13 else h for h in hours]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.bar(labels, [by_hour[h][0] for h in hours], color="#3060c0")
    top.set_ylabel("sessions")
    top.set_title("3615 EXAMENS: sessions and revenue per hour (UTC)")
    bottom.bar(labels, [by_hour[h][1] for h in hours], color="#c09020")
    bottom.set_ylabel("revenue incl. tax (€)")
    bottom.set_xlabel("hour")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
