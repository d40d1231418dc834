"""Glyph identities of the G0, G1 and G2 sets (§6) and their text forms.

The cell model (docs/cell-model.md) keeps G0 codes under their ASCII identity; the
``TEXT_G0`` table is only what the text and ANSI renders show for the Minitel-specific
glyphs. Decision: 0x2F and 0x5C stay ``/`` and ``\\`` in text (readable, and a Minitel
diagonal is still a slash); 0x5E is shown as ``↑``.
"""

from __future__ import annotations

__all__ = [
    "ACCENTS",
    "ERROR_BLOCK",
    "G2_GLYPHS",
    "LOW_BAR",
    "SEXTANT_TEXT",
    "TEXT_G0",
    "combine_accent",
    "g1_sextants",
    "sextant_char",
]

#: §6 undefined G2 code is drawn as the low bar 0x5F.
LOW_BAR = "_"
#: §3 SUB error block and G0 0x7F, as the cell model spells them.
ERROR_BLOCK = "█"

#: §6 G2 spacing glyphs (SS2 + code).
G2_GLYPHS: dict[int, str] = {
    0x23: "£",
    0x24: "$",
    0x26: "#",
    0x27: "§",
    0x2C: "←",
    0x2D: "↑",
    0x2E: "→",
    0x2F: "↓",
    0x30: "°",
    0x31: "±",
    0x38: "÷",
    0x3C: "¼",
    0x3D: "½",
    0x3E: "¾",
    0x6A: "Œ",
    0x7A: "œ",
    0x7B: "β",
}

#: §6 non-spacing diacritics of G2 column 4, and the letters each combines with (VGP5).
ACCENTS: dict[int, dict[str, str]] = {
    0x41: {"a": "à", "e": "è", "u": "ù"},  # grave
    0x42: {"e": "é"},  # acute
    0x43: {"a": "â", "e": "ê", "i": "î", "o": "ô", "u": "û"},  # circumflex
    0x48: {"a": "ä", "e": "ë", "i": "ï", "o": "ö", "u": "ü"},  # diaeresis
    0x4B: {"c": "ç"},  # cedilla
}

#: What the text render shows for G0 codes whose Minitel glyph differs from ASCII (§6).
TEXT_G0: dict[str, str] = {
    "^": "↑",
    "`": "─",
    "{": "▏",
    "|": "│",
    "}": "▕",
    "~": "▔",
    "\x7f": "█",
}


def combine_accent(accent: int, letter: int) -> str:
    """Return the glyph of ``SS2 accent letter``: precomposed when the pair exists,
    else the bare letter (§6: no uppercase accents, unknown pair shows the base letter)."""
    base = chr(letter)
    return ACCENTS.get(accent, {}).get(base, base)


def g1_sextants(code: int) -> int:
    """Sextant bits (cell-model order) of a G1 byte 0x20-0x7F (§6).

    0x40-0x5E are drawn like 0x60-0x7E, 0x5F and 0x7F are the full block.
    """
    if code == 0x5F:
        return 63
    if 0x40 <= code <= 0x5E:
        code += 0x20
    low = code & 0x1F  # b0..b4
    return low | (0x20 if code & 0x40 else 0)


def _sextant_table() -> list[str]:
    table = [" "] * 64
    point = 0x1FB00
    for bits in range(1, 63):
        if bits == 21:
            table[bits] = "▌"
        elif bits == 42:
            table[bits] = "▐"
        else:
            table[bits] = chr(point)
            point += 1
    table[63] = "█"
    return table


#: Unicode text for each of the 64 sextant patterns (U+1FB00-U+1FB3B plus ▌ ▐ █ and space).
SEXTANT_TEXT: tuple[str, ...] = tuple(_sextant_table())


def sextant_char(bits: int) -> str:
    """Unicode character for a sextant pattern 0-63."""
    return SEXTANT_TEXT[bits & 63]
