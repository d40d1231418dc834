"""Telephones for the voice tests and ``bench/bench_voice.py``: SIP calls placed with the
phone tests' UAC (:class:`tests.phone.caller.Phones`), and, instead of a Minitel's modem,
a person's keypad and ear: keys sent as in-band DTMF tones or RFC 4733 telephone-events,
and every 20 ms of what the server says kept (:attr:`VoiceLine.heard`), with the time the
first sound came after each key (``answered_at``) for the latency figures.
"""

from __future__ import annotations

import contextlib
import select
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from terminal_emu import g711 as emu_g711
from tests.phone.caller import _DECODE, TICK, PhoneLine, Phones
from videotex.protocols.rtp import RtpError, parse_rtp

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
    #: time.monotonic() when the last key was pressed (its first tone frame, or its end
    #: packet for RFC 4733, which says nothing before), and whether a tone is being sent.
    last_key_at: float = 0.0
    in_tone: bool = False
    #: The first loud frame after ``last_key_at`` (None until then).
    answered_at: float | None = None
    sent_frames: int = 0
    frames_heard: int = 0
    #: time.monotonic() of the last frame with sound in it.
    last_sound_at: float = 0.0
    #: The server's RTP address the socket is connected to (None: not yet).
    connected: tuple[str, int] | None = None


class VoicePhones(Phones):
    """:class:`Phones` whose lines talk and listen instead of running a modem."""

    line_class = VoiceLine

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # one epoll for every line's RTP socket: a tick reads the sockets that have a
        # datagram, not 1,000 sockets to find out (the load generator must keep up)
        self._poll = select.epoll()
        self._by_fd: dict[int, PhoneLine] = {}

    def invite(self, number: str = "0320123456", *, called: str = "3617", **kw: object
               ) -> PhoneLine:
        line = super().invite(number, called=called, **kw)  # type: ignore[arg-type]
        self._poll.register(line.rtp.fileno(), select.EPOLLIN)
        self._by_fd[line.rtp.fileno()] = line
        return line

    def _read_all(self) -> None:
        """Every datagram waiting on the lines' sockets, into their jitter buffers."""
        poll, by_fd = self._poll, self._by_fd
        for _ in range(32):
            ready = poll.poll(0)
            if not ready:
                return
            for fd, _events in ready:
                line = by_fd[fd]
                try:
                    data, addr = line.rtp.recvfrom(2048)
                except OSError:  # (nothing after all, or an ICMP error reported)
                    continue
                if line.remote is None or (addr[0], addr[1]) != line.remote:
                    continue
                if len(data) > 12 and data[0] == 0x80:
                    line.jitter.push(int.from_bytes(data[2:4], "big"),
                                     int.from_bytes(data[8:12], "big"), data[12:])
                    continue
                try:
                    packet = parse_rtp(data)
                except RtpError:
                    continue
                line.jitter.push(packet.sequence, packet.ssrc, packet.payload)

    async def close(self) -> None:
        await super().close()
        self._poll.close()

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

    #: Keep every frame heard (tests); the benchmark keeps only the latency marks.
    keep_audio = True

    def _media(self, t: float) -> None:
        """One tick for every line at once: tones out, what the server says in (numpy on
        all lines' frames; a datagram each way per line)."""
        lines = [ln for ln in self.lines.values() if isinstance(ln, VoiceLine)
                 and ln.state == "up" and ln.remote is not None and ln.sender is not None]
        if not lines:
            return
        n = len(lines)
        out = np.zeros((n, 160), dtype=np.int16)
        keyed = np.zeros(n, dtype=bool)
        for i, line in enumerate(lines):
            if line.outgoing:
                out[i] = line.outgoing.pop(0)
                tone_now = bool(np.any(out[i]))
                keyed[i] = tone_now and not line.in_tone  # a key pressed: its tone starts
                line.in_tone = tone_now
        alaw = emu_g711.lin2alaw(out).tobytes()
        ulaw = emu_g711.lin2ulaw(out).tobytes()
        now = time.monotonic()
        for i, line in enumerate(lines):
            if self._event(line):
                keyed[i] = True
            codes = alaw if line.codec == "PCMA" else ulaw
            if line.connected != line.remote:  # connected: no route looked up per packet
                with contextlib.suppress(OSError):
                    line.rtp.connect(line.remote)  # type: ignore[arg-type]
                    line.connected = line.remote
            packet = line.sender.packet(codes[i * 160 : i * 160 + 160])  # type: ignore[union-attr]
            if line.stutter is not None:  # (held back, then sent in a burst)
                self._emit(line, packet)
            else:
                with contextlib.suppress(OSError):
                    line.rtp.send(packet)
            line.sent_frames += 1
            if keyed[i]:
                line.last_key_at, line.answered_at = now, None
        self.lateness.append(time.monotonic() - t)  # this tick's last packet: the latest
        self._read_all()
        rx = bytearray(n * 160)
        law = np.zeros(n, dtype=np.int64)
        for i, line in enumerate(lines):
            payload = line.jitter.pop()
            pcma = line.codec == "PCMA"
            if payload is None or len(payload) != 160:
                payload = b"\xd5" * 160 if pcma else b"\xff" * 160
            rx[i * 160 : i * 160 + 160] = payload
            law[i] = 256 if pcma else 0
        codes_in = np.frombuffer(bytes(rx), dtype=np.uint8).reshape(n, 160).astype(np.int64)
        pcm = _DECODE[codes_in + law[:, None]].astype(np.int16)
        loud = np.abs(pcm.astype(np.int32)).max(axis=1) > QUIET
        for i, line in enumerate(lines):
            if self.keep_audio:
                line.heard.append(pcm[i])
            line.frames_heard += 1
            if loud[i]:
                line.last_sound_at = now
                if line.answered_at is None and line.last_key_at:
                    line.answered_at = now
            line.changed.set()

    def _event(self, line: VoiceLine) -> bool:
        """Send this tick's RFC 4733 packet, if any; True when it ended a key press."""
        if not line.events:
            return False
        marker, payload, ts, last = line.events.pop(0)
        if payload and line.sender is not None and line.remote is not None:
            header = bytearray(line.sender.packet(b"", samples=0)[:12])
            header[1] = (0x80 if marker else 0) | 101
            header[4:8] = ts.to_bytes(4, "big")
            with contextlib.suppress(OSError):
                line.rtp.sendto(bytes(header) + payload, line.remote)
        return last

    def audio(self, line: VoiceLine, start: int = 0) -> np.ndarray:
        """What the line heard from frame ``start`` on, as one int16 array."""
        frames = line.heard[start:]
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


TICK_S = TICK
