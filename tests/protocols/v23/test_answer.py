"""The answer side alone: its answer sequence, carrier detection and hand-over of data."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from videotex.protocols import g711
from videotex.protocols.v23 import (
    AnswerConfig,
    AnswerModem,
    CarrierLost,
    CarrierUp,
    Data,
    Event,
    NoCarrier,
)

from .signals import minitel, tone

FS = 8000


def feed(modem: AnswerModem, x: npt.ArrayLike, start_ms: float = 0.0
         ) -> list[tuple[float, Event]]:
    """Feed ``x`` in 20 ms packets; events with the time (ms) at the end of their packet."""
    a = np.asarray(x)
    out: list[tuple[float, Event]] = []
    for i in range(0, len(a), 160):
        t = start_ms + (i + len(a[i : i + 160])) * 1000 / FS
        out += [(t, e) for e in modem.receive_audio(a[i : i + 160])]
    return out


def silence(ms: float) -> npt.NDArray[np.float64]:
    return np.zeros(round(ms * FS / 1000))


def purity(x: npt.NDArray[np.float64], freq: float) -> float:
    """Share of the power of ``x`` at ``freq`` (1.0: a pure tone)."""
    n = np.arange(len(x))
    z = np.sum(x * np.exp(-2j * np.pi * freq * n / FS)) * 2 / len(x)
    return float(abs(z) ** 2 / 2 / np.mean(x * x))


def connected(cfg: AnswerConfig | None = None) -> AnswerModem:
    m = AnswerModem(cfg)
    events = feed(m, minitel(b"", lead_ms=400, tail_ms=0))
    assert [e for _, e in events] == [CarrierUp()]
    return m


def test_answer_sequence_tone_silence_then_mark() -> None:
    m = AnswerModem()
    assert m.answering
    x = m.audio_out(24000 + 600 + 4000).astype(np.float64)
    assert not m.answering
    tone_part, gap, mark = x[:24000], x[24000:24600], x[24600:]
    for w in range(0, 24000, 800):  # every 100 ms of the 3 s tone is 2100 Hz
        assert purity(tone_part[w : w + 800], 2100) > 0.999
    assert g711.level_dbm0(tone_part) == pytest.approx(-10.0, abs=0.02)
    assert (gap == 0).all()  # 75 ms of silence, exactly
    assert x[24599] == 0 and x[24601] != 0
    assert purity(mark, 1300) > 0.999
    assert g711.level_dbm0(mark) == pytest.approx(-10.0, abs=0.02)


def test_sequence_times_and_level_are_configurable() -> None:
    m = AnswerModem(AnswerConfig(answer_tone_ms=2600, silence_ms=60, tx_level_dbm0=-15))
    x = m.audio_out(20800 + 480 + 800).astype(np.float64)
    assert purity(x[20000:20800], 2100) > 0.999
    assert (x[20800:21280] == 0).all()
    assert purity(x[21280:], 1300) > 0.999
    assert g711.level_dbm0(x[:20800]) == pytest.approx(-15.0, abs=0.02)


def test_phase_reversals_every_450_ms_when_asked() -> None:
    m = AnswerModem(AnswerConfig(phase_reversals=True))
    x = m.audio_out(24000).astype(np.float64)
    ref = np.sin(2 * np.pi * 2100 * np.arange(24000) / FS)
    sign = [np.sign(np.dot(x[i : i + 3600], ref[i : i + 3600])) for i in range(0, 24000, 3600)]
    assert sign == [1, -1, 1, -1, 1, -1, 1]
    plain = AnswerModem().audio_out(24000).astype(np.float64)
    assert all(np.dot(plain[i : i + 3600], ref[i : i + 3600]) > 0 for i in range(0, 24000, 3600))


@pytest.mark.parametrize(("dbm0", "up"), [(-9, True), (-43, True), (-44, True), (-48, False),
                                          (-55, False)])
def test_carrier_present_above_minus_43_absent_below_minus_48(dbm0: float, up: bool) -> None:
    m = AnswerModem()
    events = [e for _, e in feed(m, tone(390, 1000, dbm0))]
    assert events == ([CarrierUp()] if up else [])


def test_hysteresis_keeps_a_carrier_that_sags_between_the_thresholds() -> None:
    m = AnswerModem()
    assert [e for _, e in feed(m, tone(390, 500, -40))] == [CarrierUp()]
    assert feed(m, tone(390, 3000, -46)) == []  # below ON, above OFF: still there
    lost = feed(m, tone(390, 2000, -49), start_ms=0)
    assert [e for _, e in lost] == [CarrierLost()]
    assert 1000 <= lost[0][0] <= 1040
    fresh = AnswerModem()
    assert feed(fresh, tone(390, 3000, -46)) == []  # never reached ON


def data_of(events: list[tuple[float, Event]]) -> bytes:
    return b"".join(e.data for _, e in events if isinstance(e, Data))


def test_data_is_held_until_the_carrier_is_steady() -> None:
    m = AnswerModem(AnswerConfig(steady_ms=400))
    events = feed(m, minitel(b"\x13\x53", lead_ms=80, tail_ms=400))
    assert [e for _, e in events] == [CarrierUp(), Data(b"\x13S")]
    assert events[0][0] == events[1][0]  # held, then handed over with CarrierUp
    assert 400 <= events[0][0] <= 440
    quick = AnswerModem()  # steady_ms = 150: SEP 53 ends 347 ms after the carrier starts
    events = feed(quick, minitel(b"\x13\x53", lead_ms=80, tail_ms=400))
    assert events[0][1] == CarrierUp() and 150 <= events[0][0] <= 200
    assert data_of(events) == b"\x13S"


def test_a_carrier_shorter_than_steady_gives_nothing() -> None:
    m = AnswerModem(AnswerConfig(steady_ms=200))
    burst = minitel(b"\x13", lead_ms=20, tail_ms=0)[:1200]  # 150 ms, a byte under way
    assert feed(m, np.concatenate([burst, silence(500), burst, silence(500)])) == []
    assert not m.carrier_up


def test_carrier_loss_longer_than_the_setting_ends_the_call_once() -> None:
    m = connected(AnswerConfig(carrier_loss_ms=600))
    assert feed(m, silence(560)) == []  # a gap shorter than carrier_loss: the call goes on
    assert data_of(feed(m, minitel(b"ok", lead_ms=40, tail_ms=100))) == b"ok"
    lost = feed(m, silence(2000))
    assert [e for _, e in lost] == [CarrierLost()]
    assert 600 <= lost[0][0] <= 640
    assert not m.carrier_up
    assert feed(m, minitel(b"late", lead_ms=300)) == []  # the call is over: nothing more


def test_no_carrier_within_the_timeout() -> None:
    m = AnswerModem(AnswerConfig(connect_timeout_ms=2000))
    events = feed(m, silence(3000))
    assert [e for _, e in events] == [NoCarrier()]
    assert events[0][0] == pytest.approx(2000, abs=20)


def test_own_echo_and_loud_noise_are_not_a_carrier() -> None:
    m = AnswerModem()
    echo = m.audio_out(8000 * 5)  # the answer tone, silence, mark: at 0 dB return loss
    assert feed(m, echo) == []
    noise = np.random.default_rng(0).normal(0, g711.DBM0_RMS * 10 ** (-30 / 20), 8000 * 2)
    assert feed(m, noise) == []  # -30 dBm0 of white noise is -42 dBm0 in band: squelched
    loose = AnswerModem(AnswerConfig(rx_squelch_db=None))
    assert CarrierUp() in [e for _, e in feed(loose, noise)]


def test_minitel_under_a_louder_echo_is_heard() -> None:
    m = AnswerModem()
    own = m.audio_out(8000 * 12).astype(np.float64)
    up = minitel(b"3615 RESULTATS", dbm0=-43, lead_ms=3300)
    x = up + own[: len(up)] * 10 ** (-23 / 20)  # echo at -33 dBm0: 10 dB above the Minitel
    x = g711.alaw_decode(g711.alaw_encode(x))
    events = feed(m, x)
    assert events[0][1] == CarrierUp()
    assert data_of(events) == b"3615 RESULTATS"


def test_sending_waits_for_the_carrier_then_runs_at_120_characters_a_second() -> None:
    m = AnswerModem()
    m.send(b"x" * 300)
    m.audio_out(8000 * 5)
    assert m.pending == 300  # no Minitel yet: nothing sent
    assert m.writable == 4096 - 300
    feed(m, minitel(b"", lead_ms=300, tail_ms=0))
    assert m.carrier_up
    m.audio_out(8000)
    assert m.pending in (180, 181)  # 120 characters in one second
    m.audio_out(8000)
    assert m.pending in (60, 61)


def test_the_minitel_hanging_up_under_the_servers_echo_ends_the_call() -> None:
    m = connected()
    echo = m.audio_out(8000 * 2).astype(np.float64)  # 0 dB return loss: -10 dBm0 of 1300 Hz
    lost = feed(m, echo)
    assert [e for _, e in lost] == [CarrierLost()]
    assert 1000 <= lost[0][0] <= 1040
