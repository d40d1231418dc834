"""Protocol replies and terminal state (§9) beyond the §12 vectors."""

from __future__ import annotations

import pytest

from terminal_emu import Minitel


@pytest.mark.parametrize(("command", "reply"), [
    ("1B 39 70", "1B 3A 71 5A"),
    ("1B 39 72", "1B 3A 73 40"),
    ("1B 39 74", "1B 3A 75 64"),
    ("1B 39 76", "1B 3A 77 43"),
    ("1B 3B 60 58 52", "1B 3B 63 58 41"),
    ("1B 3B 60 5A 51", "1B 3B 63 5A 4C"),
    ("1B 3B 61 58 51", "1B 3B 63 58 47"),
    ("1B 3A 62 58", "1B 3B 63 58 45"),
    ("1B 3A 62 5A", "1B 3B 63 5A 4E"),
    ("1B 3A 62 5B", "1B 3B 63 5B 4C"),
    ("1B 3A 6A 43", "1B 3A 73 40"),
    ("1B 3A 32 7E", "13 71"),
    ("1B 3A 31 7D", "1B 5B 3F 7A"),
    ("1B 3A 66 02", "13 57"),
    ("1B 3A 6B 76", ""),  # PROG from the modem is ignored (§9)
])
def test_replies(command: str, reply: str) -> None:
    m = Minitel()
    m.feed(bytes.fromhex(command))
    assert m.take_output() == bytes.fromhex(reply)


def test_prog_on_the_socket_answers_at_the_new_speed() -> None:
    m = Minitel(link="socket")
    m.feed(bytes.fromhex("1B 3A 6B 76"))
    assert m.take_output() == bytes.fromhex("1B 3A 75 76")
    m.feed(bytes.fromhex("1B 3A 6B 7F"))  # 9600 is Minitel 2 only: old speed kept
    assert m.take_output() == bytes.fromhex("1B 3A 75 76")
    m2 = Minitel(model="2", link="socket")
    m2.feed(bytes.fromhex("1B 3A 6B 7F"))
    assert m2.take_output() == bytes.fromhex("1B 3A 75 7F")


def test_cursor_position_request() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 41 42 43 1B 61"))
    assert m.take_output() == bytes.fromhex("1F 41 44")
    m.feed(bytes.fromhex("1F 40 45 41 1B 61"))
    assert m.take_output() == bytes.fromhex("1F 40 46")


def test_screen_modem_link_cut_blanks_server_bytes_but_keeps_protocol() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 1B 3B 60 58 52") + b"HIDDEN" + bytes.fromhex("1B 39 7B"))
    assert m.take_output() == bytes.fromhex("1B 3B 63 58 41 01 43 75 3C 04")
    assert "HIDDEN" not in m.render_text()
    m.feed(bytes.fromhex("1B 3B 61 58 52") + b"SHOWN")
    assert m.render_text().splitlines()[1].startswith("SHOWN")


def test_protocol_transparency_skips_n_bytes() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 1B 3A 66 03") + b"XYZAB")
    assert m.render_text().splitlines()[1].startswith("AB ")


def test_pro_sequence_inside_us_is_parsed_first() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("0C 1F 1B 39 7B 41"))
    assert m.take_output() == bytes.fromhex("01 43 75 3C 04")
    assert m.render_text().splitlines()[1].startswith("A")


def test_reset_restores_roll_and_routing() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("1B 3A 69 43 1B 3B 60 58 52 1B 39 7F 1B 39 72 1B 3A 62 58"))
    assert m.take_output() == bytes.fromhex(
        "1B 3A 73 42 1B 3B 63 58 41 13 5E 1B 3A 73 40 1B 3B 63 58 45")


def test_status_row_shows_connected() -> None:
    m = Minitel()
    cell = m.snapshot()["cells"][0][38]
    assert cell["char"] == "C" and cell["inverse"]
    m.feed(bytes.fromhex("1B 39 67"))
    assert m.snapshot()["cells"][0][38]["char"] == "F"


def test_unknown_model_is_named() -> None:
    with pytest.raises(ValueError, match="'3'"):
        Minitel(model="3")
