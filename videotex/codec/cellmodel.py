"""The one implementation of the cell-model normalisation (docs/cell-model.md).

It lives in the package because ``videotex page optimize`` checks its output
with it; ``tests/cellmodel.py`` re-exports it for the tests.

``normalise(cell_dict)`` gives the "looks the same" form of a cell;
``compare(expected, actual)`` lists the mismatching cells of two screens
(``Frame``, snapshot dict or list of rows of cell dicts) as readable lines;
``assert_same_screen`` fails with that diff. Two Frames are compared on their cells,
without making dicts of the cells that are equal (the optimizer compares four screens a
page); the result is the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .frame import Cell, Frame

__all__ = ["assert_same_screen", "cells_of", "compare", "normalise", "normalise_screen"]


def normalise(cell: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised form of one cell-model JSON object."""
    c = dict(cell)
    c["part"] = list(c.get("part", [0, 0]))
    if c["kind"] == "mosaic":
        c["char"] = None
        if c["sextants"] == 0:
            c.update(fg=7, blink=False, separated=False)
            c.update(kind="char", char=" ", inverse=False, underline=False)
        elif c["sextants"] == 63 and not c["separated"]:
            c.update(kind="char", char=" ", inverse=True, sextants=0, underline=False)
    if c["kind"] == "char":
        c["sextants"] = 0
        c["separated"] = False
        if c["char"] == " " and not c["inverse"]:
            c.update(fg=7, blink=False)
    return c


def cells_of(screen: Any) -> list[list[Mapping[str, Any]]]:
    """Rows of cell dicts from a Frame, a snapshot dict or rows of dicts."""
    if hasattr(screen, "to_cell_dicts"):
        return list(screen.to_cell_dicts())
    if isinstance(screen, Mapping):
        return list(screen["cells"])
    return list(screen)


def normalise_screen(screen: Any) -> list[list[dict[str, Any]]]:
    """Every cell of a screen, normalised."""
    return [[normalise(c) for c in row] for row in cells_of(screen)]


def _short(c: Mapping[str, Any]) -> str:
    what = repr(c["char"]) if c["kind"] == "char" else f"mosaic{c['sextants']:02d}"
    flags = [k for k in ("blink", "inverse", "underline", "masked", "separated") if c.get(k)]
    size = "" if c["size"] == "normal" else f" {c['size']}{c['part']}"
    return f"{what} {c['fg']}/{c['bg']}{size} {' '.join(flags)}".rstrip()


#: Normalised forms of frame cells (cells are immutable and hash fast), bounded.
_NORMAL: dict[Cell, dict[str, Any]] = {}


def _normal(cell: Cell) -> dict[str, Any]:
    n = _NORMAL.get(cell)
    if n is None:
        if len(_NORMAL) >= 20_000:
            _NORMAL.clear()
        n = _NORMAL[cell] = normalise(cell.to_dict())
    return n


def _pairs(expected: Any, actual: Any) -> Iterator[tuple[int, int, Any, Any]]:
    """(row, col, expected, actual) of the cells that may not look the same, normalised."""
    if isinstance(expected, Frame) and isinstance(actual, Frame):
        for r, (erow, arow) in enumerate(zip(expected.cells, actual.cells, strict=True)):
            if erow == arow:  # equal cells are (mostly) the same objects: quick
                continue
            for c, (e, a) in enumerate(zip(erow, arow, strict=True), start=1):
                if e is not a:
                    yield r, c, _normal(e), _normal(a)
        return
    exp, act = normalise_screen(expected), normalise_screen(actual)
    for r, (er, ar) in enumerate(zip(exp, act, strict=True)):
        for c, (want, got) in enumerate(zip(er, ar, strict=True), start=1):
            yield r, c, want, got


def compare(expected: Any, actual: Any, limit: int = 20) -> list[str]:
    """Readable lines, one per mismatching cell (at most ``limit``, then a count)."""
    lines: list[str] = []
    total = 0
    for r, c, e, a in _pairs(expected, actual):
        if e != a:
            total += 1
            if len(lines) < limit:
                lines.append(f"r{r}c{c}: expected {_short(e)} | got {_short(a)}")
    if total > limit:
        lines.append(f"... {total - limit} more mismatching cells")
    return lines


def assert_same_screen(expected: Any, actual: Any, context: str = "") -> None:
    """Fail with a readable cell diff when the two screens do not look the same."""
    diff = compare(expected, actual)
    if diff:
        raise AssertionError((context + "\n" if context else "") + "\n".join(diff))
