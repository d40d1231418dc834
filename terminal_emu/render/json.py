"""The JSON screen of docs/cell-model.md.

``masked`` is true when the cell's zone is masked and the screen has not been revealed
with ``ESC 23 20 5F`` (so it means "hidden now"); the content is kept either way.
Downloaded (DRCS) characters are ``kind: "char"`` with a private-use ``char``:
U+E000 + code for G'0, U+E100 + code for G'1.
"""

from __future__ import annotations

from typing import Any

from ..cells import resolve_screen
from ..screen import COLS, ROWS, Screen

__all__ = ["snapshot"]


def snapshot(screen: Screen) -> dict[str, Any]:
    """The whole screen as the cell model's JSON object."""
    rows = []
    hide = not screen.revealed
    for line in resolve_screen(screen.cells):
        out = []
        for res in line:
            cell = res.cell
            mosaic = cell.kind == "mosaic"
            out.append({
                "kind": cell.kind,
                "char": None if mosaic else cell.char,
                "sextants": cell.sextants if mosaic else 0,
                "separated": cell.separated if mosaic else False,
                "fg": cell.fg,
                "bg": res.bg,
                "blink": cell.blink,
                "inverse": False if mosaic else cell.inverse,
                "underline": False if mosaic else res.underline,
                "masked": res.masked and hide,
                "size": cell.size,
                "part": list(res.part),
            })
        rows.append(out)
    return {
        "rows": ROWS,
        "cols": COLS,
        "cursor": {"row": screen.row, "col": screen.col, "visible": screen.cursor_visible},
        "cells": rows,
    }
