"""The emulator's V.23 soft modem: byte error rate at 1200 baud, and CPU per call.

    .venv/bin/python bench/bench_emu_modem.py [--bytes 300000] [--snr 25] [--seconds 60]

Printed:

- byte error rate of the 1200-baud receive direction over ``--bytes`` random 7-bit bytes
  sent back to back (one long stream fed in 1 s blocks), on two lines: white noise only at
  ``--snr`` dB (noise over the whole 4 kHz band, signal at -20 dBm0, G.711 µ-law), and
  everything at once (-43 dBm0, +10 Hz, server clock +0.1 %, the Minitel's own carrier
  leaking back 10 dB above the signal, noise at ``--snr`` dB, µ-law); then a short curve at
  lower SNRs to show the margin;
- CPU per call: µs of CPU per second of audio, fed and read in 20 ms frames as a SIP
  client would (and in 60 ms blocks, what a load generator may choose: the modem is
  indifferent to chunking, and numpy's per-call overhead is paid a third as often),
  receive and send apart, while calling, idle (mark) and busy (data back to back both
  ways). Median of five runs of ``--seconds`` of audio.

An error is a byte sent that did not arrive intact (found by re-aligning the streams after
a mismatch, so a lost or extra byte counts once, not for the rest of the stream).
Figures only: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from terminal_emu import g711  # noqa: E402
from terminal_emu.modem import Data, V23Modem  # noqa: E402
from tests.emu import modem_line as L  # noqa: E402

RATE = 8000


class StreamFsk:
    """1200-baud 7E1 FSK generated block after block with one fractional bit clock and
    one phase, so block boundaries are invisible (unlike calling the test helper twice)."""

    def __init__(self, *, clock: float = 1.0, offset_hz: float = 0.0,
                 level_dbm0: float = -20.0) -> None:
        self.r = 1200.0 * clock / RATE  # bits per sample
        self.f = (1300.0 * clock + offset_hz, 2100.0 * clock + offset_hz)
        self.amp = L.amplitude(level_dbm0)
        self.bits = 0  # bits generated
        self.n = 0  # samples generated
        self.phase = 0.0

    def block(self, bits: np.ndarray) -> np.ndarray:
        end = math.ceil((self.bits + len(bits)) / self.r)
        t = np.arange(self.n, end)
        idx = np.clip((t * self.r).astype(np.int64) - self.bits, 0, len(bits) - 1)
        freq = np.where(bits[idx] == 1, self.f[0], self.f[1])
        steps = 2 * np.pi * freq / RATE
        ph = self.phase + np.cumsum(steps) - steps
        self.phase = float((ph[-1] + steps[-1]) % (2 * np.pi))
        self.bits += len(bits)
        self.n = end
        return self.amp * np.cos(ph)


_STEPS = sorted(((di, dj) for di in range(40) for dj in range(40) if di or dj),
                key=lambda d: (max(d), sum(d)))


def count_errors(got: bytes, sent: bytes, window: int = 8) -> int:
    """Bytes not received intact: walk both streams; after a mismatch, skip the fewest
    bytes (up to 40 on either side) after which ``window`` bytes agree again, and count
    the larger skip (a substituted, lost or extra byte counts once)."""
    errors, i, j = 0, 0, 0
    while j < len(sent):
        if i < len(got) and got[i] == sent[j]:
            i, j = i + 1, j + 1
            continue
        for di, dj in _STEPS:
            ahead = sent[j + dj:j + dj + window]
            if ahead and got[i + di:i + di + window] == ahead:
                errors += max(di, dj)
                i, j = i + di, j + dj
                break
        else:
            return errors + len(sent) - j
    return errors + max(0, len(got) - i)


def error_rate(nbytes: int, snr: float, *, level: float = -20.0, offset: float = 0.0,
               clock: float = 1.0, echo_db: float | None = None, seed: int = 1
               ) -> tuple[int, int, float]:
    """(errors, bytes, seconds of audio) for one long stream."""
    rng = np.random.default_rng(seed)
    sent = rng.integers(0, 128, nbytes).astype(np.uint8).tobytes()
    modem = V23Modem()
    head = L.answer(level_dbm0=level, offset_hz=offset, mark_ms=200)
    gen = StreamFsk(clock=clock, offset_hz=offset, level_dbm0=level)
    noise_sd = math.sqrt(L.amplitude(level) ** 2 / 2 / 10 ** (snr / 10))
    echo_gain = 0.0 if echo_db is None else L.amplitude(level + echo_db) / L.amplitude(-10.0)
    got = bytearray()
    samples = 0

    def feed(x: np.ndarray) -> None:
        nonlocal samples
        if echo_gain:
            if modem.tx_idle:
                modem.send(b"3615 RESULTATS\r")  # keep the 75-baud side modulating
            x = x + echo_gain * modem.audio_out(len(x))  # the Minitel's own carrier, leaking
        x = x + rng.normal(0.0, noise_sd, len(x))
        for e in modem.receive_audio(g711.decode(g711.encode(x, "ulaw"), "ulaw")):
            if isinstance(e, Data):
                got.extend(e.data)
        samples += len(x)

    feed(np.concatenate((head, gen.block(np.ones(24, dtype=np.int64)))))
    frames = np.asarray(L.frame_7e1(sent), dtype=np.int64).reshape(-1, 10)
    per_block = 12_000  # 100 s of audio
    for start in range(0, nbytes, per_block):
        audio = gen.block(frames[start:start + per_block].ravel())
        for pos in range(0, len(audio), RATE):
            feed(audio[pos:pos + RATE])
    feed(gen.block(np.ones(60, dtype=np.int64)))
    return count_errors(bytes(got), sent), nbytes, samples / RATE


def cpu_per_call(seconds: float, busy: bool, calling: bool = False, frame: int = 160
                 ) -> tuple[float, float]:
    """(receive, send) µs of CPU per second of audio for one call in frames of ``frame``
    samples: the receive loop and the send loop are timed whole, each on its own modem."""
    rng = np.random.default_rng(2)
    answer = L.answer(mark_ms=100)
    if calling:
        line = L.tone(2100, seconds * 1000)
    else:
        data = rng.integers(0, 128, int(seconds * 120)).astype(np.uint8).tobytes()
        body = L.data_signal(data) if busy else L.tone(1300, seconds * 1000)
        line = np.concatenate((answer, body))
    line = g711.decode(g711.encode(line, "ulaw"), "ulaw")
    frames = [line[p:p + frame] for p in range(0, len(line) - frame + 1, frame)]
    receiver = V23Modem()
    t0 = time.process_time()
    for block in frames:
        receiver.receive_audio(block)
    rx = time.process_time() - t0
    sender = V23Modem()
    if not calling:
        sender.receive_audio(answer)
    if busy:
        sender.send(rng.integers(0, 128, int(seconds * 8)).astype(np.uint8).tobytes())
    t0 = time.process_time()
    for _ in frames:
        sender.audio_out(frame)
    tx = time.process_time() - t0
    audio = len(frames) * frame / RATE
    return rx / audio * 1e6, tx / audio * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bytes", type=int, default=300_000)
    ap.add_argument("--snr", type=float, default=25.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()

    print(f"1200-baud receive, {args.bytes:,} bytes back to back, SNR {args.snr:g} dB:")
    lines = [("noise only, -20 dBm0, µ-law", {}),
             ("-43 dBm0, +10 Hz, clock +0.1 %, echo +10 dB, µ-law",
              {"level": -43.0, "offset": 10.0, "clock": 1.001, "echo_db": 10.0})]
    for name, kw in lines:
        t0 = time.process_time()
        errors, n, audio = error_rate(args.bytes, args.snr, **kw)  # type: ignore[arg-type]
        cpu = time.process_time() - t0
        print(f"  {name:52s} {errors} errors / {n:,} bytes = {errors / n:.1e}"
              f"  ({audio:,.0f} s of audio in {cpu:.1f} s CPU)")
    print("margin (noise only, -20 dBm0, µ-law, 30,000 bytes each):")
    for snr in (6.0, 8.0, 10.0, 12.0):
        errors, n, _ = error_rate(30_000, snr, seed=int(snr))
        print(f"  SNR {snr:4.1f} dB: byte error rate {errors / n:.1e} ({errors} errors)")

    print(f"CPU per call, median of 5 x {args.seconds:g} s of audio "
          "(µs CPU per second of audio):")
    cases = [("calling (2100 Hz, answer detection)", False, True),
             ("connected, idle (mark both ways)", False, False),
             ("connected, busy (data back to back both ways)", True, False)]
    for ms in (20, 60):
        print(f"  in {ms} ms frames:")
        for name, busy, calling in cases:
            runs = [cpu_per_call(args.seconds, busy, calling, ms * 8) for _ in range(5)]
            rx = statistics.median(r for r, _ in runs)
            tx = statistics.median(t for _, t in runs)
            print(f"    {name:46s} receive {rx:6.0f}   send {tx:5.0f}   total {rx + tx:6.0f}")


if __name__ == "__main__":
    main()
