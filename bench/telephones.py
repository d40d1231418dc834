"""Telephones cheap enough to be 1,000 callers beside the server on 2 cores (bench_voice).

The voice tests' :class:`~tests.voice.caller.VoicePhones` keep every frame heard, run a
jitter buffer per line and build each packet in Python: about 20 µs a line a tick, so
1,000 of them need a core of their own, which this machine does not have beside a server
that needs one too (tonight's 1,000-call run: the generators fell 0.8 s behind their own
20 ms clock and the latency they measured was theirs). :class:`LeanTelephones` keeps the
same SIP calls and the same keys (in-band DTMF tones, the same frames) and does per tick
only what a telephone must:

- **out**: one RTP packet a line, built for all lines at once (a numpy matrix of packets
  whose sequence numbers and timestamps advance together; a line's row holds its silence
  or the tone frame it is sending), then one ``send`` on a connected socket each;
- **in**: the datagrams waiting (one epoll; the connected socket takes only the server's
  address), each kept only as "was there sound in it": the payload with its quiet G.711
  codes deleted (``bytes.translate``, in C) is empty or not.

What a caller hears is what arrived plus its playout delay: a telephone holding
``jitter`` frames (80 ms for 4) plays a frame that long after it came, which the voice
tests' jitter buffer does frame by frame; here it is added to the arrival time of the
first frame with sound (:data:`PLAYOUT`). "Sound" is as in the tests: a sample louder than
``QUIET`` (64) in a frame.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from terminal_emu import g711 as emu_g711
from tests.phone.caller import _DECODE, TICK
from tests.voice.caller import QUIET, VoiceLine, VoicePhones, tone

__all__ = ["LeanTelephones", "quiet_codes"]

_SIZE = 12 + 160
_SILENCE = {"PCMU": 0xFF, "PCMA": 0xD5}


def quiet_codes(codec: str) -> bytes:
    """The G.711 codes of ``codec`` whose sample is no louder than :data:`QUIET`."""
    offset = 256 if codec == "PCMA" else 0
    return bytes(c for c in range(256) if abs(int(_DECODE[offset + c])) <= QUIET)


_QUIET = {codec: quiet_codes(codec) for codec in _SILENCE}


class LeanTelephones(VoicePhones):
    """:class:`VoicePhones` for the load generator: keys as in-band tones only, nothing
    kept of what is heard but the marks the script reads (``last_sound_at``,
    ``answered_at``, both as heard: arrival plus ``jitter`` frames of playout)."""

    keep_audio = False

    def __init__(self, server: tuple[str, int], *, capacity: int = 1, **kw: Any) -> None:
        super().__init__(server, capacity=capacity, **kw)
        cap = capacity
        self._packets = np.zeros((cap, _SIZE), dtype=np.uint8)
        self._packets[:, 0] = 0x80
        self._flat = memoryview(self._packets.reshape(-1))
        self._seq = np.zeros(cap, dtype=np.uint32)
        self._ts = np.zeros(cap, dtype=np.uint32)
        #: (slot, line, socket.send) of every line whose media runs.
        self._active: list[tuple[int, VoiceLine, Any]] = []
        self._known: set[int] = set()
        #: Lines whose row holds a tone frame this tick (silence again next tick).
        self._toned: list[int] = []
        self.playout = self.jitter * TICK
        #: A line ended since the last tick (the active list is made again).
        self._ended = False
        #: Each key's frames in each law, made once.
        self._tones: dict[tuple[str, str], list[np.ndarray]] = {}

    def _end(self, line: Any, reason: str) -> None:
        super()._end(line, reason)
        self._ended = True

    def keys(self, line: VoiceLine, digits: str, *, rfc4733: bool = False) -> None:
        """Press ``digits`` as the voice tests do (80 ms tone, 80 ms pause each), the frames
        already in the line's G.711."""
        if rfc4733:
            raise ValueError("LeanTelephones send keys as in-band tones only")
        encode = emu_g711.lin2alaw if line.codec == "PCMA" else emu_g711.lin2ulaw
        for d in digits:
            frames = self._tones.get((d, line.codec))
            if frames is None:
                codes = encode(np.concatenate([tone(d), np.zeros(640, dtype=np.int16)]))
                frames = self._tones[d, line.codec] = [codes[i : i + 160]
                                                        for i in range(0, len(codes), 160)]
            line.outgoing += frames

    def _start(self, line: VoiceLine) -> None:
        """The line was answered: its row of packets, its socket connected to the server."""
        assert line.sender is not None and line.remote is not None
        slot = line.slot
        row = self._packets[slot]
        row[1] = line.sender.payload_type
        row[8:12] = np.frombuffer(line.sender.ssrc.to_bytes(4, "big"), dtype=np.uint8)
        row[12:] = _SILENCE[line.codec]
        self._seq[slot] = line.sender.sequence
        self._ts[slot] = line.sender.timestamp
        line.rtp.connect(line.remote)
        line.connected = line.remote
        self._known.add(slot)
        self._active.append((slot, line, line.rtp.send))

    def _media(self, t: float) -> None:
        if len(self._known) != len(self.by_slot) or self._ended:
            self._ended = False
            self._active = [a for a in self._active if a[1].state == "up"]
            self._known = {a[0] for a in self._active}
            for slot, line in self.by_slot.items():
                if slot not in self._known and line.state == "up" and line.remote is not None:
                    self._start(line)  # type: ignore[arg-type]
        if not self._active:
            return
        packets = self._packets
        for slot in self._toned:  # last tick's tones: silence again
            packets[slot, 12:] = _SILENCE[self.by_slot[slot].codec] if slot in self.by_slot \
                else 0xFF
        self._toned.clear()
        now = time.monotonic()
        for slot, line, _send in self._active:
            if line.outgoing:
                frame = line.outgoing.pop(0)
                packets[slot, 12:] = frame
                self._toned.append(slot)
                tone_now = bool(np.any(frame != _SILENCE[line.codec]))
                if tone_now and not line.in_tone:  # a key pressed: its tone starts
                    line.last_key_at, line.answered_at = now, None
                line.in_tone = tone_now
        packets[:, 2:4] = (self._seq & 0xFFFF).astype(">u2").view(np.uint8).reshape(-1, 2)
        packets[:, 4:8] = self._ts.astype(">u4").view(np.uint8).reshape(-1, 4)
        self._seq += 1
        self._ts += 160
        flat = self._flat
        for slot, line, send in self._active:
            try:  # noqa: SIM105  (a with-statement per packet costs more than the send)
                send(flat[slot * _SIZE : slot * _SIZE + _SIZE])
            except OSError:
                pass
            line.sent_frames += 1
        self.lateness.append(time.monotonic() - t)  # this tick's last packet: the latest
        self._hear(now)

    def _hear(self, now: float) -> None:
        """Every datagram waiting: sound or not (the quiet codes deleted, anything left)."""
        poll, by_fd, playout = self._poll, self._by_fd, self.playout
        for _ in range(32):
            ready = poll.poll(0)
            if not ready:
                return
            for fd, _events in ready:
                line: Any = by_fd[fd]
                try:
                    data = line.rtp.recv(512)
                except OSError:
                    continue
                line.frames_heard += 1
                if line.connected is None or len(data) <= 12:
                    continue
                if data[12:].translate(None, _QUIET[line.codec]):
                    line.last_sound_at = now + playout
                    if line.answered_at is None and line.last_key_at:
                        line.answered_at = now + playout
