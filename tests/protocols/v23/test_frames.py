"""7E1 frames as bits, both ways, from one table; errors become SUB (reference §1)."""

from __future__ import annotations

import numpy as np
import pytest

from videotex.protocols.v23.frames import FRAME_BITS, SUB, decode_frames, encode_frames

from .signals import frame_bits

#: (7-bit byte, its 10 bits on the line: start, b0..b6, even parity, stop)
VECTORS = [
    (0x00, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    (0x7F, [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]),  # seven ones: parity 1
    (0x41, [0, 1, 0, 0, 0, 0, 0, 1, 0, 1]),  # 'A': two ones, parity 0
    (0x13, [0, 1, 1, 0, 0, 1, 0, 0, 1, 1]),  # SEP: three ones, parity 1
    (0x53, [0, 1, 1, 0, 0, 1, 0, 1, 0, 1]),  # 'S'
    (0x1A, [0, 0, 1, 0, 1, 1, 0, 0, 1, 1]),  # SUB itself: odd weight, parity 1
]


@pytest.mark.parametrize(("byte", "bits"), VECTORS)
def test_byte_to_bits(byte: int, bits: list[int]) -> None:
    assert encode_frames(bytes([byte])).tolist() == bits
    assert FRAME_BITS[byte | 0x80].tolist() == bits  # bit 7 of the input is ignored


@pytest.mark.parametrize(("byte", "bits"), VECTORS)
def test_bits_to_byte(byte: int, bits: list[int]) -> None:
    assert decode_frames([bits]) == bytes([byte])


def test_every_byte_round_trips_and_matches_the_bits_written_by_hand() -> None:
    data = bytes(range(128))
    bits = encode_frames(data)
    assert bits.tolist() == frame_bits(data)
    assert decode_frames(bits.reshape(-1, 10)) == data


@pytest.mark.parametrize("flip", range(1, 9))
def test_one_wrong_data_or_parity_bit_is_sub(flip: int) -> None:
    bits = np.array(VECTORS[2][1])
    bits[flip] ^= 1
    assert decode_frames([bits]) == bytes([SUB])


@pytest.mark.parametrize("where", [0, 9])
def test_a_framing_error_is_sub(where: int) -> None:
    bits = np.array(VECTORS[2][1])
    bits[where] ^= 1  # start bit 1, or stop bit 0
    assert decode_frames([bits]) == bytes([SUB])


def test_errors_stay_on_their_own_byte() -> None:
    rows = np.array([VECTORS[2][1], VECTORS[3][1], VECTORS[4][1]])
    rows[1, 9] = 0
    assert decode_frames(rows) == b"A\x1aS"
    assert decode_frames(np.zeros((0, 10))) == b""
