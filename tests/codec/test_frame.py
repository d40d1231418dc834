"""Frame: the drawing API, sizes, clipping, validation, cell model export/import."""

from __future__ import annotations

import pytest

from terminal_emu import Minitel
from videotex.codec import Cell, Color, Frame, Size


def test_blank_frame_is_the_screen_after_ff() -> None:
    f = Frame()
    # row 0 as a Minitel leaves it on connection (vector 67): black mosaics, then spaces
    assert f.cell(0, 1).kind == "mosaic" and f.cell(0, 36).kind == "mosaic"
    assert f.cell(0, 37) == Cell() and f.cell(0, 40) == Cell()
    assert f.cell(1, 1).kind == "mosaic" and f.cell(24, 40).sextants == 0
    assert f.cursor is None
    m = Minitel()
    m.feed(b"\x0c")
    cells = m.snapshot()["cells"]
    assert f.to_cell_dicts()[1:] == cells[1:]
    mine, theirs = f.to_cell_dicts()[0], cells[0]
    assert mine[:38] == theirs[:38] and mine[39] == theirs[39]  # c39: the terminal's "C"


def test_text_returns_next_column_and_clips_at_40() -> None:
    f = Frame()
    assert f.text(3, 1, "Résultats") == 10
    assert f.cell(3, 2).char == "é"
    assert f.text(3, 38, "ABCDEF") == 41
    assert [f.cell(3, c).char for c in (38, 39, 40)] == ["A", "B", "C"]
    assert f.cell(4, 1).kind == "mosaic"  # no wrap


def test_text_applies_the_charset_fallback() -> None:
    f = Frame()
    f.text(2, 1, "ÉTÉ {x}")
    assert "".join(f.cell(2, c).char or "" for c in range(1, 8)) == "ETE (x)"


def test_double_height_covers_the_row_above() -> None:
    f = Frame()
    assert f.text(5, 3, "A", size=Size.TALL) == 4
    assert f.cell(4, 3).part == (0, 0) and f.cell(5, 3).part == (0, 1)
    assert f.cell(4, 3).size is Size.TALL


def test_double_size_covers_four_cells() -> None:
    f = Frame()
    assert f.text(3, 1, "A", size=Size.DOUBLE) == 3
    assert [f.cell(r, c).part for r, c in ((2, 1), (2, 2), (3, 1), (3, 2))] == [
        (0, 0), (1, 0), (0, 1), (1, 1)]


def test_sizes_follow_the_terminal_edges() -> None:
    f = Frame()
    f.text(1, 1, "A", size=Size.TALL)  # ignored on row 1
    assert f.cell(1, 1).size is Size.NORMAL
    f.text(0, 1, "A", size=Size.WIDE)  # the service row never doubles
    assert f.cell(0, 1).size is Size.NORMAL
    f.text(6, 40, "W", size=Size.WIDE)  # wide at column 40: normal width
    assert f.cell(6, 40).size is Size.NORMAL
    f.text(9, 40, "D", size=Size.DOUBLE)  # double size at column 40: double height
    assert f.cell(9, 40).size is Size.TALL


def test_overwriting_part_of_a_doubled_char_blanks_its_other_parts() -> None:
    f = Frame()
    f.text(5, 1, "A", size=Size.DOUBLE)
    f.text(5, 2, "x")
    assert f.cell(4, 1).char == " " and f.cell(4, 2).char == " " and f.cell(5, 1).char == " "
    assert f.cell(5, 2) == Cell(char="x")


def test_mosaic_fill_box_and_cursor() -> None:
    f = Frame()
    assert f.mosaic(2, 1, 63, fg=Color.RED, bg=Color.BLUE) == 2
    assert f.cell(2, 1).sextants == 63 and f.cell(2, 1).bg == Color.BLUE
    assert f.fill(3, 35, 10, bg=Color.GREEN) == 41
    assert f.cell(3, 40).bg == Color.GREEN
    f.box(10, 5, 14, 20)
    assert f.cell(10, 5).kind == "mosaic" and f.cell(14, 20).kind == "mosaic"
    g = f.with_cursor((12, 7))
    assert g.cursor == (12, 7) and f.cursor is None and g != f and g.copy() == g


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.text(25, 1, "x"), "row must be 0-24"),
        (lambda f: f.text(1, 0, "x"), "col must be 1-40"),
        (lambda f: f.text(1, 1, "x", fg=9), "fg must be a colour"),
        (lambda f: f.mosaic(1, 1, 64), "sextants must be 0-63"),
        (lambda f: f.fill(1, 1, -1), "fill length"),
        (lambda f: f.put(1, 1, Cell(char="€")), "not in the repertoire"),
        (lambda f: f.box(5, 5, 3, 3), "box corners"),
    ],
)
def test_bad_arguments_name_what_is_wrong(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(Frame())  # type: ignore[operator]


def test_snapshot_round_trip_and_errors() -> None:
    f = Frame()
    f.text(4, 2, "Oui", fg=Color.YELLOW, bg=Color.RED, underline=True, size=Size.WIDE)
    f.cursor = (7, 8)
    assert Frame.from_snapshot(f.to_snapshot()) == f
    with pytest.raises(ValueError, match="25 rows"):
        Frame.from_snapshot({"cells": []})
    bad = f.to_snapshot()
    bad["cells"][3][4] = {"kind": "glyph"}
    with pytest.raises(ValueError, match="r3c5"):
        Frame.from_snapshot(bad)


def test_from_emulator_snapshot() -> None:
    m = Minitel()
    m.feed(b"\x0c\x1b\x54 Bonjour\x1f\x45\x45\x19\x42e\x11")
    f = Frame.from_snapshot(m.snapshot())
    assert f.cell(1, 2) == Cell(char="B", bg=Color.BLUE)
    assert f.cell(5, 5).char == "é" and f.cursor == (5, 6)
