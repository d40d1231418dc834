"""``videotex billing report``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .ledger import Ledger, LedgerError
from .report import aggregate, plot, render

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
    r.add_argument("--from", dest="frm", type=_when, metavar="WHEN")
    r.add_argument("--to", type=_when, metavar="WHEN")
    r.add_argument("--by", choices=("day", "hour", "service", "channel"), default="day")
    r.add_argument("--format", choices=("table", "csv", "json"), default="table")
    r.add_argument("--plot", type=Path, metavar="FILE.png",
                   help="also draw sessions and revenue per hour")
    r.set_defaults(handler=report_main)


def report_main(args: argparse.Namespace) -> int:
    records = []
    for store in args.store:
        if not (Path(store) / "billing.lmdb").exists():
            print(f"videotex billing report: {store}: no billing ledger (billing.lmdb)",
                  file=sys.stderr)
            return 1
        try:
            ledger = Ledger(store, readonly=True)
        except LedgerError as e:
            print(f"videotex billing report: {e}", file=sys.stderr)
            return 1
        records += list(ledger.iter_records(args.frm, args.to))
        ledger.close()
    records.sort(key=lambda r: (r.started_at, r.session_id))
    print(render(aggregate(records, args.by), args.format, records))
    if args.plot:
        plot(records, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
