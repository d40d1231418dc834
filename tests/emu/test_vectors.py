"""The 76 conformance vectors of the reference §12, as one table (all run on the real
Minitel 1B ROM; vector 9 as corrected on 2026-12-07: US resets the colour).

Each vector is fed whole, byte by byte, and followed by harmless trailing bytes (a NUL
and a SEP pair, which must change nothing on screen nor move the cursor).
"""

from __future__ import annotations

from typing import Any

import pytest

from terminal_emu import Minitel
from terminal_emu.screen import CODE00


def ch(char: str, **kw: Any) -> dict[str, Any]:
    return {"kind": "char", "char": char, **kw}


def mos(sextants: int, **kw: Any) -> dict[str, Any]:
    return {"kind": "mosaic", "sextants": sextants, **kw}


SP = " "
BLANK = mos(0, bg=0)

# (number, hex bytes, {(row, col): expected fields}, cursor, reply hex, model)
VECTORS: list[tuple[int, str, dict[tuple[int, int], dict[str, Any]], tuple[int, int], str]] = [
    (1, "0C 41 42 43", {(1, 1): ch("A"), (1, 2): ch("B"), (1, 3): ch("C")}, (1, 4), ""),
    (2, "0C 1F 41 68 58 59", {(1, 40): ch("X"), (2, 1): ch("Y")}, (2, 2), ""),
    (3, "0C 08 41", {(24, 40): ch("A")}, (1, 1), ""),
    (4, "0C 1F 58 68 09 41", {(1, 1): ch("A"), (24, 40): BLANK}, (1, 2), ""),
    (5, "0C 1F 58 45 0A 41", {(1, 5): ch("A"), (24, 5): BLANK}, (1, 6), ""),
    (6, "0C 1F 41 45 0B 41", {(24, 5): ch("A"), (1, 5): BLANK}, (24, 6), ""),
    (7, "0C 1F 58 68 41 42", {(24, 40): ch("A"), (1, 1): ch("B")}, (1, 2), ""),
    (8, "0C 41 42 43 0D 44", {(1, 1): ch("D"), (1, 2): ch("B"), (1, 3): ch("C")}, (1, 2), ""),
    (9, "0C 1B 41 1F 45 45 41 1E 42", {(5, 5): ch("A", fg=7), (1, 1): ch("B", fg=7)}, (1, 2), ""),
    (10, "0C 1F 43 45 1B 41 41 1F 40 41 48 49 0A 42",
     {(3, 5): ch("A", fg=1), (0, 1): ch("H", fg=7), (0, 2): ch("I", fg=7),
      (3, 6): ch("B", fg=1)}, (3, 7), ""),
    (11, "0C 1F 40 68 41 42 0A", {(0, 40): ch("B"), (1, 1): BLANK}, (1, 1), ""),
    (12, "0C 1F 31 32 41", {(12, 1): ch("A")}, (12, 2), ""),
    (13, "0C 41 1F 59 41 42", {(1, 1): ch("A"), (1, 2): ch("B")}, (1, 3), ""),
    (14, "0C 41 12 43 42",
     {(1, 1): ch("A"), (1, 2): ch("A"), (1, 3): ch("A"), (1, 4): ch("A"), (1, 5): ch("B")},
     (1, 6), ""),
    (15, "0C 41 12 40 42", {(1, 1): ch("A"), (1, 2): ch("B")}, (1, 3), ""),
    (16, "0C 41 42 43 44 45 08 08 08 18 46",
     {(1, 1): ch("A"), (1, 2): ch("B"), (1, 3): ch("F"),
      **{(1, c): ch(SP) for c in range(4, 41)}}, (1, 4), ""),
    (17, "0C 1B 54 41 42", {(1, 1): ch("A", bg=0), (1, 2): ch("B", bg=0)}, (1, 3), ""),
    (18, "0C 1B 54 20 41 42",
     {(1, 1): ch(SP, bg=4), (1, 2): ch("A", fg=7, bg=4), (1, 3): ch("B", fg=7, bg=4)},
     (1, 4), ""),
    (19, "0C 1B 53 20 20 41",
     {(1, 1): ch(SP, bg=3), (1, 2): ch(SP, bg=3), (1, 3): ch("A", fg=7, bg=3)}, (1, 4), ""),
    (20, "0C 1B 54 20 41 0D 0A 42",
     {(1, 2): ch("A", fg=7, bg=4), (2, 1): ch("B", fg=7, bg=0)}, (2, 2), ""),
    (21, "0C 1B 5A 20 41 1B 59 20 42",
     {(1, 1): ch(SP, underline=False), (1, 2): ch("A", underline=True),
      (1, 3): ch(SP, underline=False), (1, 4): ch("B", underline=False)}, (1, 5), ""),
    (22, "0C 1B 5A 41", {(1, 1): ch("A", underline=False)}, (1, 2), ""),
    (23, "0C 1B 5D 41 1B 5C 42", {(1, 1): ch("A", inverse=True), (1, 2): ch("B", inverse=False)},
     (1, 3), ""),
    (24, "0C 1B 4D 41 42",
     {(1, 1): ch("A", size="normal"), (1, 2): ch("B", size="normal")}, (1, 3), ""),
    (25, "0C 1F 42 41 1B 4D 41 42",
     {(1, 1): ch("A", size="tall", part=[0, 0]), (2, 1): ch("A", size="tall", part=[0, 1]),
      (1, 2): ch("B", size="tall", part=[0, 0]), (2, 2): ch("B", size="tall", part=[0, 1])},
     (2, 3), ""),
    (26, "0C 1B 4E 41 42",
     {(1, 1): ch("A", size="wide", part=[0, 0]), (1, 2): ch("A", size="wide", part=[1, 0]),
      (1, 3): ch("B", size="wide", part=[0, 0]), (1, 4): ch("B", size="wide", part=[1, 0])},
     (1, 5), ""),
    (27, "0C 1F 43 41 1B 4F 41",
     {(2, 1): ch("A", size="double", part=[0, 0]), (2, 2): ch("A", size="double", part=[1, 0]),
      (3, 1): ch("A", size="double", part=[0, 1]), (3, 2): ch("A", size="double", part=[1, 1])},
     (3, 3), ""),
    (28, "0C 1F 42 68 1B 4D 41 42",
     {(1, 40): ch("A", part=[0, 0]), (2, 40): ch("A", part=[0, 1]),
      (3, 1): ch("B", size="tall", part=[0, 0]), (4, 1): ch("B", size="tall", part=[0, 1])},
     (4, 2), ""),
    (29, "0C 1F 42 68 1B 4E 41 42",
     {(2, 40): ch("A", size="normal"), (3, 1): ch("B", size="wide", part=[0, 0]),
      (3, 2): ch("B", size="wide", part=[1, 0])}, (3, 3), ""),
    (30, "0C 0E 21 22 23 5F 7F 20",
     {(1, 1): mos(1), (1, 2): mos(2), (1, 3): mos(3), (1, 4): mos(63), (1, 5): mos(63),
      (1, 6): mos(0)}, (1, 7), ""),
    (31, "0C 0E 1B 54 1B 41 21 0F 41",
     {(1, 1): mos(1, fg=1, bg=4), (1, 2): ch("A", fg=1, bg=4)}, (1, 3), ""),
    (32, "0C 0E 1B 5A 7F 21 0F 0E 21",
     {(1, 1): mos(63, separated=True), (1, 2): mos(1, separated=True),
      (1, 3): mos(1, separated=False)}, (1, 4), ""),
    (33, "0C 1B 5D 1B 4E 0E 0F 41", {(1, 1): ch("A", inverse=False, size="normal")}, (1, 2), ""),
    (34, "0C 19 42 65 19 41 61 19 4B 63", {(1, 1): ch("é"), (1, 2): ch("à"), (1, 3): ch("ç")},
     (1, 4), ""),
    (35, "0C 19 42 41 42", {(1, 1): ch("A"), (1, 2): ch("B")}, (1, 3), ""),
    (36, "0C 19 21 41", {(1, 1): ch("_"), (1, 2): ch("A")}, (1, 3), ""),
    (37, "0C 19 23 19 6A 19 7B", {(1, 1): ch("£"), (1, 2): ch("Œ"), (1, 3): ch("β")}, (1, 4), ""),
    (38, "0C 19 41 65 12 42", {(1, 1): ch("è"), (1, 2): ch("è"), (1, 3): ch("è")}, (1, 4), ""),
    (39, "0C 1B 00 41 42", {(1, 1): ch("B", fg=1)}, (1, 2), ""),
    (40, "0C 13 41 42", {(1, 1): ch("B"), (1, 2): BLANK}, (1, 2), ""),
    (41, "0C 1A 41", {(1, 1): ch("█"), (1, 2): ch("A")}, (1, 3), ""),
    (42, "0C 1B 5B 35 3B 32 35 48 41", {(5, 25): ch("A")}, (5, 26), ""),
    (43, "0C 1F 45 45 41 1B 5B 32 4A 42", {(5, 5): BLANK, (5, 6): ch("B")}, (5, 7), ""),
    (44, "0C 1F 40 41 48 0A 0C", {(0, 1): ch("H")}, (1, 1), ""),
    (45, "0C 1B 41 1B 5D 0A 41", {(2, 1): ch("A", fg=1, inverse=True)}, (2, 2), ""),
    (46, "0C 41 1B 3A 69 43 1F 58 41 42 0A 43",
     {(1, 1): BLANK, (23, 1): ch("B"), (24, 2): ch("C")}, (24, 3), "1B 3A 73 42"),
    (47, "0C 1B 39 7B", {(1, 1): BLANK}, (1, 1), "01 43 75 3C 04"),
    (48, "0C 1B 3A 69 45", {(1, 1): BLANK}, (1, 1), "1B 3A 73 48"),
    (49, "0C 1F 45 45 1B 41 41 1B 39 7F 42",
     {(5, 5): ch("A", fg=1), (5, 6): ch("B", fg=7)}, (5, 7), "13 5E"),
    (50, "0C 1B 3A 32 7D", {(1, 1): BLANK}, (1, 1), "13 70"),
    (51, "0C 72 16 42 65 70", {(1, 1): ch("r"), (1, 2): ch("é"), (1, 3): ch("p")}, (1, 4), ""),
    (52, "0C 16 23 19 23", {(1, 1): ch("£"), (1, 2): ch("£")}, (1, 3), ""),
    (53, "0C 1B 40 1F 45 45 41", {(5, 5): ch("A", fg=7)}, (5, 6), ""),
    (54, "0C 1F 43 45 1B 41 41 1F 44 41 42",
     {(3, 5): ch("A", fg=1), (4, 1): ch("B", fg=7)}, (4, 2), ""),
    (55, "0C 0E 1F 45 45 41", {(5, 5): ch("A")}, (5, 6), ""),
    (56, "0C 1B 4F 1F 4A 45 41",
     {(10, 5): ch("A", size="normal"), (9, 5): BLANK, (10, 6): BLANK}, (10, 6), ""),
    (57, "0C 1B 54 1F 45 45 20 41",
     {(5, 5): ch(SP, bg=0), (5, 6): ch("A", fg=7, bg=0)}, (5, 7), ""),
    (58, "0C 1B 4F 41 42",
     {(1, 1): ch("A", size="normal"), (1, 2): ch("B", size="normal"), (1, 3): BLANK},
     (1, 3), ""),
    (59, "0C 1B 5D 1B 4E 0F 41 42",
     {(1, 1): ch("A", size="normal", inverse=False),
      (1, 2): ch("B", size="normal", inverse=False)}, (1, 3), ""),
    (60, "0C 1F 43 41 1B 4D 41 0F 42",
     {(2, 1): ch("A", size="tall", part=[0, 0]), (3, 1): ch("A", size="tall", part=[0, 1]),
      (3, 2): ch("B", size="normal"), (2, 2): BLANK}, (3, 3), ""),
    (61, "0C 0E 1B 5D 0F 41", {(1, 1): ch("A", inverse=False)}, (1, 2), ""),
    (62, "0C 1B 5A 20 41 0E 0F 1B 54 20 42",
     {(1, 1): ch(SP, underline=False), (1, 2): ch("A", underline=True),
      (1, 3): ch(SP, bg=4, underline=False), (1, 4): ch("B", bg=4, underline=False)},
     (1, 5), ""),
    (63, "0C 1B 4D 41 0A 42",
     {(1, 1): ch("A", size="normal"), (2, 2): ch("B", size="normal"), (1, 2): BLANK},
     (2, 3), ""),
    (64, "0C 1F 42 41 1B 4D 0B 41 0A 42",
     {(1, 1): ch("A", size="normal"), (2, 2): ch("B", size="normal"), (1, 2): BLANK},
     (2, 3), ""),
    (65, "0C 1F 30 30 41 0A 42", {(0, 1): ch("A"), (1, 1): ch("B")}, (1, 2), ""),
    (66, "0C 1F 40 64 41 42 43 44 45",
     {(0, 36): ch("A"), (0, 37): ch(SP), (0, 38): ch(SP), (0, 39): ch("C", inverse=True),
      (0, 40): ch("E")}, (0, 40), ""),
    (67, "0C 1F 40 41 1B 54 20 41 0A",
     {(0, 1): ch(SP, bg=4), (0, 2): ch("A", fg=7, bg=4),
      **{(0, c): mos(0, bg=0) for c in range(3, 37)},
      (0, 37): ch(SP, bg=0), (0, 38): ch(SP, bg=0), (0, 40): ch(SP, bg=0)}, (1, 1), ""),
    (68, "0C 41 0E 12 42", {(1, 1): ch("A"), (1, 2): mos(33), (1, 3): mos(33)}, (1, 4), ""),
    (69, "0C 0E 21 0F 12 42", {(1, 1): mos(1), (1, 2): ch("!"), (1, 3): ch("!")}, (1, 4), ""),
    (70, "0C 20 1B 54 12 42 20 41",
     {(1, 1): ch(SP, bg=0), (1, 2): ch(SP, bg=0), (1, 3): ch(SP, bg=0),
      (1, 4): ch(SP, bg=4), (1, 5): ch("A", fg=7, bg=4)}, (1, 6), ""),
    (71, "0C 12 42 41",
     {(1, 1): ch(CODE00, fg=7), (1, 2): ch(CODE00, fg=7), (1, 3): ch("A")}, (1, 4), ""),
    (72, "0C 41 42 43 1F 41 42 1B 5B 34 68 44 1B 5B 34 6C",
     {(1, 1): ch("A"), (1, 2): ch("D"), (1, 3): ch("C"), (1, 4): BLANK}, (1, 3), ""),
    (73, "0C 41 42 43 1F 41 42 1B 5B 32 40",
     {(1, 1): ch("A"), (1, 2): ch("B"), (1, 3): ch("C"), (1, 4): BLANK}, (1, 2), ""),
    (74, "0C 1F 23 21 30 7F 7F 41",
     {(1, 1): ch("0"), (1, 2): ch("█"), (1, 3): ch("█"), (1, 4): ch("A")}, (1, 5), ""),
    (75, "0C 1F 43 41 1B 4D 41 1F 42 41 42",
     {(2, 1): ch("B", size="normal"), (3, 1): ch("A", size="tall", part=[0, 0])}, (2, 2), ""),
    (76, "0C 1B 4E 41 1B 4C 08 42",
     {(1, 1): ch("A", size="wide", part=[0, 0]), (1, 2): ch("A", size="wide", part=[1, 0])},
     (1, 3), ""),
]

TRAILING = bytes.fromhex("00 13 41 00")


def check(m: Minitel, expected: dict[tuple[int, int], dict[str, Any]],
          cursor: tuple[int, int], reply: str) -> None:
    snap = m.snapshot()
    for (row, col), fields in expected.items():
        cell = snap["cells"][row][col - 1]
        got = {k: cell[k] for k in fields}
        assert got == fields, f"r{row}c{col}: {cell}"
    assert m.cursor == cursor
    assert snap["cursor"]["row"] == cursor[0] and snap["cursor"]["col"] == cursor[1]
    assert m.take_output() == bytes.fromhex(reply)


def test_table_is_complete() -> None:
    assert [v[0] for v in VECTORS] == list(range(1, 77))


_PARAMS = [pytest.param(*v, id=f"v{v[0]}") for v in VECTORS]


@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
@pytest.mark.parametrize(("num", "data", "expected", "cursor", "reply"), _PARAMS)
def test_vector(mode: str, num: int, data: str, expected: dict[tuple[int, int], dict[str, Any]],
                cursor: tuple[int, int], reply: str) -> None:
    m = Minitel()
    raw = bytes.fromhex(data)
    if mode == "bytewise":
        for i in range(len(raw)):
            m.feed(raw[i : i + 1])
    else:
        m.feed(raw + (TRAILING if mode == "trailing" else b""))
    check(m, expected, cursor, reply)


def test_v47_minitel2_enqrom() -> None:
    m = Minitel(model="2")
    m.feed(bytes.fromhex("0C 1B 39 7B"))
    assert m.take_output() == bytes.fromhex("01 42 76 39 04")


def test_us_resets_everything_but_row0_restores_on_lf() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 1B 41 1B 5D 1B 48 1F 45 45 41"))
    check(m, {(5, 5): ch("A", fg=7, inverse=False, blink=False)}, (5, 6), "")
    # entering row 00 saves the page attributes, LF gives them back (vector 10)
    m.feed(bytes.fromhex("1B 42 1F 40 41 48 0A 42"))
    check(m, {(0, 1): ch("H", fg=7), (5, 6): ch("B", fg=2)}, (5, 7), "")


def test_minitel2_keeps_insert_mode_and_csi_at() -> None:
    """The 1B has neither (vectors 72-73); the RTIC Minitel 2 model keeps them."""
    m = Minitel(model="2")
    m.feed(bytes.fromhex("0C 41 42 43 1F 41 42 1B 5B 34 68 44 1B 5B 34 6C"))
    check(m, {(1, 1): ch("A"), (1, 2): ch("D"), (1, 3): ch("B"), (1, 4): ch("C")}, (1, 3), "")
    m.feed(bytes.fromhex("0C 41 42 43 1F 41 42 1B 5B 32 40"))
    check(m, {(1, 1): ch("A"), (1, 2): BLANK, (1, 3): BLANK, (1, 4): ch("B"), (1, 5): ch("C")},
          (1, 2), "")


def test_minitel2_loads_drcs_where_the_1b_shows_the_bytes() -> None:
    """Vector 74 on a Minitel 2: ``US 23 21 30`` opens a load of character 0x21; the
    pattern bytes are not displayed."""
    m = Minitel(model="2")
    m.feed(bytes.fromhex("0C 1F 23 21 30 7F 7F 41"))
    assert m.snapshot()["cells"][1][0] == Minitel().snapshot()["cells"][1][0]  # still blank
    assert m.screen.drcs.glyphs == {} or (1, 0x21) in m.screen.drcs.glyphs


def test_row1_wide_is_kept_but_tall_is_dropped() -> None:
    """Double width works on row 1 (vector 26) and is not dropped by it; double size is
    dropped there like double height (vectors 58, 63)."""
    m = Minitel()
    m.feed(bytes.fromhex("0C 1B 4E 41 0A 08 42"))
    check(m, {(1, 1): ch("A", size="wide"), (2, 2): ch("B", size="wide", part=[0, 0]),
              (2, 3): ch("B", size="wide", part=[1, 0])}, (2, 4), "")


def test_double_height_bottom_half_follows_the_cell_above() -> None:
    """Stacked double-height characters: each pair shows top then bottom; writing over a
    top half makes the stored bottom half show its top (vector 75's rule)."""
    m = Minitel()
    m.feed(bytes.fromhex("0C 1F 43 41 1B 4D 41 1F 45 41 1B 4D 42"))
    check(m, {(2, 1): ch("A", part=[0, 0]), (3, 1): ch("A", part=[0, 1]),
              (4, 1): ch("B", part=[0, 0]), (5, 1): ch("B", part=[0, 1])}, (5, 2), "")
    m.feed(bytes.fromhex("1F 44 41 43"))  # a normal C over B's top half
    check(m, {(4, 1): ch("C", size="normal"), (5, 1): ch("B", size="tall", part=[0, 0])},
          (4, 2), "")


def test_v49_reset_turns_cursor_off() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 11 1B 39 7F"))
    assert not m.cursor_visible
