"""In-band DTMF figures: CPU for a bank of calls, detection rate against SNR, talk-off on speech.

    .venv/bin/python bench/bench_dtmf.py            # everything, about a minute
    .venv/bin/python bench/bench_dtmf.py --quick    # smaller runs, for a smoke test

Printed (and nothing asserted):

1. **CPU**: a :class:`DtmfBank` of ``--calls`` calls (default 1,000), fed one 20 ms tick at a
   time with three loads made beforehand: quiet lines (low noise: what a line waiting for a
   key mostly carries), speech (the synthesised prompts, each call at its own offset), and
   every call pressing keys (60 ms on, 60 ms off: the worst case, every analysis goes through
   both passes). ``time.process_time`` per tick, the best of five rounds: microseconds per
   tick for all the calls, the share of one core, and microseconds of CPU per call-second;
   one :class:`DtmfDetector` per call for comparison.
2. **Detection rate**: ``--digits`` random key presses per SNR (default 4,000) on 100 lines,
   each line at a random level (-25 to -3 dBm0 for the louder tone), each press of a random
   key at a random twist (-3 to +6 dB),
   frequency error (±1.5 % per tone), duration (40 to 100 ms) and pause (40 to 100 ms), with
   white noise over the whole 0-4 kHz band at the SNR given (the two tones' power over the
   noise's), through A-law. A press counts as detected when an event of its key starts within
   20 ms of it; other events are false digits.
3. **Talk-off**: the synthesised French speech (espeak-ng, the voice service's prompts, names,
   numbers, several voices and pitches, resampled to 8 kHz) looped for ``--hours`` of
   speech: each call starts at its own place in the recordings, at its own level (-6 to +6 dB
   around espeak's) with faint noise, through A-law or µ-law. False digits per hour.

OpenBLAS runs one thread (``OPENBLAS_NUM_THREADS=1``, set here before numpy loads), as the
server's media tick does. The machine is shared: timings are noisy; the best round is printed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from videotex.protocols import g711  # noqa: E402
from videotex.protocols.dtmf import (  # noqa: E402
    DIGITS,
    FRAME,
    HIGH_HZ,
    LOW_HZ,
    RATE,
    DigitEvent,
)
from videotex.protocols.dtmf_bank import DtmfBank, DtmfDetector  # noqa: E402

KEYS = "0123456789*#ABCD"
TICK_S = FRAME / RATE
I16 = npt.NDArray[np.int16]
TEXTS = [
    "Bienvenue au service des résultats des examens. Tapez votre numéro de candidat, "
    "puis la touche dièse.",
    "Votre date de naissance, en huit chiffres.",
    "Élodie Dupont, admise, mention très bien.",
    "Jean-Baptiste Lefèvre, ajourné. Marie-Claire Nguyen, admise, mention assez bien.",
    "Numéro de candidat: un, deux, trois, quatre, cinq, six, sept, huit, neuf, zéro.",
    "Le vingt-trois juin deux mille vingt-quatre, à quatorze heures trente.",
    "Quatre-vingt-dix-sept mille six cent soixante-dix-sept. Trois cent quarante-et-un.",
    "Pour réécouter ce message, tapez étoile. Pour revenir au menu principal, tapez zéro.",
    "Ce numéro est inconnu. Veuillez vérifier et recommencer, s'il vous plaît.",
    "Académie de Versailles, baccalauréat général, session de juin. Résultats du premier "
    "groupe d'épreuves.",
    "Oui, non, peut-être. Aaaaaah. Ouiii. Mmmmmh. Hé ho!",
    "Les résultats seront publiés le cinq juillet à partir de dix heures. Merci de votre "
    "appel, au revoir.",
]
VOICES = ["fr", "fr+f3", "fr+m3", "fr+f1", "fr+m1", "fr-be", "fr-ch", "fr+klatt"]


# -- signals ----------------------------------------------------------------------------------

def tone(key: str, n: int, dbm0: float, twist: float, dev: tuple[float, float],
         rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` samples of ``key``: the louder tone at ``dbm0``, the high one ``twist`` dB over
    the low, each off by ``dev`` (fractions), random phases."""
    row = next(r for r, keys in enumerate(DIGITS) if key in keys)
    col = DIGITS[row].index(key)
    t = np.arange(n) / RATE
    lo = g711.dbm0_to_peak(dbm0 - max(0.0, twist))
    hi = g711.dbm0_to_peak(dbm0 + min(0.0, twist))
    ph = rng.uniform(0, 2 * np.pi, 2)
    return (lo * np.sin(2 * np.pi * LOW_HZ[row] * (1 + dev[0]) * t + ph[0])
            + hi * np.sin(2 * np.pi * HIGH_HZ[col] * (1 + dev[1]) * t + ph[1]))


def keypad_line(count: int, snr: float | None, rng: np.random.Generator
                ) -> tuple[I16, list[tuple[str, int]]]:
    """A line on which ``count`` random keys are pressed: the A-law-decoded samples and the
    (key, start sample) of each press."""
    parts, sent, noise_power = [np.zeros(int(rng.integers(0, 400)))], [], []
    at = len(parts[0])
    dbm0 = rng.uniform(-25, -3)  # the line's level; the noise is the line's too
    for _ in range(count):
        key = str(rng.choice(list(KEYS)))
        n = int(rng.uniform(40, 100) * 8)
        twist = rng.uniform(-3, 6)
        x = tone(key, n, dbm0, twist, (rng.uniform(-0.015, 0.015), rng.uniform(-0.015, 0.015)),
                 rng)
        sent.append((key, at))
        parts += [x, np.zeros(int(rng.uniform(40, 100) * 8))]
        noise_power.append(float(np.mean(x * x)))
        at += n + len(parts[-1])
    parts.append(np.zeros(1600))
    line = np.concatenate(parts)
    if snr is not None:
        sigma = np.sqrt(np.mean(noise_power) / 10 ** (snr / 10))
        line = line + rng.normal(0, sigma, len(line))
    return g711.alaw_decode(g711.alaw_encode(line)), sent


def resample_to_8k(x: I16, rate: int) -> I16:
    n_out = round(len(x) * RATE / rate)
    y = np.fft.irfft(np.fft.rfft(x.astype(np.float64))[: n_out // 2 + 1], n_out)
    return np.clip(np.rint(y * n_out / len(x)), -32768, 32767).astype(np.int16)


def speech_corpus(quick: bool) -> I16 | None:
    """All the synthesised clips end to end, at 8 kHz, or None without espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return None
    sox = shutil.which("sox")
    clips = []
    voices = VOICES[:3] if quick else VOICES
    with tempfile.TemporaryDirectory() as tmp:
        for v, voice in enumerate(voices):
            for p, pitch in enumerate((35, 75)):
                for t, text in enumerate(TEXTS):
                    wav = Path(tmp) / f"{v}-{p}-{t}.wav"
                    subprocess.run([espeak, "-v", voice, "-p", str(pitch),
                                    "-s", str(140 + 15 * (t % 4)), "-w", str(wav), text],
                                   check=True, capture_output=True, timeout=60)
                    if sox is not None:  # sox's resampler if there is one, numpy's otherwise
                        out = wav.with_suffix(".8k.wav")
                        subprocess.run([sox, str(wav), "-r", str(RATE), "-b", "16", str(out)],
                                       check=True, capture_output=True, timeout=60)
                        wav = out
                    with wave.open(str(wav)) as w:
                        rate = w.getframerate()
                        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
                    clips.append(x if rate == RATE else resample_to_8k(x, rate))
                    clips.append(np.zeros(int(RATE * 0.3), np.int16))
    return np.concatenate(clips)


# -- 1. CPU -----------------------------------------------------------------------------------

def loads(calls: int, ticks: int, corpus: I16 | None, rng: np.random.Generator
          ) -> dict[str, I16]:
    n = ticks * FRAME
    quiet = rng.normal(0, 30, (calls, n)).astype(np.int16)
    out = {"quiet lines": quiet}
    if corpus is not None:
        offsets = rng.integers(0, len(corpus), calls)
        idx = (offsets[:, None] + np.arange(n)) % len(corpus)
        out["speech"] = corpus[idx]
    one, _ = keypad_line(ticks // 6 + 2, 30.0, rng)
    presses = np.stack([np.roll(one, int(s)) for s in rng.integers(0, len(one), calls)])
    out["keys pressed"] = presses[:, :n]
    return out


def bench_cpu(calls: int, seconds: float, corpus: I16 | None) -> None:
    ticks = round(seconds / TICK_S)
    print(f"\n== CPU: a bank of {calls:,} calls, {ticks} ticks of 20 ms per round, best of 5 ==")
    rng = np.random.default_rng(1)
    for name, audio in loads(calls, ticks, corpus, rng).items():
        bank = DtmfBank(calls)
        for _ in range(calls):
            bank.add()
        best = float("inf")
        for _ in range(5):
            t0 = time.process_time()
            for k in range(ticks):
                bank.feed(audio[:, k * FRAME : (k + 1) * FRAME])
            best = min(best, (time.process_time() - t0) / ticks)
        print(f"{name:>13}: {best * 1e6:8.0f} µs per tick = {best / TICK_S:6.1%} of a core; "
              f"{best / TICK_S / calls * 1e6:6.1f} µs per call-second")
    single = [DtmfDetector() for _ in range(min(calls, 100))]
    audio = loads(len(single), ticks, None, rng)["quiet lines"]
    t0 = time.process_time()
    for k in range(ticks):
        for i, d in enumerate(single):
            d.feed(audio[i, k * FRAME : (k + 1) * FRAME])
    per = (time.process_time() - t0) / ticks / len(single)
    print(f"one DtmfDetector per call (quiet lines): {per / TICK_S * 1e6:.0f} µs per "
          f"call-second, {per * calls / TICK_S:.0%} of a core for {calls:,} calls")


# -- 2. detection rate ------------------------------------------------------------------------

def score(sent: list[tuple[str, int]], got: list[DigitEvent]) -> tuple[int, int, int]:
    """(detected, wrong or extra events, missed) of one line."""
    left = list(got)
    hit = 0
    for key, at in sent:
        match = next((e for e in left if e.digit == key and abs(e.start - at) <= 160), None)
        if match is not None:
            left.remove(match)
            hit += 1
    return hit, len(left), len(sent) - hit


def bench_detection(digits: int, snrs: list[float | None]) -> None:
    lines, per_line = 100, max(1, digits // 100)
    print(f"\n== Detection: {lines * per_line:,} random presses per SNR (levels -25..-3 dBm0, "
          f"twist -3..+6 dB, ±1.5 %, 40-100 ms on and off), A-law ==")
    print("   SNR   detected    missed   false")
    for snr in snrs:
        rng = np.random.default_rng(int(snr or 99) + 7)
        made = [keypad_line(per_line, snr, rng) for _ in range(lines)]
        width = max(len(x) for x, _ in made)
        audio = np.zeros((lines, width), np.int16)
        for i, (x, _) in enumerate(made):
            audio[i, : len(x)] = x
        bank = DtmfBank(lines)
        for _ in range(lines):
            bank.add()
        got: list[list[DigitEvent]] = [[] for _ in range(lines)]
        for s, e in bank.feed(audio):
            got[s].append(e)
        tally = np.sum([score(sent, g) for (_, sent), g in zip(made, got, strict=True)], axis=0)
        total = lines * per_line
        label = "clean" if snr is None else f"{snr:g} dB"
        print(f"{label:>8} {tally[0] / total:9.2%} {tally[2]:9d} {tally[1]:7d}")


# -- 3. talk-off --------------------------------------------------------------------------------

def bench_talkoff(corpus: I16 | None, hours: float) -> None:
    if corpus is None:
        print("\n== Talk-off: skipped, espeak-ng is not installed ==")
        return
    calls = 500
    ticks = round(hours * 3600 / TICK_S / calls)
    print(f"\n== Talk-off: {len(corpus) / RATE / 60:.1f} min of synthesised speech looped for "
          f"{calls * ticks * TICK_S / 3600:.1f} h ({calls} calls x {ticks * TICK_S:.0f} s) ==")
    rng = np.random.default_rng(3)
    offsets = rng.integers(0, len(corpus), calls)
    gains = 10 ** (rng.uniform(-6, 6, calls) / 20)
    alaw = rng.random(calls) < 0.5
    noise = rng.uniform(2, 40, calls)
    bank = DtmfBank(calls)
    for _ in range(calls):
        bank.add()
    false: list[tuple[int, DigitEvent]] = []
    t0 = time.perf_counter()
    ramp = np.arange(FRAME)
    for k in range(ticks):
        idx = (offsets[:, None] + k * FRAME + ramp) % len(corpus)
        x = corpus[idx] * gains[:, None] + rng.normal(0, 1, (calls, FRAME)) * noise[:, None]
        codes = np.where(alaw[:, None], g711.alaw_encode(x), g711.ulaw_encode(x))
        pcm = np.where(alaw[:, None], g711.alaw_decode(codes), g711.ulaw_decode(codes))
        false += bank.feed(pcm)
    hours_run = calls * ticks * TICK_S / 3600
    print(f"false digits: {len(false)} in {hours_run:.1f} h of speech = "
          f"{len(false) / hours_run:.2f} per hour (run {time.perf_counter() - t0:.0f} s)")
    for s, e in false[:10]:
        print(f"  call {s}: {e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1000, help="calls in the CPU bank")
    ap.add_argument("--seconds", type=float, default=4.0, help="audio per CPU round")
    ap.add_argument("--digits", type=int, default=4000, help="presses per SNR")
    ap.add_argument("--hours", type=float, default=20.0, help="hours of speech for talk-off")
    ap.add_argument("--quick", action="store_true", help="small runs, for a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.calls, args.seconds, args.digits, args.hours = 200, 1.0, 400, 1.0
    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    corpus = speech_corpus(args.quick)
    bench_cpu(args.calls, args.seconds, corpus)
    bench_detection(args.digits, [None, 30.0, 20.0, 15.0, 10.0, 6.0, 3.0])
    bench_talkoff(corpus, args.hours)


if __name__ == "__main__":
    main()
