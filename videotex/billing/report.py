"""``videotex billing report``: what results day earned, from one or several ledgers.

Aggregates by day, hour, service or channel: sessions, minutes, revenue incl. and excl.
tax, the provider's share, sessions that found no result. ``--format json`` lists the
records themselves. Several ``--store`` directories (several nodes) are merged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from .ledger import CallRecord

__all__ = ["BY", "FORMATS", "Row", "aggregate", "per_hour", "plot", "render"]

#: Ways to group records, and output formats.
BY = ("day", "hour", "service", "channel")
FORMATS = ("table", "csv", "json")


@dataclass
class Row:
    """One line of the report (``key`` is the day, hour, service or channel)."""

    key: str
    sessions: int = 0
    seconds: float = 0.0
    units: int = 0
    revenue_incl: Decimal = Decimal(0)
    revenue_excl: Decimal = Decimal(0)
    provider_share: Decimal = Decimal(0)
    without_result: int = 0
    recovered: int = 0
    #: Records of calls still live (or of a crash not recovered yet): partial figures.
    open: int = 0

    def as_dict(self) -> dict[str, Any]:
        q = Decimal("0.01")
        return {"key": self.key, "sessions": self.sessions,
                "minutes": round(self.seconds / 60, 1), "units": self.units,
                "revenue_incl_tax": str(self.revenue_incl.quantize(q)),
                "revenue_excl_tax": str(self.revenue_excl.quantize(q)),
                "provider_share": str(self.provider_share.quantize(q)),
                "without_result": self.without_result, "recovered": self.recovered,
                "open": self.open}


def _key(rec: CallRecord, by: str) -> str:
    if by == "day":
        return rec.started_at[:10]
    if by == "hour":
        return rec.started_at[:13] + ":00"
    if by == "service":
        return rec.service
    if by == "channel":
        return rec.channel
    raise ValueError(f"cannot group records by {by!r}; choose one of {', '.join(BY)}")


def aggregate(records: Iterable[CallRecord], by: str) -> list[Row]:
    """Rows grouped by ``by`` (sorted), then a ``total`` row. Revenue excl. tax is the
    amount / (1 + the record's VAT rate); the provider share a fraction of that."""
    if by not in BY:
        raise ValueError(f"cannot group records by {by!r}; choose one of {', '.join(BY)}")
    rows: dict[str, Row] = {}
    total = Row("total")
    for rec in records:
        amount = Decimal(rec.amount_eur)
        excl = amount / (1 + Decimal(rec.vat_rate))
        share = excl * Decimal(rec.provider_share)
        key = _key(rec, by)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(key)
        for r in (row, total):
            r.sessions += 1
            r.seconds += rec.duration_s
            r.units += rec.units
            r.revenue_incl += amount
            r.revenue_excl += excl
            r.provider_share += share
            r.without_result += 0 if rec.result_found else 1
            r.recovered += 1 if rec.recovered else 0
            r.open += 0 if rec.ended_at else 1
    return [*(rows[k] for k in sorted(rows)), total]


_COLUMNS = ("key", "sessions", "minutes", "units", "revenue_incl_tax", "revenue_excl_tax",
            "provider_share", "without_result", "recovered", "open")


def render(rows: list[Row], fmt: str, records: list[CallRecord] | None = None) -> str:
    """The report as text: a table, CSV of the rows, or JSON of the records themselves."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
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


def per_hour(records: Iterable[CallRecord]) -> list[tuple[datetime, int, Decimal]]:
    """(hour, sessions, revenue incl. tax) for every hour from the first call's to the
    last's, quiet hours included (UTC)."""
    counts: dict[datetime, list[Any]] = {}
    for rec in records:
        hour = datetime.strptime(rec.started_at[:13], "%Y-%m-%dT%H").replace(tzinfo=UTC)
        slot = counts.setdefault(hour, [0, Decimal(0)])
        slot[0] += 1
        slot[1] += Decimal(rec.amount_eur)
    if not counts:
        return []
    out = []
    hour, last = min(counts), max(counts)
    while hour <= last:
        n, revenue = counts.get(hour, (0, Decimal(0)))
        out.append((hour, n, revenue))
        hour += timedelta(hours=1)
    return out


def plot(records: list[CallRecord], path: Path) -> None:
    """Sessions and revenue per hour, results day at a glance (matplotlib, PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hours = per_hour(records)
    several_days = len({h.date() for h, _, _ in hours}) > 1
    labels = [h.strftime("%m-%d %Hh" if several_days else "%Hh") for h, _, _ in hours]
    services = sorted({r.service for r in records}) or ["no calls"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, len(hours) * 0.4), 6),
                                      sharex=True)
    top.bar(labels, [n for _, n, _ in hours], color="#3060c0")
    top.set_ylabel("sessions")
    day = hours[0][0].strftime("%Y-%m-%d") if hours else ""
    top.set_title(f"{', '.join(services)} {day}: sessions and revenue per hour (UTC)")
    bottom.bar(labels, [float(r) for _, _, r in hours], color="#c09020")
    bottom.set_ylabel("revenue incl. tax (EUR)")
    bottom.set_xlabel("hour (UTC)")
    if several_days:
        bottom.tick_params(axis="x", labelrotation=90)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100, format="png")
    finally:
        plt.close(fig)
