"""Test helpers for the Minitel modem: a tiny answer-side modem and a line simulator.

The answer side here is written separately from ``terminal_emu.modem`` (its own 7E1 and
its own phase-continuous FSK with a fractional bit clock) so that the modem is tested
against something it does not share code with. Samples are float64, full scale ±1.0, at
8000 Hz; levels are in dBm0 with a full-scale sine at +3.17 dBm0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from terminal_emu import g711

RATE = 8000
FRAME = 160  # 20 ms, one RTP packet
Floats = NDArray[np.float64]


def amplitude(level_dbm0: float) -> float:
    return float(10 ** ((level_dbm0 - 3.17) / 20))


def frame_7e1(data: bytes) -> list[int]:
    """Line bits of ``data``: start 0, 7 data bits LSB first, even parity, stop 1."""
    bits: list[int] = []
    for byte in data:
        d = [(byte >> k) & 1 for k in range(7)]
        bits += [0, *d, sum(d) % 2, 1]
    return bits


def fsk(bits: list[int] | NDArray[np.int64], *, baud: float = 1200.0, mark: float = 1300.0,
        space: float = 2100.0, level_dbm0: float = -10.0, offset_hz: float = 0.0,
        clock: float = 1.0, phase: float = 0.0) -> Floats:
    """Phase-continuous FSK of ``bits``; ``clock`` scales the sender's clock (1.001 = fast)."""
    b = np.asarray(bits, dtype=np.int64)
    rate = baud * clock
    n = int(np.ceil(len(b) * RATE / rate))
    idx = np.minimum((np.arange(n) * rate / RATE).astype(np.int64), len(b) - 1)
    freq = np.where(b[idx] == 1, mark, space) * clock + offset_hz
    ph = phase + 2 * np.pi * (np.cumsum(freq) - freq) / RATE
    return amplitude(level_dbm0) * np.cos(ph)


def tone(freq: float, ms: float, level_dbm0: float = -10.0, *, reversal_ms: float = 0.0,
         phase: float = 0.0) -> Floats:
    """A sine of ``ms`` milliseconds, with a 180° phase reversal every ``reversal_ms``."""
    n = round(ms * RATE / 1000)
    t = np.arange(n)
    ph = phase + 2 * np.pi * freq * t / RATE
    if reversal_ms:
        ph = ph + np.pi * ((t // round(reversal_ms * RATE / 1000)) % 2)
    return amplitude(level_dbm0) * np.cos(ph)


def silence(ms: float) -> Floats:
    return np.zeros(round(ms * RATE / 1000))


def answer(*, tone_ms: float = 300.0, gap_ms: float = 75.0, mark_ms: float = 100.0,
           level_dbm0: float = -10.0, offset_hz: float = 0.0, reversal_ms: float = 0.0
           ) -> Floats:
    """The server answering: 2100 Hz, silence, then the 1300 Hz mark."""
    return np.concatenate((
        tone(2100 + offset_hz, tone_ms, level_dbm0, reversal_ms=reversal_ms),
        silence(gap_ms),
        tone(1300 + offset_hz, mark_ms, level_dbm0),
    ))


def data_signal(data: bytes, *, idle_before: int = 12, idle_after: int = 24, **kw: float
                ) -> Floats:
    """``data`` at 1200 baud 7E1, back to back, with mark bits before and after."""
    return fsk([1] * idle_before + frame_7e1(data) + [1] * idle_after, **kw)


def g711_line(x: Floats, law: str) -> Floats:
    """Through a G.711 codec both ways."""
    return g711.decode(g711.encode(x, law), law)  # type: ignore[arg-type]


def add_noise(x: Floats, snr_db: float, rng: np.random.Generator,
              signal_level_dbm0: float) -> Floats:
    """White noise (full 4 kHz band) ``snr_db`` below a signal at ``signal_level_dbm0``."""
    sig_power = amplitude(signal_level_dbm0) ** 2 / 2
    return x + rng.normal(0.0, np.sqrt(sig_power / 10 ** (snr_db / 10)), len(x))


def conceal_loss(x: Floats, rate: float, rng: np.random.Generator, mode: str = "mixed"
                 ) -> tuple[Floats, list[int]]:
    """Lose ``rate`` of the 20 ms frames; conceal each by repeating the previous frame
    ("repeat"), zeroing it ("zero") or either at random ("mixed"). Returns the audio and
    the indices of the lost frames."""
    y = x.copy()
    lost = [i for i in range(1, len(x) // FRAME) if rng.random() < rate]
    for i in lost:
        cur = slice(i * FRAME, (i + 1) * FRAME)
        how = mode if mode != "mixed" else ("repeat", "zero")[int(rng.integers(2))]
        y[cur] = y[(i - 1) * FRAME:i * FRAME] if how == "repeat" else 0.0
    return y, lost


def chunked(x: Floats, sizes: list[int]) -> list[Floats]:
    """``x`` cut into pieces of the given sizes (cycled), the last piece whatever remains."""
    out, pos, k = [], 0, 0
    while pos < len(x):
        size = max(1, sizes[k % len(sizes)]) if sizes else len(x)
        out.append(x[pos:pos + size])
        pos += size
        k += 1
    return out


def call(modem: object, server: Floats, *, law: str | None = None, echo_db: float | None = None,
         rx_level_dbm0: float = -10.0, tx_level_dbm0: float = -10.0,
         noise_snr_db: float | None = None, rng: np.random.Generator | None = None,
         frame: int = FRAME) -> tuple[list[object], Floats]:
    """Run ``modem`` on the line frame by frame, like a SIP client: each received frame is
    the server's audio plus (optionally) the modem's own previous frame leaking back through
    the hybrid ``echo_db`` above the received level, plus white noise, through G.711.
    Returns the modem's events and everything it sent."""
    rng = rng or np.random.default_rng(0)
    events: list[object] = []
    sent: list[Floats] = []
    echo_gain = 0.0 if echo_db is None else amplitude(rx_level_dbm0 + echo_db) / amplitude(
        tx_level_dbm0)
    noise_sd = 0.0
    if noise_snr_db is not None:
        noise_sd = float(np.sqrt(amplitude(rx_level_dbm0) ** 2 / 2 / 10 ** (noise_snr_db / 10)))
    last = np.zeros(frame)
    for pos in range(0, len(server), frame):
        x = server[pos:pos + frame]
        if echo_gain:
            x = x + echo_gain * last[:len(x)]
        if noise_sd:
            x = x + rng.normal(0.0, noise_sd, len(x))
        if law:
            x = g711_line(x, law)
        events += modem.receive_audio(x)  # type: ignore[attr-defined]
        last = modem.audio_out(frame)  # type: ignore[attr-defined]
        sent.append(last)
    return events, np.concatenate(sent) if sent else np.zeros(0)


def received(events: list[object]) -> bytes:
    """The bytes of all Data events."""
    return b"".join(getattr(e, "data", b"") for e in events)


def tx_bits(audio: Floats, start: int, nbits: int) -> list[int]:
    """Bits of the modem's 75-baud transmission that started at sample ``start``: each bit
    period ``[⌈320b/3⌉, ⌈320(b+1)/3⌉)`` compared at 390 and 450 Hz (test-side demodulator)."""
    bits = []
    for b in range(nbits):
        lo, hi = start - (-320 * b // 3), start - (-320 * (b + 1) // 3)
        seg = audio[lo:hi]
        t = np.arange(len(seg)) / RATE
        e390 = abs(np.dot(seg, np.exp(-2j * np.pi * 390 * t)))
        e450 = abs(np.dot(seg, np.exp(-2j * np.pi * 450 * t)))
        bits.append(int(e390 > e450))
    return bits


def unframe(bits: list[int]) -> bytes:
    """7E1 characters from a bit list (idle 1s between); bad ones become 0x1A."""
    out, i = bytearray(), 0
    while i + 10 <= len(bits):
        if bits[i] == 1:
            i += 1
            continue
        d = bits[i + 1:i + 8]
        good = bits[i + 9] == 1 and (sum(d) + bits[i + 8]) % 2 == 0
        out.append(sum(v << k for k, v in enumerate(d)) if good else 0x1A)
        i += 10
    return bytes(out)
