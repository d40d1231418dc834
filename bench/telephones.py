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
  or the tone frame it is sending);
- **in**: every datagram waiting, kept only as "was there sound in it" (a lookup of every
  code's loudness, on all of them as one array);
- **one socket for** :data:`GROUP` **lines**: their RTP port is the same, and each tick a
  ``sendmmsg`` sends the group's packets and ``recvmmsg`` reads what came
  (``bench/mmsg.py``), two system calls a group instead of two a line; the server's
  datagrams are told apart by their source port (the port of that call's SDP answer).

What a caller hears is what arrived plus its playout delay: a telephone holding
``jitter`` frames (80 ms for 4) plays a frame that long after it came, which the voice
tests' jitter buffer does frame by frame; here it is added to the arrival time of the
first frame with sound (:data:`PLAYOUT`). "Sound" is as in the tests: a sample louder than
``QUIET`` (64) in a frame.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import numpy as np

from bench.mmsg import Receiver, Sender
from terminal_emu import g711 as emu_g711
from tests.phone.caller import _DECODE, TICK, Phones
from tests.voice.caller import QUIET, VoiceLine, VoicePhones, tone

__all__ = ["LeanTelephones", "quiet_codes"]

_SIZE = 12 + 160
_SILENCE = {"PCMU": 0xFF, "PCMA": 0xD5}
#: Lines sharing one socket: a tick's datagrams from the server to them (about 1 KiB each in
#: the kernel) fit a default 208 KiB receive buffer with room to spare.
GROUP = 64


def quiet_codes(codec: str) -> bytes:
    """The G.711 codes of ``codec`` whose sample is no louder than :data:`QUIET`."""
    offset = 256 if codec == "PCMA" else 0
    return bytes(c for c in range(256) if abs(int(_DECODE[offset + c])) <= QUIET)


_QUIET = {codec: quiet_codes(codec) for codec in _SILENCE}
#: Loudness of every code, µ-law row 0 and A-law row 1 (the same rule as quiet_codes).
_LOUD = np.array([[abs(int(_DECODE[offset + c])) > QUIET for c in range(256)]
                  for offset in (0, 256)])


class _Group:
    """Up to :data:`GROUP` lines on one socket, and what sends and reads for them."""

    def __init__(self, local: str, packets: np.ndarray) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((local, 0))
        self.sock.setblocking(False)
        self.sender = Sender(self.sock, packets)
        self.receiver = Receiver(self.sock, GROUP)
        self.lines: list[Any] = []


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
        self._seq = np.zeros(cap, dtype=np.uint32)
        self._ts = np.zeros(cap, dtype=np.uint32)
        #: (slot, line) of every line whose media runs.
        self._active: list[tuple[int, VoiceLine]] = []
        self._groups: list[_Group] = []
        #: The line's slot by the server's RTP port (-1: none), and each slot's law row.
        self._slot_of = np.full(65536, -1, dtype=np.int64)
        self._law = np.zeros(cap, dtype=np.int64)
        #: Frames heard and sent by each slot's line since its counts were last added to it.
        self._heard = np.zeros(cap, dtype=np.int64)
        self._sent = np.zeros(cap, dtype=np.int64)
        self._up = np.zeros(0, dtype=np.int64)
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

    def _rtp_socket(self) -> socket.socket:
        """The line's group's socket (a descriptor of its own, the same port)."""
        g = self.count // GROUP
        while len(self._groups) <= g:
            self._groups.append(_Group(self.local, self._packets))
        return self._groups[g].sock.dup()

    def invite(self, number: str = "0320123456", *, called: str = "3617", **kw: object
               ) -> Any:
        # not VoicePhones.invite: its epoll would watch every line's descriptor of the one
        # socket (each datagram then woke 64 entries); the tick reads the groups instead
        line = Phones.invite(self, number, called=called, **kw)  # type: ignore[arg-type]
        self._groups[line.index // GROUP].lines.append(line)
        return line

    async def close(self) -> None:
        await super().close()
        for group in self._groups:
            group.sock.close()

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
        """The line was answered: its row of packets, the server's port it hears from."""
        assert line.sender is not None and line.remote is not None
        slot = line.slot
        row = self._packets[slot]
        row[1] = line.sender.payload_type
        row[8:12] = np.frombuffer(line.sender.ssrc.to_bytes(4, "big"), dtype=np.uint8)
        row[12:] = _SILENCE[line.codec]
        self._seq[slot] = line.sender.sequence
        self._ts[slot] = line.sender.timestamp
        self._law[slot] = line.codec == "PCMA"
        self._slot_of[line.remote[1]] = slot
        line.connected = line.remote
        self._known.add(slot)
        self._active.append((slot, line))

    def _aim(self) -> None:
        """The groups' senders: each line up, its row to its server port."""
        slots: list[int] = []
        for group in self._groups:
            up = [ln for ln in group.lines if ln.state == "up" and ln.slot in self._known]
            group.sender.aim([ln.slot for ln in up], [ln.remote for ln in up])
            slots += [ln.slot for ln in up]
        self._up = np.array(slots, dtype=np.int64)

    def _media(self, t: float) -> None:
        if len(self._known) != len(self.by_slot) or self._ended:
            self._ended = False
            for slot, line in self._active:
                if line.state != "up":
                    self._slot_of[line.remote[1]] = -1  # type: ignore[index]
                    self._tally(slot, line)
            self._active = [a for a in self._active if a[1].state == "up"]
            self._known = {a[0] for a in self._active}
            for slot, waiting in self.by_slot.items():
                if slot not in self._known and waiting.state == "up" \
                        and waiting.remote is not None:
                    self._start(waiting)  # type: ignore[arg-type]
            self._aim()
        if not self._active:
            return
        packets = self._packets
        for slot in self._toned:  # last tick's tones: silence again
            packets[slot, 12:] = _SILENCE[self.by_slot[slot].codec] if slot in self.by_slot \
                else 0xFF
        self._toned.clear()
        now = time.monotonic()
        for slot, line in self._active:
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
        for group in self._groups:
            group.sender.send()
        self._sent[self._up] += 1
        self.lateness.append(time.monotonic() - t)  # this tick's last packet: the latest
        self._hear(now)

    def _hear(self, now: float) -> None:
        """Every datagram waiting: from which line's server port, and sound or not."""
        heard_at = now + self.playout
        for group in self._groups:
            if not group.lines:
                continue
            receiver = group.receiver
            for _ in range(32):
                k, rows, lengths, ports = receiver.receive()
                if not k:
                    break
                slots = self._slot_of[ports]
                ok = (slots >= 0) & (lengths == _SIZE)
                if not ok.all():
                    rows, slots = rows[:k][ok], slots[ok]
                else:
                    rows = rows[:k]
                np.add.at(self._heard, slots, 1)
                loud = _LOUD[self._law[slots][:, None], rows[:, 12:_SIZE]].any(axis=1)
                for slot in slots[loud].tolist():
                    line: Any = self.by_slot.get(slot)
                    if line is None:
                        continue
                    line.last_sound_at = heard_at
                    if line.answered_at is None and line.last_key_at:
                        line.answered_at = heard_at
                if k < len(receiver.data):
                    break

    def _tally(self, slot: int, line: VoiceLine) -> None:
        line.frames_heard += int(self._heard[slot])
        line.sent_frames += int(self._sent[slot])
        self._heard[slot] = self._sent[slot] = 0

    def tally(self) -> None:
        """Bring every line's ``frames_heard`` and ``sent_frames`` up to date (the tick
        counts them by slot)."""
        for slot, line in self._active:
            if self.by_slot.get(slot) is line:
                self._tally(slot, line)
