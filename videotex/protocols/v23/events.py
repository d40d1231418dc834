"""Events, errors and settings of the V.23 modems (answer side and originate side).

Owns: what a modem tells its caller (frozen dataclasses), what it refuses (exceptions that
say which slot and which figure), and the tunable figures with their defaults and why.

Invariants: times are given in milliseconds here and turned into whole 20 ms receive blocks or
whole transmit groups by the modems (2.5 ms at 1200 baud); levels are in dBm0 as defined in
:mod:`videotex.protocols.g711`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "BLOCK",
    "BLOCK_MS",
    "AnswerConfig",
    "BankFull",
    "CarrierLost",
    "CarrierUp",
    "Data",
    "Event",
    "NoCarrier",
    "OriginateConfig",
    "SlotError",
    "TxOverflow",
    "V23Error",
    "blocks",
]

#: Receive blocks: 160 samples, 20 ms, one RTP packet of G.711.
BLOCK = 160
BLOCK_MS = 20


def blocks(ms: float) -> int:
    """Whole 20 ms receive blocks covering ``ms`` (at least one)."""
    return max(1, math.ceil(ms / BLOCK_MS - 1e-9))


@dataclass(frozen=True, slots=True)
class CarrierUp:
    """The far end's carrier is steady: received data flows from here on.

    Answer side: the Minitel's 390 Hz carrier has been present for ``steady_ms``; bytes it sent
    meanwhile follow at once as :class:`Data`. Originate side: the answer sequence was heard
    (2100 Hz, silence, 1300 Hz; or 1.7 s of 1300 Hz) and the 75 baud carrier is now sent.
    """


@dataclass(frozen=True, slots=True)
class Data:
    """Bytes received, 7-bit, a parity or framing error already turned into SUB (0x1A)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CarrierLost:
    """The far end's carrier was absent longer than ``carrier_loss_ms``: the call should end."""


@dataclass(frozen=True, slots=True)
class NoCarrier:
    """No steady carrier within ``connect_timeout_ms`` of the start: the call should end."""


Event = CarrierUp | Data | CarrierLost | NoCarrier


class V23Error(Exception):
    """A V.23 modem refused a call from its user (a local error, not a line condition)."""


class SlotError(V23Error, KeyError):
    """A slot number that is not in use in this bank."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "slot error"


class BankFull(V23Error):
    """Every slot of the bank is in use."""


class TxOverflow(V23Error):
    """``send`` would queue more than ``tx_queue_limit`` bytes: wait for ``writable``."""


@dataclass(frozen=True, slots=True)
class AnswerConfig:
    """The server (answer) side: sends 1200 baud 1300/2100 Hz, receives 75 baud 390/450 Hz."""

    #: V.25 answer tone, 2100 Hz; V.25 allows 2.6-4.0 s, the issue asks "about 3 s".
    answer_tone_ms: float = 3000.0
    #: V.25 phase reversals every 450 ms. Off: V.23 separates the directions by frequency, so
    #: it needs no echo canceller disabled, and the plain tone is what the Minitel listens for.
    phase_reversals: bool = False
    #: Silence between the tone and the 1300 Hz carrier (the Minitel wants 75 ± 20 ms).
    silence_ms: float = 75.0
    #: Transmit level in dBm0 (a full-scale G.711 sine is +3.17 dBm0).
    tx_level_dbm0: float = -10.0
    #: In-band level above which the carrier is present. V.23: ON above -43 dBm, OFF below
    #: -48 dBm, at least 2 dB of hysteresis; the thresholds sit inside that window.
    rx_on_dbm0: float = -45.0
    #: In-band level below which a present carrier is absent.
    rx_off_dbm0: float = -47.0
    #: The in-band level must also be this many dB above the noise in a guard band
    #: (730-970 Hz, as wide as the receive band) to turn the carrier on, half as many to keep
    #: it: loud white noise (-35 dBm0 reaches -47 dBm0 in band) is not a Minitel. None: off.
    rx_squelch_db: float | None = 8.0
    #: How long the carrier must be present before :class:`CarrierUp` (bytes are held until then).
    steady_ms: float = 150.0
    #: Carrier absence that ends the call. Longer than the Minitel's own 440 ms, so that the
    #: server never hangs up a line the Minitel would keep, with room for a jitter buffer's
    #: concealment of a burst of lost packets; short enough to free the line within a second.
    carrier_loss_ms: float = 1000.0
    #: No steady carrier this long after the start: :class:`NoCarrier` (the Minitel looks 40 s).
    connect_timeout_ms: float = 60000.0
    #: Bytes the transmit queue holds (34 s at 120 characters per second).
    tx_queue_limit: int = 4096

    def __post_init__(self) -> None:
        _check_common(self.rx_on_dbm0, self.rx_off_dbm0, self.tx_queue_limit, "AnswerConfig")
        for name in ("answer_tone_ms", "silence_ms", "steady_ms", "carrier_loss_ms",
                     "connect_timeout_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"AnswerConfig.{name} must not be negative: {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class OriginateConfig:
    """The Minitel (originate) side: sends 75 baud 390/450 Hz, receives 1200 baud 1300/2100 Hz."""

    #: Transmit level in dBm0.
    tx_level_dbm0: float = -10.0
    #: Carrier detection, as on the answer side (V.23: ON above -43 dBm, OFF below -48 dBm).
    rx_on_dbm0: float = -45.0
    rx_off_dbm0: float = -47.0
    #: The Minitel drops the line after 440 ± 10 ms without carrier (reference §1).
    carrier_loss_ms: float = 440.0
    #: The Minitel looks for the answer sequence for 40 s.
    connect_timeout_ms: float = 40000.0
    #: Mark sent after connecting before any queued byte (the Minitel's SEP 53 comes ~80 ms
    #: after its carrier, reference §1), so that the far end sees the carrier idle first.
    lead_in_ms: float = 80.0
    #: Bytes the transmit queue holds (68 s at 7.5 characters per second).
    tx_queue_limit: int = 512

    def __post_init__(self) -> None:
        _check_common(self.rx_on_dbm0, self.rx_off_dbm0, self.tx_queue_limit, "OriginateConfig")
        if self.lead_in_ms < 0:
            raise ValueError(f"OriginateConfig.lead_in_ms must not be negative: {self.lead_in_ms}")


def _check_common(on: float, off: float, limit: int, where: str) -> None:
    if off > on:
        raise ValueError(f"{where}: rx_off_dbm0 ({off}) must not exceed rx_on_dbm0 ({on})")
    if limit < 1:
        raise ValueError(f"{where}: tx_queue_limit must be at least 1, got {limit}")
