"""The server's V.23 modem (answer side), as a bank of calls and as one call.

Owns the answer side's behaviour: on :meth:`AnswerBank.add` a slot sends the V.25 answer tone
(2100 Hz, optionally with phase reversals every 450 ms), a short silence, then the 1300 Hz
mark carrying 1200 baud FSK; it listens for the Minitel's 75 baud 390/450 Hz carrier, holds
what it decodes until that carrier is steady (:class:`CarrierUp`: frames in error meanwhile are
taken for noise and dropped), then passes it on as :class:`Data`; it reports
:class:`CarrierLost` (or :class:`NoCarrier`) once, and no event after that.

The signal chain, per 20 ms block for all slots at once:

- transmit: :class:`TxQueue` bits (held until :class:`CarrierUp`) → :class:`FskModulator`;
- receive: :class:`Discriminator` (band-pass 310-530 Hz at 3 dB, which rejects the server's
  own 1200-2400 Hz leaking back through the caller's hybrid by more than 85 dB, decimated to
  1 kHz) → :class:`CarrierDetector` → :class:`AsyncReceiver` → 7E1 bytes.

Sans-IO: samples in, events out; samples asked for, samples out; time is the sample count.
:class:`AnswerModem` is the same code with one slot.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.v23.bank import Bank, OneCall
from videotex.protocols.v23.carrier import CarrierDetector
from videotex.protocols.v23.demod import AsyncReceiver, Discriminator
from videotex.protocols.v23.events import (
    AnswerConfig,
    CarrierLost,
    CarrierUp,
    Data,
    Event,
    NoCarrier,
    blocks,
)
from videotex.protocols.v23.filters import complex_bandpass
from videotex.protocols.v23.frames import SUB
from videotex.protocols.v23.fsk import NEVER, SILENT, FskModulator, TxQueue, group_samples

__all__ = ["AnswerBank", "AnswerModem"]

TX_MARK, TX_SPACE, TX_BAUD = 1300, 2100, 1200
RX_MARK, RX_SPACE, RX_BAUD = 390, 450, 75
#: The 75 baud receive filter: 64 taps centred on 420 Hz, ±120 Hz wide, decimated to 1 kHz
#: around a 400 Hz oscillator (8 whole cycles a block).
RX_TAPS: Final = complex_bandpass(64, 420.0, 120.0, 70.0)
RX_DECIMATION, RX_LO = 8, 400.0
#: The noise reference: the same filter moved to 850 Hz (it rejects the 390/450 Hz signal and
#: the 1250 Hz-and-up echo by more than 60 dB).
RX_GUARD: Final = complex_bandpass(64, 850.0, 120.0, 70.0)
#: Bytes held while the carrier qualifies (a Minitel sends SEP 53 80 ms after its carrier).
_HELD_MAX: Final = 64
_GROUP_MS: Final = 2.5  # a group of 3 bits at 1200 baud


class AnswerBank(Bank):
    """Answer-side V.23 modems for up to ``capacity`` calls, processed as one array."""

    def __init__(self, capacity: int, config: AnswerConfig | None = None) -> None:
        cfg = config or AnswerConfig()
        super().__init__(capacity, group_samples(TX_BAUD))
        self.config = cfg
        self._tone_g = round(cfg.answer_tone_ms / _GROUP_MS)
        self._data_g = self._tone_g + round(cfg.silence_ms / _GROUP_MS)
        self._flip_g = round(450 / _GROUP_MS)
        self._steady = blocks(cfg.steady_ms)
        self._loss = blocks(cfg.carrier_loss_ms)
        self._timeout = blocks(cfg.connect_timeout_ms)
        self._mod = FskModulator(capacity, mark_hz=TX_MARK, space_hz=TX_SPACE, baud=TX_BAUD,
                                 level_dbm0=cfg.tx_level_dbm0)
        self._queue = TxQueue(capacity, cfg.tx_queue_limit)
        self._disc = Discriminator(capacity, RX_TAPS, decimation=RX_DECIMATION, lo_hz=RX_LO,
                                   guard=RX_GUARD)
        self._carrier = CarrierDetector(capacity, cfg.rx_on_dbm0, cfg.rx_off_dbm0,
                                        cfg.rx_squelch_db)
        self._uart = AsyncReceiver(capacity, rate=self._disc.rate, baud=RX_BAUD,
                                   mark_hz=RX_MARK, space_hz=RX_SPACE,
                                   outputs=self._disc.outputs, smooth=5, window=3)
        self._groups_sent = np.zeros(capacity, dtype=np.int64)
        self._age = np.zeros(capacity, dtype=np.int64)
        self._up = np.zeros(capacity, dtype=bool)
        self._ended = np.zeros(capacity, dtype=bool)
        self._held: dict[int, bytearray] = {}

    # -- per slot -------------------------------------------------------------------------

    def send(self, slot: int, data: bytes) -> None:
        """Queue ``data`` (7-bit bytes; parity is added) for ``slot``.

        Sent at 120 characters a second once the Minitel's carrier is up; raises
        :class:`TxOverflow` if more than ``tx_queue_limit`` bytes would wait.
        """
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
        """Whether the Minitel's carrier has been steady (and not lost since)."""
        self._check(slot)
        return bool(self._up[slot] and not self._ended[slot])

    def answering(self, slot: int) -> bool:
        """Whether ``slot`` is still sending its answer tone or the silence after it."""
        self._check(slot)
        return bool(self._groups_sent[slot] < self._data_g)

    # -- blocks ---------------------------------------------------------------------------

    def _reset(self, slot: int) -> None:
        for block in (self._mod, self._queue, self._disc, self._carrier, self._uart):
            block.reset(slot)
        self._groups_sent[slot] = 0
        self._age[slot] = 0
        self._up[slot] = False
        self._ended[slot] = False
        self._held.pop(slot, None)

    def _save_rows(self, rows: npt.NDArray[np.int64]) -> object:
        held = {int(r): bytearray(self._held[int(r)]) for r in rows if int(r) in self._held}
        return (self._disc.save(rows), self._carrier.save(rows), self._uart.save(rows),
                self._age[rows].copy(), self._up[rows].copy(), self._ended[rows].copy(), held)

    def _restore_rows(self, rows: npt.NDArray[np.int64], saved: object) -> None:
        assert isinstance(saved, tuple)
        disc, carrier, uart, age, up, ended, held = saved
        self._disc.restore(rows, disc)
        self._carrier.restore(rows, carrier)
        self._uart.restore(rows, uart)
        self._age[rows], self._up[rows], self._ended[rows] = age, up, ended
        for r in rows.tolist():
            self._held.pop(r, None)
        self._held.update(held)

    def _groups(self, count: int) -> npt.NDArray[np.int16]:
        g = self._groups_sent[:, None] + np.arange(count)
        open_from = np.where(self._up & self.active, 3 * self._data_g, NEVER)
        bits = self._queue.bits(3 * self._groups_sent, 3 * count, open_from)
        bits = bits.reshape(-1, count, 3)
        pattern = bits[:, :, 0] | (bits[:, :, 1] << 1) | (bits[:, :, 2] << 2)
        tone = g < self._tone_g
        pattern = np.where(tone, 0, np.where(g >= self._data_g, pattern, SILENT))
        pattern[~self.active] = SILENT
        flip = None
        if self.config.phase_reversals:
            flip = tone & (g > 0) & (g % self._flip_g == 0)
        self._groups_sent += count
        return self._mod.synth(pattern.astype(np.int64), flip)

    def _block(self, x: npt.NDArray[np.float32]) -> list[tuple[int, Event]]:
        freq, power = self._disc.process(x)
        present = self._carrier.update(power, self._disc.guard_power)
        live = self.active & ~self._ended
        self._age += 1
        slots, chars = self._uart.process(freq, present & live)
        events: list[tuple[int, Event]] = []
        got: dict[int, bytearray] = {}
        for rows, data in zip(slots, chars, strict=True):
            for r, b in zip(rows.tolist(), data, strict=True):
                if live[r]:
                    got.setdefault(r, bytearray()).append(b)
        for r, chunk in got.items():
            if self._up[r]:
                events.append((r, Data(bytes(chunk))))
            else:  # qualifying: a frame in error is taken for noise, not for the Minitel
                held = self._held.setdefault(r, bytearray())
                held += chunk.replace(bytes([SUB]), b"")[: _HELD_MAX - len(held)]
        for r in [r for r in self._held if not present[r]]:  # not steady: drop what it said
            del self._held[r]
        for r in np.flatnonzero(live & ~self._up & (self._carrier.up_run >= self._steady)):
            self._up[r] = True
            events.append((int(r), CarrierUp()))
            release = self._held.pop(int(r), b"")
            if release:
                events.append((int(r), Data(bytes(release))))
        lost = live & self._up & (self._carrier.down_run >= self._loss)
        never = live & ~self._up & (self._age >= self._timeout)
        for r in np.flatnonzero(lost | never):
            self._ended[r] = True
            events.append((int(r), CarrierLost() if lost[r] else NoCarrier()))
        return events


class AnswerModem(OneCall):
    """One answer-side V.23 modem: the h11 shape over a bank of one slot.

    ``receive_audio(samples) -> events``, ``send(bytes)``, ``audio_out(n) -> samples``;
    samples are 16-bit linear at 8 kHz (decode G.711 with :mod:`videotex.protocols.g711`).
    """

    _bank: AnswerBank

    def __init__(self, config: AnswerConfig | None = None) -> None:
        super().__init__(AnswerBank(1, config))

    @property
    def config(self) -> AnswerConfig:
        """The settings in force."""
        return self._bank.config

    @property
    def answering(self) -> bool:
        """Whether the answer tone or the silence after it is still being sent."""
        return self._bank.answering(self._slot)
