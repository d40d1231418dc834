"""DSP blocks of the V.23 modem: filter design, streaming FIR filters, levels.

Owns the arithmetic that does not depend on the modem's state: windowed-sinc design
(Kaiser window, numpy only), a streaming complex FIR that keeps its own history so that
any chunking of the input gives the same output, and the dBm0 scale.

Invariants: samples are float64 at :data:`RATE` Hz, full scale ±1.0 (an int16 sample ``v``
is ``v / 32768``); a sine of amplitude 1.0 is :data:`FULL_SCALE_DBM0` (+3.17 dBm0, the
G.711 µ-law full-scale sine). Every block works on whole arrays: no per-sample Python loop.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FULL_SCALE_DBM0",
    "RATE",
    "AnalyticFilter",
    "amplitude_for",
    "analytic_bandpass",
    "dbm0_of_power",
    "kaiser_lowpass",
    "power_for",
]

#: Sample rate of the telephone channel (G.711), Hz.
RATE = 8000
#: Level of a full-scale sine (amplitude 1.0): the G.711 µ-law full-scale sine.
FULL_SCALE_DBM0 = 3.17

Floats = NDArray[np.float64]


def amplitude_for(level_dbm0: float) -> float:
    """Peak amplitude of a sine at ``level_dbm0``."""
    return 10.0 ** ((level_dbm0 - FULL_SCALE_DBM0) / 20.0)


def power_for(level_dbm0: float) -> float:
    """Mean power (mean of x²) of a signal at ``level_dbm0``."""
    return amplitude_for(level_dbm0) ** 2 / 2.0


def dbm0_of_power(power: float) -> float:
    """Level in dBm0 of a mean power (mean of x²); -inf for silence."""
    if power <= 0.0:
        return -math.inf
    return 10.0 * math.log10(power / power_for(0.0))


def kaiser_lowpass(ntaps: int, cutoff_hz: float, beta: float, rate: int = RATE) -> Floats:
    """Linear-phase lowpass FIR, -6 dB at ``cutoff_hz``, DC gain 1 (windowed sinc)."""
    n = np.arange(ntaps) - (ntaps - 1) / 2.0
    fc = cutoff_hz / rate
    taps = 2.0 * fc * np.sinc(2.0 * fc * n) * np.kaiser(ntaps, beta)
    return np.asarray(taps / taps.sum(), dtype=np.float64)


def analytic_bandpass(ntaps: int, low_hz: float, high_hz: float, beta: float,
                      rate: int = RATE) -> NDArray[np.complex128]:
    """Complex FIR passing ``low_hz``..``high_hz`` (positive frequencies only), gain 2.

    A real sine ``A cos(wt)`` in the band comes out as the analytic ``A exp(jwt)``: its
    squared magnitude is the sine's ``A²`` and its phase advances by the tone's frequency.
    """
    centre = (low_hz + high_hz) / 2.0
    proto = kaiser_lowpass(ntaps, (high_hz - low_hz) / 2.0, beta, rate)
    n = np.arange(ntaps) - (ntaps - 1) / 2.0
    return np.asarray(2.0 * proto * np.exp(2j * np.pi * centre / rate * n), dtype=np.complex128)


def _windows(buf: Floats, count: int, ntaps: int) -> Floats:
    """Read-only (count, ntaps) view of ``buf``: row i is ``buf[i : i + ntaps]``."""
    step = buf.strides[0]
    return np.ndarray((count, ntaps), np.float64, buf, 0, (step, step))


class AnalyticFilter:
    """A streaming complex FIR on a real input: returns the complex output."""

    def __init__(self, taps: NDArray[np.complex128]) -> None:
        rev = taps[::-1]
        self._taps = np.ascontiguousarray(np.stack((rev.real, rev.imag), axis=1))
        self._hist = np.zeros(len(taps) - 1)

    def __call__(self, x: Floats) -> NDArray[np.complex128]:
        buf = np.concatenate((self._hist, x))
        ntaps = len(self._taps)
        self._hist = buf[len(buf) - (ntaps - 1):]
        out = _windows(buf, len(x), ntaps) @ self._taps  # (n, 2): C-contiguous re, im pairs
        return out.view(np.complex128).reshape(len(x))
