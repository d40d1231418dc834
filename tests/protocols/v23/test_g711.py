"""G.711 µ-law and A-law against ITU-T values and against audioop (an oracle in tests only)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from videotex.protocols import g711
from videotex.protocols.g711 import Law

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL = np.arange(-32768, 32768, dtype=np.int16)
CODES = bytes(range(256))

# (linear sample, µ-law code, A-law code): G.711 Tables 1a/1b/2a/2b corners.
ENCODE = [
    (0, 0xFF, 0xD5),
    (-1, 0x7E, 0x55),
    (8, 0xFE, 0xD5),
    (32767, 0x80, 0xAA),
    (-32768, 0x00, 0x2A),
    (1000, 0xCE, 0xFA),
    (-1000, 0x4E, 0x7A),
]
# (code, µ-law linear, A-law linear)
DECODE = [(0x80, 32124, 5504), (0x00, -32124, -5504), (0xFF, 0, 848), (0x7F, 0, -848),
          (0xD5, 716, 8), (0x55, -716, -8), (0xAA, 5372, 32256), (0x2A, -5372, -32256)]


@pytest.mark.parametrize(("linear", "ucode", "acode"), ENCODE)
def test_known_encodings(linear: int, ucode: int, acode: int) -> None:
    assert g711.ulaw_encode(np.array([linear], dtype=np.int16))[0] == ucode
    assert g711.alaw_encode(np.array([linear], dtype=np.int16))[0] == acode


@pytest.mark.parametrize(("code", "ulin", "alin"), DECODE)
def test_known_decodings(code: int, ulin: int, alin: int) -> None:
    assert g711.ulaw_decode(bytes([code]))[0] == ulin
    assert g711.alaw_decode(bytes([code]))[0] == alin


def test_every_sample_encodes_as_audioop_does() -> None:
    raw = ALL.astype("<i2").tobytes()
    assert g711.ulaw_encode(ALL).tobytes() == audioop.lin2ulaw(raw, 2)
    assert g711.alaw_encode(ALL).tobytes() == audioop.lin2alaw(raw, 2)


def test_every_code_decodes_as_audioop_does() -> None:
    assert g711.ulaw_decode(CODES).astype("<i2").tobytes() == audioop.ulaw2lin(CODES, 2)
    assert g711.alaw_decode(CODES).astype("<i2").tobytes() == audioop.alaw2lin(CODES, 2)


@pytest.mark.parametrize("law", list(Law))
def test_decoding_then_encoding_gives_the_code_back(law: Law) -> None:
    codes = np.arange(256, dtype=np.uint8)
    back = g711.encode(g711.decode(codes, law), law)
    # µ-law has two codes for zero (0x7F and 0xFF): the encoder gives 0xFF
    expect = codes.copy()
    if law is Law.ULAW:
        expect[expect == 0x7F] = 0xFF
    assert (back == expect).all()


def test_digital_milliwatt_is_zero_dbm0_and_full_scale_is_plus_3_17() -> None:
    dmw = bytes([0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E])
    assert g711.level_dbm0(g711.ulaw_decode(dmw)) == pytest.approx(0.0, abs=1e-9)
    assert g711.level_dbm0(g711.alaw_decode(bytes([0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1,
                                                   0xB4]))) == pytest.approx(0.07, abs=0.01)
    overload = 8159 * 4  # µ-law's largest decision value, 16-bit scale
    assert 20 * np.log10(overload / g711.DBM0_PEAK) == pytest.approx(3.17, abs=0.01)
    sine = g711.dbm0_to_peak(-10.0) * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000)
    assert g711.level_dbm0(sine) == pytest.approx(-10.0, abs=0.01)


def test_floats_are_rounded_and_clipped_and_nan_is_silence() -> None:
    x = np.array([0.4, -0.6, 1e9, -1e9, np.nan, np.inf])
    assert (g711.ulaw_decode(g711.ulaw_encode(x)) == [0, -8, 32124, -32124, 0, 32124]).all()
    assert g711.level_dbm0(np.zeros(10)) == float("-inf")


def test_codes_must_be_bytes_or_uint8() -> None:
    with pytest.raises(TypeError, match="uint8"):
        g711.ulaw_decode(np.array([1, 2, 3], dtype=np.int32))
    with pytest.raises(TypeError, match="real numeric"):
        g711.alaw_encode(np.array(["a"]))
