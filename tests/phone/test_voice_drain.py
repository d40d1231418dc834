"""A voice call's jitter buffer shrinks back after a burst (the caller would otherwise hear
every prompt late for the rest of the call), by dropping quiet frames only: never a frame of
a key's tone. A modem line keeps the delay (it costs a modem nothing; a dropped frame is a
byte error). Real UDP on loopback; the line read and played as the media tick does."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest

from tests.voice.caller import tone
from videotex.channels.phone.lines import DRAIN_SLACK, ULAW, RtpLine, quiet_codes
from videotex.protocols import g711
from videotex.protocols.dtmf import DtmfConfig
from videotex.protocols.jitter import JitterBuffer
from videotex.protocols.rtp import RtpSender

PREFETCH = 4


class Owner:
    """The listener's side of the line: what it was told, kept for the asserts."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.ended: list[str] = []

    def carrier_up(self, line: object) -> None:
        pass

    def line_ended(self, line: object, reason: str) -> None:
        self.ended.append(reason)

    def key(self, line: object, digit: str) -> None:
        self.keys.append(digit)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (server, caller):
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
    yield server, caller
    server.close()
    caller.close()


def make_line(server: socket.socket, caller: socket.socket, voice: bool) -> RtpLine:
    line = RtpLine(Owner(), "call-1", "0320000001", "127.0.0.1", 0.0, server,
                   caller.getsockname(), 0, ULAW, None, JitterBuffer(prefetch=PREFETCH))
    line.voice = object() if voice else None
    return line


def frames(count: int, *louds: range) -> list[bytes]:
    """``count`` 20 ms frames of µ-law, silence but for a key's tone in frames ``louds``."""
    pcm = np.zeros(160 * count, dtype=np.int16)
    for loud in louds:
        key = tone("5", ms=20 * len(loud), level=0.05)
        pcm[160 * loud.start : 160 * loud.start + len(key)] = key
    codes = g711.encode(pcm, g711.Law.ULAW).tobytes()
    return [codes[i : i + 160] for i in range(0, len(codes), 160)]


def run(line: RtpLine, caller: socket.socket, sent: list[bytes], burst_at: int,
        ticks: int) -> list[bytes]:
    """Send frames one a tick, except that the first ``burst_at`` wait and go at once (a
    stalled sender), and play ``ticks`` ticks; what each tick played."""
    rtp = RtpSender(0, ssrc=7, sequence=100, timestamp=0)
    packets = [rtp.packet(f) for f in sent]
    played = []
    for tick in range(ticks):
        if tick == burst_at:
            for p in packets[: burst_at + 1]:
                caller.sendto(p, line.sock.getsockname())
        elif burst_at < tick < len(packets):
            caller.sendto(packets[tick], line.sock.getsockname())
        for _ in range(40):
            line.read(float(tick))
        frame = line.frame()
        played.append(frame if frame is not None else b"")
    return played


def test_quiet_codes_cannot_carry_a_key() -> None:
    """The quiet codes are below one tone's peak at the detector's least level."""
    least = g711.DBM0_PEAK * 10 ** (DtmfConfig().min_level_dbm0 / 20)
    for law in (g711.Law.ULAW, g711.Law.ALAW):
        quiet = quiet_codes(law)
        pcm = g711.decode(bytes(range(256)), law)
        assert {c for c in range(256) if abs(int(pcm[c])) < least} == set(quiet)
        assert 0 < len(quiet) < 128


def test_a_voice_line_drains_back_but_plays_every_tone_frame(pair: tuple) -> None:
    server, caller = pair
    line = make_line(server, caller, voice=True)
    sent = frames(120, range(40, 44))
    played = run(line, caller, sent, burst_at=25, ticks=130)
    heard = [f for f in played if f and f != b"\xff" * 160]
    tone_frames = [f for f in sent if f.translate(None, quiet_codes(g711.Law.ULAW))]
    assert len(tone_frames) == 4
    assert [f for f in heard if f in tone_frames] == tone_frames  # every one, in order
    assert line.drained > 0
    assert line.jitter.depth <= PREFETCH + DRAIN_SLACK
    # the tone is heard no later than prefetch + slack frames after it was sent
    first = played.index(tone_frames[0])
    assert first - 40 <= PREFETCH + DRAIN_SLACK + 1, first


def test_the_pause_between_two_presses_of_a_key_is_kept(pair: tuple) -> None:
    """"55": two tones of 80 ms, 80 ms apart, arriving in a burst behind a long silence
    while the buffer is over its depth: the 4 quiet frames between them all play."""
    server, caller = pair
    line = make_line(server, caller, voice=True)
    sent = frames(120, range(60, 64), range(68, 72))
    played = run(line, caller, sent, burst_at=75, ticks=130)
    assert line.drained > 0
    first = played.index(sent[60])
    assert played[first : first + 12] == sent[60:72]


def test_a_modem_line_keeps_its_delay(pair: tuple) -> None:
    server, caller = pair
    line = make_line(server, caller, voice=False)
    sent = frames(120, range(40, 44))
    played = run(line, caller, sent, burst_at=25, ticks=130)
    tone_frames = sent[40:44]
    assert line.drained == 0
    assert line.jitter.depth > PREFETCH + DRAIN_SLACK  # the burst's delay is kept
    first = played.index(tone_frames[0])
    assert played[first : first + 4] == tone_frames
    assert first - 40 > PREFETCH + DRAIN_SLACK + 1, first
