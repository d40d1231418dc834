"""In-band DTMF (ITU-T Q.23 keypad tones) detection, sans-IO, numpy, many calls at once.

Owns: turning the audio of calls (8 kHz, 16-bit linear, as :mod:`videotex.protocols.g711`
decodes it) into :class:`DigitEvent` values, once per key press. This module holds the
vocabulary (keys, checks, thresholds, events) and the analysis of windows of audio; the
detectors that keep each call's state over time are in :mod:`videotex.protocols.dtmf_bank`
(:class:`~videotex.protocols.dtmf_bank.DtmfBank`, one row per call, and
:class:`~videotex.protocols.dtmf_bank.DtmfDetector`, a bank of one slot).

The method, for every slot at once:

- **An analysis every 5 ms** (``HOP`` = 40 samples, four per 20 ms frame) over the last
  ``SPAN`` = 241 samples, whatever the frames' boundaries: a history of ``SPAN - HOP``
  samples is kept per slot, and input of any length is gathered into whole frames first.
  Why not the classic 102-106 sample blocks, nor one block per 160-sample frame: a block's
  length fixes both the frequency resolution and the time resolution. Short hops over longer
  windows give both: durations and pauses to 5 ms (40 ms accepted, 20 ms rejected, whatever
  the alignment of the tone on the frames), and windows long enough to tell 697 Hz from
  770 Hz and to measure a tone's frequency to a fraction of a percent.
- **Goertzel bins as matrix products**: each of the eight frequencies ``f`` is measured over
  its own pair of Hann windows, ``CYCLES`` periods of ``f`` each, the second half a window
  after the first: constant Q, the same *relative* selectivity at 697 Hz as at 1633 Hz, which
  is what Q.24's tolerances (in percent) ask for. A Goertzel filter's output is one DFT bin,
  so the bins of every window of every slot are one product of the windows by a fixed matrix
  (the Goertzel recursion would be a per-sample Python loop). A first product of 16 columns
  (each tone over its two windows) screens every analysis; the few that pass its checks
  (speech and noise seldom do) get a second one: each window alone, second harmonics,
  total powers. A slot whose samples all stay below the peak of a tone at the least level
  (a quiet line, a pause in speech) cannot pass and is left out of both.
- **Checks** (Q.24's accept/reject points, with the usual talk-off guards; figures in
  :class:`DtmfConfig`, names in :class:`Check`): per-tone level; the strongest tone of each
  group above the others of its group; normal and reverse twist; frequency deviation,
  measured from the phase turn of a tone between its two windows (a frequency estimate, not a
  bin's loss of energy); second harmonics; and the share of the total power that the two
  tones carry, the main guard against speech.
- **Timing**: an analysis that passes every check is a *hit*. Its windows are centred on the
  5 ms step it stands for and a hit needs the tones over more than about half of them, so a
  tone of ``d`` ms gives about ``d / 5`` hits, whatever the windows' lengths. ``min_on_ms`` of
  hits in a row (one miss allowed) make a press; ``min_off_ms`` without a hit of that digit
  end it: a drop-out shorter than that, such as a lost 20 ms packet concealed by silence, is
  bridged, a 40 ms pause separates two presses. The press is reported once, as a
  :class:`DigitEvent` when it ends; ``DtmfBank.pressed`` tells the key held meanwhile.

Invariants: time is the sample count of each call since its slot was added, never the wall
clock; the state of a slot is a row of small arrays; Python loops only over the four analyses
of a frame and over the events found, never over samples or slots; free slots are processed
as silence and report nothing; the same audio gives the same events however it is split.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import DBM0_RMS

__all__ = [
    "CYCLES",
    "DIGITS",
    "FRAME",
    "HIGH_HZ",
    "HOP",
    "LOW_HZ",
    "RATE",
    "SPAN",
    "BankFull",
    "Check",
    "DigitEvent",
    "DtmfConfig",
    "DtmfError",
    "SlotError",
    "analyse",
]

#: Samples per second.
RATE: Final = 8000
#: Samples per frame: 20 ms, one RTP packet of G.711.
FRAME: Final = 160
#: Samples between two analyses (5 ms): the resolution of durations and pauses.
HOP: Final = 40
#: Q.23 low group (rows of the keypad) and high group (columns), in Hz.
LOW_HZ: Final = (697.0, 770.0, 852.0, 941.0)
HIGH_HZ: Final = (1209.0, 1336.0, 1477.0, 1633.0)
#: Q.23 keypad: row ``r`` (low tone ``LOW_HZ[r]``), column ``c`` (high tone ``HIGH_HZ[c]``).
DIGITS: Final = ("123A", "456B", "789C", "*0#D")
#: Periods of its tone in each of a tone's two Hann windows (697 Hz: 161 samples, 20 ms).
CYCLES: Final = 14


class Check(enum.Enum):
    """The checks an analysis must pass to be a hit (:func:`analyse` names those it failed)."""

    #: A tone below ``min_level_dbm0`` (Q.24's annex: receivers work down to about -25 dBm0
    #: per tone).
    LEVEL = "level"
    #: Strongest tone of each group above the others of its group by ``relative_peak_db``.
    PEAK = "peak"
    #: The high tone above the low by more than ``normal_twist_db`` (normal or standard twist:
    #: lines lose more of the high group, so senders raise it).
    NORMAL_TWIST = "normal twist"
    #: The low tone above the high by more than ``reverse_twist_db`` (reverse twist).
    REVERSE_TWIST = "reverse twist"
    #: A tone off its nominal frequency by more than ``max_deviation`` (Q.24: ±1.5 % must be
    #: accepted, ±3.5 % rejected).
    DEVIATION = "deviation"
    #: A second harmonic within ``harmonic_db`` of the louder tone (a talk-off guard: voiced
    #: speech has harmonics, a keypad's sines do not).
    HARMONIC = "harmonic"
    #: The two tones carry less than ``min_share`` of the total power (speech, noise, music:
    #: the main talk-off guard).
    SHARE = "share"


@dataclass(frozen=True, slots=True)
class DtmfConfig:
    """Detection thresholds; the defaults meet Q.24's accept/reject points with margin."""

    #: Least level of each tone, dBm0 (accept -25 dBm0 with the 8 dB of twist allowed).
    min_level_dbm0: float = -36.0
    #: Largest excess of the high tone over the low ("standard twist"), dB.
    normal_twist_db: float = 8.0
    #: Largest excess of the low tone over the high ("reverse twist"), dB.
    reverse_twist_db: float = 4.0
    #: Least excess of each chosen tone over the next strongest of its group, dB.
    relative_peak_db: float = 8.0
    #: Least excess of the louder tone over either tone's second harmonic, dB.
    harmonic_db: float = 10.0
    #: Largest frequency error of either tone, a fraction of its nominal frequency (between
    #: Q.24's 1.5 % accepted and 3.5 % rejected).
    max_deviation: float = 0.025
    #: Least share of the total power carried by the two tones (1.0: a pure dual tone).
    min_share: float = 0.6
    #: Hits in a row needed for a press, ms (between Q.24's 20 ms rejected and 40 ms accepted).
    min_on_ms: float = 30.0
    #: Time without a hit that ends a press, ms: between Q.24's interruptions of 10 ms, to be
    #: bridged, and pauses of 40 ms, to be recognised; a lost 20 ms packet is bridged too.
    min_off_ms: float = 35.0

    def __post_init__(self) -> None:
        for name in ("normal_twist_db", "reverse_twist_db", "relative_peak_db", "harmonic_db",
                     "max_deviation", "min_share"):
            if getattr(self, name) < 0:
                raise ValueError(f"DtmfConfig.{name} must not be negative: {getattr(self, name)}")
        if not 0.0 < self.max_deviation < 1.0 / CYCLES:
            raise ValueError(f"DtmfConfig.max_deviation must be in (0, {1 / CYCLES:.3f}) (the "
                             f"phase measurement wraps beyond), got {self.max_deviation}")
        if self.min_share > 1.0:
            raise ValueError(f"DtmfConfig.min_share is a fraction of 1, got {self.min_share}")
        for name in ("min_on_ms", "min_off_ms"):
            if getattr(self, name) < HOP * 1000 / RATE:
                raise ValueError(f"DtmfConfig.{name} must be at least {HOP * 1000 / RATE} ms "
                                 f"(one analysis), got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class DigitEvent:
    """One key press: ``digit`` held from sample ``start`` to sample ``end`` (exclusive).

    Samples count from the start of the call: the slot's ``DtmfBank.add`` for the in-band
    detector, which knows them to within a 5 ms analysis step; the ``origin`` timestamp of an
    RFC 4733 receiver (:mod:`videotex.protocols.telephone_event`), which knows them exactly.
    """

    digit: str
    start: int
    end: int

    @property
    def duration(self) -> int:
        """Samples the key was held."""
        return self.end - self.start


class DtmfError(Exception):
    """A detector refused a request from its user (a local error, not a line condition)."""


class SlotError(DtmfError, KeyError):
    """A slot number that is not in use in this bank."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "slot error"


class BankFull(DtmfError):
    """Every slot of the bank is in use."""


# -- the analysis matrix --------------------------------------------------------------------

_TONES: Final = np.array(LOW_HZ + HIGH_HZ)
_LEN: Final = np.rint(CYCLES * RATE / _TONES).astype(np.int64)  # each tone's window
_LAG: Final = _LEN // 2  # the second window starts this much after the first
#: Samples each analysis looks at: the longest tone's two windows.
SPAN: Final = int((_LEN + _LAG).max())
#: Phase turn, radians, between a tone's two windows per unit of relative frequency error.
_TURN: Final = 2 * np.pi * _TONES * _LAG / RATE
#: The second harmonics' window.
_HAMMING: Final = np.hamming(SPAN)


def _matrices() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32],
                         npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The bins, one column per cosine or sine, each tone's pair of windows centred on the span.

    - screening ``(SPAN, 16)``: each tone over its two windows together (its level);
    - detail ``(SPAN, 56)``: each tone over window 1, over window 2 (its frequency), its
      second harmonic over a Hamming window of the whole span (-43 dB side lobes: a low tone's
      harmonic lies 58 Hz or more from a high tone), and the high tones over that window;
    - weights ``(SPAN, 8)``: each tone's two windows, summed to 1 (total power, on x²);
    - gains ``(8,)``: what turns a squared screening bin into a sine's ``A² / 2``.
    """
    n = np.arange(SPAN)
    screen, detail = np.zeros((SPAN, 16)), np.zeros((SPAN, 56))
    weights, gains = np.zeros((SPAN, 8)), np.zeros(8)
    for i, (f, m, lag) in enumerate(zip(_TONES, _LEN, _LAG, strict=True)):
        start = (SPAN - (m + lag)) // 2
        w = np.hanning(m + 2)[1:-1]
        w1, w2 = np.zeros(SPAN), np.zeros(SPAN)
        w1[start : start + m] = w
        w2[start + lag : start + lag + m] = w
        both = w1 + w2
        c1, s1 = np.cos(2 * np.pi * f * n / RATE), -np.sin(2 * np.pi * f * n / RATE)
        c2, s2 = np.cos(4 * np.pi * f * n / RATE), -np.sin(4 * np.pi * f * n / RATE)
        screen[:, 2 * i : 2 * i + 2] = np.stack([both * c1, both * s1], axis=1)
        detail[:, 4 * i : 4 * i + 4] = np.stack([w1 * c1, w1 * s1, w2 * c1, w2 * s1], axis=1)
        detail[:, 32 + 2 * i : 34 + 2 * i] = np.stack([_HAMMING * c2, _HAMMING * s2], axis=1)
        if i >= 4:
            detail[:, 40 + 2 * i : 42 + 2 * i] = np.stack([_HAMMING * c1, _HAMMING * s1], axis=1)
        weights[:, i] = both / both.sum()
        gains[i] = 2.0 / both.sum() ** 2
    return (screen.astype(np.float32), detail.astype(np.float32), weights.astype(np.float32),
            gains.astype(np.float32))


_SCREEN, _DETAIL, _WEIGHTS, _GAIN = _matrices()
_HGAIN: Final = 2.0 / float(_HAMMING.sum()) ** 2
#: Analyses without a hit that a run of hits may contain.
_RUN_GAP: Final = 1
#: dB of twist beyond the limits let through the first pass (the edges of a tone, see below).
_TWIST_ROOM: Final = 3.0


def _db(x: float) -> float:
    return float(10.0 ** (x / 10.0))


F32 = npt.NDArray[np.float32]
Fails = dict[Check, npt.NDArray[np.bool_]]


def _verdicts(win: F32, cfg: DtmfConfig, every: bool = False
              ) -> tuple[npt.NDArray[np.int64], Fails]:
    """``win`` ``(m, k, SPAN)`` → (key index 0-15 or -1 per window, each check's failures),
    both flat in ``(m, k)`` order. ``win`` may be a strided view of the history: each
    ``win[:, j]`` goes to BLAS as it is, and only the windows that pass the first checks are
    copied.

    Two passes: the level, peak and (roughly) twist checks on every window from a 16-column
    product; the rest, from 64 more columns, only on the windows that passed (speech and noise
    rarely do), or on all of them if ``every`` (for :func:`analyse`).
    """
    m, k = win.shape[:2]
    bins = np.empty((m, k, 16), dtype=np.float32)
    for j in range(k):
        np.matmul(win[:, j], _SCREEN, out=bins[:, j])
    y = bins.reshape(m * k, 16)
    p = (y[:, 0::2] ** 2 + y[:, 1::2] ** 2) * _GAIN  # (n, 8): each tone's A² / 2
    lo = np.argmax(p[:, :4], axis=1)
    hi = 4 + np.argmax(p[:, 4:], axis=1)
    rows = np.arange(len(p))
    plo, phi = p[rows, lo], p[rows, hi]
    floor = np.float32(DBM0_RMS**2 * _db(cfg.min_level_dbm0))
    peak = np.float32(_db(cfg.relative_peak_db))
    fails = {
        Check.LEVEL: (plo < floor) | (phi < floor),
        Check.PEAK: (plo < np.partition(p[:, :4], 2, axis=1)[:, 2] * peak)
        | (phi < np.partition(p[:, 4:], 2, axis=1)[:, 2] * peak),
        # with room: the exact twist, in the second pass, corrects for the windows' lengths
        Check.NORMAL_TWIST: phi > plo * np.float32(_db(cfg.normal_twist_db + _TWIST_ROOM)),
        Check.REVERSE_TWIST: plo > phi * np.float32(_db(cfg.reverse_twist_db + _TWIST_ROOM)),
    }
    bad = fails[Check.LEVEL] | fails[Check.PEAK] | fails[Check.NORMAL_TWIST] \
        | fails[Check.REVERSE_TWIST]
    for check in (Check.DEVIATION, Check.HARMONIC, Check.SHARE):
        fails[check] = np.zeros(len(p), dtype=bool)
    todo = rows if every else np.flatnonzero(~bad)
    if len(todo):
        late = _detail(win[todo // k, todo % k], lo[todo], hi[todo],
                       plo[todo].astype(np.float64), phi[todo].astype(np.float64), cfg)
        for check, f in late.items():
            fails[check][todo] = f
            bad[todo] |= f
    return np.where(bad, -1, lo * 4 + hi - 4), fails


def _at(offset: npt.NDArray[np.float64]) -> npt.NDArray[np.complex128]:
    """The Hamming window's response to tones ``offset`` radians per sample from its bin,
    ``Σ w[n] e^{j offset n}``: in closed form, 0.54 D(θ) - 0.23 (D(θ - φ) + D(θ + φ)), where
    D is the Dirichlet kernel of the span and φ = 2π / (SPAN - 1)."""
    phi = 2 * np.pi / (SPAN - 1)
    return 0.54 * _dirichlet(offset) - 0.23 * (_dirichlet(offset - phi)
                                               + _dirichlet(offset + phi))


def _dirichlet(t: npt.NDArray[np.float64]) -> npt.NDArray[np.complex128]:
    """``Σ e^{j t n}`` over the span's samples, for |t| < 2π."""
    half = np.sin(t / 2)
    near = np.abs(half) < 1e-9
    ratio = np.where(near, SPAN, np.sin(SPAN * t / 2) / np.where(near, 1.0, half))
    return np.exp(0.5j * (SPAN - 1) * t) * ratio


def _detail(sel: F32, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64],
            plo: npt.NDArray[np.float64], phi: npt.NDArray[np.float64], cfg: DtmfConfig
            ) -> Fails:
    """The second pass, on the windows ``sel`` whose strongest tones are ``lo`` and ``hi``
    (indices into the eight tones) of powers ``plo`` and ``phi``."""
    d = sel @ _DETAIL
    total = ((sel * sel) @ _WEIGHTS).astype(np.float64)
    r = np.arange(len(sel))

    def bin_at(col: npt.NDArray[np.int64]) -> npt.NDArray[np.complex128]:
        return d[r, col].astype(np.float64) + 1j * d[r, col + 1]

    tlo, thi = np.maximum(total[r, lo], 1e-9), np.maximum(total[r, hi], 1e-9)
    # each tone's frequency error (relative, signed) from its turn between its two windows
    dev_lo = np.angle(bin_at(4 * lo + 2) * np.conj(bin_at(4 * lo))) / _TURN[lo]
    dev_hi = np.angle(bin_at(4 * hi + 2) * np.conj(bin_at(4 * hi))) / _TURN[hi]
    yhi = bin_at(40 + 2 * hi)  # the high tone over the harmonics' window
    # The low tone's second harmonic (1394-1882 Hz) lies among the high tones: take away what
    # the high tone, of the amplitude and frequency measured, puts into that bin.
    f_hi = _TONES[hi] * (1.0 + dev_hi)
    seen = _at(2 * np.pi * (f_hi - _TONES[hi]) / RATE)
    leak = yhi * _at(2 * np.pi * (f_hi - 2 * _TONES[lo]) / RATE) / np.where(seen == 0, 1, seen)
    hlo = np.abs(bin_at(32 + 2 * lo) - leak) ** 2 * _HGAIN
    hhi = np.abs(bin_at(32 + 2 * hi)) ** 2 * _HGAIN
    hd = _db(cfg.harmonic_db)
    # A tone's bins grow as the square of the share of its windows it fills, the total power
    # as that share: at a tone's start and end, (total_lo / total_hi)² undoes the windows'
    # different lengths in the twist. Either estimate may pass (the correction adds the
    # totals' noise, which the plain ratio, right in the steady part, does not have).
    twist = phi / np.maximum(plo, 1e-9)
    fixed = twist * (tlo / thi) ** 2
    return {
        Check.NORMAL_TWIST: np.minimum(twist, fixed) > _db(cfg.normal_twist_db),
        Check.REVERSE_TWIST: np.maximum(twist, fixed) * _db(cfg.reverse_twist_db) < 1.0,
        Check.DEVIATION: (np.abs(dev_lo) > cfg.max_deviation)
        | (np.abs(dev_hi) > cfg.max_deviation),
        Check.HARMONIC: np.maximum(hlo, hhi) * hd > np.maximum(plo, phi),
        Check.SHARE: plo / tlo + phi / thi < cfg.min_share,
    }


def _pcm(samples: npt.ArrayLike, where: str) -> npt.NDArray[np.generic]:
    """Samples as numbers in the 16-bit range: floats clipped, NaN as 0; other types refused."""
    x = np.asarray(samples)
    if x.dtype.kind == "f":
        return np.clip(np.nan_to_num(x, nan=0.0, posinf=32767.0, neginf=-32768.0),
                       -32768.0, 32767.0)
    if x.dtype.kind not in "iub":
        raise TypeError(f"{where}: samples must be real numbers, got dtype {x.dtype}")
    return x if x.dtype in (np.int16, np.int8, np.uint8, np.bool_) else np.clip(x, -32768, 32767)


def analyse(samples: npt.ArrayLike, config: DtmfConfig | None = None
            ) -> list[tuple[str | None, frozenset[Check]]]:
    """What each 5 ms analysis of ``samples`` (one call, 16-bit linear) saw: the digit it is a
    hit of (or None) and the checks it failed, the candidate being the strongest tone of each
    group. For tests and for tuning; :class:`~videotex.protocols.dtmf_bank.DtmfDetector` is the
    detector."""
    x = _pcm(samples, "analyse")
    if x.ndim != 1:
        raise ValueError(f"analyse: expected one channel of samples, got shape {x.shape}")
    x = np.concatenate([np.zeros(SPAN - HOP, dtype=np.float32), x.astype(np.float32)])
    count = (len(x) - SPAN) // HOP + 1
    if count <= 0:
        return []
    win = np.lib.stride_tricks.sliding_window_view(x, SPAN)[::HOP][:count]
    keys, fails = _verdicts(np.ascontiguousarray(win)[:, None], config or DtmfConfig(),
                            every=True)
    return [(DIGITS[k // 4][k % 4] if k >= 0 else None,
             frozenset(c for c, f in fails.items() if f[j]))
            for j, k in enumerate(keys.tolist())]
