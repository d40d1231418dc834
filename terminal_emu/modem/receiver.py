"""The Minitel's 1200-baud V.23 receiver: answer detection, carrier detect, demodulation.

Owns the receive path, in 10 ms segments of 80 samples aligned on the sample count (input
is buffered to whole segments, so any chunking gives the same result):

1. an analytic band-pass FIR (complex taps, positive frequencies only) keeps the server's
   band around 1700 Hz and rejects the Minitel's own 390/450 Hz transmission leaking back
   through the line hybrid, and the out-of-band noise;
2. per segment: power (carrier detect with hysteresis, loss timer) and, while calling, the
   share of the segment's energy at 2100 Hz and at 1300 Hz (both exact DFT bins of an
   80-sample segment) for :class:`~.answer.AnswerDetector`;
3. a quadrature frequency discriminator: ``Im(conj(a[n])·a[n-1]·e^{jω₀})`` with ω₀ at
   1700 Hz is ``|a|²·sin(ω₀ - ω)``: positive for 1300 Hz (mark), negative for 2100 Hz
   (space), weighted by the signal's power so that noise-dominated samples count less;
   level-independent because only its sign and zero crossings are used;
4. no post-detection filter (at 6⅔ samples per bit it costs more in inter-symbol
   interference than it removes in noise): the discriminator output goes straight to
   :class:`~.uart.Uart` (start edges, 7E1).

Segments where the carrier is absent are clamped to mark before the UART, like a modem's
data line when DCD is off, so a dropout shorter than 440 ms produces no noise bytes.
"""

from __future__ import annotations

import enum
import math

import numpy as np
from numpy.typing import NDArray

from .answer import AnswerDetector, Kind
from .dsp import RATE, AnalyticFilter, analytic_bandpass, power_for
from .events import CarrierLost, Connected, Data, Event, NoAnswer
from .uart import Uart

__all__ = ["BAUD", "MARK_HZ", "SEGMENT", "SPACE_HZ", "LineState", "Receiver"]

#: Server → Minitel rate and tones (reference §1).
BAUD = 1200
MARK_HZ = 1300.0
SPACE_HZ = 2100.0
#: Samples per segment (10 ms): the unit of carrier detect and answer detection.
SEGMENT = 80

_CENTRE = (MARK_HZ + SPACE_HZ) / 2
# -6 dB at 1025 and 2375 Hz, over 55 dB down below 750 Hz (the Minitel's own 390/450 Hz)
# and above 2650 Hz. Narrower costs more in inter-symbol interference than it saves in
# noise; wider lets in more noise (both measured with tests/emu/modem_line.py).
_BANDPASS = analytic_bandpass(51, 1025.0, 2375.0, beta=5.0)
_ROTATE = complex(np.exp(2j * np.pi * _CENTRE / RATE))
# DFT rows of the two tones over one segment: 1300 and 2100 Hz are bins 13 and 21.
_TONES = np.exp(-2j * np.pi * np.outer(np.arange(SEGMENT), [SPACE_HZ, MARK_HZ]) / RATE)
_TONE_SHARE = 0.5  # a segment is a tone when the tone holds more than half its energy
_SILENCE_DROP = 0.1  # or when the answer tone just fell by more than 10 dB


class LineState(enum.Enum):
    """Where the call is, from the Minitel's side."""

    CALLING = "calling"  #: §1: waiting up to 40 s for the answer
    CONNECTED = "connected"  #: §1: answered, carrier present (or lost for under 440 ms)
    DISCONNECTED = "disconnected"  #: no answer, carrier lost, or hung up


class Receiver:
    """Received audio in, :mod:`~.events` out. See the module docstring for the method."""

    def __init__(self, *, answer_timeout_s: float = 40.0, carrier_on_dbm0: float = -45.0,
                 carrier_off_dbm0: float = -47.0, carrier_loss_ms: float = 440.0) -> None:
        if carrier_off_dbm0 > carrier_on_dbm0:
            raise ValueError("carrier_off_dbm0 must not be above carrier_on_dbm0")
        self.state = LineState.CALLING
        self.carrier = False
        self._on = power_for(carrier_on_dbm0)
        self._off = power_for(carrier_off_dbm0)
        self._timeout = round(answer_timeout_s * RATE)
        self._loss_segments = math.ceil(carrier_loss_ms * RATE / 1000 / SEGMENT)
        self._absent = 0
        self._filter = AnalyticFilter(_BANDPASS)
        self._prev: complex = 0j  # last analytic sample, for the discriminator
        self._raw = np.zeros(0)
        self._count = 0  # samples consumed into segments
        self._answer = AnswerDetector()
        self._tone_power = 0.0
        self._uart = Uart(RATE / BAUD)

    @property
    def samples(self) -> int:
        """Samples received so far (the receive clock)."""
        return self._count + len(self._raw)

    def hang_up(self) -> None:
        """Stop listening: later audio is ignored."""
        self.state = LineState.DISCONNECTED

    def receive(self, x: NDArray[np.float64]) -> list[Event]:
        """Events decided by these samples (float64, full scale ±1)."""
        buf = np.concatenate((self._raw, x)) if len(self._raw) else x
        nseg = len(buf) // SEGMENT
        self._raw = buf[nseg * SEGMENT:].copy()  # never a view of the caller's buffer
        if not nseg or self.state is LineState.DISCONNECTED:
            self._count += nseg * SEGMENT
            return []
        a = self._filter(buf[:nseg * SEGMENT])
        energy = np.square(a.view(np.float64)).reshape(nseg, 2 * SEGMENT).sum(axis=1)
        power = energy * (0.5 / SEGMENT)
        events: list[Event] = []
        first = 0
        if self.state is LineState.CALLING:
            first = self._calling(a, energy, power, events)
        tail: list[Event] = []
        if self.state is LineState.CONNECTED and first < nseg:
            present = self._connected(power[first:], first, tail)
            start = first * SEGMENT
            stop = nseg * SEGMENT if present is None else start + len(present) * SEGMENT
            soft = self._discriminate(a[start - 1] if first else self._prev, a[start:stop])
            if present is not None:
                soft.reshape(-1, SEGMENT)[~present] = 1.0  # no carrier: data rests at mark
            data = self._uart.feed(soft)
            if data:
                events.append(Data(data))
        self._prev = a[-1]
        self._count += nseg * SEGMENT
        return events + tail

    @staticmethod
    def _discriminate(prev: complex, a: NDArray[np.complex128]) -> NDArray[np.float64]:
        # Im(a[n-1]·conj(a[n])·e^{jω₀}) = |a|²·sin(ω₀ - ω): > 0 for mark, < 0 for space
        ext = np.concatenate(((prev,), a))
        return (ext[:-1] * _ROTATE * ext[1:].conj()).imag

    def _carrier_step(self, p: float) -> bool:
        self.carrier = p > self._off if self.carrier else p > self._on
        return self.carrier

    def _calling(self, a: NDArray[np.complex128], energy: NDArray[np.float64],
                 power: NDArray[np.float64], events: list[Event]) -> int:
        """Run answer detection; return the first segment after the connection (or nseg)."""
        seg = a.reshape(-1, SEGMENT) @ _TONES
        share = (seg.real**2 + seg.imag**2) / (SEGMENT * np.maximum(energy, 1e-300))[:, None]
        for i, p in enumerate(power.tolist()):
            end = self._count + (i + 1) * SEGMENT
            kind = self._classify(self._carrier_step(p), p, share[i, 0], share[i, 1])
            via = self._answer.step(kind)
            if via is not None:
                self.state = LineState.CONNECTED
                self._absent = 0
                events.append(Connected(end, via))
                return i + 1
            if end >= self._timeout:
                self.state = LineState.DISCONNECTED
                events.append(NoAnswer(end))
                return len(power)
        return len(power)

    def _classify(self, present: bool, p: float, answer: float, mark: float) -> Kind:
        if present and answer > _TONE_SHARE:
            self._tone_power = p
            return Kind.ANSWER
        if present and mark > _TONE_SHARE:
            return Kind.MARK
        if not present or p < self._tone_power * _SILENCE_DROP:
            return Kind.SILENCE
        return Kind.OTHER

    def _connected(self, power: NDArray[np.float64], first: int,
                   tail: list[Event]) -> NDArray[np.bool_] | None:
        """Carrier detect per segment, None if present all along (the usual case: no loop);
        stops at a carrier loss (the line is dropped)."""
        if self.carrier and power.min() > self._off:
            self._absent = 0
            return None
        present = []
        for i, p in enumerate(power.tolist()):
            on = self._carrier_step(p)
            present.append(on)
            self._absent = 0 if on else self._absent + 1
            if self._absent >= self._loss_segments:
                self.state = LineState.DISCONNECTED
                tail.append(CarrierLost(self._count + (first + i + 1) * SEGMENT))
                break
        return np.asarray(present, dtype=bool)
