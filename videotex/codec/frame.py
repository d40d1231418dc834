"""``Frame``: the 40x25 screen the server wants the caller to see.

A frame holds 25 rows (row 0 is the service/status row) of 40 resolved cells,
exactly the cell model of docs/cell-model.md, plus where the cursor rests.
Frames are plain values: the encoder turns one into bytes, or the difference
between two into bytes.

Invariants kept by the drawing methods:

- every cell holds a glyph of the repertoire (text goes through the charset
  fallback) or a mosaic;
- doubled characters follow the terminal: the reference point is the
  bottom-left cell; row 0 is always normal size; on row 1 double height and
  double size are drawn normal size (§12 vector 58: double size is not drawn
  double width there), double width is kept; a double-width character at
  column 40 is drawn normal width (double size becomes double height there);
- writing over part of a doubled character turns its other parts into spaces
  of the same background, so a frame never holds half a character;
- drawing clips at column 40 (no wrap).

A frame may still ask for something the wire cannot draw exactly (two letters
side by side on different backgrounds, with no cell for a delimiter between
them). The frame keeps the request; the encoder draws the nearest screen it
can, deterministically (see ``videotex.codec.encoder.drawable``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .charset import g1_byte, is_glyph, to_glyphs
from .codes import Color, Size

__all__ = ["BLANK_MOSAIC", "BLANK_SPACE", "COLS", "ROW0", "ROWS", "Cell", "Frame"]

ROWS = 25
COLS = 40


@dataclass(frozen=True, slots=True)
class Cell:
    """One resolved cell, field for field the cell model of docs/cell-model.md."""

    kind: str = "char"
    char: str | None = " "
    sextants: int = 0
    separated: bool = False
    fg: int = 7
    bg: int = 0
    blink: bool = False
    inverse: bool = False
    underline: bool = False
    masked: bool = False
    size: Size = Size.NORMAL
    part: tuple[int, int] = (0, 0)
    #: The hash, computed once: rows of cells are hash-consed between sessions.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((
            self.kind, self.char, self.sextants, self.separated, self.fg, self.bg, self.blink,
            self.inverse, self.underline, self.masked, self.size, self.part)))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_mosaic(self) -> bool:
        return self.kind == "mosaic"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the cell model."""
        return {
            "kind": self.kind,
            "char": self.char,
            "sextants": self.sextants,
            "separated": self.separated,
            "fg": int(self.fg),
            "bg": int(self.bg),
            "blink": self.blink,
            "inverse": self.inverse,
            "underline": self.underline,
            "masked": self.masked,
            "size": self.size.value,
            "part": [self.part[0], self.part[1]],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "cell") -> Cell:
        """Build from a cell-model JSON object; ``ValueError`` names ``where`` and the key."""
        try:
            kind = d["kind"]
            if kind not in ("char", "mosaic"):
                raise ValueError(f"kind must be 'char' or 'mosaic', got {kind!r}")
            char = d.get("char") if kind == "char" else None
            if kind == "char" and (not isinstance(char, str) or len(char) != 1):
                raise ValueError(f"char must be one character, got {char!r}")
            part = d.get("part", [0, 0])
            return cls(
                kind=kind,
                char=char,
                sextants=int(d.get("sextants", 0)) if kind == "mosaic" else 0,
                separated=bool(d.get("separated", False)),
                fg=_color(d.get("fg", 7), "fg"),
                bg=_color(d.get("bg", 0), "bg"),
                blink=bool(d.get("blink", False)),
                inverse=bool(d.get("inverse", False)),
                underline=bool(d.get("underline", False)),
                masked=bool(d.get("masked", False)),
                size=Size(d.get("size", "normal")),
                part=(int(part[0]), int(part[1])),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{where}: invalid cell {dict(d)!r}: {exc}") from None


#: A cell of rows 1-24 after FF: a black empty mosaic.
BLANK_MOSAIC = Cell(kind="mosaic", char=None)
#: A space: row 0 columns 37-40 (the terminal's own indicators are in 37-39).
BLANK_SPACE = Cell()
#: Row 0 of a Minitel that has just connected (§12 vector 67): empty black mosaics in
#: columns 1-36, spaces in 37-40. FF never clears it.
ROW0: tuple[Cell, ...] = (BLANK_MOSAIC,) * 36 + (BLANK_SPACE,) * 4


def _color(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 7:
        raise ValueError(f"{name} must be a colour 0-7 (videotex.codec.Color), got {value!r}")
    return int(value)


def _check_pos(row: int, col: int) -> None:
    if not isinstance(row, int) or not 0 <= row < ROWS:
        raise ValueError(f"row must be 0-{ROWS - 1}, got {row!r}")
    if not isinstance(col, int) or not 1 <= col <= COLS:
        raise ValueError(f"col must be 1-{COLS}, got {col!r}")


def effective_size(size: Size, row: int, col: int) -> Size:
    """The size the terminal really draws for ``size`` at (row, col) (§4 edge rules)."""
    size = Size(size)
    if row == 0:
        return Size.NORMAL  # the service row never doubles
    if row == 1 and size in (Size.TALL, Size.DOUBLE):
        return Size.NORMAL  # §12 vectors 24, 58: neither height nor width is doubled
    if col == COLS:
        size = {Size.WIDE: Size.NORMAL, Size.DOUBLE: Size.TALL}.get(size, size)
    return size


_CELLS: dict[tuple[object, ...], Cell] = {}
#: Normal-size cells by attributes, then by glyph: the same objects as ``_cell`` gives.
_PLAIN: dict[tuple[int, int, bool, bool, bool, bool], dict[str, Cell]] = {}
_GLYPHS: dict[str, list[str]] = {}
_MOSAICS: dict[tuple[object, ...], Cell] = {}


def _cell(glyph: str, fg: int, bg: int, blink: bool, inverse: bool, underline: bool,
          masked: bool, size: Size = Size.NORMAL, part: tuple[int, int] = (0, 0)) -> Cell:
    """The one shared Cell with these values (cells are immutable), so that frames of
    many sessions share them and compare by identity."""
    key = (glyph, fg, bg, blink, inverse, underline, masked, size, part)
    cell = _CELLS.get(key)
    if cell is None:
        cell = Cell(char=glyph, fg=fg, bg=bg, blink=blink, inverse=inverse,
                    underline=underline, masked=masked, size=size, part=part)
        if len(_CELLS) < 200_000:
            _CELLS[key] = cell
    return cell


def _glyphs(text: str) -> list[str]:
    """``to_glyphs`` with a bounded cache: pages draw the same texts again and again."""
    glyphs = _GLYPHS.get(text)
    if glyphs is None:
        glyphs = to_glyphs(text)
        if len(_GLYPHS) < 50_000:
            _GLYPHS[text] = glyphs
    return glyphs


class Frame:
    """The 25x40 screen the server wants shown, and the cursor.

    ``cells[row][col - 1]`` is the ``Cell`` at row 0-24, column 1-40.
    ``cursor`` is ``(row, col)`` where the visible cursor rests, or ``None``
    for a hidden cursor.
    """

    __slots__ = ("_rows", "cursor")

    def __init__(self) -> None:
        self._rows: list[list[Cell]] = [list(ROW0)] + [
            [BLANK_MOSAIC] * COLS for _ in range(1, ROWS)
        ]
        self.cursor: tuple[int, int] | None = None

    # -- reading -------------------------------------------------------
    @property
    def cells(self) -> tuple[tuple[Cell, ...], ...]:
        """Rows of cells, ``cells[row][col - 1]``."""
        return tuple(tuple(r) for r in self._rows)

    def cell(self, row: int, col: int) -> Cell:
        """The cell at (row, col), col 1-40."""
        _check_pos(row, col)
        return self._rows[row][col - 1]

    def row(self, row: int) -> tuple[Cell, ...]:
        """The 40 cells of ``row``."""
        _check_pos(row, 1)
        return tuple(self._rows[row])

    def copy(self) -> Frame:
        """An independent copy."""
        f = Frame.__new__(Frame)
        f._rows = [list(r) for r in self._rows]
        f.cursor = self.cursor
        return f

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.cursor == other.cursor and self._rows == other._rows

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Frame(cursor={self.cursor!r})\n" + self.render_text()

    def render_text(self) -> str:
        """The screen as 25 lines of text (mosaics as blanks or ``#``)."""
        lines = []
        for r in self._rows:
            chars = []
            for c in r:
                if c.kind == "mosaic":
                    chars.append("#" if c.sextants else " ")
                else:
                    chars.append(c.char or " ")
            lines.append("".join(chars).rstrip())
        return "\n".join(lines)

    def to_cell_dicts(self) -> list[list[dict[str, Any]]]:
        """Cells as the JSON objects of docs/cell-model.md."""
        return [[c.to_dict() for c in r] for r in self._rows]

    def to_snapshot(self) -> dict[str, Any]:
        """The whole screen in the emulator's JSON shape."""
        row, col = self.cursor if self.cursor else (1, 1)
        return {
            "rows": ROWS,
            "cols": COLS,
            "cursor": {"row": row, "col": col, "visible": self.cursor is not None},
            "cells": self.to_cell_dicts(),
        }

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Frame:
        """Build a frame from the emulator's JSON screen (``Minitel.snapshot()``)."""
        cells = snapshot.get("cells") if isinstance(snapshot, Mapping) else None
        if not isinstance(cells, list) or len(cells) != ROWS:
            raise ValueError(f"snapshot must hold 'cells' as {ROWS} rows")
        f = cls()
        for r, row in enumerate(cells):
            if not isinstance(row, list) or len(row) != COLS:
                raise ValueError(f"snapshot row {r} must hold {COLS} cells")
            f._rows[r] = [Cell.from_dict(d, f"snapshot r{r}c{c + 1}") for c, d in enumerate(row)]
        cur = snapshot.get("cursor") or {}
        if cur.get("visible"):
            f.cursor = (int(cur["row"]), int(cur["col"]))
        return f

    @classmethod
    def from_cells(cls, rows: Iterable[Iterable[Cell]],
                   cursor: tuple[int, int] | None = None) -> Frame:
        """A frame holding ``rows`` (25 rows of 40 :class:`Cell`, kept as they are: no
        doubled-character bookkeeping) and ``cursor``."""
        f = cls.__new__(cls)
        f._rows = [list(r) for r in rows]
        if len(f._rows) != ROWS or any(len(r) != COLS for r in f._rows):
            raise ValueError(f"a frame is {ROWS} rows of {COLS} cells")
        if cursor is not None:
            _check_pos(*cursor)
        f.cursor = cursor
        return f

    # -- drawing -------------------------------------------------------
    def put(self, row: int, col: int, cell: Cell) -> None:
        """Store ``cell`` as is at (row, col) (no doubled-character bookkeeping)."""
        _check_pos(row, col)
        if cell.kind == "char" and not is_glyph(cell.char or ""):
            raise ValueError(f"r{row}c{col}: glyph {cell.char!r} is not in the repertoire")
        self._rows[row][col - 1] = cell

    def _detach(self, row: int, col: int) -> None:
        """Before overwriting (row, col): blank the other parts of a doubled char there."""
        cell = self._rows[row][col - 1]
        if cell.size is Size.NORMAL:
            return
        dx, dy = cell.part
        left, bottom = col - dx, row + (1 - dy if cell.size.height == 2 else 0)
        for py in range(cell.size.height):
            for px in range(cell.size.width):
                r = bottom - (cell.size.height - 1) + py
                c = left + px
                if (r, c) == (row, col) or not (0 <= r < ROWS and 1 <= c <= COLS):
                    continue
                other = self._rows[r][c - 1]
                if other.size is cell.size and other.char == cell.char:
                    self._rows[r][c - 1] = Cell(bg=other.bg, masked=other.masked)

    def text(
        self,
        row: int,
        col: int,
        text: str,
        fg: int = Color.WHITE,
        bg: int = Color.BLACK,
        size: Size = Size.NORMAL,
        blink: bool = False,
        inverse: bool = False,
        underline: bool = False,
        masked: bool = False,
    ) -> int:
        """Write ``text`` from (row, col); return the column after it.

        Unicode goes through the charset fallback; the run clips at column
        40. Doubled characters cover their cells per the reference (the
        reference point is the bottom-left cell, so a double-height run on
        row r also covers row r-1).
        """
        _check_pos(row, col)
        fg, bg = _color(fg, "fg"), _color(bg, "bg")
        size = Size(size)
        glyphs = _glyphs(text)
        if size is Size.NORMAL:
            # hot path (most page text, the status row at every tick): interned cells
            # looked up by glyph, no doubled-character parts
            line = self._rows[row]
            key = (fg, bg, blink, inverse, underline, masked)
            cells = _PLAIN.get(key)
            if cells is None:
                cells = _PLAIN[key] = {}
            for glyph in glyphs:
                if col > COLS:
                    break
                if line[col - 1].size is not Size.NORMAL:
                    self._detach(row, col)
                cell = cells.get(glyph)
                if cell is None:
                    cell = cells[glyph] = _cell(glyph, fg, bg, blink and glyph != " ",
                                                inverse, underline, masked)
                line[col - 1] = cell
                col += 1
            return col
        for glyph in glyphs:
            if col > COLS:
                break
            eff = effective_size(size, row, col)
            spaced = glyph == " "
            for py in range(eff.height):
                for px in range(eff.width):
                    r, c = row - (eff.height - 1) + py, col + px
                    self._detach(r, c)
            for py in range(eff.height):
                for px in range(eff.width):
                    r, c = row - (eff.height - 1) + py, col + px
                    self._rows[r][c - 1] = _cell(
                        glyph, fg, bg, blink and not spaced, inverse, underline, masked,
                        eff, (px, py if eff.height == 2 else 0),
                    )
            col += eff.width
        return col

    def mosaic(
        self,
        row: int,
        col: int,
        sextants: int,
        fg: int = Color.WHITE,
        bg: int = Color.BLACK,
        separated: bool = False,
        blink: bool = False,
    ) -> int:
        """Put one G1 mosaic (2x3 sextants, docs/cell-model.md bit order); return col + 1."""
        _check_pos(row, col)
        g1_byte(sextants)  # validates the range
        fg, bg = _color(fg, "fg"), _color(bg, "bg")
        if self._rows[row][col - 1].size is not Size.NORMAL:
            self._detach(row, col)
        separated, blink = bool(separated), bool(blink)
        key = (sextants, separated, fg, bg, blink)
        cell = _MOSAICS.get(key)
        if cell is None:
            cell = Cell(kind="mosaic", char=None, sextants=sextants, separated=separated,
                        fg=fg, bg=bg, blink=blink)
            if len(_MOSAICS) < 20_000:
                _MOSAICS[key] = cell
        self._rows[row][col - 1] = cell
        return col + 1

    def mosaics(self, row: int, col: int, pattern: Iterable[int], **attrs: Any) -> int:
        """Put a run of mosaics; return the column after it (clipped at 40)."""
        for s in pattern:
            if col > COLS:
                break
            col = self.mosaic(row, col, s, **attrs)
        return col

    def fill(
        self, row: int, col: int, length: int, bg: int = Color.BLUE, masked: bool = False
    ) -> int:
        """A band of background: ``length`` spaces on ``bg``; return the column after it."""
        _check_pos(row, col)
        if length < 0:
            raise ValueError(f"fill length must be >= 0, got {length}")
        bg = _color(bg, "bg")
        end = min(COLS + 1, col + length)
        blank = _cell(" ", 7, bg, False, False, False, masked)
        line = self._rows[row]
        for c in range(col, end):
            if line[c - 1].size is not Size.NORMAL:
                self._detach(row, c)
            line[c - 1] = blank
        return end

    def hline(
        self, row: int, col: int, length: int, fg: int = Color.WHITE, bg: int = Color.BLACK,
        sextants: int = 0b001100,
    ) -> int:
        """A horizontal line of mosaics (middle row of sextants by default)."""
        return self.mosaics(row, col, [sextants] * max(0, length), fg=fg, bg=bg)

    def box(
        self, top: int, left: int, bottom: int, right: int,
        fg: int = Color.WHITE, bg: int = Color.BLACK,
    ) -> None:
        """A rectangle outline of mosaics from (top, left) to (bottom, right), inclusive."""
        _check_pos(top, left)
        _check_pos(bottom, right)
        if bottom < top or right < left:
            raise ValueError(f"box corners out of order: ({top},{left})-({bottom},{right})")
        width = right - left + 1
        self.hline(top, left, width, fg, bg, sextants=0b110000)
        self.hline(bottom, left, width, fg, bg, sextants=0b000011)
        for r in range(top + 1, bottom):
            self.mosaic(r, left, 0b010101, fg=fg, bg=bg)
            self.mosaic(r, right, 0b101010, fg=fg, bg=bg)

    def clear_row(self, row: int) -> None:
        """Make ``row`` as after FF (row 0: as after connection, :data:`ROW0`)."""
        _check_pos(row, 1)
        self._rows[row] = list(ROW0) if row == 0 else [BLANK_MOSAIC] * COLS

    def with_cursor(self, cursor: tuple[int, int] | None) -> Frame:
        """A copy with the cursor at ``cursor`` (``None`` hides it)."""
        if cursor is not None:
            _check_pos(*cursor)
        f = self.copy()
        f.cursor = cursor
        return f

    def replace_cell(self, row: int, col: int, **changes: Any) -> None:
        """Change fields of one cell in place (advanced use, no bookkeeping)."""
        self.put(row, col, replace(self.cell(row, col), **changes))
