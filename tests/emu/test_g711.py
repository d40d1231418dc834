"""G.711 µ-law and A-law of the emulator, against the G.711 tables and ``audioop``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from terminal_emu import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # Python 3.13 removed it
        audioop = None  # type: ignore[assignment]

needs_audioop = pytest.mark.skipif(audioop is None, reason="audioop (Python < 3.13) is the oracle")
ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


@needs_audioop
@pytest.mark.parametrize(("ours", "theirs"), [(g711.lin2ulaw, "lin2ulaw"),
                                              (g711.lin2alaw, "lin2alaw")])
def test_encode_every_int16_like_audioop(ours, theirs) -> None:
    expected = np.frombuffer(getattr(audioop, theirs)(ALL_PCM.tobytes(), 2), dtype=np.uint8)
    got = ours(ALL_PCM)
    assert got.dtype == np.uint8
    bad = np.flatnonzero(got != expected)
    assert not bad.size, f"first mismatch at pcm {ALL_PCM[bad[0]]}"


@needs_audioop
@pytest.mark.parametrize(("ours", "theirs"), [(g711.ulaw2lin, "ulaw2lin"),
                                              (g711.alaw2lin, "alaw2lin")])
def test_decode_every_code_like_audioop(ours, theirs) -> None:
    expected = np.frombuffer(getattr(audioop, theirs)(ALL_CODES, 2), dtype=np.int16)
    assert (ours(ALL_CODES) == expected).all()


# (code, 16-bit value): G.711 Table 2a (µ-law, 14-bit × 4) and Table 1a (A-law, 13-bit × 8)
ULAW = [(0xFF, 0), (0x7F, 0), (0x80, 32124), (0x00, -32124), (0xFE, 8), (0xEF, 132),
        (0xF0, 120)]
ALAW = [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0xC5, 264)]


@pytest.mark.parametrize(("code", "value"), ULAW)
def test_ulaw_table_values(code: int, value: int) -> None:
    assert int(g711.ulaw2lin(bytes([code]))[0]) == value


@pytest.mark.parametrize(("code", "value"), ALAW)
def test_alaw_table_values(code: int, value: int) -> None:
    assert int(g711.alaw2lin(bytes([code]))[0]) == value


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_every_code_survives_decode_then_encode(law: str) -> None:
    dec, enc = {"ulaw": (g711.ulaw2lin, g711.lin2ulaw),
                "alaw": (g711.alaw2lin, g711.lin2alaw)}[law]
    codes = np.arange(256, dtype=np.uint8)
    again = enc(dec(codes))
    if law == "ulaw":  # 0x7F is "negative zero": it decodes to 0, which encodes as 0xFF
        codes[0x7F] = 0xFF
    assert (again == codes).all()


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_float_helpers_round_trip_within_a_step(law: str) -> None:
    x = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(160) / 8000)
    data = g711.encode(x, law)  # type: ignore[arg-type]
    assert isinstance(data, bytes) and len(data) == 160
    y = g711.decode(data, law)  # type: ignore[arg-type]
    assert np.max(np.abs(y - x)) < 0.5 / 16  # the largest step near 0.5 is 1/32
    snr = 10 * np.log10(np.sum(x**2) / np.sum((y - x) ** 2))
    assert snr > 33


def test_float_encode_clips_and_ignores_nan() -> None:
    data = g711.encode(np.array([2.0, -2.0, np.nan]), "ulaw")
    assert g711.ulaw2lin(data).tolist() == [32124, -32124, 0]
