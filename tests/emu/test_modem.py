"""The Minitel's V.23 soft modem (``terminal_emu.modem``): framing, answer, transmit, loss.

Line behaviour (impairments, chunking, fuzz) is in ``test_modem_line.py``; minimodem
interoperability in ``test_modem_minimodem.py``. Signals come from ``modem_line``, a small
answer-side modem written for the tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from terminal_emu.modem import (
    SUB,
    CarrierLost,
    Connected,
    Data,
    LineState,
    NoAnswer,
    V23Modem,
    decode_7e1,
    encode_7e1,
)

from . import modem_line as L

# -- 7E1 framing ----------------------------------------------------------------------------

# (byte, line bits in time order: start, d0..d6, even parity, stop)
FRAMES = [
    (0x00, "0000000001"),
    (0x7F, "0111111111"),
    (0x41, "0100000101"),  # 'A': two ones, parity 0
    (0x43, "0110000111"),  # 'C': three ones, parity 1
    (0x13, "0110010011"),  # SEP
    (0x53, "0110010101"),  # 'S', the second byte of SEP 53
    (0x1A, "0010110011"),  # SUB itself
    (0x55, "0101010101"),
]


def _bits(text: str) -> list[int]:
    return [int(c) for c in text]


@pytest.mark.parametrize(("byte", "line"), FRAMES)
def test_7e1_table_both_ways(byte: int, line: str) -> None:
    assert encode_7e1(bytes([byte])).tolist() == [_bits(line)]
    assert decode_7e1(np.array([_bits(line)])) == bytes([byte])
    assert L.frame_7e1(bytes([byte])) == _bits(line)  # the test modem agrees
    assert L.unframe([1, *_bits(line), 1]) == bytes([byte])


def test_7e1_bit_7_is_not_data() -> None:
    assert encode_7e1(b"\xc1").tolist() == encode_7e1(b"A").tolist()


@pytest.mark.parametrize("flip", range(10))
def test_7e1_any_single_bit_error_is_sub(flip: int) -> None:
    bits = np.array([_bits("0100000101")])  # 'A'
    bits[0, flip] ^= 1
    assert decode_7e1(bits) == bytes([SUB])


def test_7e1_whole_range_round_trips() -> None:
    data = bytes(range(128))
    frames = encode_7e1(data)
    assert frames.shape == (128, 10)
    assert decode_7e1(frames) == data
    assert (frames.sum(axis=1) % 2 == 1).all()  # even data+parity, plus the stop bit


# -- answer detection -----------------------------------------------------------------------


def _events(signal: np.ndarray, modem: V23Modem | None = None, chunk: int = 160) -> list:
    modem = modem or V23Modem()
    out: list = []
    for pos in range(0, len(signal), chunk):
        out += modem.receive_audio(signal[pos:pos + chunk])
    return out


def _connected(events: list) -> list[Connected]:
    return [e for e in events if isinstance(e, Connected)]


@pytest.mark.parametrize(("tone_ms", "gap_ms"), [(300, 75), (300, 55), (300, 95), (2600, 75),
                                                 (3300, 60)])
def test_answer_tone_silence_then_1300(tone_ms: int, gap_ms: int) -> None:
    events = _events(L.answer(tone_ms=tone_ms, gap_ms=gap_ms, mark_ms=100))
    assert [type(e) for e in events] == [Connected]
    (c,) = events
    assert c.via == "answer-tone"
    mark_start = (tone_ms + gap_ms) * 8
    assert mark_start + 480 <= c.at <= mark_start + 640  # 60 ms of 1300 Hz, within a segment


@pytest.mark.parametrize("offset", [-10.0, 10.0])
def test_answer_with_phase_reversals_and_offset(offset: float) -> None:
    signal = L.answer(tone_ms=2600, reversal_ms=450, offset_hz=offset, mark_ms=100)
    assert [c.via for c in _connected(_events(signal))] == ["answer-tone"]


@pytest.mark.parametrize("level", [-43.0, -9.0])
def test_answer_at_the_level_limits(level: float) -> None:
    signal = L.answer(level_dbm0=level, mark_ms=100)
    assert [c.via for c in _connected(_events(signal))] == ["answer-tone"]


def _ansam() -> np.ndarray:
    t = np.arange(2600 * 8)
    return L.tone(2100, 2600, reversal_ms=450) * (1 + 0.2 * np.sin(2 * np.pi * 15 * t / 8000))


def _with_lost_frame(x: np.ndarray, at_ms: int) -> np.ndarray:
    y = x.copy()
    y[at_ms * 8:at_ms * 8 + 160] = 0.0  # a lost frame concealed by zeros
    return y


@pytest.mark.parametrize("case", ["ansam", "lost-frame-early", "lost-frame-late", "noisy-gap"])
def test_answer_survives_line_accidents(case: str) -> None:
    noise = np.random.default_rng(1).normal(0, L.amplitude(-30.0) / np.sqrt(2), 600)
    tone, gap = {
        "ansam": (_ansam(), L.silence(75)),
        "lost-frame-early": (_with_lost_frame(L.tone(2100, 600), 300), L.silence(75)),
        "lost-frame-late": (_with_lost_frame(L.tone(2100, 600), 500), L.silence(75)),
        "noisy-gap": (L.tone(2100, 600), noise),  # -30 dBm0: 20 dB under the tone
    }[case]
    events = _events(np.concatenate((tone, gap, L.tone(1300, 100))))
    assert [c.via for c in _connected(events)] == ["answer-tone"]


def test_lost_frame_in_the_60_ms_falls_back_to_the_long_path() -> None:
    mark = _with_lost_frame(L.tone(1300, 2000), 20)
    (c,) = _connected(_events(np.concatenate((L.tone(2100, 600), L.silence(75), mark))))
    assert c.via == "carrier"


def test_answer_below_the_absent_threshold_is_not_heard() -> None:
    signal = np.concatenate((L.answer(level_dbm0=-49.0, mark_ms=2000), L.silence(100)))
    assert not _connected(_events(signal))


def test_continuous_1300_connects_after_1_7_s() -> None:
    events = _events(np.concatenate((L.silence(500), L.tone(1300, 2000))))
    (c,) = _connected(events)
    assert c.via == "carrier"
    assert 4000 + 1700 * 8 <= c.at <= 4000 + 1710 * 8


def test_1300_for_1_6_s_is_not_enough() -> None:
    signal = np.concatenate((L.tone(1300, 1600), L.silence(500), L.tone(1300, 1600)))
    assert not _connected(_events(signal))


def test_2100_then_1300_without_silence_needs_the_long_path() -> None:
    signal = np.concatenate((L.tone(2100, 1000), L.tone(1300, 1000)))
    assert not _connected(_events(signal))
    (c,) = _connected(_events(np.concatenate((signal, L.tone(1300, 800)))))
    assert c.via == "carrier"


@pytest.mark.parametrize("gap_ms", [0, 20, 200])
def test_gap_outside_75_ms_does_not_connect_on_60_ms(gap_ms: int) -> None:
    assert not _connected(_events(L.answer(gap_ms=gap_ms, mark_ms=300)))


def test_short_answer_tone_does_not_count() -> None:
    assert not _connected(_events(L.answer(tone_ms=150, mark_ms=300)))


def test_mark_shorter_than_60_ms_does_not_connect() -> None:
    signal = np.concatenate((L.answer(mark_ms=40), L.silence(500)))
    assert not _connected(_events(signal))


def test_2100_alone_gives_no_answer_after_40_s() -> None:
    modem = V23Modem()
    events = _events(L.tone(2100, 41_000), modem, chunk=8000)
    assert events == [NoAnswer(320_000)]
    assert modem.state is LineState.DISCONNECTED
    assert not modem.audio_out(160).any()


@pytest.mark.parametrize("level", [-30.0, -10.0])
def test_noise_alone_gives_no_answer(level: float) -> None:
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, L.amplitude(level) / np.sqrt(2), 320_000)
    assert _events(noise, chunk=8000) == [NoAnswer(320_000)]


def test_answer_timeout_is_configurable() -> None:
    assert _events(L.silence(1000), V23Modem(answer_timeout_s=0.5)) == [NoAnswer(4000)]


# -- transmit -------------------------------------------------------------------------------


def _answered(modem: V23Modem) -> None:
    """Feed the answer frame by frame, with audio_out (silent) after each until it connects:
    the transmission starts with the next audio_out."""
    signal = L.answer(mark_ms=100)
    for pos in range(0, len(signal), 160):
        if modem.receive_audio(signal[pos:pos + 160]):
            return
        assert not modem.audio_out(160).any()
    raise AssertionError("no answer")


def test_silent_before_connection() -> None:
    modem = V23Modem()
    modem.send(b"early")
    modem.receive_audio(L.tone(2100, 500))
    assert not modem.audio_out(8000).any()


def test_mark_then_sep_53_after_80_ms_then_data() -> None:
    modem = V23Modem()
    modem.send(b"3615")
    _answered(modem)
    audio = modem.audio_out(8000 * 2)
    bits = L.tx_bits(audio, 0, 150)
    assert bits[:6] == [1] * 6  # 80 ms of 390 Hz mark
    assert bits[6] == 0  # the start bit of SEP
    assert L.unframe(bits) == b"\x13\x53" + b"3615"
    level = 10 * np.log10(np.mean(audio[:400] ** 2) * 2) + 3.17
    assert level == pytest.approx(-10.0, abs=0.05)


def test_sep_53_can_be_turned_off() -> None:
    modem = V23Modem(sep53=False, tx_level_dbm0=-20.0)
    _answered(modem)
    audio = modem.audio_out(8000)
    assert L.unframe(L.tx_bits(audio, 0, 70)) == b""
    modem.send(b"A")
    audio = modem.audio_out(8000)
    assert L.unframe(L.tx_bits(audio, 0, 70)) == b"A"
    assert 10 * np.log10(np.mean(audio ** 2) * 2) + 3.17 == pytest.approx(-20.0, abs=0.1)


def test_75_baud_timing_has_no_drift() -> None:
    modem = V23Modem(sep53=False)
    _answered(modem)
    modem.send(bytes(range(0x30, 0x30 + 75)))  # 750 bits: 10 s after the 80 ms wait
    pieces, total = [], 0
    while not modem.tx_idle:
        pieces.append(modem.audio_out(160))
        total += 160
    end = 320 * (6 + 750) // 3  # the last stop bit ends here (integer bit clock)
    assert end <= total < end + 160
    audio = np.concatenate(pieces)
    assert L.unframe(L.tx_bits(audio, 0, 756)) == bytes(range(0x30, 0x30 + 75))


@pytest.mark.parametrize("sizes", [[1], [7, 160, 33], [10_000]])
def test_transmit_is_phase_continuous_and_chunking_free(sizes: list[int]) -> None:
    ref = V23Modem()
    _answered(ref)
    ref.send(b"\x00\x7f\x55ABC")
    expected = ref.audio_out(16_000)
    modem = V23Modem()
    _answered(modem)
    modem.send(b"\x00\x7f\x55ABC")
    got, k, total = [], 0, 0
    while total < 16_000:
        got.append(modem.audio_out(min(sizes[k % len(sizes)], 16_000 - total)))
        total += len(got[-1])
        k += 1
    audio = np.concatenate(got)
    assert np.allclose(audio, expected, atol=1e-9)
    step = np.abs(np.diff(audio)).max()
    assert step <= L.amplitude(-10) * 2 * np.pi * 450 / 8000 + 1e-9  # no phase jump


def test_hang_up_silences_and_ignores_audio() -> None:
    modem = V23Modem()
    _answered(modem)
    assert modem.audio_out(160).any()
    modem.hang_up()
    assert modem.state is LineState.DISCONNECTED
    assert not modem.audio_out(160).any()
    assert modem.receive_audio(L.data_signal(b"X")) == []


# -- carrier loss ---------------------------------------------------------------------------


def _after_answer(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate((L.answer(mark_ms=200), *parts))


def test_dropout_of_430_ms_is_survived() -> None:
    modem = V23Modem()
    events = _events(_after_answer(L.silence(430), L.tone(1300, 200), L.data_signal(b"OK")),
                     modem)
    assert [type(e) for e in events if not isinstance(e, Data)] == [Connected]
    assert L.received(events) == b"OK"
    assert modem.state is LineState.CONNECTED and modem.carrier


def test_carrier_absent_for_440_ms_drops_the_line() -> None:
    modem = V23Modem()
    start = len(L.answer(mark_ms=200))
    events = _events(_after_answer(L.silence(600), L.data_signal(b"late")), modem)
    assert [type(e) for e in events] == [Connected, CarrierLost]
    lost = events[-1].at - start
    assert 430 * 8 <= lost <= 450 * 8
    assert modem.state is LineState.DISCONNECTED
    assert not modem.audio_out(160).any()


def test_carrier_detect_hysteresis() -> None:
    modem = V23Modem()
    quiet = L.tone(1300, 1000, level_dbm0=-46.0)  # between the two thresholds
    events = _events(np.concatenate((L.answer(mark_ms=100, level_dbm0=-43.0), quiet)), modem)
    assert [type(e) for e in events] == [Connected]
    assert modem.carrier  # still present: it was present before
    events = _events(L.tone(1300, 1000, level_dbm0=-49.0), modem)
    assert [type(e) for e in events] == [CarrierLost]


# -- independence ---------------------------------------------------------------------------


def test_terminal_emu_imports_nothing_from_videotex() -> None:
    root = Path(__file__).resolve().parents[2] / "terminal_emu"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] == "videotex"], path
