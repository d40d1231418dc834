"""FIR filters designed in numpy, and the block matrix that runs one over many calls at once.

Owns: Kaiser-window design of a complex band-pass filter (the analytic filter of an FSK
receiver), and :func:`block_matrix`, which folds that filter, a local oscillator and a
decimation into one real matrix ``T`` so that a bank filters all its calls with a single
matrix product: ``Y = X @ T`` where each row of ``X`` is one call's history plus its new block.

Invariants: the local oscillator makes a whole number of cycles per block, so ``T`` is the same
for every block; the filter has unit gain for a tone at its centre frequency (a real sine of
amplitude ``A`` comes out as a complex phasor of modulus ``A / 2``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["block_matrix", "complex_bandpass", "kaiser_beta", "response_db"]

FS = 8000


def kaiser_beta(attenuation_db: float) -> float:
    """Kaiser's window parameter for a stop-band ``attenuation_db`` below the pass band."""
    a = attenuation_db
    if a > 50:
        return 0.1102 * (a - 8.7)
    if a >= 21:
        return 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21)
    return 0.0


def complex_bandpass(
    ntaps: int, center_hz: float, half_width_hz: float, attenuation_db: float = 70.0
) -> npt.NDArray[np.complex128]:
    """Taps of a complex band-pass filter: passes ``center ± half_width`` of positive frequencies.

    A windowed-sinc low-pass of cut-off ``half_width_hz`` shifted to ``center_hz``; it rejects
    the negative-frequency image of its own band, so its output is an analytic signal whose
    phase turns at the instantaneous frequency of the input.
    """
    if ntaps < 3:
        raise ValueError(f"complex_bandpass: ntaps must be at least 3, got {ntaps}")
    k = np.arange(ntaps) - (ntaps - 1) / 2.0
    low = np.sinc(2.0 * half_width_hz / FS * k) * np.kaiser(ntaps, kaiser_beta(attenuation_db))
    low /= low.sum()
    return low * np.exp(2j * math.pi * center_hz / FS * k)


def response_db(taps: npt.NDArray[np.complex128], freq_hz: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Gain of ``taps`` in dB at each (signed) frequency of ``freq_hz``."""
    f = np.atleast_1d(np.asarray(freq_hz, dtype=np.float64))
    k = np.arange(len(taps)) - (len(taps) - 1) / 2.0
    h = np.exp(-2j * math.pi * np.outer(f, k) / FS) @ taps
    return np.asarray(20.0 * np.log10(np.maximum(np.abs(h), 1e-12)), dtype=np.float64)


def block_matrix(
    taps: npt.NDArray[np.complex128], block: int, decimation: int, lo_hz: float
) -> npt.NDArray[np.float32]:
    """The real matrix that filters, mixes down by ``lo_hz`` and decimates one block.

    Rows: the ``len(taps) - 1`` samples of history then the ``block`` new samples.
    Columns: ``block // decimation`` outputs as interleaved (real, imaginary) pairs, so the
    product viewed as ``complex64`` is the baseband signal. Output ``i`` is the filter centred
    on the last sample of the ``i``-th group of ``decimation`` new samples, multiplied by the
    oscillator at that sample's time (counted from the start of the block).
    """
    ntaps = len(taps)
    if block % decimation:
        raise ValueError(f"block_matrix: block {block} is not a multiple of {decimation}")
    cycles = lo_hz * block / FS
    if abs(cycles - round(cycles)) > 1e-9:
        raise ValueError(f"block_matrix: {lo_hz} Hz does not make whole cycles in {block} samples")
    outputs = block // decimation
    hist = ntaps - 1
    mat = np.zeros((hist + block, outputs), dtype=np.complex128)
    for i in range(outputs):
        last = hist + decimation * i + decimation - 1  # row of the newest sample in the window
        lo = np.exp(-2j * math.pi * lo_hz * (decimation * i + decimation - 1) / FS)
        mat[last - ntaps + 1 : last + 1, i] = taps[::-1] * lo
    out = np.empty((hist + block, 2 * outputs), dtype=np.float32)
    out[:, 0::2] = mat.real
    out[:, 1::2] = mat.imag
    return out
