"""ITU-T G.711 µ-law and A-law, encode and decode, on numpy arrays.

Owns the companding of the telephone channel. Linear samples are int16; decoding gives
the G.711 reconstruction values scaled to 16 bits (µ-law ±32124, A-law ±32256), encoding
takes the top 14 (µ-law) or 13 (A-law) bits of the int16 sample by arithmetic shift, as
the classic CCITT reference code does (``audioop`` gives the same bytes). Both ways are
table lookups built once at import: a 65,536-entry encoder table and a 256-entry decoder
table per law.

Float helpers (:func:`encode`, :func:`decode`) use the modem's scale: full scale ±1.0 is
int16 ±32768 (rounded and clipped on the way in).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["alaw2lin", "decode", "encode", "lin2alaw", "lin2ulaw", "ulaw2lin"]

Law = Literal["ulaw", "alaw"]

_SEG_U = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_SEG_A = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _ulaw_encoder() -> NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int64) >> 2  # 14-bit
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 8159) + 33  # clip, then add the bias (0x84 >> 2)
    seg = np.searchsorted(_SEG_U, mag)  # first segment whose end is >= mag
    code = (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0xF)
    return _by_uint16(np.where(seg >= 8, 0x7F, code) ^ mask)


def _alaw_encoder() -> NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int64) >> 3  # 13-bit
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_A, mag)
    s = np.minimum(seg, 7)
    code = (s << 4) | ((mag >> np.where(s < 2, 1, s)) & 0xF)
    return _by_uint16(np.where(seg >= 8, 0x7F, code) ^ mask)


def _by_uint16(code_for_int16: NDArray[Any]) -> NDArray[np.uint8]:
    """Reorder a table indexed by int16 + 32768 into one indexed by the uint16 bit pattern."""
    return np.roll(code_for_int16.astype(np.uint8), -32768)


def _ulaw_decoder() -> NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int64) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_decoder() -> NDArray[np.int16]:
    a = np.arange(256, dtype=np.int64) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


_ENC = {"ulaw": _ulaw_encoder(), "alaw": _alaw_encoder()}
_DEC = {"ulaw": _ulaw_decoder(), "alaw": _alaw_decoder()}


def _codes(data: bytes | ArrayLike) -> NDArray[np.uint8]:
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(data), dtype=np.uint8)
    return np.asarray(data, dtype=np.uint8)


def lin2ulaw(pcm: ArrayLike) -> NDArray[np.uint8]:
    """int16 samples → µ-law codes."""
    return _ENC["ulaw"][np.asarray(pcm, dtype=np.int16).view(np.uint16)]


def lin2alaw(pcm: ArrayLike) -> NDArray[np.uint8]:
    """int16 samples → A-law codes."""
    return _ENC["alaw"][np.asarray(pcm, dtype=np.int16).view(np.uint16)]


def ulaw2lin(codes: bytes | ArrayLike) -> NDArray[np.int16]:
    """µ-law codes (bytes or uint8 array) → int16 samples."""
    return _DEC["ulaw"][_codes(codes)]


def alaw2lin(codes: bytes | ArrayLike) -> NDArray[np.int16]:
    """A-law codes (bytes or uint8 array) → int16 samples."""
    return _DEC["alaw"][_codes(codes)]


def encode(samples: ArrayLike, law: Law = "ulaw") -> bytes:
    """Float samples (full scale ±1.0) → G.711 bytes, e.g. one RTP payload."""
    x = np.rint(np.asarray(samples, dtype=np.float64) * 32768.0)
    pcm = np.clip(np.nan_to_num(x), -32768, 32767).astype(np.int16)
    return _ENC[law][pcm.view(np.uint16)].tobytes()


def decode(data: bytes | ArrayLike, law: Law = "ulaw") -> NDArray[np.float64]:
    """G.711 bytes → float samples (full scale ±1.0)."""
    return np.asarray(_DEC[law][_codes(data)] * (1.0 / 32768.0), dtype=np.float64)
