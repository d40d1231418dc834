"""Fuzz rule: any audio gives events, never an exception, and the modem stays usable."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from videotex.protocols.v23 import (
    AnswerBank,
    AnswerConfig,
    AnswerModem,
    BankFull,
    CarrierLost,
    CarrierUp,
    Data,
    NoCarrier,
    OriginateModem,
    SlotError,
    TxOverflow,
)

from .signals import minitel

KINDS = (CarrierUp, Data, CarrierLost, NoCarrier)

_int16 = hnp.arrays(np.int16, st.integers(0, 2000),
                    elements=st.integers(-32768, 32767))
_floats = hnp.arrays(np.float64, st.integers(0, 600),
                     elements=st.floats(allow_nan=True, allow_infinity=True, width=64))
_chunks = st.lists(st.one_of(_int16, _floats), max_size=12)


@settings(max_examples=60, deadline=None)
@given(_chunks)
def test_garbage_never_raises_and_a_minitel_is_still_heard(chunks: list[np.ndarray]) -> None:
    m = AnswerModem(AnswerConfig(carrier_loss_ms=10_000))
    for c in chunks:
        assert all(isinstance(e, KINDS) for e in m.receive_audio(c))
        m.audio_out(len(c))
    after = m.receive_audio(minitel(b"OK", dbm0=-20, lead_ms=300, tail_ms=200))
    got = b"".join(e.data for e in after if isinstance(e, Data))
    assert got.endswith(b"OK")  # whatever the garbage left, the next characters come through


@settings(max_examples=40, deadline=None)
@given(_chunks)
def test_originate_side_takes_garbage_too(chunks: list[np.ndarray]) -> None:
    m = OriginateModem()
    for c in chunks:
        assert all(isinstance(e, KINDS) for e in m.receive_audio(c))
        assert len(m.audio_out(len(c))) == len(c)


_ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.integers(-1, 4)),
    st.tuples(st.just("send"), st.integers(-1, 4), st.binary(max_size=300)),
    st.tuples(st.just("audio"), st.integers(0, 500)),
    st.tuples(st.just("receive"), st.integers(0, 500), st.integers(-40000, 40000)),
), max_size=40)


@settings(max_examples=80, deadline=None)
@given(_ops)
def test_a_bank_under_any_sequence_of_calls_raises_only_its_own_errors(ops: list[tuple]) -> None:
    bank = AnswerBank(3, AnswerConfig(tx_queue_limit=256))
    rng = np.random.default_rng(0)
    for op in ops:
        try:
            if op[0] == "add":
                bank.add()
            elif op[0] == "remove":
                bank.remove(op[1])
            elif op[0] == "send":
                bank.send(op[1], op[2])
            elif op[0] == "audio":
                assert bank.audio_out(op[1]).shape == (3, op[1])
            else:
                x = rng.integers(-abs(op[2]), abs(op[2]) + 1, (3, op[1]))
                for slot, event in bank.receive_audio(x):
                    assert bank.active[slot] and isinstance(event, KINDS)
        except (BankFull, SlotError, TxOverflow):
            pass
        for s in bank.slots:
            assert 0 <= bank.pending(s) <= 256
