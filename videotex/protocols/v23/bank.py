"""What the answer and originate banks share: slots, and audio cut into whole blocks.

Owns: slot allocation (the lowest free slot first), and the two re-blockings that let callers
pass any number of samples while the DSP only ever sees whole units:

- received audio is gathered into 20 ms blocks of 160 samples (a modem sees exactly the same
  blocks however the input was split: same events, same state);
- sent audio is made in whole groups of 3 bits and cut to the length asked for, the rest
  kept for the next call.

Invariants: row ``i`` of every array in and out is slot ``i``; rows of free slots are
processed like silence and give no events; a slot added while a block is part-filled starts
with silence for that part (with 20 ms RTP frames nothing is ever part-filled).
"""

from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod

import numpy as np
import numpy.typing as npt

from videotex.protocols.v23.events import BLOCK, BankFull, Event, SlotError

__all__ = ["Bank"]


class Bank(ABC):
    """A set of modems of one kind processed together, one row per slot."""

    def __init__(self, capacity: int, group: int) -> None:
        if capacity < 1:
            raise ValueError(f"a bank needs a capacity of at least 1, got {capacity}")
        self.capacity = capacity
        self.active = np.zeros(capacity, dtype=bool)
        self._free = list(range(capacity))
        self._rx = np.zeros((capacity, BLOCK), dtype=np.float32)
        self._rx_fill = 0
        self._group = group
        self._tx = np.zeros((capacity, group), dtype=np.int16)
        self._tx_ready = 0  # samples at the end of self._tx made but not yet handed out

    # -- slots ---------------------------------------------------------------------------

    def add(self) -> int:
        """Start a call in a free slot (lowest first) and return its number."""
        if not self._free:
            raise BankFull(f"all {self.capacity} slots of this bank are in use")
        slot = heapq.heappop(self._free)
        self.active[slot] = True
        self._rx[slot] = 0.0
        self._tx[slot] = 0
        self._reset(slot)
        return slot

    def remove(self, slot: int) -> None:
        """End the call in ``slot``; its row is silent from now on."""
        self._check(slot)
        self.active[slot] = False
        heapq.heappush(self._free, slot)

    @property
    def slots(self) -> list[int]:
        """Slots in use, in order."""
        return [int(s) for s in np.flatnonzero(self.active)]

    def _check(self, slot: int) -> None:
        if not (0 <= slot < self.capacity and self.active[slot]):
            raise SlotError(f"slot {slot} is not in use in this bank of {self.capacity}")

    # -- audio ----------------------------------------------------------------------------

    def receive_audio(self, samples: npt.ArrayLike, hold: npt.ArrayLike | None = None
                      ) -> list[tuple[int, Event]]:
        """Samples received by every slot, ``(capacity, n)`` 16-bit linear → (slot, event) list.

        Any ``n`` (0 included); floats are clipped to the 16-bit range, NaN counts as 0.
        Events of one slot are in time order.

        ``hold``: ``(capacity,)`` booleans, the slots that received nothing this time (their
        sender is late: a jitter buffer with nothing to play). Their rows of ``samples`` are
        ignored and their receivers stand still, as if the samples never existed: no event,
        no carrier time, no bit time. A modem fed invented audio instead (concealment)
        loses the bit it falls in; held, it only hears the late audio later. With ``hold``,
        ``n`` must be whole blocks.
        """
        x = np.asarray(samples)
        if x.ndim != 2 or x.shape[0] != self.capacity:
            raise ValueError(
                f"receive_audio: expected ({self.capacity}, n) samples, got shape {x.shape}")
        if hold is not None:
            return self._receive_holding(x, np.asarray(hold, dtype=bool))
        if x.dtype.kind == "f":
            x = np.clip(np.nan_to_num(x, nan=0.0, posinf=32767.0, neginf=-32768.0),
                        -32768.0, 32767.0)
        elif x.dtype.kind not in "iub":
            raise TypeError(f"receive_audio: samples must be real numbers, got dtype {x.dtype}")
        events: list[tuple[int, Event]] = []
        pos, n = 0, x.shape[1]
        while pos < n:
            if self._rx_fill == 0 and n - pos >= BLOCK:
                events += self._block(x[:, pos : pos + BLOCK].astype(np.float32))
                pos += BLOCK
                continue
            take = min(BLOCK - self._rx_fill, n - pos)
            self._rx[:, self._rx_fill : self._rx_fill + take] = x[:, pos : pos + take]
            self._rx_fill += take
            pos += take
            if self._rx_fill == BLOCK:
                self._rx_fill = 0
                events += self._block(self._rx.copy())
        return events

    def _receive_holding(self, x: npt.NDArray[np.generic], hold: npt.NDArray[np.bool_]
                         ) -> list[tuple[int, Event]]:
        if hold.shape != (self.capacity,):
            raise ValueError(f"receive_audio: hold must have shape ({self.capacity},), "
                             f"got {hold.shape}")
        if x.shape[1] % BLOCK or self._rx_fill:
            raise ValueError(f"receive_audio: with hold, samples must be whole blocks of "
                             f"{BLOCK} (got {x.shape[1]} after {self._rx_fill} buffered)")
        rows = np.flatnonzero(hold)
        if not rows.size:
            return self.receive_audio(x)
        events: list[tuple[int, Event]] = []
        for pos in range(0, x.shape[1], BLOCK):
            saved = self._save_rows(rows)
            got = self.receive_audio(x[:, pos : pos + BLOCK])
            self._restore_rows(rows, saved)
            events += [(slot, event) for slot, event in got if not hold[slot]]
        return events

    def _save_rows(self, rows: npt.NDArray[np.int64]) -> object:
        """The receive state of ``rows`` (see ``hold`` in :meth:`receive_audio`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot hold rows")

    def _restore_rows(self, rows: npt.NDArray[np.int64], saved: object) -> None:
        """Put the receive state of ``rows`` back as :meth:`_save_rows` found it."""
        raise NotImplementedError(f"{type(self).__name__} cannot hold rows")

    def audio_out(self, n: int) -> npt.NDArray[np.int16]:
        """The next ``n`` samples to send for every slot, ``(capacity, n)`` 16-bit linear."""
        if n < 0:
            raise ValueError(f"audio_out: n must not be negative, got {n}")
        ready = self._tx_ready
        have = self._tx[:, self._group - ready :]
        if n <= ready:
            self._tx_ready = ready - n
            return have[:, :n].copy()
        groups = math.ceil((n - ready) / self._group)
        fresh = self._groups(groups)
        out = np.concatenate([have, fresh[:, : n - ready]], axis=1)
        self._tx_ready = groups * self._group - (n - ready)
        if self._tx_ready:
            self._tx[:, self._group - self._tx_ready :] = fresh[:, n - ready :]
        return out

    @abstractmethod
    def send(self, slot: int, data: bytes) -> None:
        """Queue ``data`` for the far end of ``slot``."""

    @abstractmethod
    def pending(self, slot: int) -> int:
        """Bytes of ``slot`` queued and not yet wholly sent."""

    @abstractmethod
    def writable(self, slot: int) -> int:
        """Bytes ``slot`` can still queue."""

    @abstractmethod
    def carrier_up(self, slot: int) -> bool:
        """Whether ``slot``'s line is connected."""

    @abstractmethod
    def _reset(self, slot: int) -> None:
        """Put every block's state of ``slot`` back to the start of a call."""

    @abstractmethod
    def _block(self, x: npt.NDArray[np.float32]) -> list[tuple[int, Event]]:
        """Process one 160-sample block of every slot."""

    @abstractmethod
    def _groups(self, count: int) -> npt.NDArray[np.int16]:
        """Make ``count`` groups of every slot, ``(capacity, count * group)``."""


class OneCall:
    """One modem, the h11 shape over a bank of one slot: ``receive_audio(samples) ->
    events``, ``send(bytes)``, ``audio_out(n) -> samples`` (16-bit linear, 8 kHz)."""

    def __init__(self, bank: Bank) -> None:
        self._bank = bank
        self._slot = bank.add()

    def receive_audio(self, samples: npt.ArrayLike) -> list[Event]:
        """Samples from the line (any length) → events, in time order."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"receive_audio: expected one channel of samples, got shape {x.shape}")
        return [e for _, e in self._bank.receive_audio(x[None, :])]

    def audio_out(self, n: int) -> npt.NDArray[np.int16]:
        """The next ``n`` samples for the line."""
        return self._bank.audio_out(n)[0]

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the far end."""
        self._bank.send(self._slot, data)

    @property
    def pending(self) -> int:
        """Bytes queued and not yet wholly sent."""
        return self._bank.pending(self._slot)

    @property
    def writable(self) -> int:
        """Bytes that can still be queued."""
        return self._bank.writable(self._slot)

    @property
    def carrier_up(self) -> bool:
        """Whether the line is connected (answer side: the Minitel's carrier is up)."""
        return self._bank.carrier_up(self._slot)
