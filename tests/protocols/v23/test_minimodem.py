"""Interoperability with minimodem 0.24 (Debian package), through WAV files, both directions.

Server → Minitel: the answer modem's 1200 baud audio (after G.711 A-law) is written to a WAV
file that ``minimodem --rx 1200 -M 1300 -S 2100 -8`` decodes: 8 data bits, so the 7E1 parity
arrives as bit 7. Minitel → server: ``minimodem --tx 75 -M 390 -S 450 -8`` turns bytes that
already carry their even parity in bit 7 into a WAV file, which the answer modem decodes.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from videotex.protocols import g711
from videotex.protocols.v23 import AnswerModem, CarrierUp, Data
from videotex.protocols.v23.frames import add_parity, check_parity

from .signals import minitel

MINIMODEM = shutil.which("minimodem") or "/usr/bin/minimodem"
pytestmark = pytest.mark.skipif(not Path(MINIMODEM).exists(),
                                reason="minimodem is not installed (apt install minimodem)")

TEXT = b"\x13\x53" + bytes(range(32, 127)) + b"\x0c\x1b\x5b\x0d\x0a\x7f\x00"


def write_wav(path: Path, x: npt.NDArray[np.int16]) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(x.astype("<i2").tobytes())


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def connected_server() -> AnswerModem:
    m = AnswerModem()
    m.audio_out(8000 * 4)  # answer tone, silence, then the 1300 Hz mark
    assert m.receive_audio(minitel(b"", lead_ms=300, tail_ms=0)) == [CarrierUp()]
    return m


def test_minimodem_decodes_the_servers_1200_baud(tmp_path: Path) -> None:
    m = connected_server()
    lead = m.audio_out(4000)  # minimodem wants some carrier before the first start bit
    m.send(TEXT)
    seconds = len(TEXT) / 120 + 0.5
    x = np.concatenate([lead, m.audio_out(int(seconds * 8000))])
    assert m.pending == 0
    write_wav(tmp_path / "down.wav", g711.alaw_decode(g711.alaw_encode(x)))
    out = subprocess.run([MINIMODEM, "--rx", "-q", "-8", "-M", "1300", "-S", "2100",
                          "-f", str(tmp_path / "down.wav"), "1200"],
                         capture_output=True, timeout=30, check=True).stdout
    assert out == add_parity(TEXT)  # bit 7 is the parity the server made
    assert check_parity(out) == TEXT


@pytest.mark.parametrize("dbm0", [3.0, -20.0, -40.0])
def test_the_server_decodes_minimodems_75_baud(tmp_path: Path, dbm0: float) -> None:
    subprocess.run([MINIMODEM, "--tx", "-q", "-8", "-M", "390", "-S", "450", "-R", "8000",
                    "-f", str(tmp_path / "up.wav"), "75"],
                   input=add_parity(TEXT), capture_output=True, timeout=30, check=True)
    x = read_wav(tmp_path / "up.wav").astype(np.float64)
    x *= 10 ** ((dbm0 - g711.level_dbm0(x)) / 20)  # minimodem writes full scale: +3 dBm0
    line = np.concatenate([np.zeros(4000), x, np.zeros(4000)])
    line = g711.ulaw_decode(g711.ulaw_encode(line))
    m = AnswerModem()
    events = m.receive_audio(line)
    assert events[0] == CarrierUp()
    assert b"".join(e.data for e in events if isinstance(e, Data)) == TEXT
