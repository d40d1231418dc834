"""Asterisk's AudioSocket protocol, sans-IO: a TCP byte stream ⇄ :class:`Frame` values.

Owns the framing: ``type`` (1 byte), ``length`` (2 bytes, big-endian), ``payload``. Types,
as Asterisk's ``res_audiosocket`` and its protocol page define them:

- ``0x00`` hang-up (no payload; closing the socket says the same);
- ``0x01`` the call's UUID, 16 bytes, first on every connection (``AudioSocket(uuid,host:port)``
  or ``Dial(AudioSocket/host:port/uuid)`` in the dialplan);
- ``0x03`` a DTMF digit, one ASCII byte (Asterisk 20+);
- ``0x10`` audio: signed 16-bit linear PCM, 8 kHz, mono, little-endian (320 bytes per 20 ms);
- ``0x11``-``0x18`` audio at higher rates (12-192 kHz, recent Asterisk): not for a modem line;
- ``0xff`` an error; payload an optional code (Asterisk: bit 0x01 caller hung up, 0x02 frame
  forwarding error, 0x04 memory error).

Invariants: :class:`FrameReader` returns whole frames in order, however the stream is split,
and holds at most one partial frame (≤ 65,538 bytes); refusals are :class:`AudioSocketError`
(a ``ValueError``) naming the frame; unknown types come out as frames (the listener ignores
them, as Asterisk does).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

__all__ = [
    "AudioSocketError",
    "Frame",
    "FrameReader",
    "Kind",
    "caller_from_uuid",
    "encode_frame",
]

MAX_PAYLOAD = 0xFFFF


class Kind(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10  #: slin 8 kHz, the only rate a V.23 line uses
    ERROR = 0xFF


class AudioSocketError(ValueError):
    """A frame that breaks the protocol; the message names it."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    payload: bytes = b""

    def __bytes__(self) -> bytes:
        return encode_frame(self.kind, self.payload)

    @property
    def uuid(self) -> uuid.UUID:
        """The call's UUID (a ``Kind.UUID`` frame)."""
        if self.kind != Kind.UUID or len(self.payload) != 16:
            raise AudioSocketError(f"frame type 0x{self.kind:02x} with {len(self.payload)} "
                                   "bytes is not a 16-byte UUID frame")
        return uuid.UUID(bytes=self.payload)


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    """One frame on the wire."""
    if not 0 <= kind <= 0xFF:
        raise AudioSocketError(f"frame type {kind} is not one byte")
    if len(payload) > MAX_PAYLOAD:
        raise AudioSocketError(f"payload of {len(payload)} bytes, more than {MAX_PAYLOAD}")
    return bytes((kind, len(payload) >> 8, len(payload) & 0xFF)) + payload


class FrameReader:
    """``feed(bytes)`` → the whole frames received so far. A UUID frame that is not 16 bytes
    or an audio frame of an odd length raises :class:`AudioSocketError`."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out: list[Frame] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= 3:
            kind = buf[pos]
            n = (buf[pos + 1] << 8) | buf[pos + 2]
            if len(buf) - pos - 3 < n:
                break
            payload = bytes(buf[pos + 3 : pos + 3 + n])
            pos += 3 + n
            if kind == Kind.UUID and n != 16:
                del buf[:pos]
                raise AudioSocketError(f"UUID frame of {n} bytes, not 16")
            if kind == Kind.AUDIO and n % 2:
                del buf[:pos]
                raise AudioSocketError(f"audio frame of {n} bytes: not whole 16-bit samples")
            out.append(Frame(kind, payload))
        del buf[:pos]
        return out


def caller_from_uuid(value: uuid.UUID) -> str | None:
    """The caller's number a dialplan wrote into the UUID, or None.

    AudioSocket carries nothing but a UUID, so ``docs/phone.md`` gives a dialplan that
    writes the caller's digits into the last group, after ``f`` padding:
    ``00000000-0000-4000-8000-ff0320123456`` → ``0320123456``. The first 16 hex digits must
    be ``00000000-0000-4000`` (a random UUID has them so with odds of 2**-60).
    """
    text = str(value)
    if not text.startswith("00000000-0000-4000-8000-"):
        return None
    digits = text[24:].lstrip("f")
    return digits if digits and (digits.isascii() and digits.isdigit()) else None
