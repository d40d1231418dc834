"""A telephone line for the V.23 modem's tests and benchmarks: many streams, 20 ms at a time.

:class:`Line` carries one direction of N calls at once, each with its own impairments
(:class:`Impair`), in the order a real call meets them:

1. clock offset of the sender (``clock_ppm``; 1000 ppm = 0.1 %): the sender's samples are
   read at ``1 + ppm/1e6`` of their rate by an 8-tap windowed-sinc interpolator (error below
   -50 dB up to 2.4 kHz). The line starts 250 ms behind so that a fast sender never runs dry;
2. frequency offset (``freq_offset_hz``), as an FDM carrier system gives: the analytic signal
   (a 63-tap complex filter, 31 samples of delay) times ``exp(2jπ Δf t)``, real part;
3. level (``level_dbm0``): the sender's nominal level scaled to this one;
4. echo (``echo_db``): the receiver's own transmitted audio, ``echo_delay`` samples late,
   ``echo_db`` above the wanted signal (the caller's 2-wire hybrid sends the server's signal
   back);
5. white Gaussian noise at ``snr_db``: **SNR is the wanted signal's power over the noise's
   power in the full 0-4 kHz band** (independent samples at 8 kHz; echo not counted);
6. G.711 (``law``) encode and decode, i.e. the digital network and its quantisation;
7. packets of 20 ms (one call of :meth:`Line.process`): lost with probability ``loss`` and
   concealed as a jitter buffer would (``"repeat"`` the previous frame, or ``"zeros"``);
   reordered with probability ``reorder``: without a jitter buffer the packet is played after
   its successor (with one, reordering is invisible, so this is the harsher case).

:class:`Duplex` runs an :class:`AnswerBank` and an :class:`OriginateBank` against each other
through two lines, and keeps what each side received. Not sans-IO-constrained: this is a test
tool; it still uses whole-array numpy so that a bench can run hundreds of lines.
"""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from videotex.protocols import g711
from videotex.protocols.g711 import DBM0_RMS, Law
from videotex.protocols.v23 import (
    AnswerBank,
    AnswerConfig,
    CarrierUp,
    Data,
    Event,
    OriginateBank,
    OriginateConfig,
)
from videotex.protocols.v23.filters import block_matrix, complex_bandpass

__all__ = ["FRAME", "Duplex", "Impair", "Line", "byte_errors"]

FRAME = 160  # samples per RTP packet
_SINC_TAPS = 8
_SINC_PHASES = 512
_PREFILL = 2000


@dataclass(frozen=True)
class Impair:
    """What one direction of one call goes through (defaults: a clean A-law line)."""

    law: Law | None = Law.ALAW
    level_dbm0: float | None = None  # None: the sender's own level
    snr_db: float | None = None
    freq_offset_hz: float = 0.0
    clock_ppm: float = 0.0
    echo_db: float | None = None
    echo_delay: int = 240
    loss: float = 0.0
    reorder: float = 0.0
    concealment: str = "repeat"

    def __post_init__(self) -> None:
        if self.concealment not in ("repeat", "zeros"):
            raise ValueError(f"Impair.concealment: 'repeat' or 'zeros', not {self.concealment!r}")


def _sinc_table() -> npt.NDArray[np.float32]:
    """Interpolation weights for taps -3..4 around each of 512 fractional positions."""
    frac = np.arange(_SINC_PHASES) / _SINC_PHASES
    x = np.arange(-3, 5)[None, :] - frac[:, None]
    half = _SINC_TAPS / 2
    window = np.i0(5.0 * np.sqrt(np.clip(1.0 - (x / half) ** 2, 0.0, 1.0))) / np.i0(5.0)
    w = np.sinc(x) * window
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(np.float32)


class Line:
    """One direction of ``len(impairs)`` calls; :meth:`process` moves one 20 ms packet each."""

    def __init__(self, impairs: list[Impair], *, sender_dbm0: float, seed: int = 0) -> None:
        self.impairs = impairs
        n = len(impairs)
        self._rng = np.random.default_rng(seed)
        level = np.array([sender_dbm0 if i.level_dbm0 is None else i.level_dbm0
                          for i in impairs])
        self._gain = (10.0 ** ((level - sender_dbm0) / 20.0)).astype(np.float32)
        power = DBM0_RMS**2 * 10.0 ** (level / 10.0)
        snr = np.array([np.inf if i.snr_db is None else i.snr_db for i in impairs])
        self._sigma = np.sqrt(power / 10.0 ** (snr / 10.0)).astype(np.float32)
        self._echo = np.array([0.0 if i.echo_db is None else
                               10.0 ** ((lv + i.echo_db - sender_dbm0) / 20.0)
                               for i, lv in zip(impairs, level, strict=True)], dtype=np.float32)
        self._delay = max(i.echo_delay for i in impairs)
        self._echo_buf = np.zeros((n, self._delay + FRAME), dtype=np.float32)
        self._echo_at = np.array([self._delay - i.echo_delay for i in impairs])
        self._shift = np.array([i.freq_offset_hz for i in impairs])
        self._hilbert = block_matrix(complex_bandpass(63, 2000.0, 1900.0, 70.0), FRAME, 1, 0.0)
        self._hbuf = np.zeros((n, 62 + FRAME), dtype=np.float32)
        self._t = 0
        self._ratio = 1.0 + np.array([i.clock_ppm for i in impairs]) * 1e-6
        self._resample = bool(np.any(self._ratio != 1.0))
        self._fifo = np.zeros((n, 16 * _PREFILL), dtype=np.float32)
        self._fill = _PREFILL  # samples written (same for every stream)
        self._read = np.full(n, 4.0)  # next read position, per stream
        self._sinc = _sinc_table()
        self._ulaw = np.array([i.law is Law.ULAW for i in impairs])
        self._alaw = np.array([i.law is Law.ALAW for i in impairs])
        self._loss = np.array([i.loss for i in impairs])
        self._reorder = np.array([i.reorder for i in impairs])
        self._zeros = np.array([i.concealment == "zeros" for i in impairs])
        self._last_out = np.zeros((n, FRAME), dtype=np.int16)
        self._prev_in = np.zeros((n, FRAME), dtype=np.int16)
        self._swapped = np.zeros(n, dtype=bool)
        #: Packets lost or reordered so far, per stream, with their packet index.
        self.hits: list[list[int]] = [[] for _ in impairs]

    def _clock(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self._fill + FRAME > self._fifo.shape[1]:
            keep = int(np.floor(self._read.min())) - 4
            self._fifo[:, : self._fill - keep] = self._fifo[:, keep : self._fill]
            self._fill -= keep
            self._read -= keep
        self._fifo[:, self._fill : self._fill + FRAME] = x
        self._fill += FRAME
        pos = self._read[:, None] + np.arange(FRAME) * self._ratio[:, None]
        base = np.floor(pos).astype(np.int64)
        if base.max() + 4 >= self._fill or base.min() < 3:
            raise RuntimeError("linesim: the clock offset ran the line's buffer dry or over")
        phase = ((pos - base) * _SINC_PHASES).astype(np.int64)
        taps = base[..., None] + np.arange(-3, 5)
        rows = np.arange(len(x))[:, None, None]
        out = np.einsum("ijk,ijk->ij", self._fifo[rows, taps], self._sinc[phase])
        self._read += FRAME * self._ratio
        return out.astype(np.float32)

    def _freq_shift(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        self._hbuf[:, 62:] = x
        z = (self._hbuf @ self._hilbert).view(np.complex64)
        self._hbuf[:, :62] = self._hbuf[:, FRAME:]
        t = (self._t + np.arange(FRAME)) / 8000.0
        rot = np.exp(2j * math.pi * self._shift[:, None] * t[None, :])
        return (2.0 * (z * rot).real).astype(np.float32)

    def process(self, sent: npt.ArrayLike, echo_of: npt.ArrayLike | None = None
                ) -> npt.NDArray[np.int16]:
        """One packet ``(N, 160)`` of what the senders sent → what the receivers get."""
        x = np.asarray(sent, dtype=np.float32)
        if self._resample:
            x = self._clock(x)
        if np.any(self._shift):
            x = self._freq_shift(x)
        self._t += FRAME
        x = x * self._gain[:, None]
        if echo_of is not None and np.any(self._echo):
            buf = self._echo_buf
            buf[:, : self._delay] = buf[:, FRAME:]
            buf[:, self._delay :] = np.asarray(echo_of, dtype=np.float32)
            idx = self._echo_at[:, None] + np.arange(FRAME)
            x = x + self._echo[:, None] * np.take_along_axis(buf, idx, axis=1)
        if np.any(self._sigma):
            x = x + self._sigma[:, None] * self._rng.standard_normal(x.shape, dtype=np.float32)
        pcm = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
        if self._ulaw.any():
            pcm[self._ulaw] = g711.ulaw_decode(g711.ulaw_encode(pcm[self._ulaw]))
        if self._alaw.any():
            pcm[self._alaw] = g711.alaw_decode(g711.alaw_encode(pcm[self._alaw]))
        return self._packets(pcm)

    def _packets(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        if not (self._loss.any() or self._reorder.any()):
            return pcm
        u = self._rng.random((2, len(pcm)))
        out = self._prev_in.copy()  # one packet of delay, so that a packet can come late
        swap = (u[0] < self._reorder) & ~self._swapped
        out[swap] = pcm[swap]
        nxt = pcm.copy()
        nxt[swap] = self._prev_in[swap]
        self._swapped = swap
        lost = u[1] < self._loss
        out[lost] = np.where(self._zeros[lost, None], 0, self._last_out[lost])
        tick = self._t // FRAME - 1
        for s in np.flatnonzero(lost | swap):
            self.hits[s].append(tick)
        self._prev_in = nxt
        self._last_out = out
        return out


def byte_errors(sent: bytes, got: bytes) -> int:
    """Bytes received wrong: changed, lost or added, after aligning ``got`` on ``sent``.

    What was sent after the last byte received intact is taken to be still on its way, not
    lost; bytes received after that point are all wrong.
    """
    if got == sent[: len(got)]:
        return 0
    m = difflib.SequenceMatcher(None, sent, got, autojunk=False)
    blocks = [b for b in m.get_matching_blocks() if b.size]
    if not blocks:
        return len(got)
    same = sum(b.size for b in blocks)
    end_sent = blocks[-1].a + blocks[-1].size
    end_got = blocks[-1].b + blocks[-1].size
    return max(end_sent, end_got) - same + (len(got) - end_got)


@dataclass
class Stream:
    """What one call of a :class:`Duplex` sent and received, with event times in packets."""

    down_sent: bytearray = field(default_factory=bytearray)  # server → Minitel
    up_sent: bytearray = field(default_factory=bytearray)  # Minitel → server
    down_got: bytearray = field(default_factory=bytearray)
    up_got: bytearray = field(default_factory=bytearray)
    answer_events: list[tuple[int, Event]] = field(default_factory=list)
    originate_events: list[tuple[int, Event]] = field(default_factory=list)


class Duplex:
    """N calls: server banks and Minitel banks through a down line and an up line.

    ``down_data[i]`` is sent by the server once its :class:`CarrierUp` arrives, ``up_data[i]``
    by the Minitel once it has heard the answer sequence, each kept about :attr:`BACKLOG`
    bytes ahead of the line (so at most that much is still queued when a run stops).
    The up line's echo is the server's own audio.
    """

    #: Bytes kept queued (server, Minitel): two seconds of each direction.
    BACKLOG = (240, 16)

    def __init__(self, down: list[Impair], up: list[Impair], *,
                 down_data: list[bytes], up_data: list[bytes],
                 answer: AnswerConfig | None = None, originate: OriginateConfig | None = None,
                 seed: int = 0) -> None:
        n = len(down)
        self.answer = AnswerBank(n, answer)
        self.originate = OriginateBank(n, originate)
        for _ in range(n):
            self.answer.add()
            self.originate.add()
        self.down = Line(down, sender_dbm0=self.answer.config.tx_level_dbm0, seed=seed)
        self.up = Line(up, sender_dbm0=self.originate.config.tx_level_dbm0, seed=seed + 1)
        self.streams = [Stream() for _ in range(n)]
        self._down_data = [memoryview(d) for d in down_data]
        self._up_data = [memoryview(d) for d in up_data]
        self.tick = 0

    def run(self, ticks: int) -> None:
        """Move ``ticks`` packets (20 ms each) both ways."""
        for _ in range(ticks):
            a_out = self.answer.audio_out(FRAME)
            o_out = self.originate.audio_out(FRAME)
            to_o = self.down.process(a_out)
            to_a = self.up.process(o_out, echo_of=a_out)
            for slot, ev in self.answer.receive_audio(to_a):
                s = self.streams[slot]
                s.answer_events.append((self.tick, ev))
                if isinstance(ev, Data):
                    s.up_got += ev.data
            for slot, ev in self.originate.receive_audio(to_o):
                s = self.streams[slot]
                s.originate_events.append((self.tick, ev))
                if isinstance(ev, Data):
                    s.down_got += ev.data
            self._feed()
            self.tick += 1

    def _feed(self) -> None:
        """Keep about :attr:`BACKLOG` bytes queued on each side, as a session would."""
        down, up = self.BACKLOG
        for i, s in enumerate(self.streams):
            if self._down_data[i] and self.answer.carrier_up(i):
                room = down - self.answer.pending(i)
                if room >= down // 2:
                    chunk = bytes(self._down_data[i][:room])
                    self.answer.send(i, chunk)
                    s.down_sent += chunk
                    self._down_data[i] = self._down_data[i][len(chunk):]
            if self._up_data[i] and self.originate.carrier_up(i):
                room = up - self.originate.pending(i)
                if room >= up // 2:
                    chunk = bytes(self._up_data[i][:room])
                    self.originate.send(i, chunk)
                    s.up_sent += chunk
                    self._up_data[i] = self._up_data[i][len(chunk):]

    def idle(self) -> bool:
        """Whether every byte given has been wholly sent."""
        return (all(not d for d in self._down_data) and all(not d for d in self._up_data)
                and all(self.answer.pending(i) == 0 and self.originate.pending(i) == 0
                        for i in range(len(self.streams))))

    def connected(self) -> bool:
        """Whether every call has seen :class:`CarrierUp` on both sides."""
        return all(any(isinstance(e, CarrierUp) for _, e in s.answer_events)
                   and any(isinstance(e, CarrierUp) for _, e in s.originate_events)
                   for s in self.streams)
