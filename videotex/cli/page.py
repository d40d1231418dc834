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
from videotex.codec.frame import BLANK_SPACE, Frame

from .pagescreen import Shown, models_may_differ, show

__all__ = ["TERMINAL_COLS", "OptimizeResult", "decide", "decide_shown", "decode",
           "optimize_page", "page_frame", "register"]

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


_FRESH: Frame | None = None


def _fresh() -> Frame:
    """A Minitel 1B's screen before any byte (row 0 as the terminal shows it)."""
    global _FRESH
    if _FRESH is None:
        _FRESH = show(b"").frame
    return _FRESH


def page_frame(data: bytes, snap: dict[str, Any] | None = None) -> Frame:
    """The Frame a page draws, row 0 indicators owned by the terminal left blank
    (``snap``: the page's JSON snapshot on a Minitel 1B, if made already)."""
    return _page_frame(Frame.from_snapshot(snap) if snap is not None else show(data).frame)


def _page_frame(shown: Frame) -> Frame:
    """``shown`` (a page on a fresh 1B) with row 0 as the page left it: the cells it
    did not change and the terminal's indicators blank."""
    frame = shown.copy()
    fresh = _fresh().row(0)
    for c, cell in enumerate(shown.row(0), start=1):
        if cell == fresh[c - 1] or c in TERMINAL_COLS:
            frame.put(0, c, BLANK_SPACE)
    return frame


def _screen(frame: Frame) -> Frame:
    """Cells to compare: row 0 columns 37-39 belong to the terminal (§2), not the page."""
    out = frame.copy()
    for c in TERMINAL_COLS:
        out.put(0, c, BLANK_SPACE)
    return out


def _hand_over(original: Shown, drawn: Shown) -> bytes:
    """Bytes that leave the cursor where the original page left it (visible or not;
    in row 00, with LF's return place): a page hands its cursor over."""
    row, col, _visible, saved = original.cursor
    if drawn.cursor[:2] == (row, col) and (row != 0 or drawn.cursor[3] == saved):
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
    """The page's frame and :func:`optimize_page`'s decision. ``ValueError`` when the
    page cannot be decoded.

    A page tree decides for every page it loads, so what is emulated is what can
    change the verdict: the page and its re-encoding on a Minitel 1B, and both on a
    Minitel 2 only when either holds a sequence a 2 treats otherwise than a 1B
    (:func:`.pagescreen.models_may_differ`): otherwise the screens are the 1B's."""
    return _decide(data, show(data))


def decode(data: bytes) -> tuple[Frame, Shown]:
    """The page's frame and its screen on a fresh 1B: what :func:`decide_shown` needs
    (a page tree serves the page from the frame before the optimizer has decided)."""
    shown = show(data)
    return _page_frame(shown.frame), shown


def decide_shown(data: bytes, shown: Shown) -> OptimizeResult:
    """:func:`optimize_page`'s decision for a page already decoded by :func:`decode`."""
    return _decide(data, shown)[1]


def _decide(data: bytes, first: Shown) -> tuple[Frame, OptimizeResult]:
    frame = _page_frame(first.frame)
    try:
        out = encode_frame(frame)
    except ValueError as exc:
        return frame, OptimizeResult(data, False, f"cannot be re-encoded: {exc}")
    drawn = show(out)
    hand_over = _hand_over(first, drawn)
    out += hand_over
    models = MODELS if models_may_differ(data) or models_may_differ(out) else MODELS[:1]
    for model in models:
        before = first if model == "1B" else show(data, model)
        after = drawn if model == "1B" and not hand_over else show(out, model)
        diff = compare(_screen(before.frame), _screen(after.frame), limit=3)
        if diff:
            return frame, OptimizeResult(data, False, f"re-encoding draws another screen on "
                                         f"a Minitel {model}: " + "; ".join(diff))
        if before.cursor != after.cursor:
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
