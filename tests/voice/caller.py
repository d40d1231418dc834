"""Telephones for the voice tests and ``bench/bench_voice.py``: SIP calls placed with the
phone tests' UAC (:class:`tests.phone.caller.Phones`), and, instead of a Minitel's modem,
a person's keypad and ear: keys sent as in-band DTMF tones or RFC 4733 telephone-events,
and every 20 ms of what the server says kept (:attr:`VoiceLine.heard`), with the time the
first sound came after each key (``answered_at``) for the latency figures.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from terminal_emu import g711 as emu_g711
from tests.phone.caller import _DECODE, TICK, PhoneLine, Phones

__all__ = ["DTMF_FREQS", "VoiceLine", "VoicePhones", "tone"]

RATE = 8000
DTMF_FREQS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}
_EVENT = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
#: Loud enough to be heard over the line, quiet enough to be ignored: samples quieter than
#: this are "silence" for the latency figures (G.711 idle codes decode to ±8 at most).
QUIET = 64


def tone(digit: str, ms: int = 80, level: float = 0.25) -> np.ndarray:
    """The two frequencies of a key, ``level`` of full scale each, as int16 at 8 kHz."""
    low, high = DTMF_FREQS[digit]
    t = np.arange(RATE * ms // 1000) / RATE
    wave = level * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))
    return (wave * 32767).astype(np.int16)


@dataclass(eq=False)
class VoiceLine(PhoneLine):
    #: What the server said: one int16 frame of 160 samples per tick (silence included).
    heard: list[np.ndarray] = field(default_factory=list)
    #: Frames to send (DTMF tones and pauses), oldest first.
    outgoing: list[np.ndarray] = field(default_factory=list)
    #: RFC 4733 packets to send, one per tick: (marker, payload, timestamp, the key's last).
    events: list[tuple[bool, bytes, int, bool]] = field(default_factory=list)
    #: time.monotonic() when the last key's last tone frame (or end packet) went out.
    last_key_at: float = 0.0
    #: The first loud frame after ``last_key_at`` (None until then).
    answered_at: float | None = None
    sent_frames: int = 0


class VoicePhones(Phones):
    """:class:`Phones` whose lines talk and listen instead of running a modem."""

    line_class = VoiceLine

    def invite(self, number: str = "0320123456", *, called: str = "3617", **kw: object
               ) -> PhoneLine:
        return super().invite(number, called=called, **kw)  # type: ignore[arg-type]

    def keys(self, line: VoiceLine, digits: str, *, rfc4733: bool = False) -> None:
        """Press ``digits``: tones of 80 ms and 80 ms of pause each, or telephone-events
        (start, a continuation every 20 ms for 80 ms, and three end packets)."""
        if rfc4733:
            for d in digits:
                code = _EVENT[d]
                ts = (line.sent_frames + len(line.events) + 50) * 160  # a fresh timestamp
                for k in range(1, 5):  # start (marker), continuations: duration grows
                    line.events.append((k == 1, bytes([code, 10]) + (k * 160).to_bytes(2, "big"),
                                        ts, False))
                for k in range(3):  # three end packets, the same duration
                    line.events.append((False, bytes([code, 0x80 | 10]) + (640).to_bytes(
                        2, "big"), ts, k == 2))
                line.events += [(False, b"", 0, False)] * 4  # a pause between keys
            return
        for d in digits:
            frames = np.concatenate([tone(d), np.zeros(640, dtype=np.int16)])
            line.outgoing += [frames[i : i + 160] for i in range(0, len(frames), 160)]

    def _media(self, t: float) -> None:
        for line in list(self.lines.values()):
            if not isinstance(line, VoiceLine) or line.state != "up" or line.remote is None:
                continue
            self._talk(line)
            self._listen(line)

    def _talk(self, line: VoiceLine) -> None:
        assert line.sender is not None and line.remote is not None
        frame = line.outgoing.pop(0) if line.outgoing else np.zeros(160, dtype=np.int16)
        key_done = False
        if line.events:
            marker, payload, ts, last = line.events.pop(0)
            if payload:
                header = bytearray(line.sender.packet(b"", samples=0)[:12])
                header[1] = (0x80 if marker else 0) | 101
                header[4:8] = ts.to_bytes(4, "big")
                with contextlib.suppress(OSError):
                    line.rtp.sendto(bytes(header) + payload, line.remote)
                key_done = last
        law = emu_g711.lin2alaw if line.codec == "PCMA" else emu_g711.lin2ulaw
        with contextlib.suppress(OSError):
            line.rtp.sendto(line.sender.packet(law(frame).tobytes()), line.remote)
        line.sent_frames += 1
        if (line.outgoing == [] and np.any(frame)) or key_done:
            line.last_key_at = time.monotonic()
            line.answered_at = None

    def _listen(self, line: VoiceLine) -> None:
        self._read(line)
        payload = line.jitter.pop()
        if payload is None or len(payload) != 160:
            pcm = np.zeros(160, dtype=np.int16)
        else:
            codes = np.frombuffer(payload, dtype=np.uint8).astype(np.int64)
            pcm = _DECODE[codes + (256 if line.codec == "PCMA" else 0)].astype(np.int16)
        line.heard.append(pcm)
        if line.answered_at is None and line.last_key_at and \
                int(np.abs(pcm.astype(np.int32)).max()) > QUIET:
            line.answered_at = time.monotonic()
        line.changed.set()

    def audio(self, line: VoiceLine, start: int = 0) -> np.ndarray:
        """What the line heard from frame ``start`` on, as one int16 array."""
        frames = line.heard[start:]
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


TICK_S = TICK
