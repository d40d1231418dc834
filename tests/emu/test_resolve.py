"""``resolve_screen`` shares one ``Resolved`` along runs of one stored cell and passes
rows without doubled characters through whole: what it gives is still, position for
position, the plain reading of §2/§7 zones and §12 vectors 75-76 (written out here
the long way, one position after the other)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.cells import BLANK, SPACE, Cell, Resolved, resolve_row, resolve_screen

_WIDE = ("wide", "double")
_TALL = ("tall", "double")


def _plain_row(row: list[Cell]) -> list[Resolved]:
    bg, lining, mask = 0, False, False
    out = []
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


def _plain_screen(rows: list[list[Cell]]) -> list[list[Resolved]]:
    out: list[list[Resolved]] = []
    above: list[Resolved] | None = None
    for row in rows:
        zoned = _plain_row(row)
        line: list[Resolved] = []
        c = 0
        while c < len(zoned):
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
            if cell.size in _WIDE and c < len(zoned):
                line.append(Resolved(cell, res.bg, res.underline, res.masked, (1, dy)))
                c += 1
        out.append(line)
        above = line
    return out


_CELLS = [
    BLANK, SPACE, Cell(char="A"), Cell(char="B", fg=3, inverse=True),
    Cell(char=" ", bg=4, delimiter=True), Cell(char=" ", bg=1, delimiter=True, masked=True),
    Cell(char=" ", bg=2, delimiter=True, underline=True),
    Cell(kind="mosaic", char=None, sextants=5, bg=6), Cell(kind="mosaic", char=None, bg=2),
    Cell(char="T", size="tall"), Cell(char="W", size="wide"), Cell(char="D", size="double"),
    Cell(kind="mosaic", char=None, sextants=63, size="wide"),
]
# runs of one cell object, as page memory holds them
rows = st.lists(st.tuples(st.sampled_from(_CELLS), st.integers(1, 8)), max_size=12).map(
    lambda runs: ([c for cell, n in runs for c in [cell] * n] + [BLANK] * 40)[:40])


@settings(max_examples=300, deadline=None)
@given(st.lists(rows, min_size=1, max_size=25))
def test_resolve_screen_is_the_plain_reading(screen: list[list[Cell]]) -> None:
    assert resolve_screen(screen) == _plain_screen(screen)
    for row in screen:
        assert resolve_row(row) == _plain_row(row)
