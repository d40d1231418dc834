"""Transmit blocks: exact fractional bit clock, phase continuity, pacing, bounded queue."""

from __future__ import annotations

import numpy as np
import pytest

from videotex.protocols.v23 import TxOverflow
from videotex.protocols.v23.frames import encode_frames
from videotex.protocols.v23.fsk import NEVER, SILENT, FskModulator, TxQueue, group_samples

from .signals import frame_bits, fsk


def _patterns(bits: np.ndarray) -> np.ndarray:
    b = bits.reshape(1, -1, 3).astype(np.int64)
    return b[:, :, 0] | (b[:, :, 1] << 1) | (b[:, :, 2] << 2)


@pytest.mark.parametrize(("baud", "mark", "space"), [(1200, 1300, 2100), (75, 390, 450)])
def test_modulator_is_the_textbook_waveform_to_one_lsb(baud: int, mark: int, space: int) -> None:
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, 3 * 400)
    mod = FskModulator(1, mark_hz=mark, space_hz=space, baud=baud, level_dbm0=-10.0)
    pats = _patterns(bits)
    out, pos = [], 0
    while pos < pats.shape[1]:  # any grouping of the calls gives the same samples
        k = int(rng.integers(1, 9))
        out.append(mod.synth(pats[:, pos : pos + k]))
        pos += k
    got = np.concatenate(out, axis=1)[0]
    want = fsk(bits.tolist(), baud, mark, space, -10.0)
    assert len(got) == len(want) == len(bits) * 8000 // baud
    assert np.abs(got - np.rint(want)).max() <= 1


def test_bits_last_7_7_6_samples_at_1200_baud_with_no_drift() -> None:
    assert group_samples(1200) == 20
    assert group_samples(75) == 320
    with pytest.raises(ValueError, match="1100 baud"):
        group_samples(1100)
    starts = np.flatnonzero(np.diff((np.arange(8000 * 60) * 1200) // 8000)) + 1
    assert len(starts) == 1200 * 60 - 1  # one minute: exactly 72,000 bit boundaries
    assert set(np.diff(starts).tolist()) == {6, 7}


def test_phase_is_continuous_and_silence_is_zero() -> None:
    mod = FskModulator(1, mark_hz=1300, space_hz=2100, baud=1200, level_dbm0=-10.0)
    rng = np.random.default_rng(1)
    pats = rng.integers(0, 8, (1, 500))
    pats[0, 100:110] = SILENT
    x = mod.synth(pats)[0].astype(np.float64)
    assert (x[100 * 20 : 110 * 20] == 0).all()
    peak = np.abs(x).max()
    step = np.abs(np.diff(np.concatenate([x[: 100 * 20], x[110 * 20 :]])))
    # the steepest a 2100 Hz sine can move between samples: no phase jump anywhere
    assert step.max() <= peak * 2 * np.sin(np.pi * 2100 / 8000) + 2


def test_phase_reversal_flips_the_sine() -> None:
    mod = FskModulator(1, mark_hz=1300, space_hz=2100, baud=1200, level_dbm0=-10.0)
    pats = np.zeros((1, 4), dtype=np.int64)
    flip = np.array([[False, False, True, False]])
    x = mod.synth(pats, flip)[0]
    y = FskModulator(1, mark_hz=1300, space_hz=2100, baud=1200, level_dbm0=-10.0).synth(pats)[0]
    assert (x[:40] == y[:40]).all()
    assert (np.abs(x[40:] + y[40:]) <= 1).all()


def test_queue_sends_contiguous_frames_then_mark() -> None:
    q = TxQueue(2, limit=16)
    q.push(0, b"AB")
    bits = q.bits(np.array([0, 0]), 30, np.array([0, 0]))
    assert bits[0].tolist() == frame_bits(b"AB") + [1] * 10
    assert bits[1].tolist() == [1] * 30  # nothing queued: idle is mark
    assert q.count.tolist() == [0, 0]


def test_a_byte_is_pending_until_its_stop_bit_is_sent_and_waits_until_open() -> None:
    q = TxQueue(1, limit=16)
    q.push(0, b"xyz")
    closed = q.bits(np.array([0]), 12, np.array([NEVER]))
    assert closed.tolist() == [[1] * 12] and q.count[0] == 3
    parts = [q.bits(np.array([12 + 3 * i]), 3, np.array([14]))[0] for i in range(11)]
    assert np.concatenate(parts).tolist() == [1, 1, *frame_bits(b"xyz"), 1]
    q2 = TxQueue(1, limit=16)
    q2.push(0, b"xyz")
    q2.bits(np.array([0]), 9, np.array([0]))
    assert q2.count[0] == 3  # 9 of the first byte's 10 bits sent
    q2.bits(np.array([9]), 1, np.array([0]))
    assert q2.count[0] == 2


def test_queue_is_bounded_and_says_how_much_is_writable() -> None:
    q = TxQueue(1, limit=8)
    q.push(0, b"12345")
    with pytest.raises(TxOverflow, match=r"slot 0: 4 bytes do not fit, 5 of 8 are queued \(3 writable\)"):
        q.push(0, b"abcd")
    q.push(0, b"678")
    assert q.count[0] == 8
    out = q.bits(np.array([0]), 80, np.array([0]))
    assert out[0].tolist() == encode_frames(b"12345678").tolist()
    q.push(0, b"wrap")  # the ring wraps around
    assert q.bits(np.array([80]), 40, np.array([0]))[0].tolist() == frame_bits(b"wrap")
