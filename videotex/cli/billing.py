"""``videotex billing report``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from videotex.billing.ledger import CallRecord, Ledger, LedgerError
from videotex.billing.report import BY, FORMATS, aggregate, plot, render

__all__ = ["register"]


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(sub: Any) -> None:
    p = sub.add_parser("billing", help="billing reports from the call ledger")
    bsub = p.add_subparsers(dest="billing_command", metavar="COMMAND", required=True)
    r = bsub.add_parser("report", help="sessions, minutes and revenue",
                        description="Aggregate call records of one or several stores "
                        "(nodes): sessions, minutes, revenue incl./excl. tax, provider "
                        "share, sessions without a result found.")
    r.add_argument("--store", metavar="DIR", action="append", required=True,
                   help="store directory holding billing.lmdb (repeat to merge nodes)")
    r.add_argument("--ledger", metavar="DIR", action="append", dest="store",
                   help="same as --store")
    r.add_argument("--from", dest="frm", type=_when, metavar="WHEN",
                   help="calls started at or after WHEN (ISO date or date-time; UTC unless "
                   "an offset is given)")
    r.add_argument("--to", type=_when, metavar="WHEN", help="calls started before WHEN")
    r.add_argument("--by", choices=BY, default="day")
    r.add_argument("--format", choices=FORMATS, default="table")
    r.add_argument("--plot", type=Path, metavar="FILE.png",
                   help="also draw sessions and revenue per hour")
    r.set_defaults(handler=report_main)


def load(stores: list[str], frm: datetime | None = None, to: datetime | None = None
         ) -> list[CallRecord]:
    """Records of several stores (nodes), merged in time order.

    Raises LedgerError naming a store that has no readable ledger."""
    records: list[CallRecord] = []
    seen: set[Path] = set()
    for store in stores:
        where = Path(store).resolve()
        if where in seen:
            continue  # the same store twice would count its calls twice
        seen.add(where)
        if not (where / "billing.lmdb").is_dir():
            raise LedgerError(f"{store}: no billing ledger (billing.lmdb)")
        ledger = Ledger(store, readonly=True)
        try:
            records += list(ledger.records(frm, to))
        finally:
            ledger.close()
    records.sort(key=lambda r: (r.started_at, r.session_id))
    return records


def report_main(args: argparse.Namespace) -> int:
    """``videotex billing report``: print the report; 1 on a missing or bad store."""
    if args.frm and args.to and args.frm >= args.to:
        print(f"videotex billing report: --from {args.frm.isoformat()} is not before "
              f"--to {args.to.isoformat()}", file=sys.stderr)
        return 2
    try:
        records = load(args.store, args.frm, args.to)
    except LedgerError as e:
        print(f"videotex billing report: {e}", file=sys.stderr)
        return 1
    print(render(aggregate(records, args.by), args.format, records))
    if args.plot:
        try:
            plot(records, args.plot)
        except (OSError, ValueError) as e:
            print(f"videotex billing report: cannot write the plot {args.plot}: {e}",
                  file=sys.stderr)
            return 1
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
