"""Server and Minitel modems through the line simulator: clean, impaired, and losing packets.

One :class:`Duplex` per table runs every case at once (one bank row each): about 30 s of call
per case, i.e. ~3,000 bytes down (1200 baud) and ~200 bytes up (75 baud) per case. The bench
(``bench/bench_v23.py``) runs the 300,000-byte error-rate figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.linesim import Duplex, Impair, Stream, byte_errors
from videotex.protocols.g711 import Law
from videotex.protocols.v23 import CarrierLost, CarrierUp, NoCarrier

TICKS = 1500  # 30 s of call

#: case → (down line: server to Minitel, up line: Minitel to server, echo on the up line)
CASES: dict[str, tuple[Impair, Impair]] = {
    "clean A-law": (Impair(), Impair()),
    "clean µ-law": (Impair(law=Law.ULAW), Impair(law=Law.ULAW)),
    "-43 dBm0, echo 10 dB above": (Impair(level_dbm0=-43), Impair(level_dbm0=-43, echo_db=10)),
    "-9 dBm0, echo 1 dB below": (Impair(level_dbm0=-9, law=Law.ULAW),
                                 Impair(level_dbm0=-9, echo_db=-1, law=Law.ULAW)),
    "+10 Hz": (Impair(freq_offset_hz=10), Impair(freq_offset_hz=10)),
    "-10 Hz": (Impair(freq_offset_hz=-10), Impair(freq_offset_hz=-10)),
    "+0.1 % clock": (Impair(clock_ppm=1000), Impair(clock_ppm=1000)),
    "-0.1 % clock": (Impair(clock_ppm=-1000), Impair(clock_ppm=-1000)),
    "25 dB SNR": (Impair(snr_db=25), Impair(snr_db=25)),
    "25 dB SNR at -30 dBm0, µ-law": (Impair(snr_db=25, level_dbm0=-30, law=Law.ULAW),
                                     Impair(snr_db=25, level_dbm0=-30, law=Law.ULAW)),
    "everything at once": (
        Impair(level_dbm0=-40, freq_offset_hz=10, clock_ppm=-1000, snr_db=25),
        Impair(level_dbm0=-40, freq_offset_hz=-10, clock_ppm=1000, snr_db=25, echo_db=10)),
}

#: case → (impairment on both lines, most bytes wrong per packet hit down, up). Down, back-to-
#: back characters at 1200 baud: a hit loses 2.4 characters and the Minitel's UART (here the
#: originate modem's) takes a few more to find true start bits (mean 4.7-6.4 a hit, 7.4 when
#: two packets swap; bench_v23 measures them). Up, the server's 75 baud receiver: about 1.
LOSSES: dict[str, tuple[Impair, int, int]] = {
    "1 % lost, repeat": (Impair(loss=0.01, concealment="repeat"), 9, 3),
    "1 % lost, zeros": (Impair(loss=0.01, concealment="zeros"), 8, 3),
    "1 % reordered, no jitter buffer": (Impair(reorder=0.01), 12, 4),
}


def _data(n: int, size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [bytes(rng.integers(0, 128, size).tolist()) for _ in range(n)]


def _run(pairs: list[tuple[Impair, Impair]], seed: int) -> Duplex:
    d = Duplex([p[0] for p in pairs], [p[1] for p in pairs],
               down_data=_data(len(pairs), 5000, seed), up_data=_data(len(pairs), 400, seed + 1),
               seed=seed)
    d.run(TICKS)
    return d


@pytest.fixture(scope="module")
def impaired() -> dict[str, Stream]:
    d = _run(list(CASES.values()), seed=11)
    return dict(zip(CASES, d.streams, strict=True))


@pytest.fixture(scope="module")
def lossy() -> tuple[dict[str, Stream], dict[str, tuple[int, int]]]:
    d = _run([(imp[0], imp[0]) for imp in LOSSES.values()], seed=21)
    hits = {name: (len(d.down.hits[i]), len(d.up.hits[i])) for i, name in enumerate(LOSSES)}
    return dict(zip(LOSSES, d.streams, strict=True)), hits


def _sent_is_received(s: Stream) -> None:
    # when the run stops, the last bytes are still queued, or on the line (the clock
    # offset's resampler adds 250 ms)
    down, up = Duplex.BACKLOG
    assert bytes(s.down_got) == bytes(s.down_sent[: len(s.down_got)])
    assert len(s.down_sent) - len(s.down_got) <= down + 40
    assert bytes(s.up_got) == bytes(s.up_sent[: len(s.up_got)])
    assert len(s.up_sent) - len(s.up_got) <= up + 3


@pytest.mark.parametrize("case", list(CASES))
def test_no_byte_errors_on_impaired_lines(impaired: dict[str, Stream], case: str) -> None:
    s = impaired[case]
    assert [e for _, e in s.answer_events if not hasattr(e, "data")] == [CarrierUp()]
    assert [e for _, e in s.originate_events if not hasattr(e, "data")] == [CarrierUp()]
    assert len(s.down_got) > 2500 and len(s.up_got) > 150
    _sent_is_received(s)


@pytest.mark.parametrize("case", list(LOSSES))
def test_lost_packets_cost_only_their_own_bytes(
        lossy: tuple[dict[str, Stream], dict[str, tuple[int, int]]], case: str) -> None:
    streams, hits = lossy
    s = streams[case]
    _, down_bound, up_bound = LOSSES[case]
    down_hits, up_hits = hits[case]
    assert down_hits >= 8 and up_hits >= 8  # 1 % of 1,500 packets each way
    ends = (CarrierLost(), NoCarrier())
    assert not [e for _, e in s.answer_events + s.originate_events if e in ends]
    down = byte_errors(bytes(s.down_sent), bytes(s.down_got))
    up = byte_errors(bytes(s.up_sent), bytes(s.up_got))
    assert 0 < down <= down_bound * down_hits
    assert up <= up_bound * up_hits
    assert len(s.down_got) > 2500 and len(s.up_got) > 150
