"""Frame -> bytes: the fewest bytes that draw a frame, or change one frame into another.

Terminal-state contract (what every output of this module leaves behind):

- the screen shows ``drawable(frame)`` (the frame itself whenever the wire can
  draw it, see ``videotex.codec.wire``);
- the cursor is visible (CON) exactly when ``frame.cursor`` is not ``None``,
  and then rests at ``frame.cursor``; an update re-places a visible cursor
  even when nothing changed, since local echo may have moved it;
- character set, parallel attributes and the serial register are *not*
  promised: every output starts with FF, RS or US, which reset them (G0, white
  on black, steady, normal size, no pending serial attribute).

``encode_update(old, new)`` (never longer than ``encode_frame(new)``, which it
falls back to when that is shorter) assumes the terminal shows ``old`` as this encoder
drew it (``encode_frame(old)`` or a chain of updates). The stateful
``Encoder`` keeps what the terminal stores, for chains of updates.

How bytes are kept low: only changed cells are written; rows are walked left to
right and, before each write, the cheapest way there is chosen with exact
costs among US, RS, CR, LF, VT, BS, HT and re-sending the unchanged cells in
between; attributes are sent only when they change; runs use REP. What is computed
once for every encoder of the process (shared rows, first pages, row writes) is kept
in :mod:`.rowcache`; the terminal state tracked while writing, with the bytes of one
cell or one cursor move, is :mod:`.termstate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .charset import glyph_bytes
from .codes import C0, Size
from .frame import COLS, ROWS, Frame
from .rowcache import (
    _DOUBLED,
    _FIRST_FRAMES,
    _FIRST_FRAMES_MAX,
    _ROW0_WRITES,
    _ROW0_WRITES_MAX,
    _ROW_WRITES,
    _ROW_WRITES_MAX,
    _SHARED_ROWS_MAX,
    _TARGET_ROWS,
    _ZONES,
    CellRow,
    _doubled,
    _plan_cached,
    _redraw_floor,
    _replan,
    _share_cells,
    _share_wire,
    _wire_doubled,
)
from .termstate import _advance, _copy_into, _emit, _moves, _set_state, _State, _state_key
from .wire import (
    FF_WIRE,
    SPACE,
    WChar,
    WDelim,
    Wire,
    WMosaic,
    Zone,
    canon,
    resolve,
    zones_before,
)

__all__ = ["Encoder", "drawable", "encode_frame", "encode_update"]

_GAP_MAX = 6  # longest run of unchanged cells worth re-sending instead of moving


class _Row:
    """Planned wire of one row with its zones, for emitting delimiters."""

    __slots__ = ("wire", "zones")

    def __init__(self, wire: Sequence[Wire], share: bool = True) -> None:
        self.wire = wire
        if not share:  # the status row: one per caller, not worth a shared entry
            self.zones = zones_before(wire)
            return
        key = tuple(wire)
        zones = _ZONES.get(key)
        if zones is None:
            zones = zones_before(wire)
            if len(_ZONES) >= _SHARED_ROWS_MAX:
                _ZONES.clear()
            _ZONES[key] = zones
        self.zones = zones


def _ops(old: Sequence[Sequence[Wire]], new: Sequence[Sequence[Wire]],
         todo: Iterable[int]) -> list[tuple[int, int]]:
    """Reference cells (row, col) of writes needed to turn ``old`` into ``new`` (rows
    ``todo``; the others are the same in both)."""
    refs: set[tuple[int, int]] = set()
    for r in todo:
        o_row, n_row = old[r], new[r]
        for i in range(COLS):
            w = n_row[i]
            if w == o_row[i]:
                continue
            if type(w) is WChar and w.size is not Size.NORMAL:
                dx, dy = w.part
                refs.add((r + (w.size.height - 1 - dy), i + 1 - dx))
            else:
                refs.add((r, i + 1))
    return sorted(refs)


def _gap_cells(row: _Row, start: int, c: int) -> list[tuple[int, Wire, Zone]] | None:
    """The cells from the cursor's column ``start`` to ``c`` as they can be sent again:
    what the row stores, except that an empty mosaic in the zone it would keep anyway
    goes as a plain space (it looks the same and leaves the same zone, and needs no SO);
    ``None`` when a doubled character is in the way."""
    cells: list[tuple[int, Wire, Zone]] = []
    for cc in range(start, c + 1):
        w, zone = row.wire[cc - 1], row.zones[cc - 1]
        if type(w) is WChar and w.size is not Size.NORMAL:
            return None
        if (cc < c and type(w) is WMosaic and w.sextants == 0 and w.bg == zone.bg
                and not zone.underline):
            w = SPACE
        cells.append((cc, w, zone))
    return cells


def _respaced(stored: tuple[Wire, ...], planned: tuple[Wire, ...]) -> bool:
    """True when ``stored`` differs from ``planned`` only where a gap was sent again as
    plain spaces instead of the planned empty mosaics (:func:`_gap_cells`): the row
    still shows, and leaves behind, exactly what was planned."""
    zones = None
    for i, (s, p) in enumerate(zip(stored, planned, strict=True)):
        if s == p:
            continue
        if s is not SPACE or type(p) is not WMosaic or p.sextants != 0:
            return False
        if zones is None:
            zones = zones_before(planned)
        if zones[i].bg != p.bg or zones[i].underline:
            return False
    return True


class _Plans:
    """Planned rows with their zones, computed on first use (only rows written to)."""

    __slots__ = ("_rows", "new")

    def __init__(self, new: list[tuple[Wire, ...]]) -> None:
        self.new = new
        self._rows: dict[int, _Row] = {}

    def __getitem__(self, r: int) -> _Row:
        row = self._rows.get(r)
        if row is None:
            self._rows[r] = row = _Row(self.new[r], share=r != 0)
        return row


class Encoder:
    """Stateful encoder: remembers what the terminal stores, for chains of updates.

    Between outputs it keeps only references to immutable rows shared by every encoder
    of the process (hash-consed): what the terminal stores per row, and the frame row
    each one was planned from (``None`` where the terminal does not store exactly the
    plan). An update plans and diffs only the rows whose wanted cells changed.
    """

    __slots__ = ("_cursor", "_targets", "_visible", "_wire", "_work")

    def __init__(self) -> None:
        self._wire: list[tuple[Wire, ...]] | None = None
        self._cursor: tuple[int, int] | None = None
        self._visible = False
        #: The frame rows the stored rows were planned from (None: replan that row).
        self._targets: list[CellRow | None] | None = None
        #: What the terminal stores, mutable, while an output is computed.
        self._work: list[list[Wire] | tuple[Wire, ...]] | None = None

    @property
    def shown(self) -> Frame:
        """What the terminal shows now (after the last output)."""
        if self._wire is None:
            raise ValueError("nothing drawn yet: call frame() first")
        return resolve(self._wire, self._cursor)

    def last_frame(self) -> Frame | None:
        """The frame last asked for (by :meth:`frame` or :meth:`update`), rebuilt from
        the rows this encoder keeps anyway; ``None`` when one of them was not kept.

        Cheaper than composing a page again when only one row is to change (a session's
        status row on a clock tick): take this, change the row, :meth:`update`."""
        targets = self._targets
        if targets is None or self._wire is None:
            return None
        f = Frame.__new__(Frame)
        rows = []
        for t in targets:
            if t is None:
                return None
            rows.append(list(t))
        f._rows = rows
        f.cursor = self._cursor if self._visible else None
        return f

    def frame(self, frame: Frame) -> bytes:
        """Draw ``frame`` on a cleared screen: starts with FF.

        FF does not clear row 0: a fresh encoder assumes it blank; after an
        earlier output, row 0 is redrawn from what the terminal holds there.
        """
        return self._frame(frame, self._target_rows(frame)[0])

    def assume(self, frame: Frame) -> None:
        """Take it that the terminal shows ``frame`` now, exactly, drawn by other bytes
        (a page's own videotex sent verbatim): the next :meth:`update` is a diff from
        ``frame``. The state is the one :meth:`frame` leaves (it runs, its bytes are
        dropped), except that every row counts as showing ``frame``'s, even where this
        encoder could not draw it exactly (an update would otherwise redraw such rows
        its own way). It knows the cells, not where the other bytes put their serial
        delimiters: a character written later inside a background zone they opened
        differently may take another background (unless written in the zone's own)."""
        self.frame(frame)
        self._targets = list(self._target_rows(frame)[0])

    def update(self, frame: Frame) -> bytes:
        """Bytes that change the screen from the last output to ``frame``."""
        if self._wire is None:
            return self.frame(frame)
        rows, changed = self._target_rows(frame)
        if sum(1 for r in changed if r) > _NEW_PAGE_ROWS:
            # Most rows changed: a new page. Clearing and drawing it is (nearly always)
            # the shorter way, and computing both would cost twice.
            return self._frame(frame, rows)
        saved = (self._wire, self._targets, self._cursor, self._visible)
        out = bytearray()
        if self._visible and frame.cursor is None:
            out.append(C0.COFF)
        body, _ = self._draw(frame, rows, _replan(rows, changed), _State(), start_known=False)
        out += body
        if frame.cursor is not None and not self._visible:
            out.append(C0.CON)
        self._visible = frame.cursor is not None
        if len(out) <= _redraw_floor(self._wire):
            # No redraw can be shorter: every row holding something costs at least a
            # move and a character after FF. Most updates (echo, status row) stop here.
            return bytes(out)
        changed_state = (self._wire, self._targets, self._cursor, self._visible)
        self._wire, self._targets, self._cursor, self._visible = saved
        redraw = self._frame(frame, rows)
        if len(redraw) < len(out):
            # Clearing and redrawing is cheaper than changing (e.g. to an emptier page).
            return redraw
        self._wire, self._targets, self._cursor, self._visible = changed_state
        return bytes(out)

    def update_row0(self, row0: CellRow) -> bytes | None:
        """:meth:`update` to the frame last asked for with only row 0 (the status row)
        replaced by ``row0``; ``None`` when this encoder cannot tell that frame (see
        :meth:`last_frame`): then compose the frame and call :meth:`update`.

        The same bytes as :meth:`update`, much cheaper for the clock and cost ticks of
        thousands of calls: such an update depends only on the status row before and
        after, the cursor and what the terminal stores on row 1, all alike from one call
        to the next on a page, so it is computed once and shared."""
        wire, targets = self._wire, self._targets
        if wire is None or targets is None or any(t is None for t in targets):
            return None  # as last_frame()
        key = (row0, wire[0], id(wire[1]), id(targets[1]), self._cursor, self._visible)
        hit = _ROW0_WRITES.get(key)
        if (hit is not None and hit[0] is wire[1] and hit[1] is targets[1]
                and len(hit[2]) <= _redraw_floor(wire)):
            _, _, out, stored, target = hit
            self._wire = [stored, *wire[1:]]
            self._targets = [target, *targets[1:]]
            return out
        frame = self.last_frame()
        if frame is None:
            return None
        frame._rows[0] = list(row0)
        out = self.update(frame)
        after_wire, after_targets = self._wire, self._targets
        assert after_wire is not None and after_targets is not None
        same = zip(after_wire[1:], wire[1:], after_targets[1:], targets[1:], strict=True)
        if out[:1] != b"\x0c" and all(a is b and c is d for a, b, c, d in same):
            if len(_ROW0_WRITES) >= _ROW0_WRITES_MAX:
                _ROW0_WRITES.clear()
            # the entry holds row 1 alive, so the ids in its key stay its
            _ROW0_WRITES[key] = (wire[1], targets[1], out, after_wire[0], after_targets[0])
        return out

    def _target_rows(self, frame: Frame) -> tuple[list[CellRow], list[int]]:
        """The frame's rows as shared tuples (but row 0), and the rows that differ from
        the last plan."""
        prev = self._targets
        rows: list[CellRow] = []
        changed: list[int] = []
        for r, cells in enumerate(frame._rows):
            t = tuple(cells)
            p = prev[r] if prev is not None else None
            if p is not None and (t == p):
                rows.append(p)
                continue
            if r == 0:
                # the status row differs per caller and per tick: not worth sharing
                rows.append(t)
                changed.append(r)
                continue
            shared = _TARGET_ROWS.get(t)
            if shared is None:
                if len(_TARGET_ROWS) >= _SHARED_ROWS_MAX:
                    _TARGET_ROWS.clear()
                    _DOUBLED.clear()
                _TARGET_ROWS[t] = shared = t
                _DOUBLED[id(t)] = _doubled(t)
            rows.append(shared)
            changed.append(r)
        return rows, changed

    def _frame(self, frame: Frame, rows: list[CellRow]) -> bytes:
        fresh = self._wire is None
        key = (frame.cursor, rows[0], *map(id, rows[1:])) if fresh else None
        if key is not None:
            hit = _FIRST_FRAMES.get(key)
            if hit is not None:  # the same first page for every caller: drawn once
                _rows, data, wire, targets = hit
                self._wire = list(wire)
                self._targets = list(targets)
                self._cursor = frame.cursor
                self._visible = frame.cursor is not None
                return data
        row0 = self._wire[0] if self._wire is not None else FF_WIRE[0]
        self._wire = [row0, *FF_WIRE[1:]]
        self._targets = None
        out = bytearray([C0.FF])
        body, _ = self._draw(frame, rows, range(ROWS), _State(), start_known=True)
        out += body
        if frame.cursor is None:
            out.insert(1, C0.COFF)
        else:
            out.append(C0.CON)
        self._visible = frame.cursor is not None
        data = bytes(out)
        if key is not None:
            if len(_FIRST_FRAMES) >= _FIRST_FRAMES_MAX:
                _FIRST_FRAMES.pop(next(iter(_FIRST_FRAMES)))
            # the entry keeps the shared rows alive, so their ids in the key stay theirs
            assert self._targets is not None
            _FIRST_FRAMES[key] = (tuple(rows), data, tuple(self._wire), tuple(self._targets))
        return data

    def _draw(self, frame: Frame, rows: list[CellRow], replan: Iterable[int], st: _State,
              start_known: bool) -> tuple[bytearray, _State]:
        assert self._wire is not None
        old = self._wire
        new: list[tuple[Wire, ...]] = list(old)
        todo = []
        for r in replan:
            planned = _plan_cached(rows, r, old[r])
            if planned != old[r]:
                new[r] = planned
                todo.append(r)
        self._work = list(old)  # rows become lists when written
        plans = _Plans(new)
        out = bytearray()
        if not start_known:
            st.exact = False
            st.row, st.col = -1, -1
            st.forget_parallel()
        ops = _ops(old, new, todo)
        i, n = 0, len(ops)
        while i < n:
            r = ops[i][0]
            j = i + 1
            while j < n and ops[j][0] == r:
                j += 1
            # The writes of one row with no doubled characters in it or above it depend
            # only on the state on entry, the planned row and the stored row: shared.
            key = None
            if (r != 0 and not _wire_doubled(new[r]) and not _wire_doubled(new[r - 1])
                    and self._work[r] is old[r]):
                key = (r, _state_key(st), id(new[r]), id(old[r]))
                hit = _ROW_WRITES.get(key)
                if hit is not None and hit[0] is new[r] and hit[1] is old[r]:
                    out += hit[2]
                    self._work[r] = hit[3]
                    _set_state(st, hit[4])
                    i = j
                    continue
            start = len(out)
            for k in range(i, j):
                c = ops[k][1]
                if self._done(new, r, c):
                    continue
                out += self._step(st, plans, r, c)
                out += self._rep(st, new, r, c)
            if key is not None:
                if len(_ROW_WRITES) >= _ROW_WRITES_MAX:
                    _ROW_WRITES.clear()
                # the entry holds both rows alive, so the ids in its key stay theirs
                _ROW_WRITES[key] = (new[r], old[r], bytes(out[start:]),
                                    _share_wire(tuple(self._work[r])), _state_key(st))
            i = j
        if frame.cursor is not None:
            r, c = frame.cursor
            if (st.row, st.col) != (r, c) or not st.exact:
                opts = _moves(st, r, c)
                best = min((o for o in opts if o[1].exact), key=lambda o: len(o[0]))
                out += best[0]
                st = best[1]
        self._cursor = frame.cursor
        self._freeze(old, new, rows)
        return out, st

    def _freeze(self, old: list[tuple[Wire, ...]], new: list[tuple[Wire, ...]],
                rows: list[CellRow]) -> None:
        """Keep what the terminal stores as shared immutable rows (most rows are the same
        for every caller on the same page: sessions hold references, not copies), and
        the frame row each stored row realises exactly."""
        assert self._work is not None
        frozen: list[tuple[Wire, ...]] = []
        targets: list[CellRow | None] = []
        for r, work in enumerate(self._work):
            if type(work) is tuple:  # not written to, or a shared row of written cells
                frozen.append(work)
                targets.append(rows[r] if work is new[r] or work == new[r] else None)
                continue
            t = tuple(work)
            if t == new[r]:
                t = new[r]
            elif t == old[r]:
                t = old[r]
            else:
                t = _share_wire(t) if r else _share_cells(t)
            frozen.append(t)
            realised = t is new[r] or t == new[r] or _respaced(t, new[r])
            targets.append(rows[r] if realised else None)
        self._wire = frozen
        self._targets = targets
        self._work = None

    def _step(self, st: _State, rows: _Plans, r: int, c: int) -> bytearray:
        """Move to (r, c) the cheapest way and write the planned cell there."""
        row = rows[r]
        w = row.wire[c - 1]
        best: tuple[int, bytes, _State] | None = None
        options = _moves(st, r, c)
        if len(options) == 1 and options[0][0] == b"":
            # already there (so no unchanged cells to re-send): write
            piece, stored = _emit(st, w, row.zones[c - 1])
            self._store(r, c, stored)
            return piece
        else:
            for move, mst in options:
                data, _ = _emit(mst.clone(), w, row.zones[c - 1])
                cost = len(move) + len(data)
                if best is None or cost < best[0]:
                    best = (cost, move, mst)
        # Re-send the unchanged cells between the cursor and (r, c).
        if st.row == r and st.col < c <= st.col + _GAP_MAX and (st.exact or st.col >= 1):
            gap = _gap_cells(row, st.col, c)
            if gap is not None:
                trial = st.clone()
                data = self._resend(trial, r, gap, store=False)
                if best is not None and len(data) < best[0]:
                    return self._resend(st, r, gap, store=True)
        assert best is not None
        _, move, mst = best
        _copy_into(st, mst)
        data = bytearray(move)
        piece, stored = _emit(st, w, row.zones[c - 1])
        data += piece
        self._store(r, c, stored)
        return data

    def _resend(self, st: _State, r: int, gap: list[tuple[int, Wire, Zone]],
                store: bool) -> bytearray:
        """Write the cells of ``gap`` (unchanged ones, then the one to change) in turn;
        a run of blanks goes as one space and REP (:func:`_gap_cells`)."""
        out = bytearray()
        i, n = 0, len(gap)
        while i < n:
            cc, w, zone = gap[i]
            piece, stored = _emit(st, w, zone)
            out += piece
            if store:
                self._store(r, cc, stored)
            j = i + 1
            if w is SPACE:
                while j < n and gap[j][1] is SPACE:
                    j += 1
                k = j - i - 1
                if k >= 2:  # REP repeats a plain space: no delimiter (§12 vector 70)
                    out += bytes([C0.REP, 0x40 + k])
                    _advance(st, k, 1)
                    if store:
                        for cc2 in range(cc + 1, cc + 1 + k):
                            self._store(r, cc2, SPACE)
                else:
                    j = i + 1
            i = j
        return out

    def _done(self, new: list[tuple[Wire, ...]], r: int, c: int) -> bool:
        """True when every cell of the write at (r, c) already stores what ``new`` wants."""
        assert self._work is not None
        w = new[r][c - 1]
        if isinstance(w, WChar) and w.size is not Size.NORMAL:
            h, wd = w.size.height, w.size.width
            return all(
                self._work[r - (h - 1) + py][c - 1 + px] == new[r - (h - 1) + py][c - 1 + px]
                for py in range(h) for px in range(wd)
            )
        return self._work[r][c - 1] == w

    def _rep(self, st: _State, new: list[tuple[Wire, ...]], r: int, c: int) -> bytearray:
        """After writing (r, c): REP over the following cells that want the same character."""
        assert self._work is not None
        last = self._work[r][c - 1]
        if isinstance(last, WChar):
            if last.size is not Size.NORMAL:
                return bytearray()
            unit = len(glyph_bytes(last.glyph))
            same: Wire = last
        elif isinstance(last, WDelim):
            unit, same = 1, canon(WChar(" ", last.fg, False, last.inverse))
        else:
            unit, same = 1, last
        if st.col != c + 1 or st.row != r or not st.exact:
            return bytearray()
        work = self._work[r]
        want = new[r]
        end = run = c
        while end < COLS:
            w = want[end]
            if w == same:
                end += 1
                run = end
            elif (type(w) is WChar and w.part[1] == 0 and w.size.height == 2
                    and work[end] != w):
                # the top half of a doubled character that the row below writes later (its
                # reference cell is there): the run may go over it, it is overwritten anyway
                end += 1
            else:
                break
        end = run
        while end > c and work[end - 1] == want[end - 1]:
            end -= 1
        n = end - c
        if n * unit <= 2:
            return bytearray()
        out = bytearray()
        left = n
        while left > 0:
            k = min(left, 63)
            out += bytes([C0.REP, 0x40 + k])
            left -= k
        row = self._row(r)
        for cc in range(c + 1, end + 1):
            row[cc - 1] = same
        _advance(st, n, 1)
        return out

    def _row(self, r: int) -> list[Wire]:
        """Row ``r`` of what the terminal stores, made writable."""
        assert self._work is not None
        row = self._work[r]
        if type(row) is not list:
            self._work[r] = row = list(row)
        return row

    def _store(self, r: int, c: int, stored: Wire) -> None:
        if isinstance(stored, WChar) and stored.size is not Size.NORMAL:
            h, wd = stored.size.height, stored.size.width
            for py in range(h):
                for px in range(wd):
                    self._row(r - (h - 1) + py)[c - 1 + px] = stored._replace(part=(px, py))
        else:
            self._row(r)[c - 1] = stored


#: More changed rows than this (of 24) make an update a new page: drawn after FF.
_NEW_PAGE_ROWS = 12


def encode_frame(frame: Frame) -> bytes:
    """The bytes that draw ``frame`` on any screen: FF, the cells, cursor placement."""
    return Encoder().frame(frame)


def encode_update(old: Frame, new: Frame) -> bytes:
    """The bytes that turn the screen from ``old`` (as drawn by this encoder) into ``new``."""
    enc = Encoder()
    enc.frame(old)
    return enc.update(new)


def drawable(frame: Frame) -> Frame:
    """The screen ``encode_frame(frame)`` really draws (``frame`` itself when drawable)."""
    enc = Encoder()
    enc.frame(frame)
    return enc.shown


