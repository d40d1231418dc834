"""The ``terminal-emu`` command line.

Each concern owns its subcommands in its own module exposing ``register(subparsers)``;
this module only assembles them (a ``connect`` module can be added to the tuple without
touching the others). A handler returns the process exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

#: Modules contributing subcommands, in help order.
COMMAND_MODULES = (
    "terminal_emu.cli_render",  # render
    "terminal_emu.cli_connect",  # connect
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="terminal-emu",
        description="An independent Minitel 1B / 2 terminal emulator.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
