"""The Minitel's soft modem against minimodem 0.24 (Debian), through WAV files, both ways.

minimodem frames 8N1; sending bytes with the even-parity bit in bit 7 makes its frames 7E1
on the air, and reading its 8-bit output back gives the parity bit to check.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from terminal_emu.modem import Connected, Data, V23Modem

from . import modem_line as L

MINIMODEM = shutil.which("minimodem")
pytestmark = pytest.mark.skipif(MINIMODEM is None,
                                reason="minimodem is not installed (apt-get install minimodem)")


def _with_parity(data: bytes) -> bytes:
    return bytes(b | (0x80 if bin(b).count("1") % 2 else 0) for b in data)


def _write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> None:
    pcm = np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        raw = w.readframes(w.getnframes())
        return np.frombuffer(raw, dtype="<i2") / 32768.0, w.getframerate()


def _to_8k(x: np.ndarray) -> np.ndarray:
    """24 kHz → 8 kHz: a windowed-sinc low-pass at 3.4 kHz, then every third sample."""
    n = np.arange(95) - 47
    taps = 2 * 3400 / 24000 * np.sinc(2 * 3400 / 24000 * n) * np.kaiser(95, 7.0)
    return np.convolve(x, taps / taps.sum())[47::3]


def _minimodem(*args: str, data: bytes = b"") -> bytes:
    assert MINIMODEM is not None
    done = subprocess.run([MINIMODEM, *args], input=data, capture_output=True, timeout=60,
                          check=True)
    return done.stdout


def test_minimodem_1200_baud_is_decoded(tmp_path: Path) -> None:
    msg = np.random.default_rng(4).integers(0, 128, 1500).astype(np.uint8).tobytes()
    wav = tmp_path / "server.wav"
    # At 8000 Hz minimodem rounds a bit to 7 samples (1143 Bd, 4.8 % slow); at 24 kHz a bit
    # is exactly 20 samples, so generate there and resample to the telephone rate.
    _minimodem("--tx", "1200", "--mark", "1300", "--space", "2100", "-8", "-R", "24000",
               "-f", str(wav), data=_with_parity(msg))
    audio, rate = _read_wav(wav)
    assert rate == 24000
    line = np.concatenate((L.answer(mark_ms=200), _to_8k(audio) * L.amplitude(-12.0),
                           L.tone(1300, 100)))  # the server's carrier stays up after it
    events, _ = L.call(V23Modem(), line, law="ulaw")
    assert [type(e) for e in events if not isinstance(e, Data)] == [Connected]
    assert L.received(events) == msg


def test_minimodem_decodes_the_75_baud_side(tmp_path: Path) -> None:
    msg = b"3615 RESULTATS\r\x13\x41" + bytes(range(0x20, 0x7F))
    modem = V23Modem()
    modem.send(msg)
    seconds = 0.5 + (2 + len(msg)) * 10 / 75 + 0.5
    _, sent = L.call(modem, L.answer(mark_ms=seconds * 1000), law="alaw")
    assert modem.tx_idle
    wav = tmp_path / "minitel.wav"
    _write_wav(wav, L.g711_line(sent, "alaw"))
    out = _minimodem("--rx", "75", "--mark", "390", "--space", "450", "-8", "-q",
                     "-R", "8000", "-f", str(wav))
    assert all(bin(b).count("1") % 2 == 0 for b in out)  # even parity on the air
    assert bytes(b & 0x7F for b in out) == b"\x13\x53" + msg
