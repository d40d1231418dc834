"""Test signals made independently of the modem's own modulator: tones and FSK by formula."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import dbm0_to_peak
from videotex.protocols.v23.frames import add_parity

FS = 8000


def tone(freq: float, ms: float, dbm0: float = -10.0, phase: float = 0.0) -> npt.NDArray[np.float64]:
    """A sine of ``freq`` Hz lasting ``ms`` at ``dbm0``."""
    n = round(ms * FS / 1000)
    return dbm0_to_peak(dbm0) * np.sin(2 * np.pi * freq * np.arange(n) / FS + phase)


def frame_bits(data: bytes) -> list[int]:
    """7E1 bits of ``data``, LSB first, written out by hand (start 0, 7 data, parity, stop 1)."""
    bits: list[int] = []
    for byte in add_parity(data):
        bits += [0] + [(byte >> i) & 1 for i in range(8)] + [1]
    return bits


def fsk(bits: list[int], baud: float, mark: float, space: float, dbm0: float = -10.0,
        lead_ms: float = 0.0, tail_ms: float = 0.0, clock: float = 1.0) -> npt.NDArray[np.float64]:
    """Phase-continuous FSK of ``bits`` after ``lead_ms`` of mark and before ``tail_ms`` of mark.

    ``clock`` scales the sender's sample clock (1.001: bits 0.1 % shorter).
    """
    lead = round(lead_ms * baud / 1000)
    tail = round(tail_ms * baud / 1000)
    allbits = np.array([1] * lead + bits + [1] * tail)
    n = int(len(allbits) * FS / (baud * clock))
    idx = np.minimum((np.arange(n) * baud * clock / FS).astype(np.int64), len(allbits) - 1)
    freq = np.where(allbits[idx] == 1, mark, space)
    phase = 2 * np.pi * (np.cumsum(freq) - freq) / FS  # the phase before each sample's step
    return dbm0_to_peak(dbm0) * np.sin(phase)


def minitel(data: bytes, dbm0: float = -10.0, lead_ms: float = 300.0, tail_ms: float = 200.0,
            clock: float = 1.0) -> npt.NDArray[np.float64]:
    """What a Minitel sends: 75 baud, mark 390 Hz, space 450 Hz."""
    return fsk(frame_bits(data), 75, 390, 450, dbm0, lead_ms, tail_ms, clock)
