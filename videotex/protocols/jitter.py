"""A jitter buffer for one RTP stream feeding a modem, sans-IO: packets in, 20 ms frames out.

Owns: putting packets back in sequence order, holding a little audio before playing, and what
a tick plays when the packet it wants is not there. Time is the caller's tick: :meth:`pop`
is called once per 20 ms of playout and returns that tick's frame (or None: conceal).

A modem is not a voice: a frame dropped or invented in the middle of a character is a byte
error, while 100 ms of extra delay costs nothing. So the buffer adapts by growing:

- it starts playing once ``prefetch`` frames are held;
- when the frame due has not arrived and nothing is held (the sender is late), the tick is
  concealed and the frame stays due (**hold**): the delay grows by one frame and no audio is
  lost; a burst of late packets then plays in order;
- when the frame due is missing but later ones are held, it waits while fewer than
  ``patience`` frames are held, then counts it lost and skips it (real loss);
- it shrinks only when more than ``max_frames`` are held (a sender far ahead): the oldest go.

Invariants: a frame is played at most once, in sequence order; packets older than the
one due, or duplicates, are dropped and counted; a new SSRC or a jump of more than
:data:`RESYNC` sequence numbers starts the stream afresh; memory is bounded by
``max_frames``. Sequence numbers wrap at 2**16.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RESYNC", "JitterBuffer", "JitterStats"]

#: A sequence jump beyond this (either way) is a restarted stream, not loss or reordering.
RESYNC = 1000


@dataclass(slots=True)
class JitterStats:
    received: int = 0
    played: int = 0
    #: Ticks with nothing to play while waiting for the stream (hold or not started).
    concealed: int = 0
    #: Frames never received, skipped over.
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    #: Frames dropped because too many were held.
    overflow: int = 0
    resyncs: int = 0


class JitterBuffer:
    """See the module docstring. ``push(seq, ssrc, payload)``; ``pop()`` once per tick;
    ``skip(seq, ssrc)`` for a packet of the stream that carries no audio (telephone-event,
    comfort noise), so that its sequence number is not taken for a lost frame."""

    __slots__ = ("_frames", "_next", "_ssrc", "_started", "max_frames", "patience",
                 "prefetch", "stats")

    def __init__(self, prefetch: int = 2, patience: int = 3, max_frames: int = 25) -> None:
        if not 1 <= prefetch <= max_frames or patience < 1:
            raise ValueError(f"jitter buffer: need 1 <= prefetch ({prefetch}) <= max_frames "
                             f"({max_frames}) and patience ({patience}) >= 1")
        self.prefetch = prefetch
        self.patience = patience
        self.max_frames = max_frames
        self.stats = JitterStats()
        self._frames: dict[int, bytes | None] = {}
        self._next: int | None = None
        self._ssrc: int | None = None
        self._started = False

    @property
    def depth(self) -> int:
        """Frames held."""
        return len(self._frames)

    def push(self, sequence: int, ssrc: int, payload: bytes | None) -> None:
        """A packet arrived (``payload`` None: it carries no audio, see :meth:`skip`)."""
        self.stats.received += 1
        if ssrc != self._ssrc or self._next is None:
            self._restart(sequence, ssrc)
        offset = (sequence - self._next) & 0xFFFF  # type: ignore[operator]
        if offset >= 0x8000:  # behind the frame due
            if 0x10000 - offset > RESYNC:
                self._restart(sequence, ssrc)
                offset = 0
            else:
                self.stats.late += 1
                return
        elif offset > RESYNC:
            self._restart(sequence, ssrc)
            offset = 0
        if sequence in self._frames:
            self.stats.duplicates += 1
            return
        self._frames[sequence] = payload
        while len(self._frames) > self.max_frames:  # a sender far ahead: drop the oldest
            self._advance(dropped=True)

    def skip(self, sequence: int, ssrc: int) -> None:
        """A packet of the stream without audio: its number is used, nothing plays."""
        self.push(sequence, ssrc, None)

    def pop(self) -> bytes | None:
        """This tick's frame, or None when there is nothing to play (conceal)."""
        if not self._started:
            if self._audio_held() < self.prefetch:
                self.stats.concealed += 1
                return None
            self._started = True
        while self._frames:
            assert self._next is not None
            if self._next in self._frames:
                payload = self._frames.pop(self._next)
                self._next = (self._next + 1) & 0xFFFF
                if payload is None:  # no audio in this one: the next plays in this tick
                    continue
                self.stats.played += 1
                return payload
            if len(self._frames) < self.patience:
                break  # maybe reordered: wait for it
            self.stats.lost += 1
            self._next = (self._next + 1) & 0xFFFF
        self.stats.concealed += 1
        return None

    def _audio_held(self) -> int:
        return sum(1 for p in self._frames.values() if p is not None)

    def _advance(self, dropped: bool) -> None:
        assert self._next is not None
        if self._next in self._frames:
            if self._frames.pop(self._next) is not None and dropped:
                self.stats.overflow += 1
        elif dropped:
            self.stats.lost += 1
        self._next = (self._next + 1) & 0xFFFF

    def _restart(self, sequence: int, ssrc: int) -> None:
        if self._ssrc is not None:
            self.stats.resyncs += 1
        self._frames.clear()
        self._ssrc = ssrc
        self._next = sequence
        self._started = False
