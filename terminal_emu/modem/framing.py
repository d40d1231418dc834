"""7E1 asynchronous framing of the Minitel line (reference §1), both ways, on arrays.

A character on the line is 10 bits: start bit 0, 7 data bits LSB first, the even-parity
bit, stop bit 1. Idle line is mark (1). Received characters with a parity or framing error
(start bit not 0, stop bit not 1) become SUB (0x1A); good ones are 7-bit values.

Written from the reference, independently of the server's framing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["BITS_PER_CHAR", "SUB", "decode_7e1", "encode_7e1"]

#: Start + 7 data + parity + stop.
BITS_PER_CHAR = 10
#: What a character received with a parity or framing error becomes.
SUB = 0x1A

_WEIGHTS = (1 << np.arange(7)).astype(np.int64)


def encode_7e1(data: bytes) -> NDArray[np.uint8]:
    """(len(data), 10) array of line bits, in time order; bit 7 of each byte is ignored."""
    values = np.frombuffer(bytes(data), dtype=np.uint8) & 0x7F
    out = np.zeros((len(values), BITS_PER_CHAR), dtype=np.uint8)
    data_bits = (values[:, None] >> np.arange(7, dtype=np.uint8)) & 1
    out[:, 1:8] = data_bits
    out[:, 8] = data_bits.sum(axis=1) & 1
    out[:, 9] = 1
    return out


def decode_7e1(bits: NDArray[np.bool_] | NDArray[np.uint8]) -> bytes:
    """Bytes from an (n, 10) array of line bits; a bad start, stop or parity gives SUB."""
    b = np.asarray(bits, dtype=bool).reshape(-1, BITS_PER_CHAR)
    values = b[:, 1:8] @ _WEIGHTS
    good = ~b[:, 0] & b[:, 9] & (b[:, 1:9].sum(axis=1) % 2 == 0)
    return np.where(good, values, SUB).astype(np.uint8).tobytes()
