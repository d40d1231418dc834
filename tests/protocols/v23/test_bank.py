"""Banks: N calls in one array behave exactly as N single modems; any split of the audio too."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from videotex.protocols import g711
from videotex.protocols.v23 import (
    AnswerBank,
    AnswerModem,
    BankFull,
    Data,
    OriginateBank,
    OriginateModem,
    SlotError,
)

from .signals import minitel

N = 5
SECONDS = 5


def _uplinks() -> list[npt.NDArray[np.int16]]:
    """Five different Minitels: levels, clocks, words, noise."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(N):
        x = minitel(b"ligne %d" % i, dbm0=-12 - 6 * i, lead_ms=200 + 50 * i,
                    clock=1 + (i - 2) * 4e-4)
        x = np.concatenate([x, np.zeros(SECONDS * 8000 - len(x))])[: SECONDS * 8000]
        x = x + rng.normal(0, 30, len(x))
        out.append(g711.alaw_decode(g711.alaw_encode(x)))
    return out


def test_a_bank_gives_what_single_modems_give() -> None:
    ups = _uplinks()
    bank = AnswerBank(N + 2)
    slots = [bank.add() for _ in range(N)]
    singles = [AnswerModem() for _ in range(N)]
    got_bank: list[list[object]] = [[] for _ in range(N)]
    got_single: list[list[object]] = [[] for _ in range(N)]
    x = np.zeros((N + 2, 160), dtype=np.int16)
    for t in range(0, SECONDS * 8000, 160):
        for i, s in enumerate(slots):
            x[s] = ups[i][t : t + 160]
            if t == 16000:
                bank.send(s, b"page %d" % i)
                singles[i].send(b"page %d" % i)
        for s, e in bank.receive_audio(x):
            got_bank[slots.index(s)].append((t, e))
        for i, m in enumerate(singles):
            got_single[i] += [(t, e) for e in m.receive_audio(ups[i][t : t + 160])]
        out = bank.audio_out(160)
        for i, m in enumerate(singles):
            assert (out[slots[i]] == m.audio_out(160)).all()
        assert (out[N:] == 0).all()  # free slots are silent
    assert got_bank == got_single
    assert all(len(g) >= 2 for g in got_bank)  # each heard its Minitel


@pytest.mark.parametrize("seed", [1, 2])
def test_any_split_of_the_audio_gives_the_same_events_and_samples(seed: int) -> None:
    rng = np.random.default_rng(seed)
    up = _uplinks()[seed]
    whole = AnswerModem()
    events_whole = whole.receive_audio(up)
    whole.send(b"abc")
    out_whole = whole.audio_out(SECONDS * 8000)
    split = AnswerModem()
    events_split, pos = [], 0
    while pos < len(up):
        k = int(rng.choice([0, 1, 7, 159, 160, 161, 1000, 3333]))
        events_split += split.receive_audio(up[pos : pos + k])
        pos += k
    split.send(b"abc")
    outs, n = [], 0
    while n < SECONDS * 8000:
        k = min(int(rng.choice([0, 1, 19, 20, 21, 160, 999])), SECONDS * 8000 - n)
        outs.append(split.audio_out(k))
        n += k
    assert events_split == events_whole
    assert (np.concatenate(outs) == out_whole).all()


def test_originate_bank_equals_single_modems_too() -> None:
    answer = AnswerBank(3)
    for _ in range(3):
        answer.add()
    bank = OriginateBank(3)
    for _ in range(3):
        bank.add()
    singles = [OriginateModem() for _ in range(3)]
    ev_bank: list[tuple[int, int, object]] = []
    ev_single: list[tuple[int, int, object]] = []
    for t in range(250):
        down = answer.audio_out(160)
        down[1] //= 4  # three different levels
        down[2] //= 16
        ev_bank += [(t, s, e) for s, e in bank.receive_audio(down)]
        for i, m in enumerate(singles):
            ev_single += [(t, i, e) for e in m.receive_audio(down[i])]
            if t == 200:
                m.send(b"hi")
        if t == 200:
            for i in range(3):
                bank.send(i, b"hi")
        out = bank.audio_out(160)
        for i, m in enumerate(singles):
            assert (out[i] == m.audio_out(160)).all()
    assert ev_bank == ev_single
    assert len(ev_bank) == 3  # each heard the answer sequence


def test_slots_are_reused_and_reset() -> None:
    bank = AnswerBank(2)
    a, b = bank.add(), bank.add()
    assert (a, b) == (0, 1) and bank.slots == [0, 1]
    with pytest.raises(BankFull, match="all 2 slots"):
        bank.add()
    bank.send(a, b"queued")
    bank.audio_out(8000)
    bank.remove(a)
    assert bank.slots == [1]
    with pytest.raises(SlotError, match="slot 0 is not in use"):
        bank.send(a, b"x")
    with pytest.raises(SlotError):
        bank.remove(7)
    assert bank.add() == 0
    assert bank.pending(0) == 0 and bank.answering(0)
    fresh = AnswerModem().audio_out(800)
    assert (bank.audio_out(800)[0] == fresh).all()  # the answer tone from its start


def test_wrong_shapes_and_types_say_what_is_wrong() -> None:
    bank = AnswerBank(3)
    with pytest.raises(ValueError, match=r"expected \(3, n\) samples, got shape \(2, 160\)"):
        bank.receive_audio(np.zeros((2, 160)))
    with pytest.raises(TypeError, match="real numbers"):
        bank.receive_audio(np.zeros((3, 4), dtype=complex))
    with pytest.raises(ValueError, match="must not be negative"):
        bank.audio_out(-1)
    with pytest.raises(ValueError, match="one channel"):
        AnswerModem().receive_audio(np.zeros((1, 160)))
    with pytest.raises(ValueError, match="capacity of at least 1"):
        AnswerBank(0)


def _data(events: list[tuple[int, object]]) -> tuple[list[str], bytes]:
    kinds = [type(e).__name__ for _, e in events if not isinstance(e, Data)]
    return kinds, b"".join(e.data for _, e in events if isinstance(e, Data))


def test_a_held_slot_stands_still_and_hears_the_late_audio_later() -> None:
    """A sender late by whole frames (a load generator's stall, a network queue) must cost
    delay, not bytes: held rows hear the same stream, later, with nothing lost or invented."""
    rng = np.random.default_rng(7)
    text = bytes(rng.integers(0x20, 0x7F, 60, dtype=np.uint8))
    up = minitel(text, dbm0=-20, lead_ms=300)
    up = np.concatenate([up, np.zeros(8000)]).astype(np.int16)
    frames = [up[t : t + 160] for t in range(0, len(up) - 159, 160)]
    ref, held, conceal = AnswerBank(3), AnswerBank(3), AnswerBank(3)
    for bank in (ref, held, conceal):
        assert [bank.add() for _ in range(3)] == [0, 1, 2]
    got: dict[str, list[tuple[int, object]]] = {"ref": [], "held": [], "conceal": []}
    x = np.zeros((3, 160), dtype=np.int16)
    queue = list(frames)
    last = np.zeros(160, dtype=np.int16)
    stalls = 0
    for frame in frames:
        x[0] = frame
        got["ref"] += [(s, e) for s, e in ref.receive_audio(x) if s == 0]
        # the late stream: a stall of 1-4 frames a quarter of the time, mid-character too
        while rng.random() < 0.25:
            stalls += 1
            x[0] = rng.integers(-20000, 20000, 160)  # what a held row holds is not heard
            got["held"] += [(s, e) for s, e in held.receive_audio(x, hold=[True, False, False])
                            if s == 0]
            x[0] = last  # concealment: the last frame again, what a modem cannot survive
            got["conceal"] += [(s, e) for s, e in conceal.receive_audio(x) if s == 0]
        x[0] = last = queue.pop(0)
        got["held"] += [(s, e) for s, e in held.receive_audio(x, hold=[False, False, False])
                        if s == 0]
        got["conceal"] += [(s, e) for s, e in conceal.receive_audio(x) if s == 0]
    assert stalls > 50
    assert _data(got["ref"]) == (["CarrierUp"], text)
    assert _data(got["held"]) == (["CarrierUp"], text)
    assert _data(got["conceal"])[1] != text  # what holding is for


def test_hold_needs_whole_blocks_and_one_flag_a_slot() -> None:
    bank = AnswerBank(2)
    bank.add()
    with pytest.raises(ValueError, match="whole blocks of 160"):
        bank.receive_audio(np.zeros((2, 100), dtype=np.int16), hold=[True, False])
    with pytest.raises(ValueError, match=r"hold must have shape \(2,\)"):
        bank.receive_audio(np.zeros((2, 160), dtype=np.int16), hold=[True])
    bank.receive_audio(np.zeros((2, 100), dtype=np.int16))
    with pytest.raises(ValueError, match="after 100 buffered"):
        bank.receive_audio(np.zeros((2, 160), dtype=np.int16), hold=[False, False])
