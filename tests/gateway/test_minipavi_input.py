"""The input a MiniPavi gateway edits itself (videotex.protocols.minipavi_input), against §4
of the protocol reference: the key decoder, the three editors, one read at a time."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from videotex.codec import FunctionKey as K
from videotex.protocols.minipavi import Command, GatewayError
from videotex.protocols.minipavi_input import (
    FCTN,
    Editor,
    InputForm,
    InputMsg,
    InputTxt,
    KeyAction,
    KeyDecoder,
    ReadResult,
    Token,
    handle_read,
    make_editor,
    php_int,
    token_bytes,
)

SEND, LOCAL, IGNORE = KeyAction.SEND, KeyAction.LOCAL, KeyAction.IGNORE


def pos(row: int, col: int) -> bytes:
    return bytes((0x1F, 0x40 + row, 0x40 + col))


# -- the key decoder ------------------------------------------------------------------------

DECODER_VECTORS: list[tuple[bytes, list[Token]]] = [
    (b"\x13A", [K.ENVOI]), (b"\x13B", [K.RETOUR]), (b"\x13C", [K.REPETITION]),
    (b"\x13D", [K.GUIDE]), (b"\x13E", [K.ANNULATION]), (b"\x13F", [K.SOMMAIRE]),
    (b"\x13G", [K.CORRECTION]), (b"\x13H", [K.SUITE]), (b"\x13I", [K.CONNEXION_FIN]),
    (b"\x13Y", [K.CONNEXION_FIN]),
    (b"\x13Z", []), (b"\x13\x13", []), (b"\x13a", []),
    (b"ab", [0x61, 0x62]),
    (b"\x19Be", [0x19, 0x42, 0x65]),
    (b"\x1b\x39\x70", []), (b"\x1b\x3a\x70\x71", []), (b"\x1b\x3b\x70\x71\x72", []),
    (b"\x1b\x3a\x13\x41", []),  # the bytes of a PRO2 reply are not keys
    (b"\x1b[A", [K.RETOUR]), (b"\x1b[B", [K.SUITE]), (b"\x1b[D", [K.CORRECTION]),
    (b"\x1b[C", [0x20]),
    (b"\x01Cv;\x04", []),
    (b"\x0dx", []), (b"\x0d\x13A", [0x41]),
    (b"\x1bx", [0x1B, 0x78]), (b"\x1b[Z", [0x1B, 0x5B, 0x5A]),
    (b"\x01abcX", [0x01, 0x61, 0x62, 0x63, 0x58]),
    (b"A\x1b[AB\x13A", [0x41, K.RETOUR, 0x42, K.ENVOI]),
]


def feed_split(decoder: KeyDecoder, data: bytes, cuts: list[int]) -> list[Token]:
    tokens: list[Token] = []
    start = 0
    for cut in [*cuts, len(data)]:
        tokens += decoder.feed(data[start:cut])
        start = cut
    return tokens


@pytest.mark.parametrize(("data", "tokens"), DECODER_VECTORS)
def test_decoder_whole_byte_by_byte_and_with_trailing_bytes(data: bytes,
                                                            tokens: list[Token]) -> None:
    assert KeyDecoder().feed(data) == tokens
    assert feed_split(KeyDecoder(), data, list(range(1, len(data)))) == tokens
    for cut in range(len(data) + 1):
        assert feed_split(KeyDecoder(), data, [cut]) == tokens
    decoder = KeyDecoder()
    assert decoder.feed(data + b"z\x13A") == [*tokens, 0x7A, K.ENVOI]
    assert not decoder.pending


def test_identification_is_kept() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"\x01C") == [] and decoder.pending and decoder.identification is None
    assert decoder.feed(b"v;\x04a") == [0x61]
    assert decoder.identification == "Cv;"


def test_a_lone_sep_waits_for_the_next_read() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"ab\x13") == [0x61, 0x62] and decoder.pending
    assert decoder.feed(b"A") == [K.ENVOI] and not decoder.pending


def test_a_carriage_return_eats_the_first_byte_of_the_next_read() -> None:
    decoder = KeyDecoder()
    assert decoder.feed(b"a\x0d") == [0x61] and decoder.pending
    assert decoder.feed(b"Xb") == [0x62]


def test_token_bytes() -> None:
    assert token_bytes(K.CONNEXION_FIN) == b"\x13I" and token_bytes(0x41) == b"A"
    assert {FCTN[k] for k in K} == {"ENVOI", "RETOUR", "REPETITION", "GUIDE", "ANNULATION",
                                    "SOMMAIRE", "CORRECTION", "SUITE", "FIN"}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64), st.lists(st.integers(0, 64), max_size=6))
def test_decoder_takes_any_bytes_split_anywhere(data: bytes, cuts: list[int]) -> None:
    whole = KeyDecoder().feed(data)
    cuts = sorted(c for c in cuts if c <= len(data))
    assert feed_split(KeyDecoder(), data, cuts) == whole
    assert all(isinstance(t, K) or 0 <= t <= 255 for t in whole)
    assert 0x13 not in whole


# -- drawing, defaults and clamps ------------------------------------------------------------

def test_input_txt_worked_example() -> None:
    editor = InputTxt({"x": 13, "y": 10, "l": 10, "char": "", "spacechar": ".", "prefill": "",
                       "cursor": "on", "validwith": 128})
    assert editor.draw() == bytes.fromhex("1F 4A 4D 2E 12 49 1F 4A 4D 11")
    assert editor.content() == [""]


@pytest.mark.parametrize(("param", "x", "y", "length"), [
    ({}, 1, 0, 1),  # (int)null is 0, a valid row: a field without y is on row 0
    ({"x": 40, "y": 24, "l": 1}, 40, 24, 1),
    ({"x": 0, "y": 0, "l": 40}, 1, 0, 40),
    ({"x": 41, "y": 25, "l": 5}, 1, 1, 5),
    ({"x": -3, "y": -1, "l": 0}, 1, 1, 1),
    ({"x": 30, "y": 2, "l": 11}, 30, 2, 11),
    ({"x": 30, "y": 2, "l": 12}, 30, 2, 1),
    ({"x": "13", "y": "10abc", "l": "x"}, 13, 10, 1),
    ({"x": 13.9, "y": True, "l": [1]}, 13, 1, 1),
    ({"x": None, "y": {}, "l": "  7"}, 1, 0, 7),
])
def test_input_txt_defaults_and_clamps(param: dict[str, Any], x: int, y: int,
                                       length: int) -> None:
    f = InputTxt(param).fields[0]
    assert (f.col, f.row, f.length) == (x, y, length)
    assert InputTxt(param).draw() == (pos(y, x) + b" \x12" + bytes((0x40 + length - 1,))
                                      + pos(y, x) + b"\x11")


@pytest.mark.parametrize(("param", "tail"), [
    ({"cursor": "off"}, b"\x14"), ({"cursor": "yes"}, b"\x11"), ({"cursor": None}, b"\x11"),
    ({"prefill": "é", "l": 3}, b"\x11\x19Be"), ({"prefill": "abcdef", "l": 3}, b"\x11abc"),
    ({"prefill": 42, "l": 3}, b"\x11" + b"42"),
    ({"prefill": "€uro", "l": 4}, b"\x11EURu"),  # as many characters as cells
])
def test_input_txt_cursor_and_prefill(param: dict[str, Any], tail: bytes) -> None:
    assert InputTxt(param).draw().endswith(tail)


def test_a_prefill_comes_back_as_the_field_shows_it() -> None:
    editor = InputTxt({"prefill": "€ñé", "l": 5})
    assert editor.content() == ["EURné"] and editor.field.count == 5
    form = InputForm({"x": [1], "y": [1], "l": [2], "prefill": ["Œuf"]})
    assert form.content() == ["Œu"] and form.draw().endswith(pos(1, 3) + b"\x11")


@pytest.mark.parametrize(("spacechar", "shown"), [
    (None, b" "), ("", b" "), (".", b"."), ("-=", b"-"), ("é", b"\x19Be"), (0, b"0"),
])
def test_spacechar(spacechar: Any, shown: bytes) -> None:
    assert InputTxt({"spacechar": spacechar, "l": 2}).draw()[3:-4] == shown + b"\x12\x41"


@pytest.mark.parametrize(("cls", "param"), [
    (InputTxt, {"prefill": ["a"]}), (InputTxt, {"spacechar": {"a": 1}}),
    (InputTxt, {"char": [1]}), (InputTxt, {"validwith": "abc"}), (InputTxt, {"validwith": [1]}),
    (InputMsg, {"prefill": [["a"]]}), (InputMsg, {"validwith": {"a": 1}}),
    (InputForm, {"x": 5, "y": [1], "l": [1]}), (InputForm, {"x": [1], "y": [1], "l": ["abc"]}),
    (InputForm, {"x": [[1]], "y": [1], "l": [1]}), (InputForm, {"x": [1], "y": [{}], "l": [1]}),
    (InputForm, {"prefill": [{"a": 1}]}),
])
def test_bad_parameter_types_are_err_10(cls: type[Editor], param: dict[str, Any]) -> None:
    with pytest.raises(GatewayError) as info:
        make_editor(Command(cls.name, param))
    assert info.value.code == 10 and info.value.message == "Commande mal formée"
    assert info.value.detail.startswith(f"Exception: {cls.name} param ")


def test_make_editor() -> None:
    assert isinstance(make_editor(Command("InputMsg")), InputMsg)
    assert isinstance(make_editor(Command("InputForm")), InputForm)
    assert make_editor(Command("libCnx")) is None


@pytest.mark.parametrize(("value", "number"), [
    (5, 5), ("12abc", 12), (" -3", -3), ("abc", 0), ("", 0), (2.9, 2), (float("inf"), 0),
    (True, 1), (None, 0), ([], 0), ([0], 1), ({}, 0), ("+4", 4), ("9" * 30, 2**63 - 1), ("-" + "9" * 30, -(2**63)),
])
def test_php_int(value: Any, number: int) -> None:
    assert php_int(value) == number


@pytest.mark.parametrize(("param", "x", "y", "w", "h", "validwith"), [
    ({}, 1, 1, 40, 24, 128),
    ({"x": 5, "y": 20, "w": 10, "h": 3, "validwith": 8}, 5, 20, 10, 3, 8),
    ({"x": 5, "y": 0, "w": 37, "h": 25, "validwith": -1}, 5, 1, 36, 24, 128),
    ({"x": 41, "y": 25, "w": 0, "h": 0}, 1, 1, 40, 24, 128),
    ({"x": 10, "y": 24, "w": 31, "h": 1}, 10, 24, 31, 1, 128),
])
def test_input_msg_defaults_and_clamps(param: dict[str, Any], x: int, y: int, w: int, h: int,
                                       validwith: int) -> None:
    editor = InputMsg(param)
    assert [(f.col, f.row, f.length) for f in editor.fields] == [(x, y + i, w) for i in range(h)]
    assert editor.validwith == validwith
    blank = b"".join(pos(y + i, x) + b" \x12" + bytes((0x40 + w - 1,)) for i in range(h))
    assert editor.draw() == blank + pos(y, x) + b"\x11"
    assert editor.content() == [""] * h


def test_input_msg_prefill() -> None:
    editor = InputMsg({"x": 2, "y": 3, "w": 5, "h": 4, "spacechar": ".",
                       "prefill": ["ab", "", "cdéfgh", "  ", "zz"], "cursor": "off"})
    line = [pos(3 + i, 2) + b".\x12\x44" for i in range(4)]
    assert editor.draw() == (line[0] + pos(3, 2) + b"ab" + line[1] + pos(4, 2)
                             + line[2] + pos(5, 2) + b"cd\x19Befg" + line[3]
                             + pos(5, 7) + b"\x14")
    assert editor.content() == ["ab", "", "cdéfg", "  "]
    assert editor.current == 2


@pytest.mark.parametrize(("param", "fields", "validwith"), [
    ({}, [(1, 1, 10)], 128),
    ({"x": [1, 5], "y": [2, 3], "l": [4, 99], "validwith": 4}, [(1, 2, 4), (5, 3, 36)], 128),
    ({"x": [1, 5], "y": [2], "l": [4, 5]}, [(1, 1, 10)], 128),
    ({"x": [], "y": [], "l": []}, [(1, 1, 10)], 128),
    ({"x": [1] * 31, "y": [1] * 31, "l": [1] * 31}, [(1, 1, 10)], 128),
    ({"x": [2] * 30, "y": list(range(1, 31)), "l": [3] * 30, "validwith": 16},
     [(2, min(r, 24) if r <= 24 else 1, 3) for r in range(1, 31)], 16),
    ({"x": [0, 41], "y": [0, 25], "l": [0, -1], "validwith": 0}, [(1, 1, 40), (1, 1, 40)], 128),
    ({"x": ["3"], "y": [2.5], "l": [True], "validwith": 128}, [(3, 2, 1)], 128),
    ({"x": {"a": 7}, "y": {"b": 8}, "l": {"c": 9}, "validwith": 24}, [(7, 8, 9)], 24),
])
def test_input_form_defaults_and_clamps(param: dict[str, Any],
                                        fields: list[tuple[int, int, int]],
                                        validwith: int) -> None:
    editor = InputForm(param)
    assert [(f.col, f.row, f.length) for f in editor.fields] == fields
    assert editor.validwith == validwith
    assert editor.spacechar == b"."
    assert editor.content() == [""] * len(fields)


def test_input_form_draws_fields_then_prefills_then_the_cursor() -> None:
    editor = InputForm({"x": [10, 10], "y": [5, 7], "l": [6, 4], "prefill": ["Jean", "secret"],
                        "char": ["", "*"], "spacechar": "_"})
    assert editor.draw() == (pos(5, 10) + b"_\x12\x45" + pos(7, 10) + b"_\x12\x43"
                             + pos(5, 10) + b"Jean" + pos(7, 10) + b"secr" + pos(5, 14) + b"\x11")
    assert editor.content() == ["Jean", "secr"]


# -- keys, per editor -----------------------------------------------------------------------

def txt(validwith: int = 128, **param: Any) -> InputTxt:
    return InputTxt({"x": 5, "y": 3, "l": 6, "spacechar": ".", "validwith": validwith, **param})


def msg(validwith: int = 128, **param: Any) -> InputMsg:
    return InputMsg({"x": 5, "y": 3, "w": 4, "h": 3, "spacechar": ".", "validwith": validwith,
                     **param})


def form(validwith: int = 128, **param: Any) -> InputForm:
    return InputForm({"x": [5, 20, 5], "y": [3, 3, 6], "l": [4, 3, 2], "spacechar": ".",
                      "validwith": validwith, **param})


EDITORS = {"InputTxt": txt, "InputMsg": msg, "InputForm": form}
VALIDATING = [K.ENVOI, K.REPETITION, K.GUIDE]
# validwith 2 is the Annulation bit, never consulted: nothing validates, nothing defaults.
KEY_TABLE: list[tuple[str, K, KeyAction, KeyAction]] = [
    *[(e, k, SEND, IGNORE) for e in EDITORS for k in VALIDATING],
    ("InputTxt", K.SOMMAIRE, SEND, IGNORE), ("InputMsg", K.SOMMAIRE, SEND, IGNORE),
    ("InputForm", K.SOMMAIRE, SEND, SEND),
    ("InputTxt", K.SUITE, SEND, IGNORE), ("InputTxt", K.RETOUR, SEND, IGNORE),
    ("InputMsg", K.SUITE, LOCAL, LOCAL), ("InputMsg", K.RETOUR, LOCAL, LOCAL),
    ("InputForm", K.SUITE, LOCAL, LOCAL), ("InputForm", K.RETOUR, LOCAL, LOCAL),
    *[(e, K.CORRECTION, LOCAL, LOCAL) for e in EDITORS],
    *[(e, K.ANNULATION, LOCAL, LOCAL) for e in EDITORS],
    *[(e, K.CONNEXION_FIN, SEND, SEND) for e in EDITORS],
]


@pytest.mark.parametrize(("name", "key", "allowed", "refused"), KEY_TABLE)
def test_key_table(name: str, key: K, allowed: KeyAction, refused: KeyAction) -> None:
    assert EDITORS[name](255).key(key)[0] is allowed
    assert EDITORS[name](2).key(key)[0] is refused


@pytest.mark.parametrize("bit_key", [(1, K.SOMMAIRE), (4, K.RETOUR), (8, K.REPETITION),
                                     (16, K.GUIDE), (64, K.SUITE), (128, K.ENVOI)])
def test_validwith_bits(bit_key: tuple[int, K]) -> None:
    bit, key = bit_key
    editor = txt(bit)
    assert editor.key(key) == (SEND, b"")
    others = [k for k in (K.SOMMAIRE, K.RETOUR, K.REPETITION, K.GUIDE, K.SUITE, K.ENVOI)
              if k is not key]
    assert all(editor.key(k) == (IGNORE, b"") for k in others)


def typed(editor: Editor, text: bytes, echo: bool = True) -> bytes:
    return b"".join(editor.char(b, echo) for b in text)


@pytest.mark.parametrize("name", list(EDITORS))
def test_correction_and_annulation(name: str) -> None:
    editor = EDITORS[name]()
    f = editor.field
    assert editor.key(K.CORRECTION) == (LOCAL, b"")  # empty: nothing
    assert editor.key(K.ANNULATION) == (LOCAL, b"")
    assert typed(editor, b"a\x19Be") == b"a\x19Be"
    assert editor.key(K.CORRECTION) == (LOCAL, b"\x08.\x08")
    assert editor.content()[0] == "a"
    typed(editor, b"bc")
    assert editor.key(K.ANNULATION) == (LOCAL, pos(f.row, f.col) + b".\x12\x42"
                                        + pos(f.row, f.col))
    assert editor.content()[0] == ""


def test_typing_echo_mask_overflow_and_quirks() -> None:
    editor = txt(char="*")
    assert typed(editor, b"ab\x19Be") == b"*****"  # one mask per byte, as the gateway echoes
    assert typed(editor, b"\x07\x1b") == b""  # not field characters
    assert typed(editor, b"\x08") == b"*"  # 0x08 is taken (quirk)
    assert typed(editor, b"cdef") == b"**"  # l=6 characters: a, b, é, BS, c, d; then overflow
    assert editor.content() == ["abé\x08cd"]
    assert editor.field.count == 6
    quiet = txt()
    assert typed(quiet, b"xy", echo=False) == b""
    assert quiet.content() == ["xy"]


def test_a_full_field_drops_the_rest_even_an_accent() -> None:
    editor = txt()
    typed(editor, b"abcde")
    assert typed(editor, b"\x19Be\x19Be") == b"\x19Be"
    assert editor.content() == ["abcdeé"]
    assert typed(editor, b"z") == b""


def test_input_msg_moves_and_auto_advance() -> None:
    editor = msg()
    assert editor.key(K.RETOUR) == (LOCAL, b"")  # first line: no-op
    assert typed(editor, b"abcd") == b"abcd" + pos(4, 5)  # full: next line
    assert typed(editor, b"ef") == b"ef"
    assert editor.key(K.SUITE) == (LOCAL, pos(5, 5))
    assert typed(editor, b"wxyz") == b"wxyz"  # last line full: stays
    assert typed(editor, b"!") == b""
    assert editor.key(K.SUITE) == (LOCAL, b"")
    assert editor.key(K.RETOUR) == (LOCAL, pos(4, 5) + b"ef")
    assert editor.key(K.CORRECTION) == (LOCAL, b"\x08.\x08")
    assert editor.content() == ["abcd", "e", "wxyz"]


def test_input_form_moves_redraw_masked_fields() -> None:
    editor = form(char=["", "#", ""], prefill=["ab"])
    assert editor.key(K.RETOUR) == (LOCAL, b"")
    assert editor.key(K.SUITE) == (LOCAL, pos(3, 20))
    assert typed(editor, b"p\x19Be") == b"####"  # one mask per byte typed
    assert editor.key(K.SUITE) == (LOCAL, pos(6, 5))
    assert editor.key(K.RETOUR) == (LOCAL, pos(3, 20) + b"##")  # one mask per character
    assert editor.key(K.RETOUR) == (LOCAL, pos(3, 5) + b"ab")
    assert editor.content() == ["ab", "pé", ""]


# -- what the caller sees -------------------------------------------------------------------

def screen(*chunks: bytes) -> list[str]:
    m = Minitel()
    for chunk in chunks:
        m.feed(chunk)
    assert m.errors == 0
    return m.render_text().split("\n")


def test_field_editing_on_the_emulator() -> None:
    editor = txt(l=8)
    shown = [b"\x0c" + pos(3, 1) + b"Nom", editor.draw()]
    decoder = KeyDecoder()
    for read in (b"Ali\x19B", b"e", b"\x13G", b"ce"):
        result = handle_read(editor, decoder.feed(read), True)
        shown.append(result.output)
    assert screen(*shown)[3] == "Nom Alice...".ljust(40)
    assert editor.content() == ["Alice"]
    shown.append(handle_read(editor, decoder.feed(b"\x13E"), True).output)
    assert screen(*shown)[3] == "Nom ........".ljust(40)


def test_form_editing_on_the_emulator() -> None:
    editor = InputForm({"x": [6, 6], "y": [2, 3], "l": [5, 4], "char": ["", "*"]})
    decoder = KeyDecoder()
    out = [b"\x0c" + pos(2, 1) + b"Nom" + pos(3, 1) + b"Code", editor.draw()]
    out.append(handle_read(editor, decoder.feed(b"Bob\x13Hpw\x13B"), True).output)
    rows = screen(*out)
    assert rows[2].startswith("Nom  Bob..") and rows[3].startswith("Code **..")
    assert editor.content() == ["Bob", "pw"]


# -- one read -------------------------------------------------------------------------------

def test_an_ignored_key_drops_the_rest_of_the_read() -> None:
    editor = txt(128)
    result = handle_read(editor, [0x61, K.GUIDE, 0x62, K.ENVOI], True)
    assert result == ReadResult(b"a", None, (), dropped=True)
    assert editor.content() == ["a"]


def test_a_sent_key_keeps_the_rest_for_later() -> None:
    result = handle_read(txt(), [0x61, K.ENVOI, 0x62, K.SUITE], True)
    assert (result.output, result.sent, result.rest) == (b"a", K.ENVOI, (0x62, K.SUITE))


def test_without_a_command_keys_go_at_once_and_characters_nowhere() -> None:
    result = handle_read(None, [0x61, 0x62, K.CORRECTION, 0x63], True)
    assert (result.output, result.sent, result.rest) == (b"", K.CORRECTION, (0x63,))


STREAM = b"Al\x19Bex\x13Gz\x1b[D\x13Eab\x1b[C\x01Cv;\x04c\x1b9pd\x13A"


def test_reads_split_at_every_byte_position() -> None:
    def run(cuts: list[int]) -> tuple[bytes, K | None, list[str]]:
        editor, decoder, out, sent = txt(l=10), KeyDecoder(), b"", None
        start = 0
        for cut in [*cuts, len(STREAM)]:
            result = handle_read(editor, decoder.feed(STREAM[start:cut]), True)
            out += result.output
            sent = sent or result.sent
            start = cut
        return out, sent, editor.content()

    whole = run([])
    assert whole == (b"Al\x19Bex\x08.\x08z\x08.\x08" + pos(3, 5) + b".\x12\x42" + pos(3, 5)
                     + b"ab cd", K.ENVOI, ["ab cd"])
    assert run(list(range(1, len(STREAM)))) == whole
    for cut in range(len(STREAM) + 1):
        assert run([cut]) == whole


# -- fuzz -----------------------------------------------------------------------------------

params = st.dictionaries(
    st.sampled_from(["x", "y", "l", "w", "h", "char", "spacechar", "prefill", "cursor",
                     "validwith"]),
    st.none() | st.integers(-5, 50) | st.text(max_size=5) | st.booleans()
    | st.lists(st.integers(-5, 50) | st.text(max_size=3), max_size=4), max_size=10)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["InputTxt", "InputMsg", "InputForm"]), params,
       st.lists(st.binary(max_size=12), max_size=8), st.booleans())
def test_editors_take_any_parameters_and_any_bytes(name: str, param: dict[str, Any],
                                                   reads: list[bytes], echo: bool) -> None:
    try:
        editor = make_editor(Command(name, param))
    except GatewayError as exc:
        assert exc.code == 10
        return
    assert editor is not None
    assert isinstance(editor.draw(), bytes)
    decoder = KeyDecoder()
    for read in reads:
        result = handle_read(editor, decoder.feed(read), echo)
        assert isinstance(result.output, bytes)
        if result.sent is not None:
            handle_read(editor, result.rest, echo)
    content = editor.content()
    assert len(content) == len(editor.fields)
    assert all(len(text) <= f.length for text, f in zip(content, editor.fields, strict=True))
