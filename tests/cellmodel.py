"""Test helpers for the cell model: normalise, compare, readable diffs.

The normalisation itself is ``videotex.codec.cellmodel`` (one implementation,
also used by ``videotex page optimize``); this module adds what tests need to
compare a ``Frame`` with an emulator snapshot.
"""

from __future__ import annotations

from typing import Any

from videotex.codec.cellmodel import (
    assert_same_screen,
    cells_of,
    compare,
    normalise,
    normalise_screen,
)

__all__ = [
    "STATUS_CELLS",
    "assert_same_screen",
    "assert_shows",
    "cells_of",
    "compare",
    "normalise",
    "normalise_screen",
]

#: Row 0 cells the terminal itself writes (§2: I, R, F/C/f indicators at columns 37-39).
STATUS_CELLS = ((0, 37), (0, 38), (0, 39))


def assert_shows(expected: Any, snapshot: dict[str, Any], context: str = "",
                 cursor: tuple[int, int] | bool | None = False) -> None:
    """Assert the emulator ``snapshot`` shows ``expected`` (a Frame or cells).

    The terminal-owned status cells of row 0 are taken from the snapshot. With
    ``cursor`` given (a position or None), the cursor must match too.
    """
    exp = [list(r) for r in cells_of(expected)]
    act = cells_of(snapshot)
    for r, c in STATUS_CELLS:
        exp[r][c - 1] = act[r][c - 1]
    assert_same_screen(exp, act, context)
    if cursor is not False:
        cur = snapshot["cursor"]
        got = (cur["row"], cur["col"]) if cur["visible"] else None
        assert got == cursor, f"{context}\ncursor: expected {cursor}, got {got}"
