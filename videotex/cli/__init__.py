"""The ``videotex`` command line: all of it lives in this package.

Each concern owns its subcommands in its own module here (``page``: page optimize;
``store``: the results store; ``serve``: serve and status; ``billing``: billing report),
which exposes ``register(subparsers)``; this module only assembles them, so that adding
a command never means editing another concern's code. A handler returns the process
exit status. The libraries they call (codec, store, billing, runtime) print nothing and
parse no arguments.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

#: Modules contributing subcommands, in help order.
COMMAND_MODULES = (
    "videotex.cli.page",  # page optimize
    "videotex.cli.pagetree",  # page check (under "page": after videotex.cli.page)
    "videotex.cli.store",  # keygen, seal, ingest, publish, schedule, lookup, demo-data
    "videotex.cli.serve",  # serve, status
    "videotex.cli.billing",  # billing report
    "videotex.cli.call",  # call: dial the voice service with a keypad
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videotex",
        description="Minitel Teletel server for exam results, and its tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status

