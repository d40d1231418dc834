"""The Minitel's 75-baud V.23 backward-channel transmitter: 390 Hz mark, 450 Hz space.

Owns the transmit timeline: silence until :meth:`Transmitter.start`, then a continuous,
phase-continuous FSK carrier. Bit ``b`` covers samples ``[b·8000/75, (b+1)·8000/75)``
counted from the start, computed in integers (``3·k // 320``): the bit clock is fractional
(106⅔ samples per bit) and never drifts. A bit's value is decided when its first sample is
generated, so bytes given to :meth:`Transmitter.send` go out at the next bit boundary.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.typing import NDArray

from .dsp import RATE, amplitude_for
from .framing import encode_7e1

__all__ = ["BAUD", "MARK_HZ", "SPACE_HZ", "Transmitter"]

#: Minitel → server rate and tones (reference §1).
BAUD = 75
MARK_HZ = 390.0
SPACE_HZ = 450.0
#: SEP 53, what the Minitel sends about 80 ms after it connects (reference §1).
SEP_53 = b"\x13\x53"
_SEP_DELAY_BITS = 6  # 6 bits at 75 Bd = 80 ms


class Transmitter:
    """75-baud 7E1 FSK, sans-IO: ``send(bytes)`` queues, ``audio_out(n)`` renders samples."""

    def __init__(self, level_dbm0: float = -10.0, *, sep53: bool = True) -> None:
        self._amp = amplitude_for(level_dbm0)
        self._sep53 = sep53
        self._on = False
        self._k = 0  # samples generated since start()
        self._phase = 0.0
        self._queue: deque[int] = deque()  # line bits waiting, in time order
        self._pending = bytearray()  # bytes not yet framed
        self._bit_index = -1  # index of the last bit decided
        self._bit = 1
        self._busy_until = 0  # sample index where the last bit taken from the queue ends
        self._stopped = False
        self._step = np.array([2 * math.pi * SPACE_HZ / RATE, 2 * math.pi * MARK_HZ / RATE])
        self._ramp = np.zeros(0)

    @property
    def on(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._on

    @property
    def idle(self) -> bool:
        """Every byte given to :meth:`send` has been sent in full (or dropped by stop)."""
        return not self._queue and not self._pending and self._k >= self._busy_until

    def start(self) -> None:
        """Carrier on: mark now, SEP 53 (if enabled) 80 ms later, then queued bytes."""
        if not self._on and not self._stopped:
            self._on = True
            if self._sep53:
                self._pending[:0] = SEP_53

    def stop(self) -> None:
        """Carrier off for good: silence from now on; unsent bytes are dropped."""
        self._on = False
        self._stopped = True
        self._queue.clear()
        self._pending.clear()
        self._busy_until = 0

    def send(self, data: bytes) -> None:
        """Queue 7-bit bytes for transmission (bit 7 is replaced by the parity bit)."""
        if not self._stopped:
            self._pending += data

    def _next_bit(self, index: int) -> int:
        if not self._queue and self._pending and index >= _SEP_DELAY_BITS:
            self._queue.extend(encode_7e1(bytes(self._pending)).ravel().tolist())
            self._pending.clear()
        if not self._queue:
            return 1
        self._busy_until = -(-320 * (index + 1) // 3)
        return self._queue.popleft()

    def audio_out(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` samples: silence while off, else the FSK carrier."""
        if n <= 0:
            return np.zeros(0)
        if not self._on:
            return np.zeros(n)
        k0 = self._k
        first, last = 3 * k0 // 320, 3 * (k0 + n - 1) // 320
        values = [self._bit]  # the bit in progress at k0 (or the first one, decided below)
        for index in range(first, last + 1):
            if index > self._bit_index:
                self._bit = self._next_bit(index)
                self._bit_index = index
                if index == first:
                    values[0] = self._bit
                else:
                    values.append(self._bit)
        self._k = k0 + n
        if len(set(values)) == 1:  # one frequency all along (the idle mark): no per-bit maps
            step = float(self._step[values[0]])
            if len(self._ramp) < n:
                self._ramp = np.arange(n, dtype=np.float64)
            phase = self._phase + step * self._ramp[:n]
            self._phase = (self._phase + step * n) % (2 * math.pi)
            return self._amp * np.sin(phase)
        # samples per bit of this block: bit b ends before sample ceil(320(b+1)/3)
        ends = -(-320 * np.arange(first + 1, last + 1) // 3) - k0
        per_sample = np.repeat(values, np.diff(np.concatenate(([0], ends, [n]))))
        steps = self._step[per_sample]
        phase = self._phase + np.cumsum(steps) - steps
        self._phase = float((phase[-1] + steps[-1]) % (2 * math.pi))
        return self._amp * np.sin(phase)
