"""Carrier detection with hysteresis, and the Minitel's detector of the answer sequence.

Owns, for every slot of a bank at once:

- :class:`CarrierDetector`: the carrier is present once the in-band level of a 20 ms block
  reaches the ON threshold and absent once it falls below the OFF threshold (V.23: ON above
  -43 dBm, OFF below -48 dBm, at least 2 dB apart); counts how many blocks it has been present
  or absent, from which the modems derive "steady" and "lost".
- :class:`AnswerSequenceDetector`: what a Minitel listens for after Connexion/Fin (reference §1):
  about 300 ms of 2100 Hz, then 75 ± 20 ms of silence, then 60 ms of 1300 Hz; or 1.7 s of
  continuous 1300 Hz. It works on 5 ms segments, so its times are good to 5 ms; a single
  unclear segment (where a tone starts or stops) counts as the state before it.

Invariants: levels are compared in linear power (the band-limited signal's mean square, where a
sine of amplitude A counts A²/2), calibrated in dBm0 by :data:`g711.DBM0_RMS`.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import DBM0_RMS

__all__ = ["AnswerSequenceDetector", "CarrierDetector", "dbm0_power"]

#: Segment classes of the answer-sequence detector.
_SILENT: Final = 0
_T2100: Final = 1
_T1300: Final = 2
_OTHER: Final = 3


def dbm0_power(dbm0: float) -> float:
    """Mean square, in 16-bit linear units², of a signal at ``dbm0``."""
    return float(DBM0_RMS**2 * 10.0 ** (dbm0 / 10.0))


class CarrierDetector:
    """Present/absent with hysteresis, and how many blocks each state has lasted.

    With ``squelch_db``, the in-band power must also exceed the power of a guard band of the
    same width (where the far end sends nothing) by that many dB to turn on, and by half of it
    to stay on: white noise loud enough to reach the level threshold is not a carrier.
    """

    def __init__(self, capacity: int, on_dbm0: float, off_dbm0: float,
                 squelch_db: float | None = None) -> None:
        self._on = np.float32(dbm0_power(on_dbm0))
        self._off = np.float32(dbm0_power(off_dbm0))
        self._squelch = squelch_db is not None
        db = squelch_db or 0.0
        self._snr_on = np.float32(10.0 ** (db / 10.0))
        self._snr_off = np.float32(10.0 ** (db / 20.0))
        self.present = np.zeros(capacity, dtype=bool)
        #: Blocks the carrier has been present (0 when absent).
        self.up_run = np.zeros(capacity, dtype=np.int64)
        #: Blocks the carrier has been absent (0 when present).
        self.down_run = np.zeros(capacity, dtype=np.int64)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: no carrier yet."""
        self.present[slot] = False
        self.up_run[slot] = 0
        self.down_run[slot] = 0

    def save(self, rows: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.generic], ...]:
        """The state of ``rows`` (for :meth:`restore` after a block they must not see)."""
        return self.present[rows].copy(), self.up_run[rows].copy(), self.down_run[rows].copy()

    def restore(self, rows: npt.NDArray[np.int64],
                saved: tuple[npt.NDArray[np.generic], ...]) -> None:
        """Put ``rows`` back as :meth:`save` found them: the last block never reached them."""
        self.present[rows], self.up_run[rows], self.down_run[rows] = saved

    def update(self, power: npt.NDArray[np.float32],
               guard: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.bool_]:
        """One block's in-band (and guard-band) power per slot → whether the carrier is present."""
        stay = power >= self._off
        start = power >= self._on
        if self._squelch and guard is not None:
            stay &= power >= guard * self._snr_off
            start &= power >= guard * self._snr_on
        self.present = np.where(self.present, stay, start)
        self.up_run = np.where(self.present, self.up_run + 1, 0)
        self.down_run = np.where(self.present, 0, self.down_run + 1)
        return self.present


class AnswerSequenceDetector:
    """2100 Hz ≥ 300 ms, silence 75 ± 20 ms, 1300 Hz ≥ 60 ms; or 1300 Hz ≥ 1.7 s."""

    SEGMENT_MS: Final = 5

    def __init__(self, capacity: int, on_dbm0: float, off_dbm0: float,
                 tolerance_hz: float = 80.0) -> None:
        self._on = np.float32(dbm0_power(on_dbm0))
        self._off = np.float32(dbm0_power(off_dbm0))
        self._tol = np.float32(tolerance_hz)
        self._run2100 = np.zeros(capacity, dtype=np.int64)
        self._armed = np.zeros(capacity, dtype=bool)
        self._silence = np.zeros(capacity, dtype=np.int64)
        self._run1300 = np.zeros(capacity, dtype=np.int64)
        self._after_gap = np.zeros(capacity, dtype=bool)
        self._last = np.full(capacity, _SILENT, dtype=np.int64)

    def reset(self, slot: int) -> None:
        """A new call in ``slot``: nothing heard yet."""
        for a in (self._run2100, self._silence, self._run1300):
            a[slot] = 0
        self._armed[slot] = False
        self._after_gap[slot] = False
        self._last[slot] = _SILENT

    def _classify(self, power: npt.NDArray[np.float32],
                  freq: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        loud = power >= self._on
        out = np.full(power.shape, _OTHER, dtype=np.int64)
        out[power < self._off] = _SILENT
        out[loud & (np.abs(freq - 2100) < self._tol)] = _T2100
        out[loud & (np.abs(freq - 1300) < self._tol)] = _T1300
        return out

    def update(self, power: npt.NDArray[np.float32],
               freq: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        """Segments ``(N, S)`` of power and median frequency → slots that heard the sequence."""
        dt = self.SEGMENT_MS
        heard = np.zeros(power.shape[0], dtype=bool)
        for raw in self._classify(power, freq).T:
            # one unclear segment (a tone starting or ending inside it) continues the state
            c = np.where((raw == _OTHER) & (self._last != _OTHER), self._last, raw)
            self._last = raw
            long2100 = self._run2100 >= 300
            self._run2100 = np.where(c == _T2100, self._run2100 + dt, 0)
            arm = (c == _SILENT) & long2100
            quiet = self._armed & (c == _SILENT)
            self._silence = np.where(arm, dt, np.where(quiet, self._silence + dt, self._silence))
            leave = self._armed & (c == _T1300)
            fits = (self._silence >= 75 - 20 - dt) & (self._silence <= 75 + 20 + dt)
            self._after_gap = np.where(leave, fits, self._after_gap & (c == _T1300))
            self._armed = (self._armed & (c == _SILENT)) | arm
            self._run1300 = np.where(c == _T1300, self._run1300 + dt, 0)
            heard |= (self._after_gap & (self._run1300 >= 60)) | (self._run1300 >= 1700)
        return heard
