"""``terminal-emu render PAGE.vdt --format text|json|ansi|png [-o OUT] [--grey] [--model]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .terminal import Minitel

__all__ = ["register", "run_render"]

FORMATS = ("text", "json", "ansi", "png")


def register(sub: Any) -> None:
    """Add the ``render`` subcommand."""
    p = sub.add_parser("render", help="render a videotex page file as text, JSON, ANSI or PNG")
    p.add_argument("page", help="a .vdt/.vtx file of bytes as a server sends them")
    p.add_argument("--format", "-f", choices=FORMATS, default="text")
    p.add_argument("-o", "--output", help="output file (default: standard output; "
                   "required for png)")
    p.add_argument("--grey", action="store_true", help="png: monochrome CRT grey levels")
    p.add_argument("--scale", type=int, default=2, help="png: integer scale (default 2)")
    p.add_argument("--model", choices=("1B", "2"), default="1B")
    p.set_defaults(handler=run_render)


def _fail(message: str) -> int:
    print(f"terminal-emu render: {message}", file=sys.stderr)
    return 2


def run_render(args: argparse.Namespace) -> int:
    """Feed the page to a fresh Minitel and write the chosen render."""
    try:
        with open(args.page, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return _fail(f"{args.page}: no such file")
    except IsADirectoryError:
        return _fail(f"{args.page}: is a directory, expected a page file")
    except OSError as exc:
        return _fail(f"{args.page}: cannot read: {exc.strerror}")
    m = Minitel(model=args.model)
    m.feed(data)
    if args.format == "png":
        if not args.output:
            return _fail("--format png needs -o OUT.png")
        if not 1 <= args.scale <= 16:
            return _fail(f"--scale must be from 1 to 16, got {args.scale}")
        try:
            m.render_png(args.output, grey=args.grey, scale=args.scale)
        except OSError as exc:
            return _fail(f"{args.output}: cannot write: {exc.strerror}")
        return 0
    if args.format == "json":
        text = json.dumps(m.snapshot(), ensure_ascii=False)
    elif args.format == "ansi":
        text = m.render_ansi()
    else:
        text = m.render_text()
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            return _fail(f"{args.output}: cannot write: {exc.strerror}")
    else:
        sys.stdout.write(text + "\n")
    return 0
