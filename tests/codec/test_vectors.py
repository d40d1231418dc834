"""The (event, bytes) vector table, in both directions, fed whole, byte by byte and with trailing bytes."""

from __future__ import annotations

import pytest

from terminal_emu import Minitel
from videotex.codec import KeyboardDecoder, g1_byte, g1_sextants, glyph_bytes

from .vectors import GLYPH_VECTORS, KEYBOARD_VECTORS, MOSAIC_VECTORS, TRAILER


def _splits(data: bytes) -> list[list[bytes]]:
    return [[data], [bytes([b]) for b in data]]


@pytest.mark.parametrize(("glyph", "data"), GLYPH_VECTORS)
def test_glyph_bytes(glyph: str, data: bytes) -> None:
    assert glyph_bytes(glyph) == data


@pytest.mark.parametrize(("glyph", "data"), GLYPH_VECTORS)
def test_glyph_drawn_by_emulator(glyph: str, data: bytes) -> None:
    for chunks in _splits(b"\x0c" + data + b"Z"):
        m = Minitel()
        for chunk in chunks:
            m.feed(chunk)
        row = m.snapshot()["cells"][1]
        assert row[0]["char"] == glyph
        assert row[1]["char"] == "Z"  # trailing byte lands in the next cell


@pytest.mark.parametrize(("sextants", "code"), MOSAIC_VECTORS)
def test_mosaic_vectors(sextants: int, code: int) -> None:
    assert g1_byte(sextants) == code
    assert g1_sextants(code) == sextants
    m = Minitel()
    m.feed(bytes([0x0C, 0x0E, code, 0x0F]) + b"Z")
    cell = m.snapshot()["cells"][1][0]
    assert cell["kind"] == "mosaic" and cell["sextants"] == sextants


@pytest.mark.parametrize(("data", "events"), KEYBOARD_VECTORS)
def test_keyboard_vectors(data: bytes, events: list[object]) -> None:
    trailer, trailer_events = TRAILER
    for payload, expected in ((data, events), (data + trailer, events + trailer_events)):
        for chunks in _splits(payload):
            d = KeyboardDecoder()
            got: list[object] = []
            for chunk in chunks:
                got += d.feed(chunk)
            got += d.flush()
            assert got == expected, (payload, chunks)
            assert d.garbage == 0
