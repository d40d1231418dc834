"""What a page's bytes show on the emulator, read straight off its screen.

The optimizer (:mod:`videotex.cli.page`) runs every page it decides on through the
independent emulator (``terminal_emu``) and compares screens. This module is the bridge:
:func:`show` feeds bytes to a fresh Minitel and returns the screen as a :class:`Frame`
with the cursor's hand-over state; :func:`frame_from_screen` makes that Frame from the
emulator's public screen and cell objects (``Screen.cells`` resolved by
:func:`terminal_emu.cells.resolve_screen`), cell for cell what ``Frame.from_snapshot``
makes of the JSON snapshot, without the JSON dicts in between.

Invariants: the server reads the emulator, never the reverse (``terminal_emu`` imports
nothing from here); equal cells come out as the same :class:`Cell` object (interned),
so that frames compare and encode by identity; :func:`models_may_differ` errs on the
side of "they may" (it only lets a caller skip emulating a Minitel 2 when the bytes
hold none of the sequences a 2 handles otherwise than a 1B).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terminal_emu import Minitel
from terminal_emu.cells import resolve_screen
from videotex.codec.codes import Size
from videotex.codec.frame import COLS, ROWS, Cell, Frame

__all__ = ["Shown", "frame_from_screen", "models_may_differ", "show"]

#: Cells made so far, by value (bounded): one object per distinct cell across pages.
_CELLS: dict[tuple[Any, ...], Cell] = {}
_CELLS_MAX = 50_000
_SIZES = {s.value: s for s in Size}
_NONE = Cell()


@dataclass(frozen=True, slots=True)
class Shown:
    """A screen as the emulator shows it after some bytes."""

    #: Every cell, row 0 included as the terminal shows it; the cursor where it shows.
    frame: Frame
    #: (row, col, visible, saved): where the cursor rests, whether it shows, and where
    #: LF returns to when it rests in row 00 (``None`` elsewhere): a page hands all of
    #: that over to the service that sends it.
    cursor: tuple[int, int, bool, tuple[int, int] | None]


def show(data: bytes, model: str = "1B") -> Shown:
    """``data`` fed to a fresh Minitel ``model``: its screen (``ValueError`` when a cell
    is outside the cell model, as ``Frame.from_snapshot`` would say)."""
    m = Minitel(model)
    m.feed(data)
    screen = m.screen
    saved = screen._saved  # where LF leaves row 00 for: part of the hand-over
    return Shown(frame_from_screen(screen),
                 (screen.row, screen.col, screen.cursor_visible,
                  (saved[0], saved[1]) if saved is not None else None))


def frame_from_screen(screen: Any) -> Frame:
    """The Frame a ``terminal_emu`` screen shows: the same cells as
    ``Frame.from_snapshot(snapshot(screen))``, made without the snapshot."""
    hide = not screen.revealed
    memo: dict[tuple[int, int, bool, bool, tuple[int, int]], Cell] = {}
    rows: list[list[Cell]] = []
    for r, line in enumerate(resolve_screen(screen.cells)):
        out: list[Cell] = []
        prev: Any = None
        cell = _NONE  # replaced at the first position: a Resolved is never None
        for res in line:
            if res is not prev:  # runs of one cell share their Resolved
                prev = res
                # stored cells are shared objects that live as long as the screen: within
                # one screen their id names them, which is quicker to hash than their fields
                key = (id(res.cell), res.bg, res.underline, res.masked, res.part)
                known = memo.get(key)
                if known is None:
                    known = memo[key] = _cell(res, hide, r, len(out) + 1)
                cell = known
            out.append(cell)
        rows.append(out)
    if len(rows) != ROWS or any(len(row) != COLS for row in rows):
        raise ValueError(f"the emulator's screen is not {ROWS} rows of {COLS} cells")
    cursor = (screen.row, screen.col) if screen.cursor_visible else None
    return Frame.from_cells(rows, cursor)


def _cell(res: Any, hide: bool, row: int, col: int) -> Cell:
    """One resolved position as a Cell (the snapshot's rules: docs/cell-model.md)."""
    stored = res.cell
    mosaic = stored.kind == "mosaic"
    value = (
        stored.kind,
        None if mosaic else stored.char,
        stored.sextants if mosaic else 0,
        bool(stored.separated) if mosaic else False,
        stored.fg,
        res.bg,
        bool(stored.blink),
        False if mosaic else bool(stored.inverse),
        False if mosaic else bool(res.underline),
        bool(res.masked and hide),
        stored.size,
        (int(res.part[0]), int(res.part[1])),
    )
    cell = _CELLS.get(value)
    if cell is None:
        cell = _check(value, row, col)
        if len(_CELLS) >= _CELLS_MAX:
            _CELLS.clear()
        _CELLS[value] = cell
    return cell


def _check(value: tuple[Any, ...], row: int, col: int) -> Cell:
    """The Cell of ``value``, checked as ``Cell.from_dict`` checks a snapshot's."""
    kind, char, sextants, separated, fg, bg, blink, inverse, underline, masked, size, part = \
        value
    where = f"snapshot r{row}c{col}"
    if kind not in ("char", "mosaic"):
        raise ValueError(f"{where}: kind must be 'char' or 'mosaic', got {kind!r}")
    if kind == "char" and (not isinstance(char, str) or len(char) != 1):
        raise ValueError(f"{where}: char must be one character, got {char!r}")
    for name, colour in (("fg", fg), ("bg", bg)):
        if isinstance(colour, bool) or not isinstance(colour, int) or not 0 <= colour <= 7:
            raise ValueError(f"{where}: {name} must be a colour 0-7, got {colour!r}")
    if size not in _SIZES:
        raise ValueError(f"{where}: size {size!r} is not one of {sorted(_SIZES)}")
    return Cell(kind=kind, char=char, sextants=int(sextants), separated=separated, fg=fg,
                bg=bg, blink=blink, inverse=inverse, underline=underline, masked=masked,
                size=_SIZES[size], part=part)


#: Byte pairs (8th bit and NUL dropped, as the terminal reads them) that start what a
#: Minitel 2 does otherwise than a 1B (reference §12 vectors 72-74): CSI (insert mode,
#: ``CSI @``), ``US 23`` (loading downloadable characters), ``ESC 28``/``ESC 29``
#: (choosing them), and the PRO1-PRO3 commands (the 2 answers and switches speeds
#: otherwise; listed so that nothing model-specific can hide behind them).
_MODEL_PAIRS = (b"\x1b[", b"\x1f#", b"\x1b(", b"\x1b)", b"\x1b9", b"\x1b:", b"\x1b;")
_SEVEN_BITS = bytes(b & 0x7F for b in range(256))


def models_may_differ(data: bytes) -> bool:
    """Whether a Minitel 1B and a Minitel 2 may show ``data`` differently: ``False``
    only when the bytes hold no sequence the two models treat apart."""
    seen = data.translate(_SEVEN_BITS, b"\x00\x80")
    return any(pair in seen for pair in _MODEL_PAIRS)
