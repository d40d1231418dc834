"""Plain text render: 25 lines of exactly 40 characters, row 00 first.

Mosaics are Unicode sextants (U+1FB00-U+1FB3B, with space, ▌, ▐, █ for the patterns that
block lacks); G0 specials use their nearest Unicode (``charsets.TEXT_G0``); ``/`` and ``\\``
are kept; a doubled character appears in every cell it covers; hidden masked cells and
cells drawn in their own background colour (invisible on screen) are spaces; a downloaded (DRCS) character is approximated by the sextant closest to its bitmap.
"""

from __future__ import annotations

from ..cells import Cell, resolve_screen
from ..charsets import TEXT_G0, sextant_char
from ..drcs import DrcsStore
from ..screen import Screen

__all__ = ["cell_text", "drcs_sextants", "render_text"]


def drcs_sextants(rows: tuple[int, ...]) -> int:
    """Sextant pattern approximating an 8x10 bitmap (a block is on when half lit)."""
    bits = 0
    bands = ((0, 3), (3, 7), (7, 10))
    for band, (top, bottom) in enumerate(bands):
        for half in range(2):
            mask = 0xF0 if half == 0 else 0x0F
            lit = sum(bin(rows[r] & mask).count("1") for r in range(top, bottom))
            if lit * 2 >= 4 * (bottom - top):
                bits |= 1 << (band * 2 + half)
    return bits


def cell_text(cell: Cell, drcs: DrcsStore) -> str:
    """The one character shown for a stored cell (zone masking not applied)."""
    if cell.kind == "mosaic":
        return sextant_char(cell.sextants)
    char = cell.char or " "
    if cell.drcs:
        glyph = drcs.glyph(cell.drcs, ord(char) & 0x7F)
        return sextant_char(drcs_sextants(glyph)) if glyph else " "
    return TEXT_G0.get(char, char)


def render_text(screen: Screen) -> str:
    """The screen as text."""
    hide = not screen.revealed
    lines = []
    for line in resolve_screen(screen.cells):
        chars = [
            " " if (res.masked and hide) or res.cell.fg == res.bg
            else cell_text(res.cell, screen.drcs)
            for res in line
        ]
        lines.append("".join(chars))
    return "\n".join(lines)
