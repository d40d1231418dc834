"""ITU-T G.711 µ-law and A-law companding in numpy, and the dBm0 level reference.

Owns: the 8-bit ↔ 16-bit linear tables and the level of 0 dBm0 in that linear scale.

Invariants:

- Linear samples are 16-bit signed PCM (``int16`` scale, as the RTP layer and WAV files use),
  bit-exact with ITU-T G.711 as implemented by the classic Sun/CCITT reference code (the one
  Python's ``audioop`` carries): µ-law works on the top 14 bits, A-law on the top 13.
- Encoding is one lookup in a 65,536-entry table, decoding one lookup in a 256-entry table:
  any array shape, no Python loop.
- 0 dBm0 is the power of G.711's own digital milliwatt (the µ-law sequence
  ``1E 0B 0B 1E 9E 8B 8B 9E`` decoded): RMS :data:`DBM0_RMS` ≈ 16,016, so a sine at
  0 dBm0 peaks at about 22,650; a full-scale sine is then +3.17 dBm0. A-law's own
  milliwatt is 0.07 dB louder; one reference serves both laws.
"""

from __future__ import annotations

import enum
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DBM0_PEAK",
    "DBM0_RMS",
    "Law",
    "alaw_decode",
    "alaw_encode",
    "dbm0_to_peak",
    "decode",
    "encode",
    "level_dbm0",
    "ulaw_decode",
    "ulaw_encode",
]


class Law(enum.Enum):
    """The G.711 companding law of a call (RTP payload types 0 and 8)."""

    #: G.711 µ-law, PCMU (North America, Japan).
    ULAW = "PCMU"
    #: G.711 A-law, PCMA (Europe, France included).
    ALAW = "PCMA"


_SEG_END_U = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_SEG_END_A = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int64) >> 2  # 14-bit, arithmetic shift
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 8159) + (0x84 >> 2)
    seg = np.searchsorted(_SEG_END_U, mag)  # first segment whose end is >= mag
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> (seg + 1)) & 0x0F))
    out = (code ^ mask).astype(np.uint8)
    return np.roll(out, -32768)  # index by the uint16 view of the sample


def _ulaw_decode_table() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int64) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int64) >> 3  # 13-bit
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_END_A, mag)
    shift = np.where(seg < 2, 1, seg)
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> shift) & 0x0F))
    out = (code ^ mask).astype(np.uint8)
    return np.roll(out, -32768)


def _alaw_decode_table() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int64) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


_U_ENC: Final = _ulaw_encode_table()
_U_DEC: Final = _ulaw_decode_table()
_A_ENC: Final = _alaw_encode_table()
_A_DEC: Final = _alaw_decode_table()

#: G.711 Table 5: one period of the µ-law digital milliwatt (1 kHz at 0 dBm0).
_DIGITAL_MILLIWATT_U = np.array([0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E], dtype=np.uint8)

#: RMS, in 16-bit linear units, of a signal at 0 dBm0 (the decoded digital milliwatt).
DBM0_RMS: Final = float(np.sqrt(np.mean(_U_DEC[_DIGITAL_MILLIWATT_U].astype(np.float64) ** 2)))
#: Peak of a sine at 0 dBm0, in 16-bit linear units.
DBM0_PEAK: Final = DBM0_RMS * float(np.sqrt(2.0))


def _as_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    a = np.asarray(samples)
    if a.dtype == np.int16:
        return a
    if a.dtype.kind == "f":
        a = np.nan_to_num(a, nan=0.0, posinf=32767.0, neginf=-32768.0)
        return np.clip(np.rint(a), -32768, 32767).astype(np.int16)
    if a.dtype.kind in "iub":
        return np.clip(a, -32768, 32767).astype(np.int16)
    raise TypeError(f"G.711: samples must be a real numeric array, got dtype {a.dtype}")


def _as_codes(codes: npt.ArrayLike | bytes) -> npt.NDArray[np.uint8]:
    if isinstance(codes, bytes | bytearray | memoryview):
        return np.frombuffer(codes, dtype=np.uint8)
    a = np.asarray(codes)
    if a.dtype != np.uint8:
        raise TypeError(f"G.711: codes must be bytes or a uint8 array, got dtype {a.dtype}")
    return a


def ulaw_encode(samples: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """µ-law codes of 16-bit linear samples (floats are rounded and clipped first)."""
    return _U_ENC[_as_int16(samples).view(np.uint16)]


def ulaw_decode(codes: npt.ArrayLike | bytes) -> npt.NDArray[np.int16]:
    """16-bit linear samples of µ-law codes (``bytes`` or a ``uint8`` array)."""
    return _U_DEC[_as_codes(codes)]


def alaw_encode(samples: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """A-law codes of 16-bit linear samples (floats are rounded and clipped first)."""
    return _A_ENC[_as_int16(samples).view(np.uint16)]


def alaw_decode(codes: npt.ArrayLike | bytes) -> npt.NDArray[np.int16]:
    """16-bit linear samples of A-law codes (``bytes`` or a ``uint8`` array)."""
    return _A_DEC[_as_codes(codes)]


def encode(samples: npt.ArrayLike, law: Law) -> npt.NDArray[np.uint8]:
    """G.711 codes of 16-bit linear samples in ``law``."""
    return ulaw_encode(samples) if law is Law.ULAW else alaw_encode(samples)


def decode(codes: npt.ArrayLike | bytes, law: Law) -> npt.NDArray[np.int16]:
    """16-bit linear samples of G.711 codes in ``law``."""
    return ulaw_decode(codes) if law is Law.ULAW else alaw_decode(codes)


def dbm0_to_peak(dbm0: float) -> float:
    """Peak, in 16-bit linear units, of a sine at ``dbm0``."""
    return DBM0_PEAK * 10.0 ** (dbm0 / 20.0)


def level_dbm0(samples: npt.ArrayLike) -> float:
    """Mean power of ``samples`` (16-bit linear scale) in dBm0; -inf for silence."""
    a = np.asarray(samples, dtype=np.float64)
    power = float(np.mean(a * a)) if a.size else 0.0
    return 10.0 * float(np.log10(power / DBM0_RMS**2)) if power > 0.0 else float("-inf")
