"""Asynchronous 7E1 frames as bits: bytes → 10-bit frames and received frames → bytes.

Owns: the bit layout of one character on a V.23 line (start bit 0, seven data bits LSB first,
even parity, stop bit 1, §1 of the reference) and the error rule: a parity error or a framing
error (stop bit 0, or a start bit that is not 0) gives SUB (0x1A), as a Minitel's UART does.

The parity itself is the serial lines' :mod:`framing` (made and checked in software), imported
here and nowhere else in the modem or its tests (they take ``add_parity`` and ``check_parity``
from here), so that moving that module changes one line.

Invariants: bit 1 is mark (the lower tone), bit 0 is space; tables are indexed by byte value
and never change.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.framing import SUB, add_parity, check_parity

__all__ = [
    "FRAME_BITS",
    "MARK",
    "SPACE",
    "SUB",
    "add_parity",
    "check_parity",
    "decode_frames",
    "encode_frames",
]

MARK = 1
SPACE = 0

_WIRE = np.frombuffer(add_parity(bytes(range(256))), dtype=np.uint8)  # 7 bits + even parity

#: ``FRAME_BITS[b]``: the 10 bits sent, in order, for byte ``b`` (bit 7 of ``b`` is ignored).
FRAME_BITS: Final = np.concatenate(
    [
        np.zeros((256, 1), dtype=np.uint8),
        (_WIRE[:, None] >> np.arange(8, dtype=np.uint8)) & 1,
        np.ones((256, 1), dtype=np.uint8),
    ],
    axis=1,
).astype(np.uint8)

_WEIGHTS = (1 << np.arange(8)).astype(np.int64)


def encode_frames(data: bytes) -> npt.NDArray[np.uint8]:
    """The bits of ``data`` on the line, 10 per byte, as one flat array."""
    return FRAME_BITS[np.frombuffer(data, dtype=np.uint8)].reshape(-1)


def decode_frames(bits: npt.ArrayLike) -> bytes:
    """Bytes of received frames: ``bits`` is ``(n, 10)``, start bit first.

    A frame whose start bit is not 0 or whose stop bit is not 1 is a framing error: SUB. A
    parity error is SUB too (the rule of :func:`framing.check_parity`).
    """
    b = np.asarray(bits, dtype=np.int64).reshape(-1, 10)
    wire = (b[:, 1:9] * _WEIGHTS).sum(axis=1).astype(np.uint8)
    out = bytearray(check_parity(wire.tobytes()))
    for i in np.flatnonzero((b[:, 0] != SPACE) | (b[:, 9] != MARK)):
        out[i] = SUB
    return bytes(out)
