"""``videotex page optimize IN.vdt -o OUT.vdt``: redraw a real page in fewer bytes.

The page is decoded by the emulator (``terminal_emu.Minitel``, a Minitel 1B) into a
``Frame``, re-encoded with ``encode_frame``, and the result is emulated again:
OUT is written re-encoded only when it draws the very same screen (normalised
cells) on a Minitel 1B and on a Minitel 2, leaves the cursor where the original left
it (visible or hidden: the cursor is part of what a page hands over to the service
that sends it), and takes no more bytes; otherwise IN is copied unchanged and the
reason is printed. A page that loads downloadable characters (which a Minitel 2 draws
and a 1B does not) is therefore kept as it is.
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

__all__ = ["TERMINAL_COLS", "OptimizeResult", "decide", "optimize_page", "page_frame",
           "register"]

#: Row 0 columns where the terminal shows its own indicators (I, R, F/C/f), §2.
TERMINAL_COLS = (37, 38, 39)


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    """What ``optimize_page`` decided: the bytes to keep and why."""

    data: bytes
    optimized: bool
    reason: str


#: The terminals a re-encoded page must look the same on.
MODELS = ("1B", "2")


def _emulate(data: bytes, model: str = "1B") -> dict[str, Any]:
    from terminal_emu import Minitel  # the server may use the emulator, never the reverse

    m = Minitel(model)
    m.feed(data)
    snap: dict[str, Any] = m.snapshot()
    saved = m.screen._saved  # where LF leaves row 00 for: part of the hand-over
    snap["saved"] = saved[:2] if saved is not None else None
    return snap


_FRESH: dict[str, Any] | None = None


def _fresh() -> dict[str, Any]:
    """A Minitel 1B's screen before any byte (row 0 as the terminal shows it)."""
    global _FRESH
    if _FRESH is None:
        _FRESH = _emulate(b"")
    return _FRESH


def page_frame(data: bytes, snap: dict[str, Any] | None = None) -> Frame:
    """The Frame a page draws, row 0 indicators owned by the terminal left blank
    (``snap``: the page emulated on a Minitel 1B already)."""
    snap = snap if snap is not None else _emulate(data)
    fresh = _fresh()
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


def _cursor(snap: dict[str, Any]) -> tuple[int, int, bool, Any]:
    """Where the cursor rests, whether it shows, and the row-00 return place."""
    cur = snap["cursor"]
    return cur["row"], cur["col"], cur["visible"], snap["saved"]


def _hand_over(original: dict[str, Any], drawn: dict[str, Any]) -> bytes:
    """Bytes that leave the cursor where the original page left it (visible or not;
    in row 00, with LF's return place): a page hands its cursor over."""
    row, col, _visible, saved = _cursor(original)
    if _cursor(drawn)[:2] == (row, col) and (row != 0 or drawn["saved"] == saved):
        return b""
    out = b""
    if row == 0 and saved is not None:
        out += bytes((0x1F, 0x40 + saved[0], 0x40 + saved[1]))
    return out + bytes((0x1F, 0x40 + row, 0x40 + col))


def optimize_page(data: bytes) -> OptimizeResult:
    """Re-encode a page; keep the original bytes unless the result is identical and no longer."""
    try:
        return decide(data)[1]
    except ValueError as exc:  # the page itself cannot be decoded
        return OptimizeResult(data, False, f"cannot be re-encoded: {exc}")


def decide(data: bytes) -> tuple[Frame, OptimizeResult]:
    """The page's frame and :func:`optimize_page`'s decision, each terminal emulating
    each byte string once (a page tree decides for every page it loads). ``ValueError``
    when the page cannot be decoded."""
    before = {model: _emulate(data, model) for model in MODELS}
    frame = page_frame(data, before["1B"])
    try:
        out = encode_frame(frame)
    except ValueError as exc:
        return frame, OptimizeResult(data, False, f"cannot be re-encoded: {exc}")
    drawn = _emulate(out)
    hand_over = _hand_over(before["1B"], drawn)
    out += hand_over
    for model in MODELS:
        after = drawn if model == "1B" and not hand_over else _emulate(out, model)
        diff = compare(_screen(before[model]), _screen(after), limit=3)
        if diff:
            return frame, OptimizeResult(data, False, f"re-encoding draws another screen on "
                                         f"a Minitel {model}: " + "; ".join(diff))
        if _cursor(before[model]) != _cursor(after):
            return frame, OptimizeResult(data, False, "re-encoding leaves the cursor "
                                         f"elsewhere on a Minitel {model}")
    if len(out) > len(data):
        return frame, OptimizeResult(data, False,
                                     f"re-encoding is longer ({len(out)} > {len(data)})")
    return frame, OptimizeResult(out, True, f"{len(data)} -> {len(out)} bytes")


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
