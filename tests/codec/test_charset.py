"""Charset: Unicode text -> glyphs with the documented fallback; glyphs <-> bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.codec import g1_byte, g1_sextants, glyph_bytes, to_glyphs
from videotex.codec.charset import GLYPHS, g2_glyph


@pytest.mark.parametrize(
    ("text", "glyphs"),
    [
        ("Résultats", list("Résultats")),
        ("ÉCOLE", list("ECOLE")),  # no uppercase accents: base letter, as the terminal shows
        ("À Ç Ù", list("A C U")),
        ("“oui” – l’été…", list('"oui" - l\'été...')),
        ("5 €", list("5 EUR")),
        ("{a|b}~`", list("(a!b)-'")),  # G0 7B-7E are bars on a Minitel, never sent as text
        ("straße", list("straβe")),
        ("ñ á", list("n a")),  # accent outside the repertoire: base letter
        ("日本🙂", ["?", "?", "?"]),
        ("a\nb\tc\x00", list("a?b?c?")),
        ("½ ¼ ¾ ° ± ÷ £ §", list("½ ¼ ¾ ° ± ÷ £ §")),
        ("← ↑ → ↓ Œ œ", list("← ↑ → ↓ Œ œ")),
        ("ä ö ü ï ë", list("ä ö ü ï ë")),
        ("e\u0301", ["é"]),  # decomposed input is composed first
    ],
)
def test_to_glyphs(text: str, glyphs: list[str]) -> None:
    assert to_glyphs(text) == glyphs


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_drawable_glyphs(text: str) -> None:
    for g in to_glyphs(text):
        assert g in GLYPHS
        assert g not in "{|}~`"
        assert glyph_bytes(g)


def test_glyph_bytes_rejects_unknown_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not in the Minitel repertoire"):
        glyph_bytes("€")


def test_ascii_bars_are_glyphs_of_the_cell_model() -> None:
    # a page imported from the emulator may hold the G0 bars; they encode as themselves
    assert glyph_bytes("{") == b"{" and glyph_bytes("~") == b"~"


def test_g2_decoding_follows_the_terminal() -> None:
    assert g2_glyph(0x42, ord("e")) == "é"
    assert g2_glyph(0x41, ord("u")) == "ù"
    assert g2_glyph(0x42, ord("A")) == "A"  # no uppercase accent
    assert g2_glyph(0x21) == "_"  # undefined G2 code: low bar
    assert g2_glyph(0x23) == "£"


def test_mosaic_round_trip_and_range_errors() -> None:
    for s in range(64):
        assert g1_sextants(g1_byte(s)) == s
    assert g1_sextants(0x5F) == 63  # 0x40-0x5E draw like 0x60-0x7E (§11 #4)
    assert g1_sextants(0x41) == g1_sextants(0x61)
    with pytest.raises(ValueError, match="sextants must be 0-63"):
        g1_byte(64)
    with pytest.raises(ValueError, match="G1 code"):
        g1_sextants(0x10)
