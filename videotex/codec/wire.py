"""What the terminal stores per cell (the "wire" model), planning and resolving.

A Minitel cell does not store what a person sees: an alphanumeric cell has no
background, lining or masking of its own; those come from the nearest
delimiter or mosaic to its left on the row (§2, §7). This module models what
the terminal stores (``WChar``, ``WDelim``, ``WMosaic``), resolves a stored
row into the cells a person sees (``resolve_row``), and plans which stored
cells draw a wanted ``Frame`` (``plan``).

Planning rules (deterministic; they define what the encoder draws for a
frame the wire cannot draw exactly):

- A zone change (background, lining, masking) can only happen at a blank cell
  (a space that is not inverse nor lined, or an empty mosaic), which becomes a
  delimiter, or at a mosaic (background only; lining ends there).
- A space that needs another zone becomes its delimiter (shown unlined).
- A character that needs another zone than the one in effect turns the blank
  (or inverse) space just before it into the delimiter of its zone when that
  space looks the same as the delimiter would (same background and masking). Otherwise the
  character is drawn in the zone in effect: its ``bg``, ``underline`` and
  ``masked`` are those of the zone, not the frame's.
- A doubled character whose parts are not all present and consistent in the
  frame, or that the terminal cannot draw there, is drawn normal size.
- A blank cell keeps whatever the terminal already stores when that looks the
  same and leaves the same zone behind (so an update does not rewrite it).
- Row 0 columns 37-39 belong to the terminal (§12 vector 66: writes there are dropped):
  they keep what the terminal stores, whatever the frame asks. Their zone is the one
  column 36 leaves (§2, §7: the nearest delimiter or mosaic to the left, no exception
  for them; vector 67 lists r0c3-c40 in the zone the mosaics of c3-c36 leave): when it
  is not the zone the frame asks at column 37, column 36 is made (or re-made) the
  delimiter of that zone if it looks the same as one, as for a character (so
  ``drawable`` is a fixed point on row 0 too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .codes import Size
from .frame import BLANK_MOSAIC, BLANK_SPACE, COLS, ROWS, Cell, Frame, effective_size

__all__ = [
    "FF_WIRE",
    "TERMINAL_CELLS",
    "WChar",
    "WDelim",
    "WMosaic",
    "Wire",
    "Zone",
    "canon",
    "plan",
    "resolve",
    "resolve_row",
    "zones_before",
]


class Zone(NamedTuple):
    """Zone (serial) attributes in effect at a cell."""

    bg: int = 0
    underline: bool = False
    masked: bool = False


ZONE0 = Zone()


class WChar(NamedTuple):
    """A stored G0/G2 character (or plain space), or one part of a doubled one."""

    glyph: str
    fg: int = 7
    blink: bool = False
    inverse: bool = False
    size: Size = Size.NORMAL
    part: tuple[int, int] = (0, 0)


class WDelim(NamedTuple):
    """A space that applied serial attributes: it sets the zone for the cells to its right."""

    bg: int
    underline: bool
    masked: bool
    fg: int = 7
    inverse: bool = False


class WMosaic(NamedTuple):
    """A stored G1 mosaic: its own background, which the following zone inherits.

    Stored cells are tuples, and tuples compare by value: without ``tag`` a mosaic and a
    delimiter with the same numbers (``WMosaic(1, 0, 0, False, True)`` and ``WDelim(1,
    False, False, 0, True)``) were equal, so the shared tables handed one for the other
    and a diff skipped a real change. The extra field keeps the three kinds unequal
    (``WChar`` starts with a string) at no cost on the hot path.
    """

    sextants: int
    fg: int = 7
    bg: int = 0
    separated: bool = False
    blink: bool = False
    tag: str = "mosaic"


Wire = WChar | WDelim | WMosaic

SPACE = WChar(" ")
EMPTY = WMosaic(0)


def canon(w: Wire) -> Wire:
    """Drop what cannot be seen: fg/blink of non-inverse spaces, attributes of empty mosaics."""
    if isinstance(w, WChar):
        if w.glyph == " " and not w.inverse and (w.fg != 7 or w.blink):
            return w._replace(fg=7, blink=False)
    elif isinstance(w, WDelim):
        if not w.inverse and w.fg != 7:
            return w._replace(fg=7)
    elif w.sextants == 0 and (w.fg != 7 or w.separated or w.blink):
        return WMosaic(0, bg=w.bg)
    return w


#: Row 0 columns (0-based) the terminal keeps for itself (§12 vector 66: I, R, F/C/f).
TERMINAL_CELLS = range(36, 39)
#: What the terminal stores right after FF. FF does not touch row 0; a Minitel that has
#: just connected holds empty black mosaics in its columns 1-36 (§12 vector 67); columns
#: 37-39 are the terminal's and are modelled as the spaces the server cannot change.
FF_WIRE: tuple[tuple[Wire, ...], ...] = (
    ((EMPTY,) * 36 + (SPACE,) * 4,) + ((EMPTY,) * COLS,) * (ROWS - 1))


def resolve_row(wires: Sequence[Wire]) -> list[Cell]:
    """The cells a person sees for one stored row."""
    z = ZONE0
    out: list[Cell] = []
    for w in wires:
        if isinstance(w, WChar):
            out.append(
                Cell(char=w.glyph, fg=w.fg, bg=z.bg, blink=w.blink, inverse=w.inverse,
                     underline=z.underline, masked=z.masked, size=w.size, part=w.part)
            )
        elif isinstance(w, WDelim):
            z = Zone(w.bg, w.underline, w.masked)
            out.append(Cell(fg=w.fg, bg=w.bg, inverse=w.inverse, masked=w.masked))
        else:
            out.append(
                Cell(kind="mosaic", char=None, sextants=w.sextants, separated=w.separated,
                     fg=w.fg, bg=w.bg, blink=w.blink, masked=z.masked)
            )
            z = Zone(w.bg, False, z.masked)
    return out


def zones_before(wires: Sequence[Wire]) -> list[Zone]:
    """Zone in effect just left of each cell of a stored row (one Zone object per change:
    a row of mosaics on one background shares one)."""
    z = ZONE0
    out: list[Zone] = []
    for w in wires:
        out.append(z)
        if isinstance(w, WDelim):
            if (w.bg, w.underline, w.masked) != z:
                z = Zone(w.bg, w.underline, w.masked)
        elif isinstance(w, WMosaic) and (z.bg != w.bg or z.underline):
            z = Zone(w.bg, False, z.masked)
    return out


def resolve(wire: Sequence[Sequence[Wire]],
            cursor: tuple[int, int] | None = None) -> Frame:
    """The frame a person sees for a stored screen."""
    f = Frame()
    for r, row in enumerate(wire):
        for c, cell in enumerate(resolve_row(row), start=1):
            f.put(r, c, cell)
    f.cursor = cursor
    return f


def _is_blank(t: Cell) -> bool:
    if t.kind == "mosaic":
        return t.sextants == 0
    return t.char == " " and not t.inverse and not t.underline and t.size is Size.NORMAL


def _group_ok(rows: list[list[Cell]], r: int, c: int, t: Cell) -> bool:
    """True when the doubled character that (r, c) belongs to is complete and drawable."""
    size = t.size
    dx, dy = t.part
    w, h = size.width, size.height
    if dx >= w or dy >= h:
        return False
    ref_r, ref_c = r + (h - 1 - dy), c - dx
    if not (ref_r - (h - 1) >= 0 and ref_r < ROWS and ref_c >= 1 and ref_c + w - 1 <= COLS):
        return False
    if effective_size(size, ref_r, ref_c) is not size:
        return False
    for py in range(h):
        for px in range(w):
            o = rows[ref_r - (h - 1) + py][ref_c - 1 + px]
            if (o.kind != "char" or o.char != t.char or o.size is not size or o.fg != t.fg
                    or o.blink != t.blink or o.inverse != t.inverse or o.part != (px, py)):
                return False
    return True


def _plan_row(rows: list[list[Cell]], r: int, old: Sequence[Wire]) -> list[Wire]:
    targets = rows[r]
    out: list[Wire] = []
    z = ZONE0

    def convert_prev(need: Zone) -> bool:
        i = len(out) - 1
        if i < 0 or (r == 0 and i in TERMINAL_CELLS):
            return False
        p = targets[i]
        if _is_blank(p) and p.bg == need.bg and p.masked == need.masked:
            out[i] = WDelim(need.bg, need.underline, need.masked)
            return True
        if (p.kind == "char" and p.char == " " and p.inverse and not p.underline
                and p.size is Size.NORMAL and p.bg == need.bg and p.masked == need.masked):
            out[i] = canon(WDelim(need.bg, need.underline, need.masked, p.fg, True))
            return True
        return False

    def rezone_status(need: Zone) -> bool:
        # Row 0 columns 37-39 cannot be written, so the zone they show is the one column
        # 36 leaves. A delimiter there shows its background and masking, not its lining:
        # its lining may change freely (it is only seen in columns 37-39).
        p = out[-1]
        if isinstance(p, WDelim) and p.bg == need.bg and p.masked == need.masked:
            out[-1] = p._replace(underline=need.underline)
            return True
        return convert_prev(need)

    for i, t in enumerate(targets):
        w: Wire
        if r == 0 and i in TERMINAL_CELLS:
            if i == TERMINAL_CELLS.start:
                want = Zone(t.bg, t.underline, t.masked)
                if z != want and rezone_status(want):
                    z = want
            w = old[i]  # the terminal's: never written (§12 vector 66)
            out.append(w)
            if isinstance(w, WDelim):
                z = Zone(w.bg, w.underline, w.masked)
            elif isinstance(w, WMosaic):
                z = Zone(w.bg, False, z.masked)
            continue
        info = _CELL_INFO.get(t)
        if info is None:
            info = _cell_info(t)
        kind, zone, wire = info
        if kind == _BLANK:
            after = zone
            if z == after:
                cand: Wire = SPACE
            elif out and isinstance(out[-1], WMosaic) and z.masked == after.masked:
                cand = WMosaic(0, bg=after.bg)
            else:
                cand = WDelim(after.bg, False, after.masked)
            o = old[i]
            w = canon(o) if o != cand and _equivalent(o, z, after) else cand
            z = after
        elif kind == _MOSAIC:
            if z.masked != t.masked and convert_prev(Zone(targets[i - 1].bg, False, t.masked)):
                z = Zone(targets[i - 1].bg, False, t.masked)
            assert wire is not None
            w = wire
            z = Zone(t.bg, False, z.masked)
        else:
            need = zone
            size, part = t.size, t.part
            if size is not Size.NORMAL and not _group_ok(rows, r, i + 1, t):
                size, part = Size.NORMAL, (0, 0)
            if z != need and convert_prev(need):
                z = need
            if z != need and t.char == " " and size is Size.NORMAL:
                # The space becomes the delimiter of its zone; a delimiter is never
                # lined, so a lined space that starts a lined zone loses its line.
                w = canon(WDelim(need.bg, need.underline, need.masked, t.fg, t.inverse))
                z = need
            elif wire is not None and size is t.size:
                w = wire
            else:
                w = canon(WChar(t.char or " ", t.fg, t.blink, t.inverse, size, part))
        out.append(w)
    return out


_BLANK, _MOSAIC, _CHAR = 0, 1, 2
#: Per frame cell: (kind, zone it needs or leaves, its stored cell when it stands alone).
_CELL_INFO: dict[Cell, tuple[int, Zone, Wire | None]] = {}


def _cell_info(t: Cell) -> tuple[int, Zone, Wire | None]:
    info: tuple[int, Zone, Wire | None]
    if _is_blank(t):
        info = (_BLANK, Zone(t.bg, False, t.masked), None)
    elif t.kind == "mosaic":
        info = (_MOSAIC, ZONE0, canon(WMosaic(t.sextants, t.fg, t.bg, t.separated, t.blink)))
    else:
        info = (_CHAR, Zone(t.bg, t.underline, t.masked),
                canon(WChar(t.char or " ", t.fg, t.blink, t.inverse, t.size, t.part)))
    if len(_CELL_INFO) >= 100_000:
        _CELL_INFO.clear()
    _CELL_INFO[t] = info
    return info


def _equivalent(o: Wire, z: Zone, after: Zone) -> bool:
    """Does stored ``o`` (zone ``z`` on its left) look blank on ``after.bg`` and leave ``after``?"""
    if isinstance(o, WChar):
        return (o.glyph == " " and not o.inverse and o.size is Size.NORMAL and z == after)
    if isinstance(o, WMosaic):
        return o.sextants == 0 and Zone(o.bg, False, z.masked) == after
    return not o.inverse and Zone(o.bg, o.underline, o.masked) == after and not o.underline


def plan(target: Frame, old: Sequence[Sequence[Wire]]) -> list[list[Wire]]:
    """The stored screen that draws ``target`` (as near as the wire allows), given ``old``."""
    rows = [list(r) for r in target.cells]
    return [_plan_row(rows, r, old[r]) for r in range(ROWS)]


def blank_wire() -> list[list[Wire]]:
    """A mutable copy of ``FF_WIRE``."""
    return [list(r) for r in FF_WIRE]


assert resolve_row([EMPTY])[0] == BLANK_MOSAIC and resolve_row([SPACE])[0] == BLANK_SPACE
