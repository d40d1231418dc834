"""The tables every encoder of the process shares, and the helpers that fill and read them.

Most rows are the same for every caller on the same page, so what an :class:`~.encoder.Encoder`
keeps and computes per row is hash-consed here: frame rows, stored rows and cells, the
zones of planned rows, planned rows (``plan`` of a row from a stored row), the bytes of
whole first pages, of one row's writes and of status-row updates. Each table is bounded
(cleared when full); entries hold the rows whose ids their keys use, so the ids stay theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .codes import Size
from .frame import ROWS, Cell
from .wire import FF_WIRE, WChar, Wire, Zone, _plan_row

CellRow = tuple[Cell, ...]

#: Whole first pages already encoded by a fresh encoder:
#: (cursor, ids of shared rows) -> (rows, bytes, stored rows, planned-from rows).
_FIRST_FRAMES: dict[tuple[object, ...], tuple[tuple[CellRow, ...], bytes,
                                             tuple[tuple[Wire, ...], ...],
                                             tuple[CellRow | None, ...]]] = {}
_FIRST_FRAMES_MAX = 64

#: Rows shared between encoders (all sessions of a process): frame rows, stored rows,
#: stored cells, zones of planned rows, and planned rows by (frame row, stored row).
_TARGET_ROWS: dict[CellRow, CellRow] = {}
_SHARED_ROWS: dict[tuple[Wire, ...], tuple[Wire, ...]] = {}
_WIRES: dict[Wire, Wire] = {}
#: id of a row of ``_TARGET_ROWS`` (kept alive there) -> whether it holds doubled cells.
_DOUBLED: dict[int, bool] = {}
_ZONES: dict[tuple[Wire, ...], list[Zone]] = {}
_PLANS: dict[tuple[int, int], tuple[CellRow, tuple[Wire, ...], tuple[Wire, ...],
                                    tuple[CellRow, ...] | None]] = {}
_SHARED_ROWS_MAX = 100_000


def _share_wire(t: tuple[Wire, ...]) -> tuple[Wire, ...]:
    """The shared copy of a stored row, made of shared stored cells."""
    shared = _SHARED_ROWS.get(t)
    if shared is None:
        if len(_SHARED_ROWS) >= _SHARED_ROWS_MAX:
            _SHARED_ROWS.clear()
            _WIRES.clear()
            _WIRE_DOUBLED.clear()
            _WIRE_DOUBLED.update((id(r), False) for r in FF_WIRE)
        shared = tuple([_WIRES.setdefault(w, w) for w in t])
        _SHARED_ROWS[shared] = shared
        _WIRE_DOUBLED[id(shared)] = any(type(w) is WChar and w.size is not Size.NORMAL
                                        for w in shared)
    return shared


#: Writes of one row: (row, state on entry, ids of planned and stored rows) ->
#: (planned row, stored row, bytes, stored row after, state after).
_ROW_WRITES: dict[tuple[object, ...], tuple[tuple[Wire, ...], tuple[Wire, ...], bytes,
                                            tuple[Wire, ...], tuple[Any, ...]]] = {}
_ROW_WRITES_MAX = 50_000
#: Status-row updates: (new row 0, stored row 0, ids of row 1 stored and planned from,
#: cursor, cursor shown) -> (row 1 stored, row 1 planned from, bytes, stored row 0
#: after, planned-from row 0 after).
_ROW0_WRITES: dict[tuple[object, ...], tuple[tuple[Wire, ...], CellRow | None, bytes,
                                            tuple[Wire, ...], CellRow | None]] = {}
_ROW0_WRITES_MAX = 20_000
#: id of a shared stored row (kept alive by ``_SHARED_ROWS``) -> holds doubled characters.
_WIRE_DOUBLED: dict[int, bool] = {id(r): False for r in FF_WIRE}


def _wire_doubled(row: tuple[Wire, ...]) -> bool:
    flag = _WIRE_DOUBLED.get(id(row))
    if flag is None:
        flag = any(type(w) is WChar and w.size is not Size.NORMAL for w in row)
    return flag


def _share_cells(t: tuple[Wire, ...]) -> tuple[Wire, ...]:
    """A stored row made of shared stored cells (the row itself is not shared)."""
    if len(_WIRES) >= _SHARED_ROWS_MAX:
        _WIRES.clear()
    return tuple([_WIRES.setdefault(w, w) for w in t])


def _doubled(row: CellRow) -> bool:
    return any(c.size is not Size.NORMAL for c in row)


def _plan_cached(rows: list[CellRow], r: int, old_row: tuple[Wire, ...]) -> tuple[Wire, ...]:
    """``plan`` of one row, shared: a row plans the same from the same stored row (and,
    when it holds doubled characters, the same neighbour rows)."""
    t = rows[r]
    if r == 0:  # the status row: planned each time, not kept in the shared tables
        return _share_cells(tuple(_plan_row(rows, r, old_row)))  # type: ignore[arg-type]
    key = (id(t), id(old_row))
    hit = _PLANS.get(key)
    # Row 0 never matters to row 1: nothing is doubled across them (effective_size), so
    # the status row, new at every tick, does not make row 1 be planned again.
    above = rows[r - 1] if r > 1 else None
    below = rows[r + 1] if r + 1 < ROWS else None
    if hit is not None and hit[0] is t and hit[1] is old_row:
        around = hit[3]
        if around is None or (around[0] is above and around[1] is below):
            return hit[2]
    planned = _share_wire(tuple(_plan_row(rows, r, old_row)))  # type: ignore[arg-type]
    neighbours = (above, below) if _doubled(t) else None
    if len(_PLANS) >= _SHARED_ROWS_MAX:
        _PLANS.clear()
    # the entry holds the rows alive, so the ids in its key stay theirs
    _PLANS[key] = (t, old_row, planned, neighbours)  # type: ignore[assignment]
    return planned


def _replan(rows: list[CellRow], changed: list[int]) -> list[int]:
    """Rows to plan again: the changed ones, and their neighbours holding doubled
    characters (whose drawing depends on the rows around them)."""
    todo = set(changed)
    for r in changed:
        for n in (r - 1, r + 1):
            # rows 0 and 1 never share a doubled character (see _plan_cached)
            if 1 <= n < ROWS and r >= 1 and n not in todo \
                    and _DOUBLED.get(id(rows[n]), True) and _doubled(rows[n]):
                todo.add(n)
    return sorted(todo)


def _redraw_floor(wire: Sequence[Sequence[Wire]]) -> int:
    """A lower bound of the bytes of any FF redraw of ``wire``: FF, then for each row of
    1-24 that differs from the cleared screen at least one byte to get there and one to
    write (row 0 is not cleared by FF: it costs nothing here)."""
    rows = sum(1 for r in range(1, ROWS) if wire[r] is not FF_WIRE[r] and wire[r] != FF_WIRE[r])
    return 1 + 2 * rows
