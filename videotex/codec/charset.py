"""Unicode text <-> what a Minitel can show (G0, G2, G1 mosaics).

Owns the mapping between Python text and *glyphs*, the one-character strings
of docs/cell-model.md (``"é"``, ``"£"``, ``"{"`` for the G0 bar 0x7B, ``"█"``
for 0x7F), and between glyphs and bytes.

Fallback for text a Minitel cannot show (``to_glyphs``), applied in order:

1. a glyph of the repertoire is kept (G0 printable ASCII except ``{|}~```, the
   G2 glyphs ``£ § ° ± ÷ ¼ ½ ¾ Œ œ β ← ↑ → ↓`` and the accented lowercase
   letters ``à â ä é è ê ë î ï ô ö ù û ü ç``);
2. a listed transliteration (``FALLBACK``): typographic quotes and dashes,
   ``€`` -> ``EUR``, ``…`` -> ``...``, ``ß`` -> ``β``, ``{`` -> ``(``,
   ``}`` -> ``)``, ``|`` -> ``!``, ``~`` -> ``-``, `````` -> ``'``, no-break
   spaces -> space, and so on. ``{|}~`` are bars on a 40-column Minitel (§6,
   §11 #9), so text never sends them as braces;
3. a letter with diacritics outside the repertoire, uppercase accented letters
   included, becomes its base letter (``É`` -> ``E``, ``ñ`` -> ``n``), which is
   what the terminal itself shows for ``SS2 accent A`` (§6);
4. anything else (controls, CJK, emoji) becomes ``?``. Nothing raises.

Invariants: ``glyph_bytes`` accepts exactly the glyphs of the cell model and
returns the shortest bytes (G0 before G2); the encoder never emits SYN (0x16).
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ACCENTED",
    "DIACRITICS",
    "FALLBACK",
    "G2_GLYPHS",
    "GLYPHS",
    "SUBSTITUTE",
    "g1_byte",
    "g1_sextants",
    "g2_glyph",
    "glyph_bytes",
    "is_glyph",
    "to_glyphs",
]

#: §6 G2 spacing glyphs: code -> glyph.
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

#: §6 non-spacing diacritics of G2: code -> combining character.
DIACRITICS: dict[int, str] = {
    0x41: "\u0300",  # grave
    0x42: "\u0301",  # acute
    0x43: "\u0302",  # circumflex
    0x48: "\u0308",  # diaeresis
    0x4B: "\u0327",  # cedilla
}

#: §6 accented letters of the VGP5 repertoire: glyph -> (diacritic code, letter).
ACCENTED: dict[str, tuple[int, str]] = {
    "à": (0x41, "a"),
    "â": (0x43, "a"),
    "ä": (0x48, "a"),
    "é": (0x42, "e"),
    "è": (0x41, "e"),
    "ê": (0x43, "e"),
    "ë": (0x48, "e"),
    "î": (0x43, "i"),
    "ï": (0x48, "i"),
    "ô": (0x43, "o"),
    "ö": (0x48, "o"),
    "ù": (0x41, "u"),
    "û": (0x43, "u"),
    "ü": (0x48, "u"),
    "ç": (0x4B, "c"),
}

_COMPOSE: dict[tuple[int, str], str] = {v: k for k, v in ACCENTED.items()}

#: What is shown for text that has no better fallback.
SUBSTITUTE = "?"

#: Documented transliterations (Unicode -> text of the repertoire).
FALLBACK: dict[str, str] = {
    "{": "(",
    "}": ")",
    "|": "!",
    "~": "-",
    "`": "'",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2033": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u20ac": "EUR",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u00df": "β",
    "\u00d7": "x",
    "\u2022": "*",
    "\u00b7": ".",
    "\u00e6": "ae",
    "\u00c6": "AE",
    "\u00f8": "o",
    "\u00d8": "O",
    "\u0153": "œ",
    "\u0152": "Œ",
    "\u00a9": "(C)",
    "\u00ae": "(R)",
    "\u2122": "TM",
    "\u00b2": "2",
    "\u00b3": "3",
    "\u00b9": "1",
    "\u00a2": "c",
    "\u00a5": "Y",
    "\u00bf": "?",
    "\u00a1": "!",
    "\u00b5": "u",
    "\u0131": "i",
}

#: G0 glyphs a cell can hold (printable 0x20-0x7E keep their ASCII identity).
_G0 = {chr(c): bytes([c]) for c in range(0x20, 0x7F)}
_G0["█"] = b"\x7f"

#: Every glyph of the cell model -> shortest bytes.
GLYPHS: dict[str, bytes] = dict(_G0)
for _code, _glyph in G2_GLYPHS.items():
    GLYPHS.setdefault(_glyph, bytes([0x19, _code]))
for _glyph, (_acc, _letter) in ACCENTED.items():
    GLYPHS[_glyph] = bytes([0x19, _acc, ord(_letter)])

#: Glyphs text may produce directly (rule 1): the repertoire minus the G0 bars.
_TEXT_OK = {g for g in GLYPHS if g not in "{|}~`█"}


def is_glyph(glyph: str) -> bool:
    """True when ``glyph`` is a one-character glyph of the cell model."""
    return glyph in GLYPHS


def glyph_bytes(glyph: str) -> bytes:
    """Bytes that draw ``glyph`` (a cell-model glyph) in G0/G2.

    Raises ``ValueError`` naming the glyph when it is not in the repertoire
    (use ``to_glyphs`` first for arbitrary text).
    """
    try:
        return GLYPHS[glyph]
    except KeyError:
        raise ValueError(
            f"glyph {glyph!r} (U+{ord(glyph[0]) if glyph else 0:04X}) is not in the Minitel "
            "repertoire; pass text through to_glyphs() first"
        ) from None


def _fallback_one(ch: str) -> list[str]:
    if ch in _TEXT_OK:
        return [ch]
    sub = FALLBACK.get(ch)
    if sub is not None:
        return list(sub)
    decomposed = unicodedata.normalize("NFKD", ch)
    base = decomposed[:1]
    if base and base != ch and base in _TEXT_OK:
        if len(decomposed) == 2 and base.islower():
            code = next((k for k, v in DIACRITICS.items() if v == decomposed[1]), None)
            if code is not None and (code, base) in _COMPOSE:
                return [_COMPOSE[(code, base)]]
        return [base]
    return [SUBSTITUTE]


def to_glyphs(text: str) -> list[str]:
    """Turn Unicode text into the glyphs a Minitel shows, one per cell.

    Applies the documented fallback (module docstring); never raises.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        out.extend(_fallback_one(ch))
    return out


def g2_glyph(code: int, letter: int | None = None) -> str:
    """Glyph for ``SS2 code`` (and the following letter for a diacritic).

    Follows §6 as the terminal does: an accent with a letter outside the
    repertoire shows the base letter; an undefined G2 code shows ``_``.
    """
    if code in DIACRITICS:
        if letter is None:
            return "_"
        base = chr(letter)
        return _COMPOSE.get((code, base), base if 0x20 <= letter <= 0x7E else "_")
    return G2_GLYPHS.get(code, "_")


def g1_byte(sextants: int) -> int:
    """G1 code of a 2x3 mosaic (bit order of docs/cell-model.md)."""
    if not 0 <= sextants <= 63:
        raise ValueError(f"sextants must be 0-63, got {sextants}")
    return 0x20 + (sextants & 0x1F) + (0x40 if sextants & 0x20 else 0)


def g1_sextants(code: int) -> int:
    """Sextants of a G1 code 0x20-0x7F (0x40-0x5E draw like 0x60-0x7E, §11 #4)."""
    if not 0x20 <= code <= 0x7F:
        raise ValueError(f"G1 code must be 0x20-0x7F, got 0x{code:02X}")
    return (code & 0x1F) | (0x20 if code & 0x40 else 0)
