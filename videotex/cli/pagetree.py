"""``videotex page check DIR``: check a page tree, and say what each page costs on the wire.

Loads ``DIR/tree.toml`` and its pages as the service would (:func:`videotex.pagetree.
load_tree`), then prints the warnings and, per page, the bytes of its ``.vdt``, the
bytes sent when it is shown whole (the optimizer's re-encoding when it is smaller and
draws the same screen, else the original, framed to draw from any screen: see
``videotex.pagetree.render``), which of the two went and why. Exit status: 0 for a
tree that can be served (warnings or not), 1 with the errors on stderr, one a line,
each with the file and the line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from videotex.pagetree import PageTree, PageTreeError, load_tree

__all__ = ["register", "report"]


def report(tree: PageTree) -> list[str]:
    """The lines ``page check`` prints for a loaded tree."""
    pages = tree.pages
    out = [f"{tree.source}: tree {tree.name!r}, {len(pages)} pages, first page {tree.first!r}"]
    out += [f"warning: {w}" for w in tree.warnings]
    width = max([4, *(len(n) for n in pages)])
    fwidth = max([4, *(len(p.vdt.name) for p in pages.values())])
    out.append(f"{'page':<{width}}  {'file':<{fwidth}}  original  re-encoded  sent  chosen")
    total_original = total_sent = 0
    for name, page in pages.items():
        r = page.rendering.choice  # one read: the values of one decision
        reencoded = f"{len(r.body):>10}" if r.reencoded else f"{'-':>10}"
        chosen = "re-encoded" if r.reencoded else "original"
        framing = len(r.wire) - len(r.body)
        original = len(page.rendering.original)
        out.append(f"{name:<{width}}  {page.vdt.name:<{fwidth}}  {original:>8}  "
                   f"{reencoded}  {len(r.wire):>4}  {chosen}: {r.reason} "
                   f"(+{framing} framing)")
        total_original += original
        total_sent += len(r.wire)
    out.append(f"total: {total_original} bytes of pages, {total_sent} sent "
               "(each page shown whole once; fields and status row come on top)")
    return out


def _check(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    try:
        tree = load_tree(folder, cache=not args.no_cache)
    except PageTreeError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"videotex page check: {folder}: {len(exc.problems)} error(s)", file=sys.stderr)
        return 1
    print("\n".join(report(tree)))
    return 0


def register(subparsers: Any) -> None:
    """Add ``check`` under the ``page`` command (made by :mod:`videotex.cli.page`)."""
    page = subparsers.choices["page"]
    sub = next(a for a in page._actions if isinstance(a, argparse._SubParsersAction))
    check = sub.add_parser(
        "check",
        help="check a page tree (tree.toml and its .vdt pages), show bytes sent per page",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("folder", metavar="DIR", help="folder holding tree.toml")
    check.add_argument("--no-cache", action="store_true",
                       help="decode every page again (ignore and keep no .pagetree-cache.json)")
    check.set_defaults(handler=_check)
