"""Events of the Minitel's modem, as the calling side sees the line (reference §1).

``at`` is always a receive-side sample index: the number of samples given to
``receive_audio`` before the moment the event was decided (time is the sample count).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CarrierLost", "Connected", "Data", "Event", "NoAnswer"]


@dataclass(frozen=True, slots=True)
class Connected:
    """The answer was recognised: the Minitel connects and sends its 390 Hz mark.

    ``via`` is ``"answer-tone"`` (2100 Hz, silence, 60 ms of 1300 Hz) or ``"carrier"``
    (1.7 s of continuous 1300 Hz)."""

    at: int
    via: str


@dataclass(frozen=True, slots=True)
class Data:
    """7-bit bytes received at 1200 baud; a parity or framing error arrived as SUB (0x1A)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CarrierLost:
    """The 1200-baud carrier was absent for 440 ms: the Minitel drops the line."""

    at: int


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """40 s went by without an answer: the connection attempt failed."""

    at: int


Event = Connected | Data | CarrierLost | NoAnswer
