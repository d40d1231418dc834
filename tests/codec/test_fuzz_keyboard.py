"""Keyboard decoder under hostile input: what a caller holds in the decoder stays bounded.

bench/bench_fuzz.py found that repeated accent keys (``SS2 accent SS2 accent ...``) were
all kept in ``pending``: a caller could grow one call's memory without limit, and
``flush()`` kept it (an accent waits for its letter)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.codec import CharEvent, FunctionKey, FunctionKeyEvent, KeyboardDecoder

#: The longest sequence the decoder may hold: ESC [ with 9 parameter bytes, then the final.
LONGEST = 12


def test_repeated_accents_keep_only_the_last_one() -> None:
    d = KeyboardDecoder()
    for _ in range(10_000):
        assert d.feed(b"\x19\x41") == []  # grave, again and again
    assert d.pending == b"\x19\x41"
    assert d.flush() == []  # still waiting for its letter
    assert d.feed(b"\x19\x42e") == [CharEvent("é")]  # the last accent wins
    assert d.garbage == 0


def test_accent_keys_without_ss2_and_repeated_ss2_stay_bounded() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x19\x41" + b"\x42\x43" * 5000) == []
    assert d.pending == b"\x19\x43"
    assert d.feed(b"\x19" * 5000) == []
    assert d.pending == b"\x19\x43\x19"
    assert d.feed(b"\x48i") == [CharEvent("ï")]
    assert d.feed(b"\x13\x41") == [FunctionKeyEvent(FunctionKey.ENVOI)]


_KEYS = st.sampled_from([b"\x19", b"\x16", b"\x41", b"\x42", b"\x43", b"\x48", b"\x4b",
                         b"\x1b", b"[", b"4", b"\x13", b"\x01", b"\x1f", b"e", b"\x00",
                         b"\x0d", b"\xff"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_KEYS, st.integers(1, 30)), max_size=60), st.booleans())
def test_pending_never_exceeds_the_longest_sequence(runs: list[tuple[bytes, int]],
                                                    flush: bool) -> None:
    d = KeyboardDecoder()
    for key, times in runs:  # runs of one key: a caller leaning on it
        d.feed(key * times)
        assert len(d.pending) <= LONGEST
        if flush and key == b"e":
            d.flush()
    d.flush()
    assert len(d.pending) <= 3  # at most an accent (maybe repeated SS2) awaiting its letter
    assert d.feed(b"\x13\x41")[-1] == FunctionKeyEvent(FunctionKey.ENVOI)
