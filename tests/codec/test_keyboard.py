"""Keyboard decoder: flush, garbage, splits, and the fuzz rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Key, Minitel
from videotex.codec import (
    CharEvent,
    CursorKey,
    CursorKeyEvent,
    FunctionKey,
    FunctionKeyEvent,
    KeyboardDecoder,
    ProtocolReplyEvent,
)


def test_lone_esc_waits_for_flush() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x1b") == []
    assert d.pending == b"\x1b"
    assert d.flush() == [CursorKeyEvent(CursorKey.ESCAPE)]
    assert d.feed(b"[A") == [CharEvent("["), CharEvent("A")]  # no longer a sequence


def test_accent_waits_for_its_letter_across_flush() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x19\x42") == []
    assert d.flush() == []  # the user may be between the two keys
    assert d.feed(b"e") == [CharEvent("é")]
    assert d.garbage == 0


def test_incomplete_sequence_dropped_by_flush_is_counted() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x1b:q") == []
    assert d.flush() == []
    assert d.garbage == 3
    assert d.feed(b"A") == [CharEvent("A")]


def test_control_breaking_a_sequence_is_decoded_on_its_own() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x13\x0d") == [CursorKeyEvent(CursorKey.ENTER)]
    assert d.garbage == 1
    assert d.feed(b"\x19\x42\x13\x41") == [FunctionKeyEvent(FunctionKey.ENVOI)]
    assert d.garbage == 3


def test_garbage_is_skipped_and_counted() -> None:
    d = KeyboardDecoder()
    assert d.feed(b"\x05\x1b\x30A\x80") == [CharEvent("A")]
    assert d.garbage == 4


def test_emulated_keyboard_through_the_decoder() -> None:
    m = Minitel()
    d = KeyboardDecoder()
    events = d.feed(m.type("Nom"))
    events += d.feed(m.press(Key.ENVOI))
    assert events[-1] == FunctionKeyEvent(FunctionKey.ENVOI)
    assert "".join(e.text for e in events if isinstance(e, CharEvent)).upper() == "NOM"


def test_enqrom_reply_from_the_emulator() -> None:
    m = Minitel()
    m.feed(b"\x1b\x39\x7b")
    (ev,) = KeyboardDecoder().feed(m.take_output())
    assert isinstance(ev, ProtocolReplyEvent) and ev.kind == "enqrom"
    assert ev.detail["model"] == "Minitel 1B"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64), st.integers(1, 8))
def test_any_bytes_give_events_never_raise(data: bytes, step: int) -> None:
    whole = KeyboardDecoder()
    events = whole.feed(data) + whole.flush()
    split = KeyboardDecoder()
    got = []
    for i in range(0, len(data), step):
        got += split.feed(data[i : i + step])
    got += split.flush()
    assert got == events  # splitting never changes the result
    assert split.garbage == whole.garbage
    assert whole.garbage <= len(data)
    # still usable afterwards
    assert whole.feed(b"\x13\x41") == [FunctionKeyEvent(FunctionKey.ENVOI)]
