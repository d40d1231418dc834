"""Concealment on a modem line: the last tone continued in phase, whole cycles in the frame,
so that an underrun on an idle line makes no garbage byte (a repeat then silence does)."""

from __future__ import annotations

import numpy as np
import pytest

from videotex.protocols.plc import conceal
from videotex.protocols.v23 import AnswerModem, Data, OriginateModem


@pytest.mark.parametrize(("hz", "whole"), [(390, 400), (450, 450), (1300, 1300), (2100, 2100)])
def test_the_tone_goes_on_in_phase(hz: int, whole: int) -> None:
    n = np.arange(320)
    tone = (8000 * np.cos(2 * np.pi * hz * n / 8000 + 0.7)).astype(np.int16)
    out = conceal(tone[:160]).astype(float)
    assert abs(out[0] - 8000 * np.cos(2 * np.pi * hz * 160 / 8000 + 0.7)) < 800  # joins
    spectrum = np.abs(np.fft.rfft(out))
    assert int(np.argmax(spectrum)) * 50 == whole  # whole cycles: the next frame joins too
    assert abs(out[-1] - tone[159]) < 800


def test_silence_gives_silence_and_the_length_is_kept() -> None:
    assert not conceal(np.zeros(160, np.int16)).any()
    assert len(conceal(np.ones(200, np.int16) * 5)) == 200


def idle_line_with_underruns(fill: str) -> bytes:
    """A connected Minitel, idle after ten keys; every 60 ms frames of it arrive 120 ms
    late (the server plays something for 6 frames, then the delayed audio)."""
    minitel, server = OriginateModem(), AnswerModem()
    got, last, late, gap = bytearray(), np.zeros(160, np.int16), [], 0
    for block in range(900):
        minitel.receive_audio(server.audio_out(160))
        late.append(minitel.audio_out(160))
        if block == 120:
            minitel.send(b"0123456789")
        if block >= 260 and (block - 260) % 60 < 6:
            gap += 1
            if fill == "conceal":
                last = conceal(last)
                played = last
            else:
                played = last if gap <= 3 else np.zeros(160, np.int16)
        else:
            gap = 0
            played = last = late.pop(0)
        got += b"".join(e.data for e in server.receive_audio(played) if isinstance(e, Data))
    return bytes(got)


def test_underruns_on_an_idle_line_make_no_garbage_byte() -> None:
    assert idle_line_with_underruns("conceal") == b"0123456789"
    assert idle_line_with_underruns("repeat, then silence") != b"0123456789"
