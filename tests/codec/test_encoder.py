"""Encoder behaviour: exact bytes for small frames, costs, zones, updates, approximation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from tests.cellmodel import assert_shows
from tests.codec.strategies import colors, frames
from videotex.codec import Cell, Color, Encoder, Frame, Size, drawable, encode_frame, encode_update


def _shown(*chunks: bytes) -> dict[str, object]:
    m = Minitel()
    for c in chunks:
        m.feed(c)
    snap: dict[str, object] = m.snapshot()
    return snap


def test_blank_frame_is_ff_and_coff() -> None:
    assert encode_frame(Frame()) == b"\x0c\x14"
    assert encode_frame(Frame().with_cursor((1, 1))) == b"\x0c\x11"


def test_plain_text_needs_no_attributes() -> None:
    f = Frame()
    f.text(1, 1, "Oui")
    assert encode_frame(f) == b"\x0c\x14Oui"


def test_runs_use_rep_and_accents_use_ss2() -> None:
    f = Frame()
    f.text(1, 1, "é" * 5 + "-" * 20)
    assert encode_frame(f) == b"\x0c\x14\x19\x42e\x12\x44-\x12\x53"


def test_band_of_background_is_one_delimiter_and_rep() -> None:
    f = Frame()
    f.fill(1, 1, 40, bg=Color.BLUE)
    f.text(1, 3, "TITRE", bg=Color.BLUE, fg=Color.YELLOW)
    data = encode_frame(f)
    assert data.startswith(b"\x0c\x14\x1b\x54 ")
    assert len(data) <= 19
    assert_shows(f, _shown(data))


def test_row_zero_is_written_through_us_40() -> None:
    f = Frame()
    f.text(0, 1, "Serveur")
    data = encode_frame(f)
    assert b"\x1f\x40\x41Serveur" in data
    assert_shows(f, _shown(data))


def test_text_on_background_opens_its_zone_on_the_blank_before_it() -> None:
    f = Frame()
    f.text(5, 10, "Admis", fg=Color.BLACK, bg=Color.GREEN, underline=True)
    f.fill(5, 9, 1, bg=Color.GREEN)
    assert drawable(f) == f
    assert_shows(f, _shown(encode_frame(f)))


def test_impossible_zone_change_is_approximated_deterministically() -> None:
    f = Frame()
    f.text(3, 1, "A", bg=Color.RED)  # column 1: no cell for a delimiter
    f.text(3, 2, "B", bg=Color.BLUE)  # right after a letter: no room either
    d = drawable(f)
    assert d.cell(3, 1) == Cell(char="A", bg=Color.BLACK)
    assert d.cell(3, 2) == Cell(char="B", bg=Color.BLACK)
    assert drawable(f) == d  # deterministic
    assert_shows(d, _shown(encode_frame(f)))


def test_doubled_characters_round_trip() -> None:
    f = Frame()
    f.text(4, 5, "GRAND", size=Size.DOUBLE, fg=Color.CYAN)
    f.text(8, 1, "haut", size=Size.TALL)
    f.text(10, 1, "large", size=Size.WIDE)
    assert_shows(f, _shown(encode_frame(f)))


def test_mosaics_separated_and_coloured() -> None:
    f = Frame()
    f.mosaics(6, 1, [1, 2, 63, 63, 0], fg=Color.RED, bg=Color.BLUE, separated=True)
    f.text(6, 6, "x", bg=Color.BLUE)
    assert_shows(f, _shown(encode_frame(f)))


def test_update_writes_only_what_changed() -> None:
    a = Frame()
    a.text(5, 1, "Nom : DUPONT")
    b = a.copy()
    b.text(5, 7, "DURAND")
    data = encode_update(a, b)
    # US goes there and resets the attributes a previous output may have left (vector 9),
    # "N" is unchanged: HT skips it
    assert data == b"\x1f\x45\x49RA\tD"
    assert_shows(b, _shown(encode_frame(a), data))


def test_update_redraws_a_zone_whose_delimiter_was_overwritten() -> None:
    a = Frame()
    a.fill(2, 1, 20, bg=Color.BLUE)
    a.text(2, 2, "Zone", bg=Color.BLUE)
    b = a.copy()
    b.text(2, 1, "X", bg=Color.BLUE)  # no blank left of "Zone" any more
    assert_shows(drawable(b), _shown(encode_frame(a), encode_update(a, b)))


def test_cursor_visibility_and_place_follow_the_frame() -> None:
    a, b = Frame(), Frame().with_cursor((12, 20))
    data = encode_update(a, b)
    assert data.endswith(b"\x11")
    shown = _shown(encode_frame(a), data)
    assert shown["cursor"] == {"row": 12, "col": 20, "visible": True}
    back = encode_update(b, a)
    assert back.startswith(b"\x14")
    assert _shown(encode_frame(a), data, back)["cursor"]["visible"] is False  # type: ignore[index]


def test_update_to_an_emptier_page_clears_with_ff() -> None:
    a = Frame()
    for r in range(1, 25):
        a.text(r, 1, f"ligne {r}")
    assert encode_update(a, Frame()) == b"\x0c\x14"


def test_stateful_encoder_chain_and_shown() -> None:
    enc = Encoder()
    f = Frame()
    f.text(3, 3, "un")
    m = Minitel()
    m.feed(enc.frame(f))
    g = f.copy()
    g.text(3, 3, "deux", fg=Color.RED)
    m.feed(enc.update(g))
    assert enc.shown == drawable(g)
    assert_shows(g, m.snapshot())


def test_update_is_robust_to_moved_cursor_and_attributes() -> None:
    # local echo or other bytes between outputs: updates start with an absolute address
    a = Frame()
    a.text(2, 1, "abc")
    b = a.copy()
    b.text(2, 2, "X")
    m = Minitel()
    m.feed(encode_frame(a) + b"\x1f\x50\x50\x1b\x41\x1b\x4d\x0e")
    m.feed(encode_update(a, b))
    assert_shows(b, m.snapshot())


def test_doubled_space_after_a_mosaic_background_change_is_not_a_doubled_delimiter() -> None:
    # the mosaic's background leaves a serial attribute pending: a wide space written
    # next would become a wide delimiter (found by the round-trip property)
    f = Frame()
    f.mosaic(1, 2, 0, bg=Color.RED)
    f.text(1, 3, " ", size=Size.WIDE, bg=Color.RED)
    f.text(3, 5, " ", size=Size.DOUBLE)
    f.mosaic(3, 40, 1, bg=Color.BLUE)
    f.mosaic(5, 39, 0, bg=Color.GREEN)
    f.text(5, 40, " ", size=Size.TALL, bg=Color.GREEN)
    assert_shows(drawable(f), _shown(encode_frame(f)))


@settings(max_examples=150, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=5))
def test_last_frame_is_the_frame_last_asked_for(chain: list[Frame]) -> None:
    """What a session's clock tick starts from: the last frame, rows and cursor."""
    enc = Encoder()
    assert enc.last_frame() is None  # nothing drawn yet
    for i, frame in enumerate(chain):
        enc.frame(frame) if i == 0 else enc.update(frame)
        last = enc.last_frame()
        if last is not None:
            assert last == frame
            assert last is not frame
            last.text(0, 1, "X")  # an independent copy: the encoder is not changed
            again = enc.last_frame()
            assert again is not None and again == frame


def test_last_frame_after_a_page_and_an_update() -> None:
    enc = Encoder()
    page = Frame()
    page.text(3, 2, "RÉSULTATS", fg=Color.YELLOW, size=Size.TALL)
    page.cursor = (10, 15)
    enc.frame(page)
    assert enc.last_frame() == page
    page.text(10, 15, "12")
    page.cursor = (10, 17)
    enc.update(page)
    assert enc.last_frame() == page


def _row0(text: str, **kw: object) -> tuple[Cell, ...]:
    f = Frame()
    f.text(0, 1, text, **kw)  # type: ignore[arg-type]
    return f.row(0)


_STATUS_TEXTS = st.sampled_from([" 3615 EXAMENS  00:21  0,46 €", " 3615 EXAMENS  00:42  0,58 €",
                                 " 3615 EXAMENS  01:03  0,70 €", " Fin dans 30 s", "", "é",
                                 " 3615 EXAMENS  00:21  0,46 € RÉSULTATS DU BAC"])


@settings(max_examples=200, deadline=None)
@given(frames(), st.lists(st.tuples(_STATUS_TEXTS, colors, st.booleans()), min_size=1,
                          max_size=6), st.integers(1, 3))
def test_status_row_update_is_the_update_of_the_whole_frame(
        page: Frame, ticks: list[tuple[str, Color, bool]], callers: int) -> None:
    """``update_row0`` (shared between calls, what a session's tick uses) gives the bytes
    and leaves the encoder as :meth:`Encoder.update` of the last frame with that row 0
    does, for the first caller (computed) and the next ones (from the shared table)."""
    for _ in range(callers):
        fast, slow = Encoder(), Encoder()
        assert fast.frame(page) == slow.frame(page)
        for text, fg, inverse in ticks:
            row0 = _row0(text, fg=fg, inverse=inverse)
            got = fast.update_row0(row0)
            wanted = slow.last_frame()
            if got is None:  # this frame cannot be told from the rows kept
                assert wanted is None
                return
            assert wanted is not None
            wanted._rows[0] = list(row0)
            assert got == slow.update(wanted)
            assert fast.shown == slow.shown
            assert fast.last_frame() == slow.last_frame()


def test_status_row_update_is_shared_and_shows_on_the_minitel() -> None:
    page = Frame()
    page.text(3, 2, "RÉSULTATS", fg=Color.YELLOW, size=Size.TALL)
    for r in range(5, 20):
        page.text(r, 2, f"ligne {r}")  # a full page: no redraw could be shorter
    page.cursor = (10, 15)
    first, second = Encoder(), Encoder()
    sent = first.frame(page)
    second.frame(page)
    sent += first.update_row0(_row0(" 3615 EXAMENS  00:21")) or b""
    second.update_row0(_row0(" 3615 EXAMENS  00:21"))
    row0 = _row0(" 3615 EXAMENS  00:42")
    data = first.update_row0(row0)
    assert data and second.update_row0(row0) is data  # the second call's are the first's
    m = Minitel()
    m.feed(sent + data)
    assert m.render_text().splitlines()[0].startswith(" 3615 EXAMENS  00:42")
    assert m.cursor == (10, 15)


def test_a_mosaic_and_a_delimiter_with_the_same_numbers_stay_apart() -> None:
    """Stored cells are shared between encoders by value: a delimiter (bg red, black,
    inverse) drawn by one caller must not stand in for a mosaic (sextant 1, black,
    blinking) of another, whose tuple holds the same numbers."""
    from videotex.codec.wire import WDelim, WMosaic

    assert WMosaic(1, 0, 0, False, True) != WDelim(1, False, False, 0, True)
    first = Frame()
    first.text(1, 1, " ", fg=Color.BLACK, bg=Color.RED, inverse=True)
    first.text(1, 2, "A", bg=Color.RED)
    encode_frame(first)
    second = Frame()
    second.mosaic(1, 1, 1, fg=Color.BLACK, blink=True)
    assert drawable(second) == second
    assert_shows(second, _shown(encode_frame(second)))
