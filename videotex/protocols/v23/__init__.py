"""V.23 soft modem (Minitel line: 1200 baud down, 75 baud up), sans-IO, numpy, many calls at once.

The server answers (:class:`AnswerBank`, :class:`AnswerModem`); the originate side
(:class:`OriginateBank`, :class:`OriginateModem`) is what a Minitel does, for tests and
benchmarks. Both have the h11 shape: ``receive_audio(samples) -> events``, ``send(bytes)``,
``audio_out(n) -> samples``, with 16-bit linear samples at 8 kHz; time is the sample count.
See ``docs/v23-modem.md`` for the signal chain and the measured figures.
"""

from __future__ import annotations

from videotex.protocols.v23.answer import AnswerBank, AnswerModem
from videotex.protocols.v23.events import (
    AnswerConfig,
    BankFull,
    CarrierLost,
    CarrierUp,
    Data,
    Event,
    NoCarrier,
    OriginateConfig,
    SlotError,
    TxOverflow,
    V23Error,
)
from videotex.protocols.v23.originate import OriginateBank, OriginateModem

__all__ = [
    "AnswerBank",
    "AnswerConfig",
    "AnswerModem",
    "BankFull",
    "CarrierLost",
    "CarrierUp",
    "Data",
    "Event",
    "NoCarrier",
    "OriginateBank",
    "OriginateConfig",
    "OriginateModem",
    "SlotError",
    "TxOverflow",
    "V23Error",
]
