"""RTP packets (RFC 3550 §5.1), sans-IO: bytes ⇄ :class:`RtpPacket`, and a sender's counters.

Owns: the fixed header, CSRC list, header extension and padding on parsing; building packets;
telling RTCP apart when both share a port (RFC 5761 §4); :class:`RtpSender`, which numbers a
stream's packets (sequence and timestamp from random starts, RFC 3550 §5.1).

Invariants: every refusal is an :class:`RtpError` (a ``ValueError``) that names the field;
``parse_rtp(bytes(p)) == p`` for every packet built here; the payload never includes padding.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

__all__ = ["HEADER", "RtpError", "RtpPacket", "RtpSender", "is_rtcp", "parse_rtp"]

#: Bytes of the fixed header.
HEADER = 12
_FIXED = struct.Struct("!BBHII")


class RtpError(ValueError):
    """Bytes that are not an RTP packet; the message names the field."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    #: Header extension (RFC 3550 §5.3.1): (profile word, data, a multiple of 4 bytes).
    extension: tuple[int, bytes] | None = None

    def __bytes__(self) -> bytes:
        first = 0x80 | len(self.csrc) | (0x10 if self.extension is not None else 0)
        out = _FIXED.pack(first, (0x80 if self.marker else 0) | self.payload_type,
                          self.sequence, self.timestamp, self.ssrc)
        out += b"".join(c.to_bytes(4, "big") for c in self.csrc)
        if self.extension is not None:
            profile, data = self.extension
            out += struct.pack("!HH", profile, len(data) // 4) + data
        return out + self.payload


def is_rtcp(data: bytes) -> bool:
    """An RTCP packet (version 2, packet type 192-223, RFC 5761 §4) rather than RTP."""
    return len(data) >= 2 and data[0] >> 6 == 2 and 192 <= data[1] <= 223


def parse_rtp(data: bytes) -> RtpPacket:
    """One datagram → the packet."""
    n = len(data)
    if n < HEADER:
        raise RtpError(f"{n} bytes, shorter than the 12-byte RTP header")
    first, second, seq, ts, ssrc = _FIXED.unpack_from(data)
    if first >> 6 != 2:
        raise RtpError(f"version {first >> 6}, not 2")
    if is_rtcp(data):
        raise RtpError(f"packet type {second}: RTCP, not RTP")
    pos = HEADER + 4 * (first & 0x0F)
    if pos > n:
        raise RtpError(f"CSRC count {first & 0x0F} runs past the {n}-byte packet")
    csrc = tuple(int.from_bytes(data[i:i + 4], "big") for i in range(HEADER, pos, 4))
    extension = None
    if first & 0x10:
        if pos + 4 > n:
            raise RtpError("header extension runs past the packet")
        profile, words = struct.unpack_from("!HH", data, pos)
        end = pos + 4 + 4 * words
        if end > n:
            raise RtpError(f"header extension of {words} words runs past the packet")
        extension = (profile, bytes(data[pos + 4:end]))
        pos = end
    end = n
    if first & 0x20:
        pad = data[-1]
        if pad == 0 or pos + pad > n:
            raise RtpError(f"padding of {pad} bytes does not fit the packet")
        end = n - pad
    return RtpPacket(second & 0x7F, seq, ts, ssrc, bytes(data[pos:end]), bool(second & 0x80),
                     csrc, extension)


class RtpSender:
    """Numbers one outgoing stream: ``packet(payload)`` → the datagram, sequence and timestamp
    advanced (by ``samples`` per packet, 160 for 20 ms at 8 kHz)."""

    __slots__ = ("_head", "payload_type", "sequence", "ssrc", "timestamp")

    def __init__(self, payload_type: int, ssrc: int | None = None,
                 sequence: int | None = None, timestamp: int | None = None) -> None:
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.sequence = secrets.randbits(16) if sequence is None else sequence
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp
        self._head = bytearray(HEADER)

    def packet(self, payload: bytes, samples: int = 160, marker: bool = False) -> bytes:
        _FIXED.pack_into(self._head, 0, 0x80, (0x80 if marker else 0) | self.payload_type,
                         self.sequence, self.timestamp, self.ssrc)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        return bytes(self._head) + payload
