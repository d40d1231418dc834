"""Concealment of a missing 20 ms frame on a modem line, sans-IO (numpy).

Owns what a jitter buffer's consumer plays when the frame due has not come. On a V.23 line
the audio is one tone at a time (a carrier, or the bit being sent); a frame repeated as is
breaks its phase at both ends, and a demodulator takes the jump for a start bit: a garbage
byte on an idle line. :func:`conceal` instead continues the tone heard at the end of the last
frame, from its phase at the last sample, at the nearest frequency that makes a whole number
of cycles in the frame (a multiple of 50 Hz: 390 → 400 Hz, still mark), so that the frame
after the gap, which continues the real signal, joins it without a jump either.

Invariants: the output has the input's length and stays within the int16 range; silence in
gives silence out; no state (the caller keeps the last frame).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["conceal"]

RATE: Final = 8000
_FIT: Final = 48  # samples at the end of the frame the phase is measured on
_PAD: Final = 2048  # FFT size for the frequency estimate (3.9 Hz bins)


def conceal(last: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """A frame as long as ``last`` (16-bit linear) continuing its final tone."""
    x = np.asarray(last, dtype=np.float64)
    n = len(x)
    if n < _FIT or not np.any(x):
        return np.zeros(n, dtype=np.int16)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(n), _PAD))
    spectrum[: int(200 * _PAD / RATE)] = 0.0  # no carrier below 200 Hz
    freq = float(np.argmax(spectrum)) * RATE / _PAD
    # amplitude and phase at the last sample: least squares on the frame's end
    t = np.arange(n - _FIT, n) - (n - 1)
    w = 2 * np.pi * freq / RATE
    basis = np.stack([np.cos(w * t), np.sin(w * t)], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, x[n - _FIT:], rcond=None)
    whole = max(1, round(freq * n / RATE))  # cycles in the frame
    w2 = 2 * np.pi * whole / n
    k = np.arange(1, n + 1)
    out = a * np.cos(w2 * k) + b * np.sin(w2 * k)
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)
