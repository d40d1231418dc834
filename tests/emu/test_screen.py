"""Screen behaviour of §2-§7 beyond the §12 vectors."""

from __future__ import annotations

from pathlib import Path

from terminal_emu import Minitel

SAMPLES = Path("/work/shared/vdt-samples")


def fed(hexbytes: str, model: str = "1B") -> Minitel:
    m = Minitel(model)
    m.feed(bytes.fromhex(hexbytes))
    return m


def row(m: Minitel, r: int) -> str:
    return m.render_text().splitlines()[r]


def test_rep_with_mosaic_and_wrap() -> None:
    m = fed("0C 41 12 7F")
    assert row(m, 1) == "A" * 40
    assert row(m, 2).startswith("A" * 24 + " ")
    m = fed("0C 0E 7F 12 42")
    assert row(m, 1).startswith("███ ")


def test_accent_repeated_keeps_last() -> None:
    assert row(fed("0C 19 42 19 41 65"), 1).startswith("è")


def test_ss2_ignored_in_g1() -> None:
    m = fed("0C 0E 19 21")
    assert m.snapshot()["cells"][1][0]["kind"] == "mosaic"
    assert m.cursor == (1, 2)


def test_after_error_rule() -> None:
    assert fed("0C 1B 0A 41").cursor == (2, 2)
    assert fed("0C 19 0A 41").cursor == (2, 2)
    assert fed("0C 12 0A 41").cursor == (2, 2)
    m = fed("0C 1B 30 41")  # unknown ESC pair swallowed
    assert row(m, 1).startswith("A ") and m.errors == 1


def test_pending_zone_survives_chars_and_lf() -> None:
    m = fed("0C 1B 54 41 42 20 43")
    cells = m.snapshot()["cells"][1]
    assert [c["bg"] for c in cells[:4]] == [0, 0, 4, 4]
    m = fed("0C 1B 54 0A 20 41")
    assert m.snapshot()["cells"][2][1]["bg"] == 4


def test_overwriting_delimiter_removes_zone() -> None:
    m = fed("0C 1B 54 20 41 42 0D 43")
    assert [c["bg"] for c in m.snapshot()["cells"][1][:3]] == [0, 0, 0]


def test_space_after_us_is_not_delimiter() -> None:
    m = fed("0C 1B 54 1F 41 41 20 41")
    assert m.snapshot()["cells"][1][1]["bg"] == 0


def test_masking_and_global_reveal() -> None:
    m = fed("0C 1B 58 20 53 45 43 52 45 54")
    assert row(m, 1).strip() == ""
    assert m.snapshot()["cells"][1][1]["masked"]
    m.feed(bytes.fromhex("1B 23 20 5F"))
    assert row(m, 1).startswith(" SECRET")
    assert not m.snapshot()["cells"][1][1]["masked"]
    m.feed(bytes.fromhex("1B 23 20 58"))
    assert row(m, 1).strip() == ""


def test_screen_transparency() -> None:
    m = fed("0C 1B 25 41 42 1B 25 40 43")
    assert row(m, 1).startswith("C ")
    m = fed("0C 1B 25 41 1B 2F 3F 44")
    assert row(m, 1).startswith("D ")


def test_csi_moves_stop_at_edges_and_erase() -> None:
    m = fed("0C 1B 5B 39 39 41 1B 5B 39 39 44")
    assert m.cursor == (1, 1)
    m = fed("0C 1B 5B 39 39 42 1B 5B 39 39 43")
    assert m.cursor == (24, 40)
    m = fed("0C 41 42 43 44 08 08 1B 5B 4B")
    assert row(m, 1).startswith("AB  ")
    m = fed("0C 41 42 43 44 08 08 08 1B 5B 32 50")
    assert row(m, 1).startswith("AD  ")


def test_csi_ignored_in_row0() -> None:
    m = fed("1F 40 45 1B 5B 35 43")
    assert m.cursor == (0, 5)


def test_roll_mode_vt_scrolls_down() -> None:
    m = fed("0C 41 1B 3A 69 43 1E 0B 42")
    assert row(m, 1).startswith("B ") and row(m, 2).startswith("A ")


def test_double_height_overflow_from_bottom_goes_to_row2() -> None:
    m = fed("0C 1F 58 68 1B 4D 41 42")
    assert m.snapshot()["cells"][24][39]["part"] == [0, 1]
    assert m.snapshot()["cells"][2][0]["char"] == "B"
    assert m.cursor == (2, 2)


def test_double_width_in_row0_is_ignored() -> None:
    m = fed("1F 40 41 1B 4E 41")
    assert m.snapshot()["cells"][0][0]["size"] == "normal"


def test_sub_and_can_in_g1() -> None:
    m = fed("0C 1B 54 0E 21 18")
    cells = m.snapshot()["cells"][1]
    assert cells[1]["kind"] == "mosaic" and cells[1]["bg"] == 4 and cells[39]["bg"] == 4


def test_text_glyph_mapping() -> None:
    m = fed("0C 5E 5F 60 7B 7C 7D 7E 7F 2F 5C")
    assert row(m, 1).startswith("↑_─▏│▕▔█/\\")


def test_drcs_sample_loads_glyphs_on_a_minitel2_only() -> None:
    data = (SAMPLES / "miedit-minitel-wants-you.vdt").read_bytes()
    m = Minitel("2")
    m.feed(data)
    assert len(m.screen.drcs.glyphs) > 50
    chars = [c["char"] for r in m.snapshot()["cells"] for c in r if c["kind"] == "char"]
    assert any(ch and 0xE000 <= ord(ch) < 0xE200 for ch in chars)
    one_b = Minitel()  # §12 vector 74: the 1B loads nothing and draws no DRCS
    one_b.feed(data)
    assert one_b.screen.drcs.glyphs == {}
    chars = [c["char"] for r in one_b.snapshot()["cells"] for c in r if c["kind"] == "char"]
    assert not any(ch and 0xE000 <= ord(ch) < 0xE200 for ch in chars)


def test_drcs_small_definition() -> None:
    # header, then character 0x21: top row full, rest empty; select DRCS G0 and show it
    data = "0C 1F 23 20 20 20 42 49 1F 23 21 30 7F 70" + " 40" * 12 + " 30 1F 41 41 1B 28 20 42 21"
    m = fed(data, model="2")
    assert m.screen.drcs.glyph(1, 0x21) == (0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert m.snapshot()["cells"][1][0]["char"] == chr(0xE021)
    m.feed(bytes.fromhex("1B 28 40 21"))
    assert m.snapshot()["cells"][1][1]["char"] == "!"


def test_g1_0x40_to_0x5e_drawn_like_0x60_to_0x7e() -> None:
    m = fed("0C 0E 41 61 5E 7E")
    cells = m.snapshot()["cells"][1]
    assert cells[0]["sextants"] == cells[1]["sextants"] == 0x21
    assert cells[2]["sextants"] == cells[3]["sextants"]


def test_insert_mode_and_row_insert_delete() -> None:
    m = fed("0C 41 42 43 1E 1B 5B 34 68 58 1B 5B 34 6C 59", model="2")
    assert row(m, 1).startswith("XYBC")  # X inserted, then Y overwrites A
    m = fed("0C 41 42 43 1E 1B 5B 34 68 58 1B 5B 34 6C 59")
    assert row(m, 1).startswith("XYC")  # the 1B has no insert mode (vector 72)
    m = fed("0C 41 0D 0A 42 1E 1B 5B 4C")
    assert row(m, 1).strip() == "" and row(m, 2).startswith("A") and row(m, 3).startswith("B")
    m.feed(bytes.fromhex("1B 5B 32 4D"))
    assert row(m, 1).startswith("B")


def test_csi_insert_characters() -> None:
    m = fed("0C 41 42 43 1E 1B 5B 32 40", model="2")
    assert row(m, 1).startswith("  ABC")
    assert row(fed("0C 41 42 43 1E 1B 5B 32 40"), 1).startswith("ABC ")  # 1B: vector 73


def test_invalid_alternate_us_is_consumed() -> None:
    m = fed("0C 41 1F 32 35 42")  # row 25 does not exist
    assert row(m, 1).startswith("AB") and m.errors == 1
