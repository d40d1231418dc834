"""The Minitel's side: what it takes for an answer, its lead-in, its carrier loss (§1)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from videotex.protocols.v23 import (
    AnswerModem,
    CarrierLost,
    CarrierUp,
    Data,
    Event,
    NoCarrier,
    OriginateConfig,
    OriginateModem,
)

from .signals import tone

FS = 8000


def feed(m: OriginateModem, x: npt.ArrayLike) -> list[tuple[float, Event]]:
    a = np.asarray(x)
    out: list[tuple[float, Event]] = []
    for i in range(0, len(a), 160):
        t = (i + len(a[i : i + 160])) * 1000 / FS
        out += [(t, e) for e in m.receive_audio(a[i : i + 160])]
    return out


def test_tone_silence_and_60_ms_of_1300_hz_connect() -> None:
    server = AnswerModem().audio_out(8000 * 4)
    events = feed(OriginateModem(), server)
    assert [e for _, e in events] == [CarrierUp()]
    assert 3000 + 75 + 60 <= events[0][0] <= 3000 + 75 + 60 + 30


def test_1300_hz_alone_connects_after_1_7_s() -> None:
    events = feed(OriginateModem(), tone(1300, 2500, -20))
    assert [e for _, e in events] == [CarrierUp()]
    assert 1700 <= events[0][0] <= 1730


def test_a_wrong_silence_needs_the_long_1300_hz() -> None:
    x = np.concatenate([tone(2100, 1000), np.zeros(8000 * 200 // 1000), tone(1300, 2000)])
    events = feed(OriginateModem(), x)
    assert [e for _, e in events] == [CarrierUp()]
    assert events[0][0] >= 1200 + 1700  # not 1200 + 60: the 200 ms gap is not 75 ± 20 ms


def test_after_connecting_mark_then_data_then_carrier_loss() -> None:
    m = OriginateModem()
    assert feed(m, tone(1300, 1760, -20))[-1][1] == CarrierUp()
    m.send(b"\x13\x53")
    x = m.audio_out(8000).astype(np.float64)
    n = np.arange(640)
    mark = np.abs(np.dot(x[:640], np.exp(-2j * np.pi * 390 * n / FS))) * 2 / 640
    assert mark > 0.99 * np.abs(x[:640]).max()  # 80 ms lead-in of pure 390 Hz
    assert m.pending == 0  # 80 ms + two characters of 133 ms
    lost = feed(m, np.zeros(8000))
    assert [e for _, e in lost] == [CarrierLost()]
    assert 440 <= lost[0][0] <= 460
    assert not m.carrier_up
    assert (m.audio_out(800) == 0).all()  # the Minitel dropped the line: silent


def test_no_answer_within_the_timeout() -> None:
    m = OriginateModem(OriginateConfig(connect_timeout_ms=1000))
    events = feed(m, tone(2100, 1500, -20))
    assert [e for _, e in events] == [NoCarrier()]


def test_it_decodes_the_server() -> None:
    server = AnswerModem()
    m = OriginateModem()
    feed(m, server.audio_out(8000 * 4))
    assert server.receive_audio(m.audio_out(8000)) == [CarrierUp()]
    server.send(b"3615 RESULTATS")
    got = feed(m, server.audio_out(8000))
    assert b"".join(e.data for _, e in got if isinstance(e, Data)) == b"3615 RESULTATS"
