"""PNG render: a Minitel-looking 320x250 screen (8x10 cells), scaled by an integer factor.

Colours are the eight Vidéotex colours, or with ``grey=True`` the monochrome CRT levels of
§7 (black 0 %, red 50 %, green 70 %, yellow 90 %, blue 40 %, magenta 60 %, cyan 80 %,
white 100 %). Doubled characters are drawn scaled from their glyph, each position showing
the ``part`` :func:`~terminal_emu.cells.resolve_screen` gives it; mosaics are drawn from their sextant bits (separated ones with background gaps);
underline is the bottom pixel row; inverse swaps colours; hidden masked cells show their
background. Blinking cells are drawn steady (a PNG has no time).
"""

from __future__ import annotations

from typing import IO

from PIL import Image

from ..cells import Cell, Resolved, resolve_screen
from ..font import glyph
from ..screen import COLS, ROWS, Screen

__all__ = ["COLOURS", "GREYS", "render_image", "render_png"]

#: Vidéotex colour order (§7): black, red, green, yellow, blue, magenta, cyan, white.
COLOURS = ((0, 0, 0), (255, 0, 0), (0, 255, 0), (255, 255, 0),
           (0, 0, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255))
#: §7 grey levels in the same order.
GREYS = tuple((round(p * 2.55),) * 3 for p in (0, 50, 70, 90, 40, 60, 80, 100))

CELL_W, CELL_H = 8, 10
_BANDS = ((0, 3), (3, 7), (7, 10))


def _mosaic_pixels(cell: Cell) -> list[int]:
    rows = [0] * CELL_H
    for band, (top, bottom) in enumerate(_BANDS):
        for half in range(2):
            if not cell.sextants >> (band * 2 + half) & 1:
                continue
            bits = 0xF0 if half == 0 else 0x0F
            last = bottom
            if cell.separated:
                bits &= 0x70 if half == 0 else 0x07
                last = bottom - 1
            for y in range(top, last):
                rows[y] |= bits
    return rows


def _char_pixels(res: Resolved, screen: Screen) -> list[int]:
    cell = res.cell
    char = cell.char or " "
    source = screen.drcs.glyph(cell.drcs, ord(char) & 0x7F) if cell.drcs else glyph(char)
    rows = list(source or (0,) * CELL_H)
    dx, dy = res.part
    if cell.size in ("tall", "double"):
        rows = [rows[(y + CELL_H * dy) // 2] for y in range(CELL_H)]
    if cell.size in ("wide", "double"):
        wide = []
        for r in rows:
            out = 0
            for x in range(CELL_W):
                if r >> (7 - (x + CELL_W * dx) // 2) & 1:
                    out |= 0x80 >> x
            wide.append(out)
        rows = wide
    bottom_part = cell.size in ("normal", "wide") or dy == 1
    if res.underline and bottom_part:
        rows[-1] = 0xFF
    return rows


def render_image(screen: Screen, *, grey: bool = False, scale: int = 2) -> Image.Image:
    """The screen as a Pillow image."""
    if not isinstance(scale, int) or not 1 <= scale <= 16:
        raise ValueError(f"scale must be an integer from 1 to 16, got {scale!r}")
    width = COLS * CELL_W
    pixels = bytearray(width * ROWS * CELL_H)
    hide = not screen.revealed
    for r, line in enumerate(resolve_screen(screen.cells)):
        for c, res in enumerate(line):
            cell = res.cell
            fg, bg = cell.fg, res.bg
            if res.masked and hide:
                rows = [0] * CELL_H
            elif cell.kind == "mosaic":
                rows = _mosaic_pixels(cell)
            else:
                rows = _char_pixels(res, screen)
                if cell.inverse:
                    fg, bg = bg, fg
            base = r * CELL_H * width + c * CELL_W
            for y, bits in enumerate(rows):
                start = base + y * width
                pixels[start : start + CELL_W] = bytes(
                    fg if bits >> (7 - x) & 1 else bg for x in range(CELL_W)
                )
    image = Image.frombytes("P", (width, ROWS * CELL_H), bytes(pixels))
    palette = GREYS if grey else COLOURS
    image.putpalette([v for rgb in palette for v in rgb])
    image = image.convert("RGB")
    if scale != 1:
        image = image.resize((width * scale, ROWS * CELL_H * scale), Image.Resampling.NEAREST)
    return image


def render_png(screen: Screen, path_or_file: str | IO[bytes], *, grey: bool = False,
               scale: int = 2) -> None:
    """Write the screen as a PNG file (path or binary file object)."""
    render_image(screen, grey=grey, scale=scale).save(path_or_file, format="PNG")
