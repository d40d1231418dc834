"""The Minitel's soft modem on a simulated line: loopback, impairments, chunking, fuzz.

The answer side is ``modem_line`` (its own 1200-baud modulator and 75-baud demodulator);
the line is G.711, white noise, a frequency offset, the server's clock offset, the
Minitel's own 390/450 Hz transmission leaking back through the hybrid, and concealed
frame loss. Every call runs frame by frame (20 ms) as a SIP client would.
"""

from __future__ import annotations

import difflib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from terminal_emu import g711
from terminal_emu.modem import CarrierLost, Connected, Data, LineState, NoAnswer, V23Modem

from . import modem_line as L


def _random_bytes(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 128, n).astype(np.uint8).tobytes()


def _server(data: bytes, *, level: float = -10.0, offset: float = 0.0, clock: float = 1.0,
            mark_ms: float = 300.0) -> np.ndarray:
    return np.concatenate((
        L.answer(level_dbm0=level, offset_hz=offset, mark_ms=mark_ms),
        L.data_signal(data, level_dbm0=level, offset_hz=offset, clock=clock),
    ))


def _damaged(got: bytes, sent: bytes) -> int:
    """Bytes sent but not received intact (found by aligning the two streams)."""
    blocks = difflib.SequenceMatcher(None, got, sent, autojunk=False).get_matching_blocks()
    return len(sent) - sum(b.size for b in blocks)


# -- loopback -------------------------------------------------------------------------------


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_clean_loopback_both_directions(law: str) -> None:
    down = _random_bytes(2400, seed=1)
    up = b"3615 RESULTATS\r" * 2
    modem = V23Modem()
    modem.send(up)
    server = np.concatenate((_server(down), L.tone(1300, 4200)))  # 75 Bd needs time
    events, sent = L.call(modem, server, law=law)
    assert [type(e) for e in events if not isinstance(e, Data)] == [Connected]
    assert L.received(events) == down
    start = int(np.flatnonzero(sent)[0]) - 1  # the carrier starts at sin(0) = 0
    line = L.g711_line(sent, law)
    bits = L.tx_bits(line, start, (len(sent) - start) * 75 // 8000)
    assert L.unframe(bits) == b"\x13\x53" + up


# (law, received level, frequency offset, server clock)
IMPAIRED = [
    ("ulaw", -43.0, +10.0, 1.001),
    ("alaw", -43.0, -10.0, 0.999),
    ("ulaw", -20.0, -10.0, 0.999),
    ("alaw", -9.0, +10.0, 1.001),
    ("ulaw", -9.0, -10.0, 0.999),
]


@pytest.mark.parametrize(("law", "level", "offset", "clock"), IMPAIRED)
def test_impaired_line_no_errors(law: str, level: float, offset: float, clock: float) -> None:
    data = _random_bytes(2000, seed=int(-level))
    # The echo is the Minitel's own -10 dBm0 carrier: 10 dB above a weak signal, at most as
    # loud as the transmitter itself (a hybrid does not amplify).
    echo = min(10.0, -10.0 - level)
    modem = V23Modem()
    modem.send(b"\x13\x49" * 4)  # keep the 75-baud side busy: its echo is data, not a tone
    events, _ = L.call(modem, _server(data, level=level, offset=offset, clock=clock), law=law,
                       echo_db=echo, rx_level_dbm0=level, noise_snr_db=25.0,
                       rng=np.random.default_rng(5))
    assert [type(e) for e in events if not isinstance(e, Data)] == [Connected]
    assert L.received(events) == data


def test_echo_10_db_above_a_loud_signal_still_decodes() -> None:
    """Beyond physics (the echo would be +1 dBm0), G.711 clips; the filter still copes."""
    data = _random_bytes(1000, seed=9)
    modem = V23Modem(tx_level_dbm0=-10.0)
    modem.send(b"U" * 8)
    events, _ = L.call(modem, _server(data, level=-9.0), law="alaw", echo_db=10.0,
                       rx_level_dbm0=-9.0)
    assert L.received(events) == data


@pytest.mark.parametrize("mode", ["repeat", "zero", "mixed"])
def test_concealed_frame_loss_damages_only_the_lost_frames(mode: str) -> None:
    data = _random_bytes(2000, seed=11)
    rng = np.random.default_rng(12)
    server, lost = L.conceal_loss(_server(data, level=-20.0), 0.01, rng, mode)
    assert len(lost) >= 5
    events, _ = L.call(V23Modem(), server, law="ulaw", rx_level_dbm0=-20.0,
                       noise_snr_db=25.0, rng=rng)
    assert [type(e) for e in events if not isinstance(e, Data)] == [Connected]
    got = L.received(events)
    # 20 ms is 2.4 characters at 1200 Bd: a lost frame may damage the characters it
    # touches and, while the receiver re-frames on back-to-back data, a few after.
    assert _damaged(got, data) <= 8 * len(lost)
    # back in step after the last loss: every character sent 20 characters after it is intact
    first_char = len(L.answer(mark_ms=300)) + 12 * 8000 / 1200
    after = len(data) - int(((lost[-1] + 1) * L.FRAME - first_char) / (8000 / 120)) - 20
    assert after > 0 and got[-after:] == data[-after:]


# -- chunking -------------------------------------------------------------------------------


def _chunk_signal() -> np.ndarray:
    rng = np.random.default_rng(3)
    data = _random_bytes(300, seed=3)
    sig = np.concatenate((_server(data, level=-30.0), L.silence(600), L.tone(1300, 100)))
    return g711.decode(g711.encode(sig + rng.normal(0, 1e-4, len(sig)), "alaw"), "alaw")


CHUNK_SIGNAL = _chunk_signal()


def _run_chunks(sizes: list[int]) -> list:
    modem = V23Modem()
    events: list = []
    for piece in L.chunked(CHUNK_SIGNAL, sizes):
        events += modem.receive_audio(piece)
    data = b"".join(e.data for e in events if isinstance(e, Data))
    return [e for e in events if not isinstance(e, Data)] + [data]


EXPECTED = _run_chunks([len(CHUNK_SIGNAL)])


def test_the_chunking_reference_is_meaningful() -> None:
    assert [type(e) for e in EXPECTED] == [Connected, CarrierLost, bytes]
    assert EXPECTED[-1] == _random_bytes(300, seed=3)


@pytest.mark.parametrize("sizes", [[1], [7], [79], [80], [81], [160], [333, 5, 1000], [4000]])
def test_any_chunking_gives_the_same_events(sizes: list[int]) -> None:
    assert _run_chunks(sizes) == EXPECTED


def test_a_reused_input_buffer_is_not_kept() -> None:
    """A SIP client may decode every packet into the same array: the modem must copy."""
    modem, events, buf = V23Modem(), [], np.empty(150)
    for piece in L.chunked(CHUNK_SIGNAL, [150]):
        buf[:len(piece)] = piece
        events += modem.receive_audio(buf[:len(piece)])
        buf[:] = np.nan  # the client scribbles over its buffer
    data = b"".join(e.data for e in events if isinstance(e, Data))
    assert [e for e in events if not isinstance(e, Data)] + [data] == EXPECTED


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=12))
def test_any_chunking_gives_the_same_events_fuzzed(sizes: list[int]) -> None:
    assert _run_chunks(sizes) == EXPECTED


# -- fuzz -----------------------------------------------------------------------------------

_AUDIO = hnp.arrays(np.float64, st.integers(0, 500),
                    elements=st.floats(allow_nan=True, allow_infinity=True, width=64))
_PCM = hnp.arrays(np.int16, st.integers(0, 500))
_CONNECTED_PREFIX = L.answer(mark_ms=80)


def _check(events: list) -> None:
    for e in events:
        assert isinstance(e, Connected | Data | CarrierLost | NoAnswer)
        if isinstance(e, Data):
            assert e.data and max(e.data) < 0x80


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_AUDIO, _PCM), max_size=6), st.booleans(), st.binary(max_size=20))
def test_random_audio_never_raises(pieces: list[np.ndarray], connect: bool, up: bytes) -> None:
    modem = V23Modem(answer_timeout_s=0.6)
    modem.send(up)
    if connect:
        _check(modem.receive_audio(_CONNECTED_PREFIX))
        assert modem.state is LineState.CONNECTED
    for piece in pieces:
        _check(modem.receive_audio(piece))
        out = modem.audio_out(len(piece))
        assert out.shape == (len(piece),) and np.isfinite(out).all()
        assert np.abs(out).max(initial=0.0) <= L.amplitude(-10.0) + 1e-9


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=8), st.integers(0, 3000)), max_size=10))
def test_random_sends_and_reads_never_raise(steps: list[tuple[bytes, int]]) -> None:
    modem = V23Modem()
    modem.receive_audio(_CONNECTED_PREFIX)
    for data, n in steps:
        modem.send(data)
        out = modem.audio_out(n)
        assert out.shape == (n,) and np.isfinite(out).all()
