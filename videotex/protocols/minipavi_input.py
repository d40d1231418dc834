"""The input a MiniPavi gateway edits itself (reference §4), sans-IO.

Two layers:

- :class:`KeyDecoder` turns the caller's bytes (any split) into tokens: a data byte (``int``)
  or a :class:`~videotex.codec.FunctionKey`. It first removes what the gateway removes
  (ESC 0x39 +1, ESC 0x3A +2, ESC 0x3B +3 bytes, the SOH…EOT identification, 0x0D and the byte
  after it), maps ESC [A/[B/[D/[C to Retour/Suite/Correction/space, then pairs SEP with its
  code. A partial sequence or a trailing lone SEP waits for the next read.
- :class:`InputTxt`, :class:`InputMsg` and :class:`InputForm` are the field editors of the
  ``COMMAND``s of the same names (defaults and clamping of §4; bad parameter types raise
  :class:`~videotex.protocols.minipavi.GatewayError` 10). :func:`handle_read` applies one
  read's tokens to an editor (or to no editor) and says which key, if any, is sent.

Invariants: an editor's field holds the bytes typed (SS2 sequences as typed), its length is
counted in decoded characters and never exceeds the field's; every byte an editor returns
is the exact §4 feedback (echo, Correction, Annulation, moves), nothing else.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from videotex.codec import FunctionKey

from .minipavi import Command, ErrorCode, Fctn, GatewayError, ss2_to_text, text_to_ss2

__all__ = [
    "FCTN",
    "VALIDWITH",
    "Editor",
    "InputForm",
    "InputMsg",
    "InputTxt",
    "KeyAction",
    "KeyDecoder",
    "ReadResult",
    "Token",
    "handle_read",
    "make_editor",
    "php_int",
    "token_bytes",
]

_SEP = 0x13
_CON, _COFF, _REP, _BS = b"\x11", b"\x14", 0x12, b"\x08"

#: A decoded input token: a data byte or a function key.
Token = int | FunctionKey

#: §4 SEP codes (``Y`` is a second Connexion/Fin).
_SEP_KEYS: dict[int, FunctionKey] = {
    0x41: FunctionKey.ENVOI,
    0x42: FunctionKey.RETOUR,
    0x43: FunctionKey.REPETITION,
    0x44: FunctionKey.GUIDE,
    0x45: FunctionKey.ANNULATION,
    0x46: FunctionKey.SOMMAIRE,
    0x47: FunctionKey.CORRECTION,
    0x48: FunctionKey.SUITE,
    0x49: FunctionKey.CONNEXION_FIN,
    0x59: FunctionKey.CONNEXION_FIN,
}
_KEY_CODES = {key: code for code, key in reversed(_SEP_KEYS.items())}

#: §2 the ``fctn`` a sent key gives.
FCTN: dict[FunctionKey, Fctn] = {
    FunctionKey.ENVOI: Fctn.ENVOI,
    FunctionKey.RETOUR: Fctn.RETOUR,
    FunctionKey.REPETITION: Fctn.REPETITION,
    FunctionKey.GUIDE: Fctn.GUIDE,
    FunctionKey.ANNULATION: Fctn.ANNULATION,
    FunctionKey.SOMMAIRE: Fctn.SOMMAIRE,
    FunctionKey.CORRECTION: Fctn.CORRECTION,
    FunctionKey.SUITE: Fctn.SUITE,
    FunctionKey.CONNEXION_FIN: Fctn.FIN,
}

#: §4 ``validwith`` bits.
VALIDWITH: dict[FunctionKey, int] = {
    FunctionKey.SOMMAIRE: 1,
    FunctionKey.ANNULATION: 2,
    FunctionKey.RETOUR: 4,
    FunctionKey.REPETITION: 8,
    FunctionKey.GUIDE: 16,
    FunctionKey.CORRECTION: 32,
    FunctionKey.SUITE: 64,
    FunctionKey.ENVOI: 128,
}


def token_bytes(token: Token) -> bytes:
    """The bytes a token stands for (to relay decoded input as it was typed)."""
    if isinstance(token, FunctionKey):
        return bytes((_SEP, _KEY_CODES[token]))
    return bytes((token,))


# -- the key decoder ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Removed:
    """A sequence the gateway takes out of the input before reading keys."""

    pattern: tuple[int | None, ...]  # None: any byte
    skip: int  # bytes dropped after it
    replace: bytes
    ident: bool = False


_ANY = None
#: §4 "removed first", in the gateway's order.
_REMOVED = (
    _Removed((0x1B, 0x39), 1, b""),  # PRO1 replies: ESC 39 + 1 byte
    _Removed((0x1B, 0x3A), 2, b""),  # PRO2: + 2
    _Removed((0x1B, 0x3B), 3, b""),  # PRO3: + 3
    _Removed((0x1B, 0x5B, 0x43), 0, b" "),  # ESC [C -> space
    _Removed((0x1B, 0x5B, 0x44), 0, b"\x13G"),  # ESC [D -> Correction
    _Removed((0x1B, 0x5B, 0x41), 0, b"\x13B"),  # ESC [A -> Retour
    _Removed((0x1B, 0x5B, 0x42), 0, b"\x13H"),  # ESC [B -> Suite
    _Removed((0x01, _ANY, _ANY, _ANY, 0x04), 0, b"", ident=True),  # identification
    _Removed((0x0D,), 1, b""),  # 0x0D eats itself and the next byte (capture hotkey)
)


def _match(held: bytearray, pattern: tuple[int | None, ...]) -> int:
    """2: ``held`` is the whole pattern, 1: a proper prefix of it, 0: neither."""
    if len(held) > len(pattern):
        return 0
    for byte, want in zip(held, pattern, strict=False):
        if want is not None and byte != want:
            return 0
    return 2 if len(held) == len(pattern) else 1


class KeyDecoder:
    """Bytes from the caller -> tokens, by the gateway's rules (§4). Reads may split anywhere:
    a partial sequence, a pending skip and a trailing lone SEP carry over to the next feed."""

    def __init__(self) -> None:
        self._held = bytearray()
        self._skip = 0
        self._sep = False
        #: The last identification reply's three characters (``versionminitel``).
        self.identification: str | None = None

    @property
    def pending(self) -> bool:
        """Bytes wait for the next read (a partial sequence, a skip or a lone SEP)."""
        return bool(self._held) or self._skip > 0 or self._sep

    def feed(self, data: bytes) -> list[Token]:
        """The tokens of ``data`` (what completes in it)."""
        tokens: list[Token] = []
        for byte in self._filter(data):
            if self._sep:
                self._sep = False
                key = _SEP_KEYS.get(byte)
                if key is not None:  # other codes are ignored
                    tokens.append(key)
            elif byte == _SEP:
                self._sep = True
            else:
                tokens.append(byte)
        return tokens

    def _filter(self, data: bytes) -> bytearray:
        out = bytearray()
        held = self._held
        for byte in data:
            if self._skip:
                self._skip -= 1
                continue
            held.append(byte)
            prefix = False
            for removed in _REMOVED:
                found = _match(held, removed.pattern)
                if found == 2:
                    self._skip = removed.skip
                    out += removed.replace
                    if removed.ident:
                        self.identification = bytes(held[1:4]).decode("latin-1")
                    held.clear()
                    break
                prefix = prefix or found == 1
            else:
                if not prefix:  # not the start of anything removed: it is input
                    out += held
                    held.clear()
        return out


# -- parameters -----------------------------------------------------------------------------

def php_int(value: Any) -> int:
    """PHP's ``(int)`` cast: never fails (``"12abc"`` is 12, ``"abc"`` 0, ``[]`` 0, ``[1]`` 1)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and abs(value) < 2**63 else 0
    if isinstance(value, str):
        text = value.lstrip(" \t\n\r\v\f")
        digits = len(text) - len(text.lstrip("+-"))
        sign, rest = text[: min(digits, 1)], text[min(digits, 1):]
        number = ""
        for ch in rest:
            if not ch.isascii() or not ch.isdigit():
                break
            number += ch
        if not number:
            return 0
        return max(-(2**63), min(2**63 - 1, int(sign + number)))  # strtol saturates
    if isinstance(value, list | dict):
        return 1 if value else 0
    return 0


def _bad(name: str, param: str, value: Any, wanted: str) -> GatewayError:
    return GatewayError(ErrorCode.BAD_COMMAND,
                        detail=f"Exception: {name} param {param} must be {wanted}, "
                               f"got {type(value).__name__} {value!r:.60}")


_LEADING_NUMBER = re.compile(r"[ \t\n\r\v\f]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _number(name: str, param: str, value: Any) -> int:
    """A number PHP can compute with (a number, a (leading-)numeric string), else ERR 10."""
    if isinstance(value, str) and not _LEADING_NUMBER.match(value):
        raise _bad(name, param, value, "a number")
    if isinstance(value, list | dict):
        raise _bad(name, param, value, "a number")
    return php_int(value)


def _text(name: str, param: str, value: Any) -> str:
    """A string parameter (numbers as PHP turns them into strings), else ERR 10."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, int | float):
        return str(value)
    raise _bad(name, param, value, "a string")


def _list(name: str, param: str, value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # a PHP array with keys: its values in order
        return list(value.values())
    raise _bad(name, param, value, "an array")


def _pos(row: int, col: int) -> bytes:
    return bytes((0x1F, 0x40 + row, 0x40 + col))


def _glyph(text: str) -> bytes:
    """The bytes of the first character of ``text`` (one cell), empty for empty text."""
    return text_to_ss2(text[:1]) if text else b""


def _shown(text: str, length: int) -> str:
    """A prefill as the field holds it: what its bytes read back as (``€`` is ``EUR``, one
    character per cell), cut to the field."""
    return ss2_to_text(text_to_ss2(text))[:length]


def _cursor(param: Mapping[str, Any]) -> bytes:
    return _COFF if param.get("cursor") == "off" else _CON


# -- editors --------------------------------------------------------------------------------

class KeyAction(enum.Enum):
    """What an editor does with a function key."""

    LOCAL = "local"  #: §4 edited by the gateway (Correction, Annulation, moves): nothing sent
    SEND = "send"  #: §4 validated: the gateway calls the service with it
    IGNORE = "ignore"  #: §4 not in ``validwith``: no feedback, the rest of the read dropped


@dataclass(slots=True)
class _Field:
    row: int
    col: int
    length: int
    #: What an echoed byte shows instead of itself (``char``), empty for the byte itself.
    mask: bytes
    raw: bytearray

    @property
    def count(self) -> int:
        return len(ss2_to_text(bytes(self.raw)))


class Editor:
    """A field editor (base of InputTxt, InputMsg, InputForm)."""

    name = "Input"
    #: Suite/Retour move between fields instead of being validating keys.
    local_moves = False
    #: Sommaire is sent whatever ``validwith`` says.
    sommaire_always = False
    #: A full field moves to the next one (InputMsg lines).
    auto_advance = False

    def __init__(self, fields: list[_Field], spacechar: bytes, validwith: int,
                 cursor: bytes) -> None:
        self.fields = fields
        self.spacechar = spacechar
        self.validwith = validwith
        self.cursor = cursor
        self.current = 0

    @property
    def field(self) -> _Field:
        return self.fields[self.current]

    def draw(self) -> bytes:
        """The bytes that draw the fields (sent after the answer's content)."""
        raise NotImplementedError

    def content(self) -> list[str]:
        """``PAVI.content``: one string per field, accents in UTF-8."""
        return [ss2_to_text(bytes(f.raw)) for f in self.fields]

    def char(self, byte: int, echo: bool) -> bytes:
        """A data byte typed; returns the echo (and, for a full InputMsg line, the move)."""
        f = self.field
        if f.count >= f.length:
            return b""  # overflow: silently dropped
        if not (0x20 <= byte <= 0x7E or byte in (0x19, 0x08)):
            return b""
        f.raw.append(byte)
        out = (f.mask or bytes((byte,))) if echo else b""
        if self.auto_advance and f.count >= f.length:
            out += self._move(+1)
        return out

    def key(self, key: FunctionKey) -> tuple[KeyAction, bytes]:
        """A function key: what to do with it and the bytes of a local edit."""
        if key is FunctionKey.CONNEXION_FIN:
            return KeyAction.SEND, b""
        if key is FunctionKey.CORRECTION:
            return KeyAction.LOCAL, self._correction()
        if key is FunctionKey.ANNULATION:
            return KeyAction.LOCAL, self._annulation()
        if self.local_moves and key in (FunctionKey.SUITE, FunctionKey.RETOUR):
            return KeyAction.LOCAL, self._move(+1 if key is FunctionKey.SUITE else -1)
        if self.sommaire_always and key is FunctionKey.SOMMAIRE:
            return KeyAction.SEND, b""
        if self.validwith & VALIDWITH[key]:
            return KeyAction.SEND, b""
        return KeyAction.IGNORE, b""

    def _correction(self) -> bytes:
        f = self.field
        text = ss2_to_text(bytes(f.raw))
        if not text:
            return b""
        f.raw[:] = text_to_ss2(text[:-1])
        return _BS + self.spacechar + _BS

    def _annulation(self) -> bytes:
        f = self.field
        count = f.count
        if not count:
            return b""
        f.raw.clear()
        start = _pos(f.row, f.col)
        return start + self.spacechar + bytes((_REP, 0x40 + count - 1)) + start

    def _move(self, step: int) -> bytes:
        target = self.current + step
        if not 0 <= target < len(self.fields):
            return b""  # no-op at the edges
        self.current = target
        f = self.field
        shown = f.mask * f.count if f.mask else bytes(f.raw)
        return _pos(f.row, f.col) + shown

    def _blank(self, f: _Field) -> bytes:
        return _pos(f.row, f.col) + self.spacechar + bytes((_REP, 0x40 + f.length - 1))


class InputTxt(Editor):
    """One-line input (§4 InputTxt): ``x`` 1-40, ``y`` 0-24, ``l`` 1..41-x (else 1)."""

    name = "InputTxt"

    def __init__(self, param: Mapping[str, Any]) -> None:
        n = self.name
        x = php_int(param.get("x"))
        x = x if 1 <= x <= 40 else 1
        y = php_int(param.get("y"))
        y = y if 0 <= y <= 24 else 1
        length = php_int(param.get("l"))
        length = length if 1 <= length <= 41 - x else 1
        mask = _glyph(_text(n, "char", param.get("char")))
        space = _glyph(_text(n, "spacechar", param.get("spacechar"))) or b" "
        # The PHP gateway keeps the prefill's tail past l (a bug); its head is what fits.
        self.prefill = _shown(_text(n, "prefill", param.get("prefill")), length)
        validwith = _number(n, "validwith", param.get("validwith"))
        field = _Field(y, x, length, mask, bytearray(text_to_ss2(self.prefill)))
        super().__init__([field], space, validwith, _cursor(param))

    def draw(self) -> bytes:
        f = self.field
        return self._blank(f) + _pos(f.row, f.col) + self.cursor + text_to_ss2(self.prefill)


class InputMsg(Editor):
    """Multi-line input (§4 InputMsg): ``h`` lines of ``w`` at (x, y); Suite/Retour move
    between lines, a full line moves to the next one."""

    name = "InputMsg"
    local_moves = True
    auto_advance = True

    def __init__(self, param: Mapping[str, Any]) -> None:
        n = self.name
        x = php_int(param.get("x"))
        x = x if 1 <= x <= 40 else 1
        y = php_int(param.get("y"))
        y = y if 1 <= y <= 24 else 1
        w = php_int(param.get("w"))
        w = w if 1 <= w <= 41 - x else 41 - x
        h = php_int(param.get("h"))
        h = h if 1 <= h <= 25 - y else 25 - y
        prefill = param.get("prefill")
        lines = ([_shown(_text(n, "prefill", v), w) for v in prefill[:h]]
                 if isinstance(prefill, list) else [])
        #: Prefilled lines up to the last non-blank one are drawn.
        self.prefill = lines
        self.drawn = max((i + 1 for i, t in enumerate(lines) if t.strip(" \t\n\r\0\x0b")),
                         default=0)
        space = _glyph(_text(n, "spacechar", param.get("spacechar"))) or b" "
        validwith = _number(n, "validwith", param.get("validwith"))
        fields = [_Field(y + i, x, w, b"", bytearray(text_to_ss2(lines[i] if i < len(lines)
                                                                   else "")))
                  for i in range(h)]
        super().__init__(fields, space, validwith if validwith > 0 else 128, _cursor(param))
        self.current = max(self.drawn - 1, 0)

    def draw(self) -> bytes:
        out = bytearray()
        for i, f in enumerate(self.fields):
            out += self._blank(f)
            if i < self.drawn:
                out += _pos(f.row, f.col) + text_to_ss2(self.prefill[i])
        if self.drawn:
            last = self.fields[self.drawn - 1]
            out += _pos(last.row, last.col + len(self.prefill[self.drawn - 1]))
        else:
            out += _pos(self.fields[0].row, self.fields[0].col)
        return bytes(out + self.cursor)


class InputForm(Editor):
    """A form (§4 InputForm): up to 30 fields at ``x[i]``, ``y[i]`` of ``l[i]``; Suite/Retour
    move through them, Sommaire is always sent."""

    name = "InputForm"
    local_moves = True
    sommaire_always = True
    max_fields = 30

    def __init__(self, param: Mapping[str, Any]) -> None:
        n = self.name
        xs, ys, ls = (_list(n, k, param.get(k)) for k in ("x", "y", "l"))
        if (xs is None or ys is None or ls is None or not 1 <= len(xs) <= self.max_fields
                or not len(xs) == len(ys) == len(ls)):
            xs, ys, ls = [1], [1], [10]
        given = param.get("prefill")
        prefill = (_list(n, "prefill", given) or []) if isinstance(given, list | dict) else []
        chars = param.get("char")
        masks = _list(n, "char", chars) if isinstance(chars, list | dict) else [chars] * len(xs)
        space = _glyph(_text(n, "spacechar", param.get("spacechar"))) or b"."
        validwith = _number(n, "validwith", param.get("validwith"))
        fields: list[_Field] = []
        self.prefill: list[str] = []
        for i, (xv, yv, lv) in enumerate(zip(xs, ys, ls, strict=True)):
            x = _number(n, "x", xv)
            x = x if 1 <= x <= 40 else 1
            y = _number(n, "y", yv)
            y = y if 1 <= y <= 24 else 1
            length = _number(n, "l", lv)
            length = length if 1 <= length <= 41 - x else 41 - x
            text = _shown(_text(n, "prefill", prefill[i]), length) if i < len(prefill) else ""
            mask = _glyph(_text(n, "char", masks[i])) if masks and i < len(masks) else b""
            self.prefill.append(text)
            fields.append(_Field(y, x, length, mask, bytearray(text_to_ss2(text))))
        if validwith <= 0 or validwith in (128, 4):
            validwith = 128
        super().__init__(fields, space, validwith, _cursor(param))

    def draw(self) -> bytes:
        out = bytearray()
        for f in self.fields:
            out += self._blank(f)
        for f, text in zip(self.fields, self.prefill, strict=True):
            out += _pos(f.row, f.col) + text_to_ss2(text)
        first = self.fields[0]
        out += _pos(first.row, first.col + len(self.prefill[0])) + self.cursor
        return bytes(out)


_EDITORS: dict[str, Callable[[Mapping[str, Any]], Editor]] = {"InputTxt": InputTxt, "InputMsg": InputMsg,
                                     "InputForm": InputForm}


def make_editor(command: Command) -> Editor | None:
    """The editor of an input command (``None`` for other commands); ERR 10 on bad types."""
    cls = _EDITORS.get(command.name)
    return None if cls is None else cls(command.param)


# -- one read -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReadResult:
    """What one read did."""

    #: Bytes for the caller (echo and local edits).
    output: bytes = b""
    #: The key sent to the service, if one was.
    sent: FunctionKey | None = None
    #: Tokens after the sent key, to handle once the service has answered.
    rest: tuple[Token, ...] = ()
    #: An ignored key dropped the rest of the read.
    dropped: bool = False


def handle_read(editor: Editor | None, tokens: Sequence[Token], echo: bool) -> ReadResult:
    """Apply one read's tokens (§4). Without an active editor characters are neither echoed
    nor kept and every function key is sent at once."""
    out = bytearray()
    for i, token in enumerate(tokens):
        if isinstance(token, FunctionKey):
            if editor is None:
                return ReadResult(bytes(out), token, tuple(tokens[i + 1:]))
            action, data = editor.key(token)
            out += data
            if action is KeyAction.SEND:
                return ReadResult(bytes(out), token, tuple(tokens[i + 1:]))
            if action is KeyAction.IGNORE:
                return ReadResult(bytes(out), dropped=True)
        elif editor is not None:
            out += editor.char(token, echo)
    return ReadResult(bytes(out))
