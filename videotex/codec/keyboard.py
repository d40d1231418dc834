"""Incremental keyboard decoder: bytes from the Minitel -> key and protocol events.

A state machine (a generator fed one byte at a time): input may be split
anywhere and nothing sleeps. Decisions taken here, from the reference:

- Printable bytes 0x20-0x7E give one ``CharEvent`` each (the keyboard is
  uppercase by default, so letters usually arrive uppercase).
- ``SS2 accent letter`` (SS2 = 0x19, or SYN 0x16 which the 1B treats alike)
  gives the precomposed letter; a repeated accent keeps the last one (§8).
  ``SS2 42 45`` (acute then E in the default uppercase mode) gives ``"É"``:
  the case typed is kept and the server decides (casefold to compare; shown
  back, the charset fallback draws ``E``, as the terminal itself does). An
  accent followed by a non-letter drops the accent. ``SS2 x`` for a spacing
  G2 code gives its glyph (``£ ° ± ÷ ← → ↑ ↓ Œ œ β § ¼ ½ ¾``).
- ``SEP 41``-``SEP 49`` and the Téléinformatique ``ESC O x`` forms give
  ``FunctionKeyEvent``; other ``SEP x`` are notifications
  (``ProtocolReplyEvent("sep", ...)``).
- Cursor keys: the CSI forms of §8, and ``7F`` (Ctrl ←). The C0 forms (``0B
  0A 09 08 0D 1E 0C``) only come from a keyboard (never from a screen) and are
  what PC telnet clients send, so they are decoded as cursor keys too
  (``0D`` is ``ENTER``, ``08`` is ``LEFT``).
- Protocol replies: ENQROM ``01 m t v 04``, ``ESC 3A 71/73/75/77 x``, ``ESC 3B
  63/73 x y``, other ``ESC 3A``/``ESC 3B`` replies, cursor position ``1F r c``,
  the Téléinformatique acknowledgement ``ESC 5B 3F 7A``.
- NUL is ignored everywhere. Anything else that does not parse is skipped and
  counted in ``garbage``; a control byte that breaks a sequence is then
  decoded on its own. No input raises.
- ``flush()`` settles what only time can settle: a lone ESC becomes the Esc key
  (``CursorKey.ESCAPE``); an incomplete sequence is dropped as garbage, except
  an accent waiting for its letter, which stays pending.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .charset import DIACRITICS, G2_GLYPHS
from .codes import ENQROM_MAKERS, ENQROM_MODELS, SepCode

__all__ = [
    "CharEvent",
    "CursorKey",
    "CursorKeyEvent",
    "Event",
    "FunctionKey",
    "FunctionKeyEvent",
    "KeyboardDecoder",
    "ProtocolReplyEvent",
]


class FunctionKey(Enum):
    """Minitel function keys."""

    ENVOI = "envoi"  #: §8 SEP 41, ESC O M
    RETOUR = "retour"  #: §8 SEP 42, ESC O R
    REPETITION = "repetition"  #: §8 SEP 43, ESC O S
    GUIDE = "guide"  #: §8 SEP 44, ESC O m
    ANNULATION = "annulation"  #: §8 SEP 45, ESC O Q
    SOMMAIRE = "sommaire"  #: §8 SEP 46, ESC O P
    CORRECTION = "correction"  #: §8 SEP 47, ESC O l
    SUITE = "suite"  #: §8 SEP 48, ESC O n
    CONNEXION_FIN = "connexion_fin"  #: §8 SEP 49, §10 ESC 29 34 0D


class CursorKey(Enum):
    """Cursor and edit keys of the extended keyboard."""

    UP = "up"  #: §8 CSI A, or 0B
    DOWN = "down"  #: §8 CSI B, or 0A
    RIGHT = "right"  #: §8 CSI C, or 09
    LEFT = "left"  #: §8 CSI D, or 08
    DELETE_ROW = "delete_row"  #: §8 Shift up: CSI M
    INSERT_ROW = "insert_row"  #: §8 Shift down: CSI L
    INSERT_ON = "insert_on"  #: §8 Shift right: CSI 4 h
    INSERT_OFF = "insert_off"  #: §8 Shift right again: CSI 4 l
    DELETE_CHAR = "delete_char"  #: §8 Shift left: CSI P
    DELETE = "delete"  #: §8 Ctrl left: 7F
    ENTER = "enter"  #: §8 return: 0D
    HOME = "home"  #: §8 Shift return: CSI H, or 1E
    CLEAR = "clear"  #: §8 Ctrl return: CSI 2 J, or 0C
    ESCAPE = "escape"  #: a lone ESC settled by flush()


@dataclass(frozen=True, slots=True)
class CharEvent:
    """Typed text (one character, accents composed)."""

    text: str


@dataclass(frozen=True, slots=True)
class FunctionKeyEvent:
    """A function key (Envoi, Retour, ...)."""

    key: FunctionKey


@dataclass(frozen=True, slots=True)
class CursorKeyEvent:
    """A cursor or edit key."""

    key: CursorKey


@dataclass(frozen=True, slots=True)
class ProtocolReplyEvent:
    """A protocol reply or notification; ``data`` are its bytes after the introducer."""

    kind: str
    data: bytes
    detail: dict[str, Any] = field(default_factory=dict, hash=False)


Event = CharEvent | FunctionKeyEvent | CursorKeyEvent | ProtocolReplyEvent

_SEP_KEYS = {
    0x41: FunctionKey.ENVOI,
    0x42: FunctionKey.RETOUR,
    0x43: FunctionKey.REPETITION,
    0x44: FunctionKey.GUIDE,
    0x45: FunctionKey.ANNULATION,
    0x46: FunctionKey.SOMMAIRE,
    0x47: FunctionKey.CORRECTION,
    0x48: FunctionKey.SUITE,
    0x49: FunctionKey.CONNEXION_FIN,
}
_ESC_O_KEYS = {
    0x4D: FunctionKey.ENVOI,
    0x50: FunctionKey.SOMMAIRE,
    0x51: FunctionKey.ANNULATION,
    0x52: FunctionKey.RETOUR,
    0x53: FunctionKey.REPETITION,
    0x6C: FunctionKey.CORRECTION,
    0x6D: FunctionKey.GUIDE,
    0x6E: FunctionKey.SUITE,
}
_C0_KEYS = {
    0x08: CursorKey.LEFT,
    0x09: CursorKey.RIGHT,
    0x0A: CursorKey.DOWN,
    0x0B: CursorKey.UP,
    0x0C: CursorKey.CLEAR,
    0x0D: CursorKey.ENTER,
    0x1E: CursorKey.HOME,
    0x7F: CursorKey.DELETE,
}
_CSI_KEYS: dict[tuple[bytes, int], CursorKey] = {
    (b"", 0x41): CursorKey.UP,
    (b"", 0x42): CursorKey.DOWN,
    (b"", 0x43): CursorKey.RIGHT,
    (b"", 0x44): CursorKey.LEFT,
    (b"", 0x4D): CursorKey.DELETE_ROW,
    (b"", 0x4C): CursorKey.INSERT_ROW,
    (b"4", 0x68): CursorKey.INSERT_ON,
    (b"4", 0x6C): CursorKey.INSERT_OFF,
    (b"", 0x50): CursorKey.DELETE_CHAR,
    (b"", 0x48): CursorKey.HOME,
    (b"2", 0x4A): CursorKey.CLEAR,
}
_PRO2_REPLIES = {
    0x71: "terminal_status",
    0x73: "operation_status",
    0x75: "speed_status",
    0x77: "protocol_status",
}
_PRO3_REPLIES = {0x63: "route_status", 0x73: "keyboard_status"}
_SPEEDS = {0b010: 300, 0b100: 1200, 0b110: 4800, 0b001: 75, 0b111: 9600}

_Gen = Generator[None, int, int | None]


def _status_detail(kind: str, x: int) -> dict[str, Any]:
    if kind == "operation_status":
        return {"lowercase": bool(x & 8), "pce": bool(x & 4), "roll": bool(x & 2),
                "columns80": bool(x & 1)}
    if kind == "speed_status":
        return {"speed": _SPEEDS.get((x >> 3) & 7)}
    if kind == "terminal_status":
        return {"pt": bool(x & 0x10), "dp": bool(x & 8), "vm": bool(x & 2), "ec": bool(x & 1)}
    return {"bits": x}


class KeyboardDecoder:
    """Bytes typed on (or replied by) a Minitel -> events. See the module docstring."""

    def __init__(self) -> None:
        self.garbage = 0
        self._events: list[Event] = []
        self._pending = bytearray()
        self._gen = self._run()
        next(self._gen)

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete sequence held until more input (or ``flush()``)."""
        return bytes(self._pending)

    def feed(self, data: bytes) -> list[Event]:
        """Decode ``data``; return the events it completes."""
        for b in data:
            if b == 0x00:
                continue
            self._pending.append(b)
            self._gen.send(b)
        out, self._events = self._events, []
        return out

    def flush(self) -> list[Event]:
        """Settle what waits for more input (see module docstring); return the events."""
        pend = bytes(self._pending)
        if pend == b"\x1b":
            self._events.append(CursorKeyEvent(CursorKey.ESCAPE))
        elif pend and not (len(pend) >= 2 and pend[0] in (0x16, 0x19) and pend[-1] in DIACRITICS):
            self.garbage += len(pend)
        else:
            out, self._events = self._events, []
            return out
        self._pending.clear()
        self._gen = self._run()
        next(self._gen)
        out, self._events = self._events, []
        return out

    # -- the machine --------------------------------------------------------------
    def _emit(self, ev: Event) -> None:
        self._events.append(ev)
        self._pending.clear()

    def _drop(self, carry: bool) -> int | None:
        """Skip the pending bytes as garbage; with ``carry`` the last one is decoded again."""
        keep = self._pending[-1] if carry and self._pending else None
        self.garbage += len(self._pending) - (1 if keep is not None else 0)
        self._pending.clear()
        if keep is not None:
            self._pending.append(keep)
        return keep

    def _run(self) -> Generator[None, int, None]:
        carry: int | None = None
        while True:
            b = carry if carry is not None else (yield)
            carry = None
            if 0x20 <= b <= 0x7E:
                self._emit(CharEvent(chr(b)))
            elif b in _C0_KEYS:
                self._emit(CursorKeyEvent(_C0_KEYS[b]))
            elif b in (0x19, 0x16):
                carry = yield from self._ss2()
            elif b == 0x13:
                carry = yield from self._sep()
            elif b == 0x1B:
                carry = yield from self._esc()
            elif b == 0x01:
                carry = yield from self._enqrom()
            elif b == 0x1F:
                carry = yield from self._position()
            else:
                self._drop(False)

    def _ss2(self) -> _Gen:
        accent: int | None = None
        while True:
            b = yield
            # A repeated accent key replaces the accent: only SS2 and the last accent are
            # held, so that a caller repeating accent keys cannot grow ``pending``.
            if b in (0x19, 0x16) and accent is not None:
                del self._pending[2:-1]  # SS2 accent [...] SS2 -> SS2 accent SS2
                continue
            if b in DIACRITICS:
                accent = b
                del self._pending[1:-1]  # SS2 [...] accent -> SS2 accent
                continue
            if accent is None:
                if b in G2_GLYPHS:
                    self._emit(CharEvent(G2_GLYPHS[b]))
                    return None
                return self._drop(b < 0x20)
            if 0x20 <= b <= 0x7E:
                letter = chr(b)
                if letter.isalpha():
                    composed = unicodedata.normalize("NFC", letter + DIACRITICS[accent])
                    self._emit(CharEvent(composed if len(composed) == 1 else letter))
                else:
                    self._emit(CharEvent(letter))
                return None
            return self._drop(True)

    def _sep(self) -> _Gen:
        b = yield
        if b in _SEP_KEYS:
            self._emit(FunctionKeyEvent(_SEP_KEYS[b]))
            return None
        if 0x40 <= b <= 0x7F:
            name = SepCode(b).name.lower() if b in SepCode._value2member_map_ else "unknown"
            self._emit(ProtocolReplyEvent("sep", bytes([b]), {"code": b, "name": name}))
            return None
        return self._drop(b < 0x20)

    def _esc(self) -> _Gen:
        b = yield
        if b == 0x3A:
            x = yield
            y = yield
            if x < 0x20 or y < 0x20:
                return self._drop(True)
            kind = _PRO2_REPLIES.get(x, "pro2")
            self._emit(ProtocolReplyEvent(kind, bytes([x, y]), _status_detail(kind, y)))
            return None
        if b == 0x3B:
            data = bytearray()
            for _ in range(3):
                x = yield
                if x < 0x20:
                    return self._drop(True)
                data.append(x)
            kind = _PRO3_REPLIES.get(data[0], "pro3")
            detail: dict[str, Any] = {"module": data[1], "bits": data[2]}
            self._emit(ProtocolReplyEvent(kind, bytes(data), detail))
            return None
        if b == 0x5B:
            return (yield from self._csi())
        if b == 0x4F:
            x = yield
            if x in _ESC_O_KEYS:
                self._emit(FunctionKeyEvent(_ESC_O_KEYS[x]))
                return None
            if 0x70 <= x <= 0x79:
                self._emit(ProtocolReplyEvent("fnct", bytes([x]), {"digit": x - 0x70}))
                return None
            return self._drop(x < 0x20)
        if b == 0x29:
            x = yield
            if x != 0x34:
                return self._drop(x < 0x20)
            x = yield
            if x != 0x0D:
                return self._drop(True)
            self._emit(FunctionKeyEvent(FunctionKey.CONNEXION_FIN))
            return None
        return self._drop(b < 0x20)

    def _csi(self) -> _Gen:
        params = bytearray()
        while True:
            b = yield
            if 0x30 <= b <= 0x3F:
                if len(params) > 8:
                    return self._drop(False)
                params.append(b)
                continue
            if 0x40 <= b <= 0x7E:
                key = _CSI_KEYS.get((bytes(params), b))
                if key is None and params in (b"1", b"0") and b in b"ABCD":
                    key = _CSI_KEYS[(b"", b)]
                if key is not None:
                    self._emit(CursorKeyEvent(key))
                elif bytes(params) == b"?" and b == 0x7A:
                    self._emit(ProtocolReplyEvent("mode_teleinformatique", b"?z"))
                else:
                    self._drop(False)
                return None
            return self._drop(b < 0x20)

    def _enqrom(self) -> _Gen:
        data = bytearray()
        while len(data) < 3:
            b = yield
            if not 0x20 <= b <= 0x7E:
                return self._drop(True)
            data.append(b)
        b = yield
        if b != 0x04:
            return self._drop(True)
        maker, model, version = chr(data[0]), chr(data[1]), chr(data[2])
        detail = {
            "maker": ENQROM_MAKERS.get(maker, f"unknown ({maker})"),
            "model": ENQROM_MODELS.get(model, f"unknown ({model})"),
            "version": version,
        }
        self._emit(ProtocolReplyEvent("enqrom", bytes(data), detail))
        return None

    def _position(self) -> _Gen:
        r = yield
        if not 0x40 <= r <= 0x58:
            return self._drop(r < 0x20)
        c = yield
        if not 0x41 <= c <= 0x7F:
            return self._drop(c < 0x20)
        self._emit(ProtocolReplyEvent("cursor_position", bytes([r, c]),
                                      {"row": r - 0x40, "col": c - 0x40}))
        return None
