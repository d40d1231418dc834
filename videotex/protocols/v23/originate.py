"""The Minitel's side of V.23 (originate), for the server's own tests and benchmarks.

Owns what a Minitel's modem does after Connexion/Fin (reference §1): it listens for the answer
sequence (2100 Hz ≥ 300 ms, 75 ± 20 ms of silence, 1300 Hz ≥ 60 ms; or 1.7 s of 1300 Hz),
then reports :class:`CarrierUp`, starts its 390 Hz carrier and, after ``lead_in_ms`` of mark,
sends its queue at 75 baud (390/450 Hz); it decodes the server's 1200 baud 1300/2100 Hz, and reports :class:`CarrierLost`
after 440 ms without carrier, then falls silent (the Minitel drops the line).

The emulator in ``terminal_emu/`` has its own, independent modem; this one shares the
blocks of the answer side (:mod:`demod`, :mod:`fsk`) so that one bank can run many lines.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.v23.bank import Bank, OneCall
from videotex.protocols.v23.carrier import AnswerSequenceDetector, CarrierDetector
from videotex.protocols.v23.demod import AsyncReceiver, Discriminator
from videotex.protocols.v23.events import (
    BLOCK,
    CarrierLost,
    CarrierUp,
    Data,
    Event,
    NoCarrier,
    OriginateConfig,
    blocks,
)
from videotex.protocols.v23.filters import complex_bandpass
from videotex.protocols.v23.fsk import NEVER, SILENT, FskModulator, TxQueue, group_samples

__all__ = ["OriginateBank", "OriginateModem"]

TX_MARK, TX_SPACE, TX_BAUD = 390, 450, 75
RX_MARK, RX_SPACE, RX_BAUD = 1300, 2100, 1200
#: The 1200 baud receive filter: 48 taps centred on 1700 Hz, ±1000 Hz wide (the Minitel's own
#: 390/450 Hz down by 62/35 dB), at 8 kHz around a 1700 Hz oscillator (34 cycles a block).
RX_TAPS: Final = complex_bandpass(48, 1700.0, 1000.0, 60.0)
RX_LO: Final = 1700.0
_SEGMENTS: Final = BLOCK // 40  # 5 ms segments for the answer-sequence detector


class OriginateBank(Bank):
    """Originate-side (Minitel) V.23 modems for up to ``capacity`` lines."""

    def __init__(self, capacity: int, config: OriginateConfig | None = None) -> None:
        cfg = config or OriginateConfig()
        super().__init__(capacity, group_samples(TX_BAUD))
        self.config = cfg
        self._loss = blocks(cfg.carrier_loss_ms)
        self._timeout = blocks(cfg.connect_timeout_ms)
        self._mod = FskModulator(capacity, mark_hz=TX_MARK, space_hz=TX_SPACE, baud=TX_BAUD,
                                 level_dbm0=cfg.tx_level_dbm0)
        self._queue = TxQueue(capacity, cfg.tx_queue_limit)
        self._disc = Discriminator(capacity, RX_TAPS, decimation=1, lo_hz=RX_LO,
                                   segments=_SEGMENTS)
        self._carrier = CarrierDetector(capacity, cfg.rx_on_dbm0, cfg.rx_off_dbm0)
        self._sequence = AnswerSequenceDetector(capacity, cfg.rx_on_dbm0, cfg.rx_off_dbm0)
        self._uart = AsyncReceiver(capacity, rate=self._disc.rate, baud=RX_BAUD,
                                   mark_hz=RX_MARK, space_hz=RX_SPACE,
                                   outputs=self._disc.outputs, smooth=3, window=1)
        self._bits_sent = np.zeros(capacity, dtype=np.int64)
        self._lead_bits = round(cfg.lead_in_ms * TX_BAUD / 1000)
        self._open_at = np.zeros(capacity, dtype=np.int64)  # first bit period data may use
        self._age = np.zeros(capacity, dtype=np.int64)
        self._up = np.zeros(capacity, dtype=bool)
        self._ended = np.zeros(capacity, dtype=bool)

    def send(self, slot: int, data: bytes) -> None:
        """Queue ``data`` (7-bit; parity added) for ``slot``: sent at 7.5 characters a second."""
        self._check(slot)
        self._queue.push(slot, data)

    def pending(self, slot: int) -> int:
        """Bytes of ``slot`` queued and not yet wholly sent."""
        self._check(slot)
        return int(self._queue.count[slot])

    def writable(self, slot: int) -> int:
        """Bytes ``slot`` can still queue."""
        return self._queue.limit - self.pending(slot)

    def carrier_up(self, slot: int) -> bool:
        """Whether the line is connected (answer sequence heard, carrier not lost)."""
        self._check(slot)
        return bool(self._up[slot] and not self._ended[slot])

    def _reset(self, slot: int) -> None:
        for block in (self._mod, self._queue, self._disc, self._carrier, self._sequence,
                      self._uart):
            block.reset(slot)
        self._bits_sent[slot] = 0
        self._open_at[slot] = 0
        self._age[slot] = 0
        self._up[slot] = False
        self._ended[slot] = False

    def _groups(self, count: int) -> npt.NDArray[np.int16]:
        on = self.active & self._up & ~self._ended
        open_from = np.where(on, self._open_at, NEVER)
        bits = self._queue.bits(self._bits_sent, 3 * count, open_from).reshape(-1, count, 3)
        self._bits_sent += 3 * count
        pattern = bits[:, :, 0] | (bits[:, :, 1] << 1) | (bits[:, :, 2] << 2)
        pattern = np.where(on[:, None], pattern, SILENT).astype(np.int64)
        return self._mod.synth(pattern)

    def _block(self, x: npt.NDArray[np.float32]) -> list[tuple[int, Event]]:
        freq, power = self._disc.process(x)
        present = self._carrier.update(power)
        live = self.active & ~self._ended
        self._age += 1
        events: list[tuple[int, Event]] = []
        waiting = live & ~self._up
        if waiting.any():
            seg_f = np.median(freq.reshape(len(freq), _SEGMENTS, -1), axis=2)
            seg_p = self._disc.segment_power.reshape(len(freq), _SEGMENTS)
            heard = self._sequence.update(seg_p, seg_f.astype(np.float32)) & waiting
            for r in np.flatnonzero(heard):
                self._up[r] = True
                self._open_at[r] = self._bits_sent[r] + self._lead_bits
                events.append((int(r), CarrierUp()))
        slots, chars = self._uart.process(freq, present & live & self._up)
        got: dict[int, bytearray] = {}
        for rows, data in zip(slots, chars, strict=True):
            for r, b in zip(rows.tolist(), data, strict=True):
                got.setdefault(r, bytearray()).append(b)
        events += [(r, Data(bytes(d))) for r, d in got.items()]
        lost = live & self._up & (self._carrier.down_run >= self._loss)
        never = live & ~self._up & (self._age >= self._timeout)
        for r in np.flatnonzero(lost | never):
            self._ended[r] = True
            events.append((int(r), CarrierLost() if lost[r] else NoCarrier()))
        return events


class OriginateModem(OneCall):
    """One originate-side (Minitel) V.23 modem over a bank of one slot."""

    def __init__(self, config: OriginateConfig | None = None) -> None:
        super().__init__(OriginateBank(1, config))
