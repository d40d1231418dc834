"""RTP (RFC 3550) for one G.711 stream, sans-IO: the packet codec, the sender's counters
and a small jitter buffer.

Owns the media framing of the emulator's phone line. One packet carries one 20 ms frame
(160 G.711 bytes at 8000 Hz). The sender numbers packets from random starting points
(§5.1): sequence +1 and timestamp +160 per packet, both modulo their width; marker set
on the first packet. The jitter buffer reorders by sequence number and plays out one
frame per tick; invariants:

- a frame comes out at most once, in sequence order; a duplicate or a frame older than
  the one last played is dropped (counted);
- a missing frame whose successors have arrived is concealed: the last frame repeated
  once (``repeat`` times in a row at most), then silence (``None``); so a long gap sounds
  like the silence it is and a modem sees the carrier go;
- an empty buffer (the far end paused, or jitter) plays silence without advancing, so the
  delay grows by a frame instead of losing the late packets; a buffer deeper than
  ``max_depth`` drops its oldest frames down to ``depth``: the delay stays bounded;
- a jump of more than ``max_depth`` frames ahead, or a new SSRC, restarts the stream.

Per packet the work is a struct (un)pack and a dict operation: no per-sample Python.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field

__all__ = [
    "FRAME_BYTES",
    "JitterBuffer",
    "JitterStats",
    "RtpError",
    "RtpPacket",
    "RtpSender",
    "parse_rtp",
]

#: One 20 ms frame of G.711 at 8000 Hz: 160 samples, one byte each.
FRAME_BYTES = 160
_HEADER = struct.Struct("!BBHII")
_VERSION = 2


class RtpError(ValueError):
    """A datagram that is not an RTP packet; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """An RTP packet (§5.1); CSRCs and header extension are skipped when parsing."""

    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def encode(self) -> bytes:
        return _HEADER.pack(_VERSION << 6, (self.marker << 7) | self.payload_type,
                            self.seq, self.timestamp, self.ssrc) + self.payload


def parse_rtp(data: bytes) -> RtpPacket:
    """One packet from one datagram; raises :class:`RtpError` naming the fault."""
    if len(data) < _HEADER.size:
        raise RtpError(f"{len(data)} bytes: shorter than the 12-byte RTP header")
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != _VERSION:
        raise RtpError(f"version {b0 >> 6} (RTP is version 2)")
    start = _HEADER.size + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < start + 4:
            raise RtpError("header extension cut short")
        start += 4 + 4 * int.from_bytes(data[start + 2:start + 4], "big")
    end = len(data)
    if b0 & 0x20:  # padding: the last byte counts the padding bytes
        end -= data[-1]
    if start > end or (b0 & 0x20 and data[-1] == 0):
        raise RtpError(f"header or padding longer than the packet ({len(data)} bytes)")
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bytes(data[start:end]), bool(b1 & 0x80))


class RtpSender:
    """Numbers outgoing packets: ``packet(payload)`` returns the datagram to send."""

    def __init__(self, payload_type: int, *, ssrc: int | None = None, seq: int | None = None,
                 timestamp: int | None = None, samples: int = FRAME_BYTES) -> None:
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.seq = secrets.randbits(16) if seq is None else seq
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp
        self.samples = samples
        self.sent = 0

    def packet(self, payload: bytes) -> bytes:
        """The next packet: this payload, then sequence and timestamp move on."""
        second = self.payload_type | (0x80 if self.sent == 0 else 0)
        data = _HEADER.pack(0x80, second, self.seq, self.timestamp, self.ssrc) + payload
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + self.samples) & 0xFFFFFFFF
        self.sent += 1
        return data

    def skip(self, frames: int) -> None:
        """Frames not sent (the sender fell behind): the timestamp still counts them."""
        self.timestamp = (self.timestamp + frames * self.samples) & 0xFFFFFFFF


@dataclass(slots=True)
class JitterStats:
    """What the jitter buffer did, for tests and status lines."""

    received: int = 0
    played: int = 0
    concealed: int = 0  #: missing frames played as a repeat or silence
    late: int = 0  #: arrived after their turn (or duplicates of played frames)
    duplicate: int = 0
    overflow: int = 0  #: dropped to keep the delay bounded
    reordered: int = 0  #: arrived after a frame that follows them
    restarts: int = 0  #: sequence jumps and SSRC changes
    underruns: int = 0  #: ticks with nothing buffered once playing


@dataclass(slots=True)
class JitterBuffer:
    """Reorders frames by sequence number; :meth:`pop` once per 20 ms tick."""

    depth: int = 2  #: frames buffered before playout starts (40 ms)
    max_depth: int = 10  #: deeper than this (200 ms), the oldest frames are dropped
    repeat: int = 1  #: times a frame is repeated to conceal missing ones, then silence
    stats: JitterStats = field(default_factory=JitterStats)
    _frames: dict[int, bytes] = field(default_factory=dict, init=False, repr=False)
    _next: int | None = field(default=None, init=False)  # to play next (None: not started)
    _ssrc: int | None = field(default=None, init=False)
    _top: int | None = field(default=None, init=False)  # the furthest sequence number seen
    _last: bytes | None = field(default=None, init=False, repr=False)
    _repeats: int = field(default=0, init=False)

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def playing(self) -> bool:
        return self._next is not None

    def reset(self) -> None:
        self._frames.clear()
        self._next = self._top = self._last = None

    def push(self, seq: int, payload: bytes, ssrc: int | None = None) -> None:
        """A received frame (any order)."""
        self.stats.received += 1
        if ssrc != self._ssrc:
            if self._ssrc is not None:
                self.stats.restarts += 1
                self.reset()
            self._ssrc = ssrc
        if self._next is not None:
            ahead = ((seq - self._next + 0x8000) & 0xFFFF) - 0x8000
            if ahead < 0:
                self.stats.late += 1
                return
            if ahead > self.max_depth + len(self._frames):
                self.stats.restarts += 1
                self.reset()
        if seq in self._frames:
            self.stats.duplicate += 1
            return
        if self._top is None or ((seq - self._top) & 0xFFFF) < 0x8000:
            self._top = seq
        else:
            self.stats.reordered += 1
        self._frames[seq] = payload

    def pop(self) -> bytes | None:
        """The frame for this tick; None means play silence."""
        if self._next is None:
            if len(self._frames) < self.depth:
                return None
            self._next = self._oldest()
        if not self._frames:
            self.stats.underruns += 1
            return None
        if len(self._frames) > self.max_depth:
            while len(self._frames) > self.depth:
                del self._frames[self._oldest()]
                self.stats.overflow += 1
            self._next = self._oldest()
        seq = self._next
        self._next = (seq + 1) & 0xFFFF
        frame = self._frames.pop(seq, None)
        if frame is not None:
            self._last, self._repeats = frame, 0
            self.stats.played += 1
            return frame
        self.stats.concealed += 1
        if self._last is not None and self._repeats < self.repeat:
            self._repeats += 1
            return self._last
        return None

    def _oldest(self) -> int:
        """The buffered sequence number that comes first (modulo 2**16 arithmetic)."""
        ref = next(iter(self._frames))
        return min(self._frames, key=lambda s: ((s - ref + 0x8000) & 0xFFFF))
