"""Stored cells and the pen (current attributes), §2 and §7.

A stored :class:`Cell` is what page memory holds: alphanumeric cells do not store their
own background, lining or masking; delimiters and mosaics do, and the zone attributes of a
cell are resolved at read time from the nearest delimiter or mosaic to its left on the same
row (:func:`resolve_row`). That is what makes "overwriting a delimiter removes its effect"
and "zones end with the row" hold without bookkeeping.

Page memory does not store which half of a doubled character a cell is either (the
EF9345 has no such bit; §12 vectors 75-76): a doubled character is stored whole in every
cell it covers, and :func:`resolve_screen` decides at read time which part each position
shows. Along a row, a double-width cell shows its left half and the position to its right
shows the right half of that same character, whatever is stored there (vector 76). Down a
column, a double-height cell shows its top half unless the position above shows the top
half of a double-height character, in which case it shows its own bottom half (vector 75).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

__all__ = [
    "BLANK",
    "SPACE",
    "Cell",
    "Pen",
    "Resolved",
    "resolve_row",
    "resolve_screen",
]

#: Pending serial attribute flags (§7): any of them makes the next space a delimiter.
PENDING_BG = 1
PENDING_LINING = 2
PENDING_MASK = 4


@dataclass(frozen=True, slots=True)
class Cell:
    """One stored cell of page memory.

    ``kind`` is ``"char"`` or ``"mosaic"``. For mosaics and delimiters ``bg``,
    ``underline`` and ``masked`` are the zone values they set; for other chars they are
    unused (0/False). ``size`` is the size the character was drawn with; which part of it a
    position shows is decided when the screen is read (:func:`resolve_screen`). ``drcs``
    marks a character drawn from a downloaded set (0 = none, 1 = G'0, 2 = G'1) whose code
    is ``ord(char) & 0x7F``.
    """

    kind: str = "char"
    char: str | None = " "
    sextants: int = 0
    separated: bool = False
    fg: int = 7
    bg: int = 0
    blink: bool = False
    inverse: bool = False
    size: str = "normal"
    delimiter: bool = False
    underline: bool = False
    masked: bool = False
    drcs: int = 0


#: §2 what FF leaves in rows 1-24: a black empty mosaic.
BLANK = Cell(kind="mosaic", char=None)
#: §2 row 00 starts as spaces.
SPACE = Cell()


@dataclass(slots=True)
class Pen:
    """Current attributes (§7) and character set selection (§3)."""

    fg: int = 7
    bg: int = 0
    blink: bool = False
    inverse: bool = False
    size: str = "normal"
    lining: bool = False
    masking: bool = False
    separated: bool = False
    g1: bool = False
    pending: int = 0
    g0_drcs: bool = False
    g1_drcs: bool = False

    def copy(self) -> Pen:
        """An independent copy (saved when entering row 00)."""
        return replace(self)


class Resolved(NamedTuple):
    """What one position shows: the stored cell whose content is drawn there (for the
    right half of a double-width character, its left neighbour), the zone attributes in
    effect, and which ``part`` (dx, dy) of a doubled character it is. A NamedTuple, not
    a dataclass: a screen is resolved a thousand cells at a time, and a tuple is made
    several times faster."""

    cell: Cell
    bg: int
    underline: bool
    masked: bool
    part: tuple[int, int] = (0, 0)


def resolve_row(row: list[Cell]) -> list[Resolved]:
    """Resolve zone attributes left to right (§2 "start of a row", §7 serial attributes)."""
    return _zones(row)[0]


def _zones(row: list[Cell]) -> tuple[list[Resolved], bool]:
    """:func:`resolve_row`, and whether the row holds a doubled character.

    A cell stored again right after itself shows exactly as its left neighbour (the
    zone state it leaves is the one it found), so runs of one cell (blank rows, bands
    of spaces or mosaics: most of a page) share one :class:`Resolved`."""
    bg, lining, mask = 0, False, False
    out: list[Resolved] = []
    doubled = False
    prev: Cell | None = None
    res: Resolved | None = None
    for cell in row:
        if cell is prev and res is not None:
            out.append(res)
            continue
        prev = cell
        if cell.size != "normal":
            doubled = True
        if cell.kind == "mosaic":
            bg, lining = cell.bg, False
            res = Resolved(cell, bg, False, mask)
        elif cell.delimiter:
            bg, lining, mask = cell.bg, cell.underline, cell.masked
            res = Resolved(cell, bg, False, mask)
        else:
            res = Resolved(cell, bg, lining, mask)
        out.append(res)
    return out, doubled


_WIDE = frozenset(("wide", "double"))
_TALL = frozenset(("tall", "double"))


def resolve_screen(rows: list[list[Cell]]) -> list[list[Resolved]]:
    """Every position of the screen as shown: zones (:func:`resolve_row`) and the parts of
    doubled characters (module docstring, §12 vectors 75-76)."""
    out: list[list[Resolved]] = []
    above: list[Resolved] | None = None
    for row in rows:
        zoned, doubled = _zones(row)
        if not doubled:  # every position shows its own cell, whole
            out.append(zoned)
            above = zoned
            continue
        line: list[Resolved] = []
        width = len(zoned)
        c = 0
        while c < width:
            res = zoned[c]
            cell = res.cell
            dy = 0
            if cell.size in _TALL and above is not None:
                up = above[c]
                if up.cell.size in _TALL and up.part[1] == 0 and up.cell.kind == "char":
                    dy = 1
            if cell.size == "normal" and dy == 0:
                line.append(res)
                c += 1
                continue
            line.append(Resolved(cell, res.bg, res.underline, res.masked, (0, dy)))
            c += 1
            if cell.size in _WIDE and c < width:
                line.append(Resolved(cell, res.bg, res.underline, res.masked, (1, dy)))
                c += 1
        out.append(line)
        above = line
    return out
