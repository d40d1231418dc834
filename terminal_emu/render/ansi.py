"""ANSI render for a terminal: 24-bit colour SGR sequences, status row included.

Each line ends with a reset (``ESC [ 0 m``); underline, blink and inverse map to SGR 4, 5
and 7 (inverse is applied by swapping the colours, so it also works where SGR 7 is odd).
The characters are those of the text render.
"""

from __future__ import annotations

from ..cells import resolve_screen
from ..screen import Screen
from .png import COLOURS, GREYS
from .text import cell_text

__all__ = ["render_ansi"]


def _sgr(fg: int, bg: int, underline: bool, blink: bool, grey: bool) -> str:
    palette = GREYS if grey else COLOURS
    fr, fgc, fb = palette[fg]
    br, bgc, bb = palette[bg]
    codes = f"0;38;2;{fr};{fgc};{fb};48;2;{br};{bgc};{bb}"
    if underline:
        codes += ";4"
    if blink:
        codes += ";5"
    return f"\x1b[{codes}m"


def render_ansi(screen: Screen, *, grey: bool = False) -> str:
    """The screen as lines of text with SGR colour sequences."""
    hide = not screen.revealed
    lines = []
    for line in resolve_screen(screen.cells):
        parts: list[str] = []
        current = ""
        for res in line:
            cell = res.cell
            fg, bg = cell.fg, res.bg
            if cell.kind == "char" and cell.inverse:
                fg, bg = bg, fg
            hidden = res.masked and hide
            text = " " if hidden else cell_text(cell, screen.drcs)
            sgr = _sgr(fg, bg, res.underline and not hidden, cell.blink and not hidden, grey)
            if sgr != current:
                parts.append(sgr)
                current = sgr
            parts.append(text)
        parts.append("\x1b[0m")
        lines.append("".join(parts))
    return "\n".join(lines)
