"""Keyboard bytes per §8, echo per the routing (§9)."""

from __future__ import annotations

import pytest

from terminal_emu import Key, Minitel


@pytest.mark.parametrize(("key", "code"), [
    (Key.ENVOI, "13 41"), (Key.RETOUR, "13 42"), (Key.REPETITION, "13 43"),
    (Key.GUIDE, "13 44"), (Key.ANNULATION, "13 45"), (Key.SOMMAIRE, "13 46"),
    (Key.CORRECTION, "13 47"), (Key.SUITE, "13 48"), (Key.CONNEXION_FIN, "13 49"),
])
def test_function_keys(key: Key, code: str) -> None:
    m = Minitel()
    assert m.press(key) == bytes.fromhex(code)
    assert m.take_output() == bytes.fromhex(code)


@pytest.mark.parametrize(("text", "code"), [
    ("abc", "61 62 63"), ("ABC", "41 42 43"), ("é", "19 42 65"), ("è", "19 41 65"),
    ("à", "19 41 61"), ("ù", "19 41 75"), ("û", "19 43 75"), ("ç", "19 4B 63"),
    ("ë", "19 48 65"), ("£", "19 23"), ("β", "19 7B"), ("Œ", "19 6A"), ("°", "19 30"),
    ("\r", "0D"), ("É", "19 42 45"),
])
def test_type(text: str, code: str) -> None:
    m = Minitel()
    assert m.type(text) == bytes.fromhex(code)
    assert m.take_output() == bytes.fromhex(code)


def test_type_rejects_untypable_character() -> None:
    with pytest.raises(ValueError, match="U\\+263A"):
        Minitel().type("ok ☺")


def test_arrows_send_nothing_on_standard_keyboard() -> None:
    m = Minitel()
    assert m.press(Key.UP) == b""
    assert m.take_output() == b""


def test_extended_keyboard_csi_then_c0() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("1B 3B 69 59 41"))
    assert m.take_output() == bytes.fromhex("1B 3B 73 59 41")
    assert m.press(Key.UP) == b"\x1b[A"
    assert m.press(Key.LEFT) == b"\x1b[D"
    assert m.press(Key.SHIFT_RIGHT) == b"\x1b[4h"
    assert m.press(Key.SHIFT_RIGHT) == b"\x1b[4l"
    assert m.press(Key.CTRL_ENTER) == b"\x1b[2J"
    m.feed(bytes.fromhex("1B 3B 69 59 43"))
    assert m.take_output().endswith(bytes.fromhex("1B 3B 73 59 45"))
    assert m.press(Key.UP) == b"\x0b"
    assert m.press(Key.RIGHT) == b"\x09"
    assert m.press(Key.SHIFT_ENTER) == b"\x1e"


def test_no_echo_by_default_when_connected() -> None:
    m = Minitel()
    m.feed(b"\x0c")
    m.type("AB")
    assert m.render_text().splitlines()[1].strip() == ""


def test_echo_when_screen_linked_to_keyboard() -> None:
    m = Minitel()
    m.feed(b"\x0c" + bytes.fromhex("1B 3B 61 58 51"))
    assert m.take_output() == bytes.fromhex("1B 3B 63 58 47")
    m.type("é!")
    assert m.render_text().splitlines()[1].startswith("é!")
    assert m.cursor == (1, 3)


def test_keyboard_status_reports_modes() -> None:
    m = Minitel()
    m.feed(bytes.fromhex("1B 3A 72 59"))
    assert m.take_output() == bytes.fromhex("1B 3B 73 59 40")
