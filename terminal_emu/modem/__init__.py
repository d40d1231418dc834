"""The Minitel's own V.23 modem, calling side, sans-IO: audio in and out, bytes and events.

What a real Minitel does on a phone line (reference §1): it listens for the server's
answer, then receives at 1200 baud (1300 Hz = 1, 2100 Hz = 0) and sends at 75 baud
(390 Hz = 1, 450 Hz = 0), 7E1 both ways, SEP 53 first.

>>> import numpy as np
>>> modem = V23Modem()
>>> modem.receive_audio(np.zeros(160))     # 20 ms of silence: still calling
[]
>>> modem.audio_out(160).any()             # silent until the answer is recognised
np.False_

A SIP client moves 20 ms G.711 frames (160 bytes) each way::

    modem = V23Modem()
    for payload in rtp_payloads:                          # PCMU from the server
        for event in modem.receive_audio(g711.decode(payload, "ulaw")):
            match event:
                case Data(data):
                    minitel.feed(data)
                case Connected() | CarrierLost() | NoAnswer():
                    ...                                   # status row, hang up
        modem.send(minitel.take_output())                 # keys, protocol replies
        rtp_send(g711.encode(modem.audio_out(160), "ulaw"))

Samples are float64 at 8000 Hz, full scale ±1.0 (int16 arrays are accepted and scaled by
1/32768); G.711 conversion is :mod:`terminal_emu.g711`. Time is the sample count: nothing
here reads a clock, sleeps or does I/O. ``receive_audio`` and ``audio_out`` take any
sizes, and the events and bytes never depend on how the input was split (decisions are
made per whole 10 ms segment, so up to 79 samples may wait for the next call).

Written from the reference only: it shares no code with the server's modem.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dsp import FULL_SCALE_DBM0, RATE, amplitude_for, dbm0_of_power
from .events import CarrierLost, Connected, Data, Event, NoAnswer
from .framing import SUB, decode_7e1, encode_7e1
from .receiver import LineState, Receiver
from .transmitter import Transmitter

__all__ = [
    "FULL_SCALE_DBM0",
    "RATE",
    "SUB",
    "CarrierLost",
    "Connected",
    "Data",
    "Event",
    "LineState",
    "NoAnswer",
    "V23Modem",
    "amplitude_for",
    "dbm0_of_power",
    "decode_7e1",
    "encode_7e1",
]


def _as_float(samples: ArrayLike) -> NDArray[np.float64]:
    x = samples if isinstance(samples, np.ndarray) else np.asarray(samples)
    if x.dtype != np.float64:
        x = x * (1.0 / 32768.0) if x.dtype.kind in "iu" else x.astype(np.float64)
    if x.ndim != 1:
        x = x.ravel()
    # One reduction guards the DSP: NaN (which fails the test), infinities and absurd values
    # are tamed; real audio never goes past ±1.
    if x.size and not np.abs(x).max() <= 4.0:
        x = np.clip(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0), -4.0, 4.0)
    return x


class V23Modem:
    """The calling-side V.23 modem of a Minitel (see the module docstring).

    ``tx_level_dbm0`` is the transmit level (a real Minitel sends about -10 dBm0);
    ``sep53`` makes the modem send SEP 53 (``13 53``) by itself 80 ms after connecting.
    """

    def __init__(self, *, tx_level_dbm0: float = -10.0, sep53: bool = True,
                 answer_timeout_s: float = 40.0, carrier_on_dbm0: float = -45.0,
                 carrier_off_dbm0: float = -47.0, carrier_loss_ms: float = 440.0) -> None:
        self._rx = Receiver(answer_timeout_s=answer_timeout_s, carrier_on_dbm0=carrier_on_dbm0,
                            carrier_off_dbm0=carrier_off_dbm0, carrier_loss_ms=carrier_loss_ms)
        self._tx = Transmitter(tx_level_dbm0, sep53=sep53)

    @property
    def state(self) -> LineState:
        """Calling, connected or disconnected."""
        return self._rx.state

    @property
    def carrier(self) -> bool:
        """Carrier detect (with hysteresis) as of the last whole 10 ms segment."""
        return self._rx.carrier

    @property
    def samples_received(self) -> int:
        """The receive clock: samples given to :meth:`receive_audio` so far."""
        return self._rx.samples

    @property
    def tx_idle(self) -> bool:
        """Every byte given to :meth:`send` has been transmitted."""
        return self._tx.idle

    def receive_audio(self, samples: ArrayLike) -> list[Event]:
        """Feed received audio; returns the events it completes, in order.

        The modem decides per whole 10 ms segment, so up to 79 samples wait for the next
        call. After :class:`Connected` the transmitter starts; after :class:`CarrierLost`
        or :class:`NoAnswer` the line is dropped and later audio is ignored."""
        events = self._rx.receive(_as_float(samples))
        for event in events:
            if isinstance(event, Connected):
                self._tx.start()
            elif isinstance(event, CarrierLost | NoAnswer):
                self._tx.stop()
        return events

    def send(self, data: bytes) -> None:
        """Queue bytes for 75-baud transmission (7 bits each; the parity bit is added)."""
        self._tx.send(bytes(data))

    def audio_out(self, n: int) -> NDArray[np.float64]:
        """The next ``n`` samples to send: silence until connected, then the FSK carrier."""
        return self._tx.audio_out(n)

    def hang_up(self) -> None:
        """Drop the line (Connexion/Fin pressed twice): silence out, audio in ignored."""
        self._rx.hang_up()
        self._tx.stop()
