"""MiniPavi's wire (videotex.protocols.minipavi): the request JSON, URLPARAMS, the answer,
the error screens and the SS2 tables, against the protocol reference (§2-§4, §8)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from videotex.protocols.minipavi import (
    COMMAND_NAMES,
    USER_AGENT,
    Command,
    DirectCall,
    ErrorCode,
    Fctn,
    GatewayError,
    PaviRequest,
    Reply,
    error_screen,
    identification,
    parse_reply,
    parse_str,
    request_json,
    split_url,
    ss2_to_text,
    text_to_ss2,
    unknown_command,
    valid_url,
)

UID = "17330000004242"

# §8, the first request and the answer, exactly (the reference shows them wrapped).
CNX_JSON = (b'{"PAVI":{"version":"1.6","uniqueId":"17330000004242","remoteAddr":"203.0.113.7",'
            b'"typesocket":"WSS","versionminitel":"???","content":[],"datas":null,'
            b'"context":"","fctn":"CNX","webmedia":0}}')
ENVOI_JSON = (b'{"PAVI":{"version":"1.6","uniqueId":"17330000004242","remoteAddr":"203.0.113.7",'
              b'"typesocket":"WSS","versionminitel":"Cv;","content":["Alice"],"datas":null,'
              b'"context":"step=name","fctn":"ENVOI","webmedia":0},"URLPARAMS":{"step":"name"}}')
ANSWER = (b'{"version":"1.1","content":"DB9KQVZvdHJlIG5vbSA6","context":"step=name","echo":"on",'
          b'"directcall":"no","next":"https://svc.example/hello.php?step=name",'
          b'"COMMAND":{"name":"InputTxt","param":{"x":13,"y":10,"l":10,"char":"",'
          b'"spacechar":".","prefill":"","cursor":"on","validwith":128}}}')


def test_user_agent_names_minipavi() -> None:
    assert "MiniPAVI" in USER_AGENT and USER_AGENT == "MiniPAVI/1.6"


def test_worked_example_cnx_request() -> None:
    post_url, params = split_url("https://svc.example/hello.php")
    assert (post_url, params) == ("https://svc.example/hello.php", None)
    req = PaviRequest(unique_id=UID, remote_addr="203.0.113.7", typesocket="WSS")
    assert request_json(req, params) == CNX_JSON


def test_worked_example_envoi_request() -> None:
    post_url, params = split_url("https://svc.example/hello.php?step=name")
    assert post_url == "https://svc.example/hello.php"
    req = PaviRequest(unique_id=UID, remote_addr="203.0.113.7", typesocket="WSS",
                      versionminitel="Cv;", content=("Alice",), context="step=name",
                      fctn=Fctn.ENVOI)
    assert request_json(req, params) == ENVOI_JSON


def test_worked_example_answer() -> None:
    reply = parse_reply(ANSWER)
    assert reply is not None
    assert reply.content == b"\x0c\x1f\x4a\x41Votre nom :"
    assert reply.context == "step=name"
    assert reply.echo is True
    assert reply.next == "https://svc.example/hello.php?step=name"
    assert reply.directcall is DirectCall.NO
    assert reply.command == Command("InputTxt")
    assert reply.command is not None and reply.command.param["x"] == 13


def test_request_is_written_as_php_json_encode_writes_it() -> None:
    req = PaviRequest(unique_id="1", content=("été", "a/b", "\x08"), context="π/€",
                      datas={"item": "x", "result": False}, fctn=Fctn.DATAS)
    body = request_json(req, {"u": "https://h/x"})
    assert body == (b'{"PAVI":{"version":"1.6","uniqueId":"1","remoteAddr":"","typesocket":"",'
                    b'"versionminitel":"???","content":["\\u00e9t\\u00e9","a\\/b","\\b"],'
                    b'"datas":{"item":"x","result":false},"context":"\\u03c0\\/\\u20ac",'
                    b'"fctn":"DATAS","webmedia":0},"URLPARAMS":{"u":"https:\\/\\/h\\/x"}}')
    assert json.loads(body)["PAVI"]["context"] == "π/€"


@pytest.mark.parametrize(("url", "post_url", "params"), [
    ("https://h/p", "https://h/p", None),
    ("https://h/p?", "https://h/p", None),
    ("https://h/p?a=1", "https://h/p", {"a": "1"}),
    ("https://h/p?a", "https://h/p", {"a": ""}),
    ("https://h/p?a[]=1&a[]=2", "https://h/p", {"a": ["1", "2"]}),
    ("https://h/p?a[k]=v&a[j]=w", "https://h/p", {"a": {"k": "v", "j": "w"}}),
    ("https://h/p?a[0]=x&a[1]=y", "https://h/p", {"a": ["x", "y"]}),
    ("https://h/p?a[1]=x", "https://h/p", {"a": {"1": "x"}}),
    ("https://h/p?a[]=x&a[5]=y&a[]=z", "https://h/p", {"a": {"0": "x", "5": "y", "6": "z"}}),
    ("https://h/p?a[x][y]=1&a[x][z]=2", "https://h/p", {"a": {"x": {"y": "1", "z": "2"}}}),
    ("https://h/p?a.b=1&c%20d=2", "https://h/p", {"a_b": "1", "c_d": "2"}),
    ("https://h/p?q=%C3%A9t%C3%A9+x%2B", "https://h/p", {"q": "été x+"}),
    ("https://h/p?a=1&a=2", "https://h/p", {"a": "2"}),
    ("https://h/p?a=1&a[]=2", "https://h/p", {"a": ["2"]}),
    ("https://h/p?&&a=1&", "https://h/p", {"a": "1"}),
    ("https://h/p?=x&[]=y", "https://h/p", None),
    ("https://h/p?a[b=1", "https://h/p", {"a_b": "1"}),
    ("https://h/p?a[x]junk=1", "https://h/p", {"a": {"x": "1"}}),
    ("https://h/p?a=x=y", "https://h/p", {"a": "x=y"}),
    ("https://h/p?0=a&1=b", "https://h/p", ["a", "b"]),
    ("https://h/p#frag?x=1", "https://h/p", None),
    ("https://u:pw@h:8080/a/b?x=1#f", "https://h:8080/a/b", {"x": "1"}),
    ("http://[::1]:81/x?y=2", "http://[::1]:81/x", {"y": "2"}),
    ("https://h", "https://h", None),
])
def test_split_url_as_php_parse_url_and_parse_str(url: str, post_url: str, params: Any) -> None:
    assert split_url(url) == (post_url, params)


def test_parse_str_keys_are_php_keys() -> None:
    assert parse_str("7=a&07=b&-3=c&x[2]=d") == {7: "a", "07": "b", -3: "c", "x": {2: "d"}}


@pytest.mark.parametrize(("url", "ok"), [
    ("https://svc.example/hello.php?step=name", True),
    ("http://h", True),
    ("http://h.example.", True),
    ("http://127.0.0.1:8080/x", True),
    ("http://[::1]/", True),
    ("http://user:pw@h/x", True),
    ("ftp://h/x", True),
    ("ws://h:99/x", True),
    ("mailto:someone@example.org", True),
    ("HTTPS://H/", True),
    ("", False),
    ("svc.example/hello.php", False),
    ("//h/x", False),
    ("http://", False),
    ("http:///x", False),
    ("http://-h/", False),
    ("http://h-/", False),
    ("http://a..b/", False),
    ("http://h_1/", False),
    ("http://" + "a" * 64 + ".fr/", False),
    ("http://h:99999/", False),
    ("http://h:8a/", False),
    ("http://[::g]/", False),
    ("http://h x/", False),
    (" http://h/", False),
    ("http://hé.fr/", False),
    ("javascript:alert(1)", False),
    ("http://us er@h/", False),
])
def test_valid_url_like_php_filter_validate_url(url: str, ok: bool) -> None:
    assert valid_url(url) is ok


def test_valid_url_refuses_non_strings() -> None:
    assert not valid_url(None) and not valid_url(5)


# -- answers --------------------------------------------------------------------------------

def _body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t\r\x00\x0b "])
def test_an_empty_answer_is_nothing(body: bytes) -> None:
    assert parse_reply(body) is None


def test_not_json_is_err_03_with_the_stripped_body() -> None:
    page = (b"<html><head><title>404</title></head><body><h1>Not &amp; Found</h1>"
            b"line<br/>two " + b"x" * 600 + b"</body></html>")
    with pytest.raises(GatewayError) as info:
        parse_reply(page)
    err = info.value
    assert err.code == 3 and err.message == "Réponse non JSON"
    assert err.detail == "Exception: Syntax error"
    assert err.extra.startswith("Votre serveur a répondu: 404Not & Foundline\r\ntwo xxx")
    assert len(err.extra) == len("Votre serveur a répondu: ") + 400


@pytest.mark.parametrize(("body", "why"), [
    (b"{'a': 1}", "Syntax error"),
    (b'{"a": NaN}', "Syntax error"),
    (b'{"a": 1,}', "Syntax error"),
    (b'\xef\xbb\xbf{"a": 1}', "Syntax error"),
    (b'{"a": "\xff"}', "Malformed UTF-8 characters, possibly incorrectly encoded"),
    (b'{"a": "\x01"}', "Control character error, possibly incorrectly encoded"),
    (b"[" * 51 + b"]" * 51, "Maximum stack depth exceeded"),
    (b"[" * 100000, "Maximum stack depth exceeded"),
])
def test_json_errors_are_named_as_php_names_them(body: bytes, why: str) -> None:
    with pytest.raises(GatewayError, match="ERR #03") as info:
        parse_reply(body)
    assert info.value.detail == f"Exception: {why}"


def test_nesting_up_to_the_limit_is_json() -> None:
    assert parse_reply(b'{"x":' + b"[" * 49 + b"]" * 49 + b"}") == Reply()
    assert parse_reply(b'{"x":"[[[[[[' + b"[" * 60 + b'"}') == Reply()


@pytest.mark.parametrize("body", [b"42", b'"hello"', b"[1, 2]", b"null", b"true"])
def test_json_that_is_not_an_object_is_an_empty_answer(body: bytes) -> None:
    assert parse_reply(body) == Reply()


@pytest.mark.parametrize("bad", ["svc.example/x", "http://", "javascript:x", 5, True, [1],
                                 {"u": 1}, " http://h/"])
def test_a_bad_next_is_err_05_naming_it(bad: Any) -> None:
    with pytest.raises(GatewayError) as info:
        parse_reply(_body(next=bad, content="QUJD"))
    assert info.value.code == 5 and info.value.message == "Prochaine URL incorrecte"
    assert info.value.detail == (bad if isinstance(bad, str) else
                                 "1" if bad is True else json.dumps(bad))


@pytest.mark.parametrize("empty", [None, "", "   ", False])
def test_an_empty_next_keeps_the_url(empty: Any) -> None:
    reply = parse_reply(_body(next=empty))
    assert reply is not None and reply.next is None


@pytest.mark.parametrize(("value", "context"), [
    (None, None), ("", None), ("ctx", "ctx"), (7, "7"), ([1], None), ("é" * 70000, "é" * 64000),
])
def test_context_empty_keeps_the_previous_and_is_capped(value: Any, context: str | None) -> None:
    reply = parse_reply(_body(context=value))
    assert reply is not None and reply.context == context


@pytest.mark.parametrize(("value", "echo"), [("on", True), (True, True), ("off", False),
                                             ("ON", False), (None, False), (1, False)])
def test_echo_only_on(value: Any, echo: bool) -> None:
    reply = parse_reply(_body(echo=value))
    assert reply is not None and reply.echo is echo


@pytest.mark.parametrize(("value", "direct"), [
    ("yes", DirectCall.YES), (True, DirectCall.YES), ("yes-cnx", DirectCall.YES_CNX),
    ("no", DirectCall.NO), ("YES", DirectCall.NO), (None, DirectCall.NO), (1, DirectCall.NO),
])
def test_directcall(value: Any, direct: DirectCall) -> None:
    reply = parse_reply(_body(directcall=value))
    assert reply is not None and reply.directcall is direct


@pytest.mark.parametrize(("content", "data"), [
    ("DB9KQVZvdHJlIG5vbSA6", b"\x0c\x1fJAVotre nom :"),
    ("DB9K\nQVZv dHJl\r\nIG5vbSA6", b"\x0c\x1fJAVotre nom :"),
    ("QUI", b"AB"), ("QUJD=", b"ABC"), ("Q=U=J=D", b"ABC"), ("QUJDR", b"ABC"),
    ("!!", b""), (None, b""), (5, b""), (["QUJD"], b""),
])
def test_content_is_base64_decoded_leniently_as_php(content: Any, data: bytes) -> None:
    reply = parse_reply(_body(content=content))
    assert reply is not None and reply.content == data


@pytest.mark.parametrize(("command", "expected"), [
    (None, None), ("InputTxt", None), ({}, None), ({"name": ""}, None), ({"name": None}, None),
    ({"name": "libCnx"}, Command("libCnx")),
    ({"name": "libCnx", "param": []}, Command("libCnx")),
    ({"name": "InputTxt", "param": "x"}, Command("InputTxt")),
    ({"name": 5}, Command("5")),
    ({"name": "Nope", "param": {"a": 1}}, Command("Nope")),
])
def test_command(command: Any, expected: Command | None) -> None:
    reply = parse_reply(_body(COMMAND=command))
    assert reply is not None and reply.command == expected


def test_command_names() -> None:
    assert Command("InputForm").known and not Command("inputform").known
    assert {"InputTxt", "InputMsg", "InputForm", "libCnx", "PushServiceMsg", "BackgroundCall",
            "connectToWs", "connectToTln", "connectToExt", "duplicateStream", "setParam",
            "getScreen", "getScreenList"} == COMMAND_NAMES


def test_unknown_command_is_err_07_with_its_dump() -> None:
    err = unknown_command(Command("Frobnicate", {"x": "y" * 1000}))
    assert err.code == 7 and err.message == "Commande inconnue"
    assert err.detail.startswith('{"name": "Frobnicate", "param": {"x": "yyy')
    assert len(err.detail) == 500


@pytest.mark.parametrize(("code", "message"), [
    (2, "Paramètre url incorrect"), (3, "Réponse non JSON"), (5, "Prochaine URL incorrecte"),
    (7, "Commande inconnue"), (9, "Service indisponible"), (10, "Commande mal formée"),
])
def test_every_error_code_has_the_reference_message(code: int, message: str) -> None:
    assert ErrorCode(code).message == message
    err = GatewayError(code, detail="d", extra="e")
    assert (err.code, err.message, err.detail, err.extra) == (code, message, "d", "e")
    assert str(err) == f"ERR #{code:02d} {message}: d (e)"


# -- error screens --------------------------------------------------------------------------

def test_error_screen_bytes() -> None:
    err = GatewayError(9, detail="url:http://h/x")
    assert error_screen(err, "17330000004242") == (
        b"\x0c\x1f\x42\x41\x1bM\x1bG\x1bQ ERR #09\x1bR Service indisponible\x18"
        b"\x1f\x44\x41url:http://h/x"
        b"\x1f\x58\x41UID:17330000004242 Aide:aide@minipavi.fr")


def _screen(data: bytes) -> tuple[Minitel, list[str]]:
    m = Minitel()
    m.feed(data)
    return m, m.render_text().split("\n")


def test_error_screen_as_the_caller_sees_it() -> None:
    err = GatewayError(2, detail="url:bad url", extra="Votre serveur a répondu: Bonjour é")
    m, rows = _screen(b"\x0cold page" + error_screen(err, UID))
    assert rows[2].startswith(" ERR #02 Paramètre url incorrect")
    assert rows[1].startswith(" ERR #02 Paramètre url incorrect")  # double height
    assert rows[4].rstrip() == "url:bad url"
    assert rows[7].rstrip() == "Votre serveur a répondu: Bonjour é"
    assert rows[24].rstrip() == f"UID:{UID} Aide:aide@minipavi.fr"
    assert "old page" not in m.render_text()
    cells = m.snapshot()["cells"]
    assert isinstance(cells, list)
    err_cell, msg_cell = cells[2][3], cells[2][12]
    assert (err_cell["char"], err_cell["fg"], err_cell["bg"], err_cell["size"]) == (
        "R", 7, 1, "tall")
    assert (msg_cell["char"], msg_cell["fg"], msg_cell["bg"], msg_cell["size"]) == (
        "a", 7, 2, "tall")
    assert m.errors == 0


def test_error_screen_never_sends_the_service_s_controls_and_stays_above_row_24() -> None:
    err = GatewayError(3, detail="Exception: x\x0c\x1b", extra="\x0c\x1f\x40\x41" + "z" * 5000)
    data = error_screen(err, UID)
    _m, rows = _screen(data)
    assert data.count(b"\x0c") == 1 and data.count(b"\x1b") == 4
    assert rows[24].rstrip() == f"UID:{UID} Aide:aide@minipavi.fr"
    assert rows[23].rstrip() == "z" * 40 and rows[4].rstrip() == "Exception: x"


# -- SS2 ------------------------------------------------------------------------------------

#: §4's list, SS2 code by letter.
SS2_TABLE = [
    ("é", b"Be"), ("è", b"Ae"), ("à", b"Aa"), ("ç", b"Kc"), ("ê", b"Ce"), ("ë", b"He"),
    ("â", b"Ca"), ("ä", b"Ha"), ("á", b"Ba"), ("î", b"Ci"), ("í", b"Bi"), ("ì", b"Ai"),
    ("ô", b"Co"), ("ö", b"Ho"), ("ó", b"Bo"), ("ò", b"Ao"), ("û", b"Cu"), ("ü", b"Hu"),
    ("ú", b"Bu"), ("ù", b"Au"), ("É", b"BE"), ("È", b"AE"), ("À", b"AA"), ("Ê", b"CE"),
    ("Â", b"CA"), ("£", b"#"), ("°", b"0"), ("±", b"1"), ("←", b","), ("↑", b"-"),
    ("→", b"."), ("¼", b"<"), ("½", b"="), ("¾", b">"), ("Œ", b"j"), ("œ", b"z"),
    ("β", b"{"),
]


@pytest.mark.parametrize(("text", "code"), SS2_TABLE)
def test_ss2_both_ways(text: str, code: bytes) -> None:
    assert ss2_to_text(b"\x19" + code) == text
    assert text_to_ss2(text) == b"\x19" + code
    assert ss2_to_text(b"a\x19" + code + b"b") == f"a{text}b"


@pytest.mark.parametrize(("text", "data", "back"), [
    ("ï", b"\x19Hi", "î"), ("ß", b"\x19{", "β"), ("↓", b"\x19/", "/"),
    ("Ç", b"C", "C"), ("ñ", b"n", "n"), ("€", b"EUR", "EUR"), ("😀", b"?", "?"),
    ("a\x08b", b"a\x08b", "a\x08b"),
])
def test_ss2_quirks(text: str, data: bytes, back: str) -> None:
    assert text_to_ss2(text) == data
    assert ss2_to_text(data) == back


@pytest.mark.parametrize(("data", "text"), [
    (b"\x19", ""), (b"ab\x19", "ab"), (b"\x19B", ""), (b"\x19Bz", "z"), (b"\x19CO", "O"),
    (b"\x19\x19Be", "é"), (b"\x19\\/", "↓"), (b"\x19$", "$"), (b"\xff", "?"),
])
def test_leftover_ss2_pieces_are_deleted(data: bytes, text: str) -> None:
    assert ss2_to_text(data) == text


def test_identification() -> None:
    assert identification(b"\x01Cv;\x04") == "Cv;"
    assert identification(b"\x01Cv\x04") is None
    assert identification(b"Cv;\x04\x04") is None


# -- fuzz -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
answers = st.fixed_dictionaries({}, optional={
    "content": st.text() | json_values, "context": json_values, "echo": json_values,
    "next": st.sampled_from(["https://h/x?a=1", "", "bad"]) | json_values,
    "directcall": st.sampled_from(["yes", "yes-cnx", "no"]) | json_values,
    "COMMAND": st.fixed_dictionaries({"name": st.sampled_from(sorted(COMMAND_NAMES)) | json_values},
                                     optional={"param": json_values}) | json_values,
})


@settings(max_examples=400, deadline=None)
@given(answers, st.binary(max_size=8), st.integers(0, 40))
def test_any_answer_gives_a_reply_none_or_a_gateway_error(answer: dict[str, Any], noise: bytes,
                                                          cut: int) -> None:
    body = json.dumps(answer).encode()
    for candidate in (body, body[:cut] + noise + body[cut:], noise):
        try:
            reply = parse_reply(candidate)
        except GatewayError as exc:
            assert exc.code in (3, 5)
            continue
        assert reply is None or isinstance(reply.content, bytes)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.text(), max_size=4), st.text())
def test_requests_are_json_that_reads_back(context: str, content: list[str], query: str) -> None:
    _post, params = split_url("https://h/p?" + query)
    req = PaviRequest(unique_id="1", content=tuple(content), context=context)
    data = json.loads(request_json(req, params))
    assert data["PAVI"]["content"] == content and data["PAVI"]["context"] == context
    assert ("URLPARAMS" in data) is (params is not None)


@settings(max_examples=300, deadline=None)
@given(st.binary())
def test_ss2_to_text_takes_any_bytes(data: bytes) -> None:
    text = ss2_to_text(data)
    assert "\x19" not in text
    assert ss2_to_text(text_to_ss2(text)) == ss2_to_text(text_to_ss2(ss2_to_text(
        text_to_ss2(text))))


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_error_screens_take_any_text(detail: str, extra: str) -> None:
    data = error_screen(GatewayError(3, detail=detail, extra=extra), UID)
    _m, rows = _screen(data)
    assert rows[24].rstrip() == f"UID:{UID} Aide:aide@minipavi.fr"
    assert base64.b64encode(data)  # bytes, not str


any_text = st.text(st.characters(exclude_categories=()))
url_like = st.builds(lambda scheme, rest: scheme + rest,
                     st.sampled_from(["", "http://", "https://", "ws://", "mailto:", "h:"]),
                     any_text | st.text("ab.:/?#[]@%=&+-_ 09\\"))


@settings(max_examples=500, deadline=None)
@given(url_like)
def test_urls_never_raise(url: str) -> None:
    ok = valid_url(url)
    post_url, params = split_url(url)
    assert isinstance(post_url, str)
    assert params is None or isinstance(params, dict | list)
    if ok:
        assert post_url.startswith(url.split(":", 1)[0] + "://")
        json.loads(request_json(PaviRequest(unique_id="1"), params))
