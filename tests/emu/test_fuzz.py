"""Hypothesis fuzz: any bytes, split anywhere, never raise; the cursor stays on screen."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Key, Minitel

# Bias towards the interesting bytes: C0 controls, sequence introducers and their arguments.
_INTERESTING = st.sampled_from(
    [0x00, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x12, 0x16, 0x18, 0x19, 0x1A,
     0x1B, 0x1E, 0x1F, 0x20, 0x23, 0x25, 0x2F, 0x30, 0x39, 0x3A, 0x3B, 0x3F, 0x40, 0x41,
     0x4D, 0x4E, 0x4F, 0x58, 0x5B, 0x5F, 0x61, 0x66, 0x68, 0x7F]
)
_BYTES = st.lists(st.one_of(st.integers(0, 255), _INTERESTING), max_size=400).map(bytes)


def _check(m: Minitel) -> None:
    row, col = m.cursor
    assert 0 <= row <= 24 and 1 <= col <= 40
    lines = m.render_text().split("\n")
    assert len(lines) == 25 and all(len(line) == 40 for line in lines)


@settings(max_examples=300, deadline=None)
@given(_BYTES, st.lists(st.integers(1, 50), max_size=20), st.sampled_from(["1B", "2"]))
def test_random_bytes_never_raise(data: bytes, cuts: list[int], model: str) -> None:
    m = Minitel(model=model)
    pos = 0
    for cut in cuts:
        m.feed(data[pos : pos + cut])
        pos += cut
        _check(m)
    m.feed(data[pos:])
    _check(m)
    m.snapshot()
    m.take_output()
    m.press(Key.UP)


@settings(max_examples=100, deadline=None)
@given(_BYTES)
def test_split_does_not_change_the_screen(data: bytes) -> None:
    whole, bytewise = Minitel(), Minitel()
    whole.feed(data)
    for i in range(len(data)):
        bytewise.feed(data[i : i + 1])
    assert whole.snapshot() == bytewise.snapshot()
    assert whole.take_output() == bytewise.take_output()
