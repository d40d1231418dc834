"""Stored cells and the pen (current attributes), §2 and §7.

A stored :class:`Cell` is what page memory holds: alphanumeric cells do not store their
own background, lining or masking; delimiters and mosaics do, and the zone attributes of a
cell are resolved at read time from the nearest delimiter or mosaic to its left on the same
row (:func:`resolve_row`). That is what makes "overwriting a delimiter removes its effect"
and "zones end with the row" hold without bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = [
    "BLANK",
    "SPACE",
    "Cell",
    "Pen",
    "Resolved",
    "resolve_row",
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
    unused (0/False). ``drcs`` marks a character drawn from a downloaded set (0 = none,
    1 = G'0, 2 = G'1) whose code is ``ord(char) & 0x7F``.
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
    part: tuple[int, int] = (0, 0)
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


@dataclass(frozen=True, slots=True)
class Resolved:
    """A cell with its zone attributes resolved, as the cell model shows it."""

    cell: Cell
    bg: int
    underline: bool
    masked: bool


def resolve_row(row: list[Cell]) -> list[Resolved]:
    """Resolve zone attributes left to right (§2 "start of a row", §7 serial attributes)."""
    bg, lining, mask = 0, False, False
    out: list[Resolved] = []
    for cell in row:
        if cell.kind == "mosaic":
            bg, lining = cell.bg, False
            out.append(Resolved(cell, bg, False, mask))
        elif cell.delimiter:
            bg, lining, mask = cell.bg, cell.underline, cell.masked
            out.append(Resolved(cell, bg, False, mask))
        else:
            out.append(Resolved(cell, bg, lining, mask))
    return out
