"""Round trips through the independent emulator: encoder output must draw the frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from tests.cellmodel import assert_shows, normalise_screen
from videotex.codec import Color, Encoder, Frame, drawable, encode_frame, encode_update

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


def _status_counterexample() -> Frame:
    """The Hypothesis counterexample: row 0 masked from column 1, then a black lined "0"
    at column 35 and a lined space at column 36 (neither can leave the masked zone: no
    blank cell before them looks like a delimiter of theirs); columns 37-40 plain."""
    f = Frame()
    f.fill(0, 1, 34, bg=Color.BLACK, masked=True)
    f.text(0, 35, "0 ", fg=Color.BLACK, underline=True)
    return f


def test_status_row_zone_under_the_terminal_cells_is_a_fixed_point() -> None:
    """Row 0 columns 37-39 are never written (§12 vector 66), but they show the zone that
    column 36 leaves (§2, §7; vector 67). The lined space at column 36 became a lined
    delimiter, which lined 37-39 although the frame asks them plain: drawable() showed
    lined terminal cells that no frame could ask back, so it was no fixed point."""
    frame = _status_counterexample()
    data = encode_frame(frame)
    expected = drawable(frame)
    shown = _emulate(data)
    assert_shows(expected, shown, data.hex(" "), cursor=None)
    assert normalise_screen(drawable(expected)) == normalise_screen(expected)
    # the frame asks 37-40 plain: the zone column 36 leaves is unlined and unmasked
    for col in range(36, 41):
        assert not expected.cell(0, col).underline and not expected.cell(0, col).masked
    cells = shown["cells"]
    assert isinstance(cells, list)
    for col in range(37, 41):  # what the emulated terminal shows there, letter included
        assert not cells[0][col - 1]["underline"] and not cells[0][col - 1]["masked"]
    assert data == bytes.fromhex("0c 14 1f 40 41 1b 58 20 1f 40 63 1b 40 30 1b 5f 20")


def test_status_row_terminal_cells_take_the_zone_the_frame_asks() -> None:
    """The other way round: a frame asking 37-39 lined (as the old drawable showed them)
    gets them lined, through the delimiter at column 36, on the emulated terminal too."""
    frame = _status_counterexample()
    for col in range(36, 40):
        frame.replace_cell(0, col, underline=True)
    frame.replace_cell(0, 36, underline=False)
    data = encode_frame(frame)
    expected = drawable(frame)
    shown = _emulate(data)
    assert_shows(expected, shown, data.hex(" "), cursor=None)
    assert normalise_screen(drawable(expected)) == normalise_screen(expected)
    cells = shown["cells"]
    assert isinstance(cells, list)
    for col in range(37, 40):
        assert expected.cell(0, col).underline and cells[0][col - 1]["underline"]
    assert not expected.cell(0, 40).underline and not cells[0][39]["underline"]
