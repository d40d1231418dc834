"""The Minitel screen model: one method per event that :mod:`terminal_emu.stream` parses.

It models the Minitel 1B as its ROM behaves (§12 vectors 1-76, run on the real firmware;
where the prose of the reference says otherwise, the vectors win): US resets every
attribute (vector 9); SI and SO cancel inverse, size and lining (59-62); the size
attribute is dropped by a character drawn on row 00 or 01 (58, 63-64); REP repeats the
last code in the current set and its spaces are never delimiters (68-71); row 00 columns
37-39 belong to the terminal (66); no insert mode and no DRCS on a 1B (72-74). A Minitel 2
(``insert=True, drcs=True``) keeps insert mode and downloadable characters.

Invariants: the cursor is always on the screen (row 0-24, column 1-40); row 00 is only
entered by ``US 40 xx`` (or ``US 30 30``) and left by LF (back to the saved place), RS, FF
or US (§4); rows 1-24 are the page, row 00 is never scrolled nor cleared by FF. Doubled
characters are stored whole in each cell they cover; which part a position shows is read
off by :func:`~terminal_emu.cells.resolve_screen`. The screen never raises on any event
argument; out-of-range arguments are clamped or ignored.
"""

from __future__ import annotations

from functools import lru_cache

from .cells import BLANK, PENDING_BG, PENDING_LINING, PENDING_MASK, SPACE, Cell, Pen
from .charsets import ERROR_BLOCK, G2_GLYPHS, LOW_BAR, combine_accent, g1_sextants
from .drcs import DrcsStore

__all__ = ["CODE00", "COLS", "ROWS", "TERMINAL_COLUMNS", "Screen"]

ROWS = 25
COLS = 40
#: §12 vector 66: row 00 columns the terminal keeps for itself (I, R, F/C/f indicators).
TERMINAL_COLUMNS = range(37, 40)
#: §12 vector 71: what REP draws when nothing was displayed since connection, the
#: EF9345's code 00 (a few dots); the cell model names it with this character.
CODE00 = "\u2058"

#: Cells are immutable values, so equal cells can be shared: this interns the common ones.
_cell = lru_cache(maxsize=8192)(Cell)

_SIZES = {(1, 1): "normal", (1, 2): "tall", (2, 1): "wide", (2, 2): "double"}
_TALL = frozenset(("tall", "double"))
_SIZE_CODES = {0x4C: "normal", 0x4D: "tall", 0x4E: "wide", 0x4F: "double"}


class Screen:
    """Page memory, cursor and pen of a 40-column Vidéotex Minitel (§2)."""

    def __init__(self, *, insert: bool = False, drcs: bool = False) -> None:
        #: whether the model has insert mode and ``CSI @`` (RTIC Minitel 2; not the 1B)
        self.has_insert = insert
        #: whether the model loads downloadable characters (Minitel 2; not the 1B)
        self.has_drcs = drcs
        self.cells: list[list[Cell]] = [[SPACE] * COLS] + [[BLANK] * COLS for _ in range(24)]
        self.row = 1
        self.col = 1
        self.cursor_visible = False
        self.pen = Pen()
        self.roll = False
        self.insert = False
        self.revealed = False
        self.drcs = DrcsStore()
        self._saved: tuple[int, int, Pen] | None = None
        #: the last code displayed (§5 REP): (kind, code, letter); kind "code" for a G0 or
        #: G1 byte, "g2" for SS2 code, "accent" for SS2 accent letter, "drcs" for G'0/G'1
        self._last: tuple[str, int, int] | None = None
        self.bells = 0

    # -- helpers ---------------------------------------------------------------

    def _reset_pen(self) -> None:
        self.pen = Pen()

    def _scroll_up(self, top: int = 1, count: int = 1) -> None:
        for _ in range(count):
            del self.cells[top]
            self.cells.insert(24, [BLANK] * COLS)

    def _scroll_down(self, top: int = 1, count: int = 1) -> None:
        for _ in range(count):
            del self.cells[24]
            self.cells.insert(top, [BLANK] * COLS)

    def _advance(self, width: int, height: int) -> None:
        """Move right after a character, with the overflow rules of §4."""
        if self.row == 0:
            self.col = min(self.col + width, COLS)
            return
        self.col += width
        if self.col <= COLS:
            return
        self.col = 1
        self.row += height
        if self.row > 24:
            if self.roll:
                self._scroll_up(count=self.row - 24)
                self.row = 24
            else:
                self.row = 1 if height == 1 else 2

    def _put(self, proto: Cell, char_size: bool) -> None:
        """Write ``proto`` at the cursor honouring size (§4 reference point) and advance.

        A doubled character is stored whole in every cell it covers. On rows 00 and 01
        double height and double size are not drawn, and drawing there drops the size
        attribute for good (vectors 58, 63, 64); double width still works on row 01.
        """
        pen = self.pen
        width = height = 1
        row, col = self.row, self.col
        if char_size:
            size = pen.size
            if size in _TALL and row <= 1:
                pen.size = size = "normal"
            if row > 0:
                if size in ("wide", "double") and col < COLS:
                    width = 2
                if size in _TALL:
                    height = 2
        if row == 0 and col in TERMINAL_COLUMNS:
            self._advance(width, height)  # the write is dropped, the cursor moves (v66)
            return
        if self.insert and row > 0:
            self._insert_cells(row, col, width)
            if height == 2:
                self._insert_cells(row - 1, col, width)
        if width == 1 and height == 1:
            self.cells[row][col - 1] = proto
        else:
            stored = _cell(
                kind=proto.kind, char=proto.char, sextants=proto.sextants,
                separated=proto.separated, fg=proto.fg, bg=proto.bg, blink=proto.blink,
                inverse=proto.inverse, size=_SIZES[(width, height)],
                delimiter=proto.delimiter, underline=proto.underline, masked=proto.masked,
                drcs=proto.drcs,
            )
            for dy in range(height):
                line = self.cells[row - height + 1 + dy]
                for dx in range(width):
                    line[col - 1 + dx] = stored
        self._advance(width, height)

    def _insert_cells(self, row: int, col: int, count: int) -> None:
        line = self.cells[row]
        count = max(0, min(count, COLS - col + 1))
        line[col - 1 : col - 1] = [BLANK] * count
        del line[COLS:]

    # -- printable characters (§5, §6) ---------------------------------------------

    def draw(self, code: int) -> None:
        """A printable byte 0x20-0x7F in the current set."""
        self._draw_code(code)
        self._last = ("code", code, 0)

    def _draw_code(self, code: int, repeated: bool = False) -> None:
        pen = self.pen
        if pen.g1:
            if pen.g1_drcs and code != 0x20 and self.drcs.has(2, code):
                self._draw_char(chr(0xE100 + code), drcs=2)
            else:
                self._draw_mosaic(code)
        elif pen.g0_drcs and code != 0x20 and self.drcs.has(1, code):
            self._draw_char(chr(0xE000 + code), drcs=1)
        elif repeated and code == 0x20:
            self._draw_char(" ")  # §12 vector 70: a space made by REP is never a delimiter
        else:
            self._draw_g0(code)

    def _draw_g0(self, code: int) -> None:
        if code == 0x20 and self.pen.pending:
            self._draw_delimiter()
        else:
            self._draw_char(ERROR_BLOCK if code == 0x7F else chr(code))

    def _draw_char(self, char: str, drcs: int = 0) -> None:
        pen = self.pen
        self._put(
            _cell(char=char, fg=pen.fg, blink=pen.blink and char != " ",
                 inverse=pen.inverse, drcs=drcs),
            char_size=True,
        )

    def _draw_delimiter(self) -> None:
        pen = self.pen
        pen.pending = 0
        self._put(
            _cell(char=" ", fg=pen.fg, bg=pen.bg, inverse=pen.inverse, delimiter=True,
                 underline=pen.lining, masked=pen.masking),
            char_size=True,
        )

    def _draw_mosaic(self, code: int) -> None:
        pen = self.pen
        pen.pending &= ~PENDING_BG
        sextants = 0 if code == 0x20 else g1_sextants(code)
        self._put(
            _cell(kind="mosaic", char=None, sextants=sextants, separated=pen.separated,
                 fg=pen.fg, bg=pen.bg, blink=pen.blink, masked=pen.masking),
            char_size=False,
        )

    def draw_g2(self, code: int) -> None:
        """``SS2 code`` for a spacing G2 glyph; an undefined code shows a low bar (§6)."""
        self._draw_char(G2_GLYPHS.get(code, LOW_BAR))
        self._last = ("g2", code, 0)

    def draw_accented(self, accent: int, letter: int) -> None:
        """``SS2 accent letter``: precomposed, or the base letter when the pair is unknown."""
        self._draw_accented(accent, letter)
        self._last = ("accent", accent, letter)

    def _draw_accented(self, accent: int, letter: int, repeated: bool = False) -> None:
        glyph = combine_accent(accent, letter)
        if glyph != chr(letter):
            self._draw_char(glyph)
        elif repeated and letter == 0x20:
            self._draw_char(" ")
        else:
            self._draw_g0(letter)

    def error_block(self) -> None:
        """SUB: the error symbol with the current attributes, then advance (§3)."""
        self._draw_char(ERROR_BLOCK)

    def repeat(self, count: int) -> None:
        """REP: the last displayed code ``count`` more times, in the current set (§5,
        vectors 68-71): a letter repeated after SO is a mosaic and the other way round;
        repeated spaces never apply pending serial attributes; with nothing displayed
        yet, the EF9345's code 00 is repeated."""
        last = self._last
        for _ in range(count):
            if last is None:
                self._draw_char(CODE00)
                continue
            kind, a, b = last
            if kind == "code" or self.pen.g1:
                self._draw_code(b if kind == "accent" else a, repeated=True)
            elif kind == "g2":
                self._draw_char(G2_GLYPHS.get(a, LOW_BAR))
            else:
                self._draw_accented(a, b, repeated=True)

    # -- C0 controls (§3) -------------------------------------------------------

    def bell(self) -> None:
        """BEL: counted (there is no loudspeaker), cursor unchanged."""
        self.bells += 1

    def backspace(self) -> None:
        """BS: one cell left, wrapping to the previous row; nothing at r0c1."""
        if self.col > 1:
            self.col -= 1
        elif self.row == 0:
            return
        elif self.row > 1:
            self.row -= 1
            self.col = COLS
        elif self.roll:
            self._scroll_down()
            self.col = COLS
        else:
            self.row, self.col = 24, COLS

    def tab(self) -> None:
        """HT: one cell right, wrapping to the next row."""
        self._advance(1, 1)

    def linefeed(self) -> None:
        """LF: one row down; from row 00, back to the saved place and attributes."""
        if self.row == 0:
            self._leave_row0()
        elif self.row < 24:
            self.row += 1
        elif self.roll:
            self._scroll_up()
        else:
            self.row = 1

    def _leave_row0(self) -> None:
        if self._saved is None:
            self.row, self.col = 1, 1
            self._reset_pen()
        else:
            self.row, self.col, pen = self._saved
            self.pen = pen
        self._saved = None

    def vtab(self) -> None:
        """VT: one row up; nothing in row 00."""
        if self.row == 0:
            return
        if self.row > 1:
            self.row -= 1
        elif self.roll:
            self._scroll_down()
        else:
            self.row = 24

    def carriage_return(self) -> None:
        """CR: column 1, attributes unchanged."""
        self.col = 1

    def form_feed(self) -> None:
        """FF: clear rows 1-24 to black mosaics, home, reset attributes (§2)."""
        for r in range(1, ROWS):
            self.cells[r] = [BLANK] * COLS
        self.row, self.col = 1, 1
        self._saved = None
        self._reset_pen()

    def home(self) -> None:
        """RS: r1c1 and the FF attribute reset, without clearing."""
        self.row, self.col = 1, 1
        self._saved = None
        self._reset_pen()

    def _cancel_by_shift(self) -> None:
        """What SI and SO both cancel: inverse, size and lining (§12 vectors 33, 59-62)."""
        pen = self.pen
        pen.size = "normal"
        pen.inverse = False
        pen.lining = False
        pen.pending &= ~PENDING_LINING

    def shift_out(self) -> None:
        """SO: G1; cancels inverse, size and lining."""
        self._cancel_by_shift()
        self.pen.g1 = True

    def shift_in(self) -> None:
        """SI (even when already in G0): G0; cancels inverse, size, lining and separated
        mosaics."""
        self._cancel_by_shift()
        self.pen.g1 = False
        self.pen.separated = False

    def cursor_on(self) -> None:
        """CON."""
        self.cursor_visible = True

    def cursor_off(self) -> None:
        """COFF."""
        self.cursor_visible = False

    def cancel(self) -> None:
        """CAN: spaces in the current set and attributes to column 40; no delimiter."""
        pen = self.pen
        if pen.g1:
            fill = Cell(kind="mosaic", char=None, fg=pen.fg, bg=pen.bg, blink=pen.blink,
                        separated=pen.separated, masked=pen.masking)
        else:
            fill = Cell(char=" ", fg=pen.fg, inverse=pen.inverse)
        line = self.cells[self.row]
        for c in range(self.col - 1, COLS):
            if self.row != 0 or c + 1 not in TERMINAL_COLUMNS:
                line[c] = fill

    # -- addressing (§4) ---------------------------------------------------------

    def address(self, row: int, col: int) -> None:
        """US row col: absolute position and the full attribute reset of RS (§4, vectors 9,
        53-57: colour, size, inverse, blink, G0, pending serial attributes); entering row
        00 saves the page place and attributes for LF."""
        if not (0 <= row < ROWS and 1 <= col <= COLS):
            return
        if row == 0 and self.row != 0:
            self._saved = (self.row, self.col, self.pen.copy())
        elif row != 0:
            self._saved = None
        self.row, self.col = row, col
        self._reset_pen()

    def cursor_report(self) -> bytes:
        """The ``ESC 61`` answer: ``US row+0x40 col+0x40``."""
        return bytes((0x1F, 0x40 + self.row, 0x40 + self.col))

    # -- attributes (§7) ---------------------------------------------------------

    def attribute(self, code: int) -> None:
        """ESC 0x40-0x5F (except CSI)."""
        pen = self.pen
        if 0x40 <= code <= 0x47:
            pen.fg = code - 0x40
        elif code in (0x48, 0x49):
            pen.blink = code == 0x48
        elif code in _SIZE_CODES:
            pen.size = _SIZE_CODES[code]
        elif 0x50 <= code <= 0x57:
            pen.bg = code - 0x50
            pen.pending |= PENDING_BG
        elif code in (0x58, 0x5F):
            pen.masking = code == 0x58
            pen.pending |= PENDING_MASK
        elif code in (0x59, 0x5A):
            if pen.g1:
                pen.separated = code == 0x5A
            else:
                pen.lining = code == 0x5A
                pen.pending |= PENDING_LINING
        elif code in (0x5C, 0x5D):
            pen.inverse = code == 0x5D
        # 0x4A, 0x4B, 0x5E: no effect on the 1B

    def global_mask(self, hide: bool) -> None:
        """ESC 23 20 58 (hide masked zones) / ESC 23 20 5F (reveal)."""
        self.revealed = not hide

    def designate(self, g1: bool, drcs: bool) -> None:
        """Select the standard or downloaded set for G0 (``ESC 28``) or G1 (``ESC 29``);
        a model without DRCS (the 1B) keeps its standard sets."""
        if drcs and not self.has_drcs:
            return
        if g1:
            self.pen.g1_drcs = drcs
        else:
            self.pen.g0_drcs = drcs

    def reset(self) -> None:
        """PRO1 RESET: attributes and modes back to default, cursor off; screen kept (§9)."""
        self._reset_pen()
        self.cursor_visible = False
        self.roll = False
        self.insert = False

    # -- CSI (§4) ------------------------------------------------------------------

    def csi(self, params: list[int | None], private: bool, final: int) -> bool:
        """An ISO 6429 sequence; returns False when it is not one the Minitel knows."""
        if self.row == 0 or private:
            return not private
        n = params[0] if params and params[0] else 1
        first = params[0] if params and params[0] is not None else 0
        if final == 0x41:
            self.row = max(1, self.row - n)
        elif final == 0x42:
            self.row = min(24, self.row + n)
        elif final == 0x43:
            self.col = min(COLS, self.col + n)
        elif final == 0x44:
            self.col = max(1, self.col - n)
        elif final in (0x48, 0x66):
            row = params[0] if params and params[0] else 1
            col = params[1] if len(params) > 1 and params[1] else 1
            self.row, self.col = min(24, row), min(COLS, col)
        elif final == 0x4A:
            self._erase_screen(first)
        elif final == 0x4B:
            self._erase_row(first)
        elif final == 0x50:
            line = self.cells[self.row]
            count = min(n, COLS - self.col + 1)
            del line[self.col - 1 : self.col - 1 + count]
            line.extend([BLANK] * count)
        elif final == 0x40:
            if self.has_insert:  # §12 vector 73: CSI @ does nothing on the 1B
                self._insert_cells(self.row, self.col, n)
        elif final in (0x68, 0x6C) and first == 4:
            # §12 vector 72: the 1B has no insert mode
            self.insert = final == 0x68 and self.has_insert
        elif final == 0x4D:
            self._scroll_up(self.row, min(n, 25 - self.row))
        elif final == 0x4C:
            self._scroll_down(self.row, min(n, 25 - self.row))
        else:
            return False
        return True

    def _erase_screen(self, mode: int) -> None:
        if mode == 0:
            self._erase_row(0)
            for r in range(self.row + 1, ROWS):
                self.cells[r] = [BLANK] * COLS
        elif mode == 1:
            for r in range(1, self.row):
                self.cells[r] = [BLANK] * COLS
            self._erase_row(1)
        elif mode == 2:
            for r in range(1, ROWS):
                self.cells[r] = [BLANK] * COLS

    def _erase_row(self, mode: int) -> None:
        line = self.cells[self.row]
        start, stop = {0: (self.col - 1, COLS), 1: (0, self.col), 2: (0, COLS)}.get(mode, (0, 0))
        for c in range(start, stop):
            line[c] = BLANK

    def clear_for_mode(self) -> None:
        """Mixte switch: the screen is cleared and the cursor homed (kept at 40 columns)."""
        self.form_feed()
