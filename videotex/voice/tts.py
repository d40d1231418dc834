"""The speech engine adapter: text in, telephone audio out (8 kHz int16, then G.711).

Owns running the engine (a subprocess per text: espeak-ng by default, see
``docs/voice.md``), reading its WAV, and turning it into what a phone line carries:

- resampled to 8,000 Hz by a polyphase windowed-sinc (Kaiser) low-pass, so nothing above
  4 kHz folds back into the band (no scipy: numpy only);
- leading and trailing silence trimmed to :data:`PAD_MS` around the speech;
- levelled to :data:`TARGET_DBFS` RMS (dBFS: RMS relative to 32,768, a full-scale square
  wave), the gain capped so that no sample clips;
- :func:`to_g711` for the µ-law/A-law bytes of RTP.

Invariants: :func:`render` blocks for the engine's run (tens of ms): call it from a worker
thread (:mod:`videotex.voice.speech` does), never on the event loop. Everything else here is
pure numpy on whole arrays. :func:`best_match` finds a rendered prompt inside received
audio (the end-to-end tests of a call).
"""

from __future__ import annotations

import functools
import math
import struct
import subprocess
import sys
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import Law, encode

__all__ = [
    "ESPEAK_FR",
    "PAD_MS",
    "PICO_FR",
    "RATE",
    "TARGET_DBFS",
    "Engine",
    "TtsError",
    "best_match",
    "condition",
    "engine_version",
    "level_dbfs",
    "parse_wav",
    "render",
    "resample",
    "synthesize",
    "to_g711",
]

#: The telephone sample rate.
RATE: Final = 8000
#: Level of rendered speech, dB relative to full scale (RMS over the trimmed utterance).
TARGET_DBFS: Final = -16.0
#: Silence kept before and after the speech, in milliseconds.
PAD_MS: Final = 30
#: The ceiling no sample exceeds after levelling (about -0.3 dBFS).
_PEAK_CEILING: Final = 31_700.0
#: Where the soft limiter starts bending peaks (about -4 dBFS).
_KNEE: Final = 20_000.0
#: The most a peak is brought down by the limiter; past that the gain is lowered instead.
_MAX_LIMIT_DB: Final = 6.0
#: Bumped whenever the conditioning below changes what comes out (disk-cache key).
CONDITIONING: Final = "v1"


@dataclass(frozen=True)
class Engine:
    """A text-to-speech command. ``argv`` may hold ``{voice}`` and ``{text}``; without
    ``{text}`` the text goes to the engine's standard input (no text is ever parsed as an
    option). The engine writes a 16-bit mono WAV to its standard output."""

    name: str
    argv: tuple[str, ...]
    voice: str
    #: Seconds before a run is abandoned (and :class:`TtsError` raised).
    timeout: float = 20.0
    #: How to ask the engine its version (part of the disk-cache key).
    version_argv: tuple[str, ...] = ()

    def command(self, text: str) -> tuple[list[str], bytes | None]:
        """The argv of one run and the bytes for its standard input (None: none)."""
        argv = [a.replace("{voice}", self.voice) for a in self.argv]
        if any("{text}" in a for a in argv):
            return [a.replace("{text}", text) for a in argv], None
        return argv, text.encode()


#: espeak-ng, French voice, a little slower than its 175 words a minute (a phone, a name).
ESPEAK_FR: Final = Engine("espeak-ng", ("espeak-ng", "-v", "{voice}", "-s", "155", "--stdout"),
                          "fr", version_argv=("espeak-ng", "--version"))
#: SVOX Pico fr-FR through the ``py-nanotts`` package (PyPI, not a dependency: install it to
#: use this engine). Starting Python costs about 45 ms of its 55 ms a name.
PICO_FR: Final = Engine("pico", (sys.executable, "-m", "py_nanotts", "{text}", "-v", "{voice}",
                                 "-o", "/dev/stdout"), "fr-FR")


class TtsError(RuntimeError):
    """The engine failed on a text: which engine, which text, and what it said."""

    def __init__(self, engine: Engine, text: str, reason: str) -> None:
        super().__init__(f"speech engine {engine.name!r} (voice {engine.voice!r}) failed on "
                         f"{text[:60]!r}: {reason}")
        self.engine = engine
        self.text = text
        self.reason = reason


@functools.lru_cache(maxsize=16)
def engine_version(engine: Engine) -> str:
    """The engine's own version line (blocking; "" when it has no way to say it)."""
    if not engine.version_argv:
        return ""
    try:
        done = subprocess.run(engine.version_argv, capture_output=True, timeout=engine.timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TtsError(engine, "--version", str(exc)) from exc
    return done.stdout.decode(errors="replace").strip().splitlines()[0] if done.stdout else ""


def synthesize(engine: Engine, text: str) -> tuple[npt.NDArray[np.int16], int]:
    """Run the engine on ``text``: its samples and sample rate, as it wrote them (blocking)."""
    if not text.strip():
        raise ValueError("synthesize: the text to say is empty")
    if any(ord(c) < 32 for c in text):
        text = " ".join(text.split())  # no control character reaches the engine
    argv, stdin = engine.command(text)
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, timeout=engine.timeout,
                              check=False)
    except FileNotFoundError as exc:
        raise TtsError(engine, text, f"{argv[0]} is not installed (apt-get install "
                       "espeak-ng for the default engine)") from exc
    except subprocess.TimeoutExpired as exc:
        raise TtsError(engine, text, f"no answer within {engine.timeout:g} s") from exc
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()[:200]
        raise TtsError(engine, text, f"exit status {done.returncode}: {err or 'no message'}")
    try:
        return parse_wav(done.stdout)
    except ValueError as exc:
        raise TtsError(engine, text, str(exc)) from exc


def parse_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """Samples and rate of a 16-bit mono PCM WAV. Sizes past the end are read as "to the
    end": espeak-ng streaming to a pipe writes 0x7FFFF000 for them."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"engine output is not a WAV file ({len(data)} bytes, starts "
                         f"{data[:12]!r})")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + size]
        if chunk == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if fmt != 1 or channels != 1 or bits != 16:
                raise ValueError(f"engine WAV is format {fmt}, {channels} channel(s), {bits} "
                                 "bits; expected PCM (1), mono, 16 bits")
        elif chunk == b"data":
            if not rate:
                raise ValueError("engine WAV has its data chunk before its fmt chunk")
            usable = len(body) - len(body) % 2
            return np.frombuffer(body[:usable], dtype="<i2").astype(np.int16), rate
        pos += 8 + size + (size & 1)
    raise ValueError(f"engine WAV has no data chunk ({len(data)} bytes)")


@functools.lru_cache(maxsize=8)
def _polyphase(rate_in: int, rate_out: int) -> tuple[int, int, npt.NDArray[np.float32]]:
    """(up, down, filter bank[phase, tap]) of a Kaiser-windowed-sinc resampler: flat to
    0.40 x the lower rate (3.2 kHz for the phone), -6 dB at 0.45 x, 80 dB down from its
    Nyquist frequency (4 kHz) on."""
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    low = min(rate_in, rate_out)
    cutoff, transition, atten = 0.45 * low, 0.10 * low, 80.0
    taps = math.ceil((atten - 8.0) / (2.285 * 2 * math.pi * transition / rate_in)) | 1
    n = taps * up
    fs_up = rate_in * up
    t = np.arange(n) - (n - 1) / 2
    proto = 2 * cutoff / fs_up * np.sinc(2 * cutoff / fs_up * t)
    proto *= np.kaiser(n, 0.1102 * (atten - 8.7)) * up
    bank = proto.reshape(taps, up).T[:, ::-1]  # bank[p, j] = proto[p + (taps-1-j)*up]
    return up, down, np.ascontiguousarray(bank, dtype=np.float32)


def resample(samples: npt.ArrayLike, rate_in: int, rate_out: int = RATE) -> npt.NDArray[np.float32]:
    """``samples`` at ``rate_out`` (float32, same scale), low-passed before decimation so
    nothing above the new Nyquist frequency aliases; the filter's delay is removed."""
    x = np.asarray(samples, dtype=np.float32)
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"resample: rates must be positive, got {rate_in} -> {rate_out}")
    if rate_in == rate_out or not x.size:
        return x.copy()
    up, down, bank = _polyphase(rate_in, rate_out)
    taps = bank.shape[1]
    delay = (taps * up - 1) // 2  # the prototype's centre, in the upsampled domain
    n_out = -(-x.size * up // down)
    pad = np.zeros(taps + 1, dtype=np.float32)
    xp = np.concatenate((pad, x, pad))
    windows = np.lib.stride_tricks.sliding_window_view(xp, taps)
    out = np.empty(n_out, dtype=np.float32)
    # Outputs n, n + up, n + 2*up... share a filter phase and their windows start `down`
    # samples apart: one strided view and one matrix-vector product per phase.
    for n0 in range(min(up, n_out)):
        u = n0 * down + delay
        base, phase = u // up, u % up
        count = len(range(n0, n_out, up))
        # output n sums x[base - k] * proto[phase + k*up]: the window that ends at base
        out[n0::up] = windows[base + 2: base + 2 + count * down: down] @ bank[phase]
    return out


def level_dbfs(pcm: npt.ArrayLike) -> float:
    """RMS level in dBFS (relative to 32,768); -inf for silence or nothing."""
    a = np.asarray(pcm, dtype=np.float64)
    power = float(np.mean(a * a)) if a.size else 0.0
    return 10.0 * math.log10(power) - 20.0 * math.log10(32768.0) if power > 0 else -math.inf


def _speech_bounds(x: npt.NDArray[np.float32], rate: int) -> tuple[int, int]:
    """First and last sample of the 10 ms frames within 40 dB of the loudest frame."""
    frame = max(1, rate // 100)
    n = x.size // frame
    if n == 0:
        return 0, x.size
    power = np.mean(x[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1)
    loud = np.flatnonzero(power >= power.max() * 1e-4)
    if not loud.size or power.max() <= 0:
        return 0, 0
    return int(loud[0]) * frame, min(x.size, (int(loud[-1]) + 1) * frame)


def _soft_limit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Samples above :data:`_KNEE` bent smoothly (tanh) under :data:`_PEAK_CEILING`; below
    it, untouched. Speech peaks are rare glottal pulses: a few dB off them cost little
    and let the RMS reach its target."""
    mag = np.abs(x)
    room = _PEAK_CEILING - _KNEE
    bent = _KNEE + room * np.tanh((mag - _KNEE) / room)
    return np.where(mag > _KNEE, np.sign(x) * bent, x)


def condition(samples: npt.ArrayLike, rate: int, *, target_dbfs: float = TARGET_DBFS,
              pad_ms: int = PAD_MS) -> npt.NDArray[np.int16]:
    """Engine audio as a phone line takes it: 8 kHz, silence trimmed to ``pad_ms`` each
    side, RMS at ``target_dbfs``, peaks softly limited under the ceiling (the gain is
    capped where more than :data:`_MAX_LIMIT_DB` of limiting would be needed), int16."""
    x = resample(samples, rate, RATE)
    first, last = _speech_bounds(x, RATE)
    if last <= first:
        return np.zeros(0, dtype=np.int16)
    pad = RATE * pad_ms // 1000
    x = x[max(0, first - pad): last + pad].astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x)))
    peak = float(np.max(np.abs(x)))
    most = _PEAK_CEILING * 10 ** (_MAX_LIMIT_DB / 20) / peak
    gain = min(32768.0 * 10 ** (target_dbfs / 20) / rms, most)
    return np.rint(_soft_limit(np.asarray(x * gain, dtype=np.float64))).astype(np.int16)


def render(engine: Engine, text: str) -> npt.NDArray[np.int16]:
    """``text`` spoken by ``engine``, conditioned for the phone (blocking: a worker's job)."""
    samples, rate = synthesize(engine, text)
    pcm = condition(samples, rate)
    if not pcm.size:
        raise TtsError(engine, text, "the engine wrote only silence")
    return pcm


def to_g711(pcm: npt.ArrayLike, law: Law) -> bytes:
    """G.711 bytes (µ-law or A-law) of 16-bit linear samples."""
    return encode(pcm, law).tobytes()


def best_match(received: npt.ArrayLike, reference: npt.ArrayLike) -> tuple[int, float]:
    """Where ``reference`` sits in ``received``: (offset in samples, normalised correlation
    in [-1, 1] there). FFT cross-correlation, each lag divided by the energy of the
    received window it covers, so a loud burst elsewhere does not win."""
    r = np.asarray(received, dtype=np.float64)
    t = np.asarray(reference, dtype=np.float64)
    if t.size == 0 or r.size < t.size:
        raise ValueError(f"best_match: the received audio ({r.size} samples) must be at "
                         f"least as long as the reference ({t.size} samples), which is not "
                         "empty")
    norm_t = float(np.sqrt(np.dot(t, t)))
    if norm_t == 0.0:
        raise ValueError("best_match: the reference is silence (nothing to find)")
    nfft = 1 << (r.size + t.size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(r, nfft) * np.conj(np.fft.rfft(t, nfft)), nfft)
    corr = corr[: r.size - t.size + 1]
    energy = np.concatenate(([0.0], np.cumsum(r * r)))
    window = energy[t.size:] - energy[: r.size - t.size + 1]
    floor = 1e-9 * float(np.max(window)) + 1e-12
    ncc = np.where(window > floor, corr / (np.sqrt(np.maximum(window, floor)) * norm_t), 0.0)
    best = int(np.argmax(ncc))
    return best, float(ncc[best])
