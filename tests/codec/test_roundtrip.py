"""Round trips through the independent emulator: encoder output must draw the frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from tests.cellmodel import assert_shows, normalise_screen
from videotex.codec import Encoder, Frame, drawable, encode_frame, encode_update

from .strategies import exact_frames, frames, scattered_frames


def _emulate(*chunks: bytes) -> dict[str, object]:
    m = Minitel()
    for c in chunks:
        m.feed(c)
    snap: dict[str, object] = m.snapshot()
    return snap


@settings(max_examples=60, deadline=None)
@given(exact_frames())
def test_exact_frame_round_trip(frame: Frame) -> None:
    data = encode_frame(frame)
    assert data[:1] == b"\x0c"
    assert normalise_screen(drawable(frame)) == normalise_screen(frame)
    assert_shows(frame, _emulate(data), data.hex(" "), cursor=frame.cursor)


@settings(max_examples=60, deadline=None)
@given(frames())
def test_any_frame_draws_what_drawable_says(frame: Frame) -> None:
    data = encode_frame(frame)
    expected = drawable(frame)
    assert_shows(expected, _emulate(data), data.hex(" "), cursor=frame.cursor)
    # drawable is a fixed point: what it shows can be drawn exactly
    assert normalise_screen(drawable(expected)) == normalise_screen(expected)


@settings(max_examples=40, deadline=None)
@given(frames(max_ops=8), frames(max_ops=8))
def test_update_round_trip(a: Frame, b: Frame) -> None:
    first, update = encode_frame(a), encode_update(a, b)
    assert_shows(drawable(b), _emulate(first, update), update.hex(" "), cursor=b.cursor)


@settings(max_examples=25, deadline=None)
@given(st.lists(frames(max_ops=6), min_size=2, max_size=4))
def test_update_chain(chain: list[Frame]) -> None:
    enc = Encoder()
    m = Minitel()
    m.feed(enc.frame(chain[0]))
    for f in chain[1:]:
        m.feed(enc.update(f))
        assert_shows(drawable(f), m.snapshot(), cursor=f.cursor)


@settings(max_examples=60, deadline=None)
@given(exact_frames(), exact_frames())
def test_update_of_unchanged_frame_is_short(a: Frame, b: Frame) -> None:
    # nothing changed: nothing to send but re-placing a visible cursor (US r c, or RS)
    same = encode_update(a, a)
    assert same == b"" if a.cursor is None else 1 <= len(same) <= 3
    assert len(encode_update(a, b)) <= len(encode_frame(b))


@settings(max_examples=80, deadline=None)
@given(scattered_frames())
def test_us_heavy_layout_round_trip(frame: Frame) -> None:
    """Colours, sizes, inverse and blink survive the encoder's jumps: the screen the
    emulator (a Minitel 1B as its ROM behaves) shows is exactly the frame wanted."""
    data = encode_frame(frame)
    assert normalise_screen(drawable(frame)) == normalise_screen(frame)
    assert_shows(frame, _emulate(data), data.hex(" "), cursor=frame.cursor)


@settings(max_examples=40, deadline=None)
@given(st.lists(scattered_frames(max_pieces=8), min_size=2, max_size=5))
def test_us_heavy_update_chain(chain: list[Frame]) -> None:
    """Random update chains between US-heavy layouts: after each update the emulator
    shows exactly the next frame, colours and sizes included."""
    enc = Encoder()
    m = Minitel()
    m.feed(enc.frame(chain[0]))
    for f in chain[1:]:
        data = enc.update(f)
        m.feed(data)
        assert normalise_screen(drawable(f)) == normalise_screen(f)
        assert_shows(f, m.snapshot(), data.hex(" "), cursor=f.cursor)
