"""``videotex page optimize IN.vdt -o OUT.vdt``: redraw a real page in fewer bytes.

The page is decoded by the emulator (``terminal_emu.Minitel``) into a
``Frame``, re-encoded with ``encode_frame``, and the result is emulated again:
OUT is written re-encoded only when it draws the very same screen (normalised
cells, cursor) in no more bytes; otherwise IN is copied unchanged and the
reason is printed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videotex.codec.cellmodel import compare
from videotex.codec.encoder import encode_frame
from videotex.codec.frame import BLANK_SPACE, COLS, Frame

__all__ = ["TERMINAL_COLS", "OptimizeResult", "optimize_page", "page_frame", "register"]

#: Row 0 columns where the terminal shows its own indicators (I, R, F/C/f), §2.
TERMINAL_COLS = (37, 38, 39)


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    """What ``optimize_page`` decided: the bytes to keep and why."""

    data: bytes
    optimized: bool
    reason: str


def _emulate(data: bytes) -> dict[str, Any]:
    from terminal_emu import Minitel  # the server may use the emulator, never the reverse

    m = Minitel()
    m.feed(data)
    snap: dict[str, Any] = m.snapshot()
    return snap


def page_frame(data: bytes) -> Frame:
    """The Frame a page draws, row 0 indicators owned by the terminal left blank."""
    snap = _emulate(data)
    fresh = _emulate(b"")
    frame = Frame.from_snapshot(snap)
    for c in range(1, COLS + 1):
        if snap["cells"][0][c - 1] == fresh["cells"][0][c - 1] or c in TERMINAL_COLS:
            frame.put(0, c, BLANK_SPACE)
    return frame


def _screen(snap: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Cells to compare: row 0 columns 37-39 belong to the terminal (§2), not the page."""
    cells = [list(r) for r in snap["cells"]]
    for c in TERMINAL_COLS:
        cells[0][c - 1] = BLANK_SPACE.to_dict()
    return cells


def _cursor(snap: dict[str, Any]) -> tuple[int, int] | None:
    cur = snap["cursor"]
    return (cur["row"], cur["col"]) if cur["visible"] else None


def optimize_page(data: bytes) -> OptimizeResult:
    """Re-encode a page; keep the original bytes unless the result is identical and no longer."""
    try:
        frame = page_frame(data)
        out = encode_frame(frame)
    except ValueError as exc:
        return OptimizeResult(data, False, f"cannot be re-encoded: {exc}")
    before, after = _emulate(data), _emulate(out)
    diff = compare(_screen(before), _screen(after), limit=3)
    if diff:
        return OptimizeResult(data, False, "re-encoding draws another screen: " + "; ".join(diff))
    if _cursor(before) != _cursor(after):
        return OptimizeResult(data, False, "re-encoding leaves the cursor elsewhere")
    if len(out) > len(data):
        return OptimizeResult(data, False, f"re-encoding is longer ({len(out)} > {len(data)})")
    return OptimizeResult(out, True, f"{len(data)} -> {len(out)} bytes")


def _optimize(args: argparse.Namespace) -> int:
    src, dst = Path(args.input), Path(args.output)
    try:
        data = src.read_bytes()
    except OSError as exc:
        print(f"videotex page optimize: cannot read {src}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    result = optimize_page(data)
    try:
        dst.write_bytes(result.data)
    except OSError as exc:
        print(f"videotex page optimize: cannot write {dst}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    verdict = "optimized" if result.optimized else "kept original"
    print(f"{src}: {verdict}: {result.reason}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``page optimize`` to the ``videotex`` command."""
    page = subparsers.add_parser("page", help="videotex page tools")
    sub = page.add_subparsers(dest="page_command", metavar="PAGE_COMMAND", required=True)
    opt = sub.add_parser(
        "optimize",
        help="redraw a .vdt page in fewer bytes (same screen, never larger)",
        description=__doc__,
    )
    opt.add_argument("input", metavar="IN.vdt", help="page to read")
    opt.add_argument("-o", "--output", metavar="OUT.vdt", required=True, help="page to write")
    opt.set_defaults(handler=_optimize)
