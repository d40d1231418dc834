"""What the encoder knows of the terminal while it writes, and the bytes of one step.

:class:`_State` is the terminal as the encoder tracks it: cursor, character set, parallel
attributes and serial register, each known or not. :func:`_emit` gives the bytes that store
one planned cell at the cursor (and what the terminal really stores), :func:`_moves` the
ways to bring the cursor to a cell, with their bytes and resulting state; the
:mod:`.encoder` chooses among them by exact cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .charset import g1_byte, glyph_bytes
from .codes import C0, SIZE_CODES, Size
from .frame import COLS, ROWS
from .wire import WChar, WDelim, Wire, Zone, canon

ESC = 0x1B


@dataclass(slots=True)
class _State:
    """What the encoder knows of the terminal while it writes."""

    row: int = 1
    col: int = 1
    exact: bool = True  # False: only writing here or absolute addressing is safe
    g1: bool = False
    fg: int | None = 7  # None: unknown, must be sent before use
    blink: bool | None = False
    inverse: bool | None = False
    size: Size | None = Size.NORMAL
    separated: bool = False
    reg_bg: int | None = 0
    reg_ul: bool | None = False
    reg_mask: bool | None = False
    pending: bool = False  # a serial attribute may still be pending

    def reset_attrs(self) -> None:
        """RS, FF, US: every attribute back to default, G0, no pending serial attribute
        (§12 vectors 9, 53-57: US resets the colour too)."""
        self.fg, self.blink, self.inverse, self.size = 7, False, False, Size.NORMAL
        self.g1 = False
        self.separated = False
        self.reg_bg, self.reg_ul, self.reg_mask = 0, False, False
        self.pending = False

    def shifted(self) -> None:
        """SI and SO: inverse, size and lining cancelled (§12 vectors 33, 59-62)."""
        self.size, self.inverse, self.reg_ul = Size.NORMAL, False, False

    def forget_parallel(self) -> None:
        self.fg = self.blink = self.inverse = self.size = None

    def clone(self, **changes: object) -> _State:
        """A copy (``dataclasses.replace`` without its per-call field checks: hot path)."""
        new = object.__new__(_State)
        new.row, new.col, new.exact, new.g1 = self.row, self.col, self.exact, self.g1
        new.fg, new.blink, new.inverse, new.size = self.fg, self.blink, self.inverse, self.size
        new.separated, new.reg_bg, new.reg_ul = self.separated, self.reg_bg, self.reg_ul
        new.reg_mask, new.pending = self.reg_mask, self.pending
        for name, value in changes.items():
            setattr(new, name, value)
        return new


_STATE_SLOTS = tuple(_State.__slots__)
_WIDTH = {s: s.width for s in Size}
_HEIGHT = {s: s.height for s in Size}


def _attrs(st: _State, fg: int, blink: bool, inverse: bool, size: Size,
           care_fg: bool = True) -> bytearray:
    out = bytearray()
    if st.size != size:
        out += bytes([ESC, SIZE_CODES[size]])
        st.size = size
    if st.inverse != inverse:
        out += bytes([ESC, 0x5D if inverse else 0x5C])
        st.inverse = inverse
    if care_fg and st.fg != fg:
        out += bytes([ESC, 0x40 + fg])
        st.fg = fg
    if care_fg and st.blink != blink:
        out += bytes([ESC, 0x48 if blink else 0x49])
        st.blink = blink
    return out


def _to_g0(st: _State) -> bytes:
    if st.g1:
        st.g1 = False
        st.separated = False
        st.shifted()
        return bytes([C0.SI])
    return b""


def _serial(st: _State, zone: Zone, left: Zone) -> bytearray:
    """Serial attributes so that the next space is a delimiter of ``zone``."""
    out = bytearray()
    if st.reg_bg != zone.bg or left.bg != zone.bg:
        out += bytes([ESC, 0x50 + zone.bg])
    if st.reg_ul != zone.underline or left.underline != zone.underline:
        out += bytes([ESC, 0x5A if zone.underline else 0x59])
    if st.reg_mask != zone.masked or left.masked != zone.masked:
        out += bytes([ESC, 0x58 if zone.masked else 0x5F])
    if not out:
        out += bytes([ESC, 0x50 + zone.bg])
    st.reg_bg, st.reg_ul, st.reg_mask = zone.bg, zone.underline, zone.masked
    st.pending = False
    return out


def _emit(st: _State, w: Wire, left: Zone) -> tuple[bytearray, Wire]:
    """Bytes that store ``w`` at the cursor, and what really gets stored."""
    out = bytearray()
    stored: Wire = w
    if isinstance(w, WChar):
        out += _to_g0(st)
        if w.glyph == " " and st.pending and w.size is not Size.NORMAL:
            # A doubled space would become a doubled delimiter, which the terminal draws
            # but a stored cell cannot say: a normal-size delimiter of the zone in effect
            # takes the pending attribute first, then the cursor comes back.
            out += _attrs(st, 7, False, False, Size.NORMAL, care_fg=False)
            out += _serial(st, left, left)
            out.append(0x20)
            if st.col < COLS:
                out.append(C0.BS)
            else:
                out += bytes([C0.US, 0x40 + st.row, 0x40 + st.col])
                st.reset_attrs()
        plain_space = w.glyph == " " and not w.inverse
        out += _attrs(st, w.fg, w.blink, w.inverse, w.size, care_fg=not plain_space)
        if w.glyph == " " and st.pending:
            # A pending serial attribute would turn this space into a delimiter:
            # make it the delimiter of the zone already in effect (looks the same).
            out += _serial(st, left, left)
            stored = canon(WDelim(left.bg, left.underline, left.masked, w.fg, w.inverse))
        out += glyph_bytes(w.glyph)
        width = _WIDTH[w.size]
    elif isinstance(w, WDelim):
        out += _to_g0(st)
        out += _attrs(st, w.fg, False, w.inverse, Size.NORMAL, care_fg=w.inverse)
        out += _serial(st, Zone(w.bg, w.underline, w.masked), left)
        out.append(0x20)
        width = 1
    else:
        if not st.g1:
            out.append(C0.SO)
            st.g1 = True
            st.shifted()
        if st.separated != w.separated and w.sextants:
            out += bytes([ESC, 0x5A if w.separated else 0x59])
            st.separated = w.separated
            st.reg_ul, st.pending = None, True
        out += _attrs(st, w.fg, w.blink, False, Size.NORMAL, care_fg=w.sextants != 0)
        if st.reg_bg != w.bg:
            out += bytes([ESC, 0x50 + w.bg])
            st.reg_bg, st.pending = w.bg, True
        out.append(g1_byte(w.sextants))
        stored = canon(w._replace(separated=bool(st.separated)))
        width = 1
    _advance(st, width, _HEIGHT[w.size] if isinstance(w, WChar) else 1)
    return out, stored


def _advance(st: _State, width: int, height: int) -> None:
    """Move the tracked cursor after a write; past column 40 only a write or US is trusted."""
    st.col += width
    st.exact = True
    if st.col > COLS:
        if st.row == 0:
            st.col, st.exact = COLS, False
        elif height == 2 or st.row == ROWS - 1:
            st.exact = False
        else:
            st.row, st.col, st.exact = st.row + 1, 1, False


def _moves(st: _State, row: int, col: int) -> list[tuple[bytes, _State]]:
    """Ways to bring the cursor to (row, col): (bytes, resulting state)."""
    opts: list[tuple[bytes, _State]] = []
    if (st.row, st.col) == (row, col):
        opts.append((b"", st))
        if st.exact:
            return opts
    us = st.clone(row=row, col=col, exact=True)
    us.reset_attrs()
    opts.append((bytes([C0.US, 0x40 + row, 0x40 + col]), us))
    if row >= 1:
        rs = st.clone(row=1, col=1, exact=True)
        rs.reset_attrs()
        rel = _relative(1, 1, row, col)
        if rel is not None and len(rel) < 2:
            opts.append((bytes([C0.RS]) + rel, rs.clone(row=row, col=col)))
        if st.exact and st.row >= 1:
            rel = _relative(st.row, st.col, row, col)
            if rel is not None and len(rel) < 3:
                opts.append((rel, st.clone(row=row, col=col)))
    return opts


def _relative(r0: int, c0: int, r1: int, c1: int) -> bytes | None:
    """Cheapest C0 moves between two cells of rows 1-24 (None when over 3 bytes)."""
    dr = r1 - r0
    vert = bytes([C0.LF]) * dr if dr > 0 else bytes([C0.VT]) * -dr
    if len(vert) > 2:
        return None
    horiz = bytes([C0.HT]) * (c1 - c0) if c1 >= c0 else bytes([C0.BS]) * (c0 - c1)
    via_cr = bytes([C0.CR]) + bytes([C0.HT]) * (c1 - 1)
    if len(via_cr) < len(horiz):
        horiz = via_cr
    moves = vert + horiz
    return moves if len(moves) <= 3 else None


def _state_key(st: _State) -> tuple[Any, ...]:
    return (st.row, st.col, st.exact, st.g1, st.fg, st.blink, st.inverse, st.size,
            st.separated, st.reg_bg, st.reg_ul, st.reg_mask, st.pending)


def _set_state(st: _State, k: tuple[Any, ...]) -> None:
    (st.row, st.col, st.exact, st.g1, st.fg, st.blink, st.inverse, st.size,
     st.separated, st.reg_bg, st.reg_ul, st.reg_mask, st.pending) = k


def _copy_into(dst: _State, src: _State) -> None:
    dst.row, dst.col, dst.exact, dst.g1 = src.row, src.col, src.exact, src.g1
    dst.fg, dst.blink, dst.inverse, dst.size = src.fg, src.blink, src.inverse, src.size
    dst.separated, dst.reg_bg, dst.reg_ul = src.separated, src.reg_bg, src.reg_ul
    dst.reg_mask, dst.pending = src.reg_mask, src.pending
