"""The Minitel keyboard (§8): function keys, cursor keys and text to bytes.

Letters are sent as typed (the API types what it is given, whatever the upper/lowercase
mode). Accented letters become SS2 sequences with the lowercase base letter
(``é`` -> ``19 42 65``); uppercase accented letters are sent as the accent followed by the
uppercase letter, which is what the real keyboard sends in uppercase mode, and display as
the bare letter.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Key", "KeyboardState", "encode_key", "encode_text"]


class Key(Enum):
    """Keys that do not produce text. Values are (Vidéotex code, Téléinformatique code)."""

    ENVOI = (b"\x13\x41", b"\x1bOM")  #: §8 / §10
    RETOUR = (b"\x13\x42", b"\x1bOR")  #: §8 / §10
    REPETITION = (b"\x13\x43", b"\x1bOS")  #: §8 / §10
    GUIDE = (b"\x13\x44", b"\x1bOm")  #: §8 / §10
    ANNULATION = (b"\x13\x45", b"\x1bOQ")  #: §8 / §10
    SOMMAIRE = (b"\x13\x46", b"\x1bOP")  #: §8 / §10
    CORRECTION = (b"\x13\x47", b"\x1bOl")  #: §8 / §10
    SUITE = (b"\x13\x48", b"\x1bOn")  #: §8 / §10
    CONNEXION_FIN = (b"\x13\x49", b"\x1b\x29\x34\x0d")  #: §8 / §10 (to the modem)
    UP = (b"\x1b[A", b"\x0b")  #: §8 CSI coding / C0 coding (extended keyboard only)
    DOWN = (b"\x1b[B", b"\x0a")  #: §8
    RIGHT = (b"\x1b[C", b"\x09")  #: §8
    LEFT = (b"\x1b[D", b"\x08")  #: §8
    SHIFT_UP = (b"\x1b[M", b"")  #: §8 delete row
    SHIFT_DOWN = (b"\x1b[L", b"")  #: §8 insert row
    SHIFT_RIGHT = (b"\x1b[4h", b"")  #: §8 insert mode, toggles with 1B 5B 34 6C
    SHIFT_LEFT = (b"\x1b[P", b"")  #: §8 delete character
    CTRL_LEFT = (b"\x7f", b"\x7f")  #: §8
    ENTER = (b"\x0d", b"\x0d")  #: §8
    SHIFT_ENTER = (b"\x1b[H", b"\x1e")  #: §8
    CTRL_ENTER = (b"\x1b[2J", b"\x0c")  #: §8


_FUNCTION_KEYS = frozenset(list(Key)[:9])
_EXTENDED_KEYS = frozenset(list(Key)[9:])

#: §6/§8 SS2 sequences for the characters the keyboard can type.
_SS2_TEXT: dict[str, bytes] = {
    "£": b"\x19\x23", "$": b"$", "#": b"#", "§": b"\x19\x27", "←": b"\x19\x2c",
    "↑": b"\x19\x2d", "→": b"\x19\x2e", "↓": b"\x19\x2f", "°": b"\x19\x30",
    "±": b"\x19\x31", "÷": b"\x19\x38", "¼": b"\x19\x3c", "½": b"\x19\x3d",
    "¾": b"\x19\x3e", "Œ": b"\x19\x6a", "œ": b"\x19\x7a", "β": b"\x19\x7b",
    "ß": b"\x19\x7b", "ç": b"\x19\x4b\x63", "Ç": b"\x19\x4b\x43",
}
_ACCENT_OF = {"\u0300": 0x41, "\u0301": 0x42, "\u0302": 0x43, "\u0308": 0x48, "\u0327": 0x4B}


class KeyboardState:
    """Keyboard modes set by the protocol (§9) plus the Shift+→ insert toggle."""

    def __init__(self) -> None:
        self.insert_toggle = False


def encode_text(text: str) -> bytes:
    """Bytes the keyboard sends for ``text``; raises ValueError naming an untypable char."""
    import unicodedata

    out = bytearray()
    for index, ch in enumerate(text):
        code = ord(ch)
        if ch in "\r\n":
            out.append(0x0D)
        elif 0x20 <= code <= 0x7E:
            out.append(code)
        elif ch in _SS2_TEXT:
            out += _SS2_TEXT[ch]
        else:
            parts = unicodedata.normalize("NFD", ch)
            if len(parts) == 2 and parts[0].isascii() and parts[1] in _ACCENT_OF:
                out += bytes((0x19, _ACCENT_OF[parts[1]], ord(parts[0])))
            else:
                raise ValueError(
                    f"cannot type {ch!r} (U+{code:04X}) at index {index}: "
                    "no Minitel key produces it"
                )
    return bytes(out)


def encode_key(key: Key, *, extended: bool, c0: bool, teleinfo: bool,
               state: KeyboardState) -> bytes:
    """Bytes sent for ``key`` in the given keyboard modes (§8, §10)."""
    videotex, other = key.value
    if key in _FUNCTION_KEYS:
        return other if teleinfo else videotex
    if key in (Key.ENTER, Key.CTRL_LEFT):
        return videotex
    if not extended and not teleinfo:
        return b""  # F: on the standard keyboard arrows send nothing
    if c0:
        return other
    if key is Key.SHIFT_RIGHT:
        state.insert_toggle = not state.insert_toggle
        return b"\x1b[4h" if state.insert_toggle else b"\x1b[4l"
    return videotex
