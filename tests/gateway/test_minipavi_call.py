"""The per-call MiniPavi engine (videotex.gateway.minipavi_call) on a FakeClock: requests as
effects, answers delivered by hand, the caller's screen checked on the emulator."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from videotex.gateway import (
    MAX_DIRECT,
    Bridge,
    CallState,
    HttpPost,
    HttpResult,
    MiniPaviCall,
)
from videotex.gateway.minipavi_call import BRIDGE_IDLE, INACTIVITY
from videotex.teletel.clock import FakeClock

URL = "https://svc.example/hello.php"
DEFAULT = "https://default.example/"
UID = "17330000004242"
ENVOI, SOMMAIRE, SUITE, FIN = b"\x13A", b"\x13F", b"\x13H", b"\x13I"


def answer(content: bytes = b"", *, command: dict[str, Any] | None = None, next_url: str = "",
           context: str = "", echo: str = "on", directcall: str = "no") -> bytes:
    data: dict[str, Any] = {"version": "1.1", "content": base64.b64encode(content).decode(),
                            "context": context, "echo": echo, "next": next_url,
                            "directcall": directcall}
    if command is not None:
        data["COMMAND"] = command
    return json.dumps(data).encode()


def input_txt(x: int = 13, y: int = 10, length: int = 10, validwith: int = 128,
              **more: Any) -> dict[str, Any]:
    return {"name": "InputTxt", "param": {"x": x, "y": y, "l": length, "char": "",
                                          "spacechar": ".", "prefill": "", "cursor": "on",
                                          "validwith": validwith, **more}}


class Driver:
    """The runtime's part, by hand: keeps the posts, answers them, keeps the screen."""

    def __init__(self, url: str | None = URL, **kw: Any) -> None:
        self.clock = FakeClock()
        self.call = MiniPaviCall(url, unique_id=UID, remote_addr="203.0.113.7",
                                 typesocket="WSS", clock=self.clock, **kw)
        self.posts: list[HttpPost] = []
        self.bridges: list[Bridge] = []
        self.screen = Minitel()
        self.sent = b""

    def pump(self) -> bytes:
        for effect in self.call.effects():
            if isinstance(effect, HttpPost):
                self.posts.append(effect)
            else:
                self.bridges.append(effect)
        out = self.call.data_to_send()
        self.screen.feed(out)
        self.sent += out
        return out

    def start(self) -> bytes:
        self.call.start()
        return self.pump()

    def type(self, data: bytes) -> bytes:
        self.call.receive_data(data)
        return self.pump()

    @property
    def last(self) -> HttpPost:
        return self.posts[-1]

    def request(self, index: int = -1) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.posts[index].body)
        return data

    def reply(self, body: bytes | None, **kw: Any) -> bytes:
        self.call.deliver(self.last.id, HttpResult(body, **kw))
        return self.pump()

    def row(self, r: int) -> str:
        return self.screen.render_text().split("\n")[r]


def fctns(d: Driver) -> list[str]:
    return [p.fctn for p in d.posts]


# -- §8 -------------------------------------------------------------------------------------

def test_worked_example() -> None:
    d = Driver()
    assert d.start() == b"\x1b\x39\x7b"  # identification request, no banner
    assert d.last == HttpPost(1, URL, d.last.body, "CNX", True)
    assert d.last.body == (b'{"PAVI":{"version":"1.6","uniqueId":"17330000004242",'
                           b'"remoteAddr":"203.0.113.7","typesocket":"WSS","versionminitel":"???",'
                           b'"content":[],"datas":null,"context":"","fctn":"CNX","webmedia":0}}')
    assert dict(d.last.headers)["User-Agent"] == "MiniPAVI/1.6"
    assert d.call.state is CallState.WAITING
    d.type(b"\x01Cv;\x04")  # the terminal answers while the service works
    shown = d.reply(answer(b"\x0c\x1f\x4a\x41Votre nom :", context="step=name",
                           next_url=URL + "?step=name", command=input_txt()))
    assert shown == b"\x0c\x1f\x4a\x41Votre nom :" + bytes.fromhex("1F4A4D2E12491F4A4D11")
    assert d.call.url == URL + "?step=name" and d.call.state is CallState.IDLE
    assert d.type(b"Alice") == b"Alice"
    d.type(ENVOI)
    assert d.last.url == URL and d.last.fctn == "ENVOI"
    assert d.last.body == (b'{"PAVI":{"version":"1.6","uniqueId":"17330000004242",'
                           b'"remoteAddr":"203.0.113.7","typesocket":"WSS","versionminitel":"Cv;",'
                           b'"content":["Alice"],"datas":null,"context":"step=name",'
                           b'"fctn":"ENVOI","webmedia":0},"URLPARAMS":{"step":"name"}}')
    assert d.row(10).startswith("Votre nom : Alice.....")
    assert d.call.facts.posts == 2 and d.call.facts.services == [URL]


def test_input_typed_during_a_post_is_handled_after_the_answer() -> None:
    d = Driver()
    d.start()
    assert d.type(b"ab") == b"" and d.type(b"c" + ENVOI + b"de") == b""
    assert fctns(d) == ["CNX"]  # one request at a time
    shown = d.reply(answer(b"\x0c", command=input_txt()))
    assert shown.endswith(b"\x11abc")  # the field, then the echo
    assert fctns(d) == ["CNX", "ENVOI"] and d.request()["PAVI"]["content"] == ["abc"]
    d.reply(answer(b"\x0c", command=input_txt()))
    assert d.call.content() == ("de",)  # what followed Envoi waited for this answer


def test_echo_off_and_stale_content_without_a_command() -> None:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt(), echo="off"))
    assert d.type(b"pw") == b""
    d.type(ENVOI)
    d.reply(answer(b"\x0cMerci"))  # no command: keys go at once, characters nowhere
    assert d.type(b"xyz") == b""
    d.type(b"\x13G")  # even Correction
    assert d.last.fctn == "CORRECTION" and d.request()["PAVI"]["content"] == ["pw"]


def test_an_ignored_key_gives_nothing_and_drops_the_rest_of_the_read() -> None:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt(validwith=128)))
    assert d.type(b"a\x13Db" + ENVOI) == b"a"
    assert fctns(d) == ["CNX"]
    d.type(ENVOI)
    assert d.request()["PAVI"]["content"] == ["a"]


# -- answers --------------------------------------------------------------------------------

def test_context_is_kept_when_empty_and_across_services() -> None:
    d = Driver()
    d.start()
    d.reply(answer(context="one", next_url="https://other.example/x?a[]=1&a[]=2"))
    d.type(ENVOI)
    assert d.last.url == "https://other.example/x"
    assert d.request()["URLPARAMS"] == {"a": ["1", "2"]}
    d.reply(answer(context=""))
    d.type(ENVOI)
    assert d.request()["PAVI"]["context"] == "one"


def test_an_empty_answer_changes_nothing() -> None:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt(), next_url=URL + "?p=2", context="c"))
    d.type(b"x" + ENVOI)
    assert d.reply(b"") == b""
    assert d.call.state is CallState.IDLE and d.call.url == URL + "?p=2"
    d.type(b"\x13D")  # no active command any more: Guide goes
    assert d.last.fctn == "GUIDE"


@pytest.mark.parametrize(("body", "code", "detail"), [
    (b"<h1>Oops</h1>", 3, "Exception: Syntax error"),
    (answer(next_url="nope"), 5, "nope"),
    (answer(command={"name": "Frobnicate"}, next_url=URL + "?p=2"), 7,
     '("name": "Frobnicate", "param": ())'),
    (answer(command={"name": "InputTxt", "param": {"prefill": [1]}}, next_url=URL + "?p=2"), 10,
     "Exception: InputTxt param prefill must be"),
])
def test_service_errors_show_their_screen_and_keep_the_line(body: bytes, code: int,
                                                            detail: str) -> None:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt(), next_url=URL + "?p=1", context="c1"))
    d.type(ENVOI)
    shown = d.reply(body.replace(b'"context": ""', b'"context": "c2"'))
    assert f" ERR #{code:02d}\x1b".encode() in shown and shown.startswith(b"\x0c")
    assert d.row(4).startswith(detail[:40])
    assert d.row(24).startswith(f"UID:{UID} Aide:aide@minipavi.fr")
    assert not d.call.closed and d.call.facts.errors == 1
    if code == 3:
        assert d.row(7).startswith("Votre serveur a répondu: Oops")
    d.type(b"\x13C")  # no active command: Répétition goes at once
    applied = code in (7, 10)  # §3: next, context and echo come before the COMMAND
    assert d.call.url == URL + ("?p=2" if applied else "?p=1")
    assert d.request()["PAVI"]["context"] == ("c2" if applied else "c1")
    assert d.last.fctn == "REPETITION"


def test_an_invalid_start_url_is_err_02_and_the_end() -> None:
    d = Driver("svc.example/x")
    shown = d.start()
    assert shown.startswith(b"\x1b\x39\x7b\x0c") and b" ERR #02" in shown
    assert d.row(2).startswith(" ERR #02 Paramètre url incorrect")
    assert d.row(4).startswith("url:svc.example/x")
    assert d.call.closed and d.call.close_reason == "error" and d.posts == []


def test_no_url_starts_on_the_default_service() -> None:
    d = Driver(None, default_url=DEFAULT)
    d.start()
    assert d.last.url == DEFAULT and d.call.url == DEFAULT


# -- direct calls ---------------------------------------------------------------------------

def test_direct_calls_stop_after_five() -> None:
    d = Driver()
    d.start()
    for _ in range(MAX_DIRECT + 3):
        if d.call.state is CallState.WAITING:
            d.reply(answer(b"*", command=input_txt(), directcall="yes"))
    assert fctns(d) == ["CNX"] + ["DIRECT"] * MAX_DIRECT
    assert d.call.state is CallState.IDLE
    assert d.type(b"ab") == b"ab"  # the last answer's field is active
    d.type(ENVOI)
    d.reply(answer(directcall="yes-cnx"))
    assert fctns(d)[-2:] == ["ENVOI", "DIRECTCNX"]  # the caller acted: a new chain


def test_a_command_with_a_direct_call_is_drawn_but_not_active() -> None:
    d = Driver()
    d.start()
    shown = d.reply(answer(b"\x0c", command=input_txt(prefill="pre"), directcall="yes"))
    assert shown.endswith(b"\x11pre") and d.last.fctn == "DIRECT"
    assert d.request()["PAVI"]["content"] == ["pre"]
    d.reply(answer(b"\x0c"))
    assert d.type(b"xy") == b""
    d.type(ENVOI)
    assert d.last.fctn == "ENVOI"


# -- the end of a call ----------------------------------------------------------------------

def test_connexion_fin_posts_fin_and_closes() -> None:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt()))
    d.type(b"ab" + FIN + b"cd")
    assert d.last.fctn == "FIN" and d.last.wait is False
    assert d.call.closed and d.call.close_reason == "fin"
    d.type(b"more")
    d.call.deliver(d.last.id, HttpResult(answer(b"ignored")))
    assert d.pump() == b"" and fctns(d) == ["CNX", "FIN"]


def test_connexion_fin_elsewhere_returns_to_the_default_service() -> None:
    d = Driver(DEFAULT + "start", default_url=DEFAULT)
    d.start()
    d.reply(answer(next_url="https://elsewhere.example/x"))
    d.type(b"\x13Y")  # the second Connexion/Fin code
    assert [(p.fctn, p.url, p.wait) for p in d.posts[-2:]] == [
        ("FIN", "https://elsewhere.example/x", False), ("CNX", DEFAULT, True)]
    assert not d.call.closed
    d.reply(answer())
    d.type(FIN)  # on the default service: the end
    assert d.call.closed and d.call.close_reason == "fin"


def test_libcnx_shows_the_page_then_ends() -> None:
    d = Driver()
    d.start()
    assert d.reply(answer(b"Au revoir", command={"name": "libCnx"})) == b"Au revoir"
    assert d.last.fctn == "FIN" and d.call.close_reason == "fin"


def test_the_caller_hanging_up_posts_fin() -> None:
    d = Driver()
    d.start()
    d.type(b"")
    assert [(p.fctn, p.wait) for p in d.posts] == [("CNX", True), ("FIN", False)]
    assert d.call.closed and d.call.close_reason == "hangup"
    d.call.deliver(1, HttpResult(answer(b"late")))
    assert d.pump() == b""


def test_a_failure_shows_err_09_and_ends() -> None:
    d = Driver()
    d.start()
    d.reply(None, error="timeout", timeout=True)
    assert d.row(2).startswith(" ERR #09 Service indisponible")
    assert d.row(4).startswith(f"url:{URL}")
    assert d.call.close_reason == "error" and d.call.facts.failures == 1
    assert fctns(d) == ["CNX"]


def test_a_failure_elsewhere_returns_to_the_default_service() -> None:
    d = Driver(DEFAULT, default_url=DEFAULT)
    d.start()
    d.reply(answer(next_url="https://down.example/"))
    d.type(ENVOI)
    d.reply(None, error="ClientConnectorError")
    assert [(p.fctn, p.url) for p in d.posts[-2:]] == [("ENVOI", "https://down.example/"),
                                                      ("CNX", DEFAULT)]
    d.reply(b"x", error="answer over 100000 bytes")  # the default fails too
    assert d.call.close_reason == "error" and d.row(4).startswith(f"url:{DEFAULT}")


def test_inactivity_counts_from_the_last_service_call() -> None:
    d = Driver()
    d.start()
    d.clock.advance(20)
    d.reply(answer(command=input_txt()))
    assert d.call.next_deadline() == d.clock.monotonic() + INACTIVITY
    d.clock.advance(INACTIVITY - 1)
    d.type(b"typing does not count")
    d.call.tick()
    assert not d.call.closed
    d.clock.advance(1)
    d.call.tick()
    d.pump()
    assert d.row(0).startswith("Deconnexion pour inactivité...")
    assert d.last.fctn == "FIN" and d.call.close_reason == "inactivity"
    assert d.call.next_deadline() is None


def test_no_inactivity_while_waiting_for_the_service() -> None:
    d = Driver()
    d.start()
    assert d.call.next_deadline() is None
    d.clock.advance(10 * INACTIVITY)
    d.call.tick()
    assert not d.call.closed


# -- other commands -------------------------------------------------------------------------

def test_get_screen_answers_datas_and_datas_stays() -> None:
    d = Driver()
    d.start()
    d.reply(answer(b"A", command={"name": "getScreen", "param": {"item": 3}},
                   next_url=URL + "?shot=1"))
    assert d.last.fctn == "DATAS" and d.last.url == URL
    assert d.request()["PAVI"]["datas"] == {"item": 3, "result": False}
    assert d.request()["URLPARAMS"] == {"shot": "1"}
    d.reply(answer())
    d.type(ENVOI)
    assert d.request()["PAVI"]["datas"] == {"item": 3, "result": False}


@pytest.mark.parametrize("name", ["connectToExt", "duplicateStream"])
def test_unoffered_commands_answer_directcallfailed(name: str) -> None:
    d = Driver()
    d.start()
    assert d.reply(answer(b"page", command={"name": name, "param": {"number": "3615"}})) == b"page"
    assert d.last.fctn == "DIRECTCALLFAILED"


@pytest.mark.parametrize("name", ["BackgroundCall", "setParam"])
def test_accepted_and_ignored_commands(name: str) -> None:
    d = Driver()
    d.start()
    assert d.reply(answer(b"page", command={"name": name, "param": {"url": ["x"]}})) == b"page"
    assert d.call.state is CallState.IDLE and d.call.facts.errors == 0


def test_push_service_msg() -> None:
    d = Driver()
    d.start()
    d.reply(answer(command={"name": "PushServiceMsg",
                            "param": {"uniqueids": ["111", "222", 333],
                                      "message": ["Salut é", "Hé", "x"]}}))
    assert d.call.pushes == [("111", b"Salut \x19Be"), ("222", b"H\x19Be"), ("333", b"x")]
    d.call.push(b"Hello")
    assert d.pump() == b"\x1f\x40\x41Hello\x18\x0a"
    assert d.row(0).startswith("Hello")


# -- bridges --------------------------------------------------------------------------------

def bridged(kind: str = "connectToWs", **param: Any) -> Driver:
    d = Driver()
    d.start()
    d.reply(answer(command=input_txt()))
    d.type(ENVOI)
    d.type(b"early")  # typed while the service answers: relayed once the bridge is up
    d.reply(answer(b"after the relay", next_url=URL + "?back=1",
                   command={"name": kind, "param": {"host": "ssl://bbs.example:443",
                                                    "path": "/ws", "echo": "off",
                                                    "case": "lower", **param}}))
    return d


def test_a_bridge_relays_both_ways_until_star_star_star_sommaire() -> None:
    d = bridged()
    assert d.bridges == [Bridge(3, "ws", {})]
    assert d.bridges[0].params["host"] == "ssl://bbs.example:443"
    assert d.call.bridging and d.call.state is CallState.BRIDGE
    assert d.sent.endswith(b"\x1b\x3a\x69\x45")  # lowercase on; the content waits
    assert d.call.bridge_outgoing() == b"early"
    d.call.bridge_data(b"\x0cBBS")
    assert d.pump() == b"\x0cBBS"
    assert d.type(b"ab\rc") == b""  # no echo asked
    assert d.call.bridge_outgoing() == b"abc"
    d.type(b"*")
    d.type(b"**\x13")
    assert d.call.bridging  # a lone SEP waits
    d.type(b"F")
    assert d.call.bridge_outgoing() == b"***\x13F"
    assert not d.call.bridging
    assert d.pump() == b"" and d.sent.endswith(b"after the relay")
    assert (d.last.fctn, d.last.url) == ("DIRECTCALLENDED", URL)
    assert d.call.state is CallState.WAITING and d.call.facts.bridges == 1


def test_connexion_fin_ends_the_bridge_not_the_call() -> None:
    d = bridged("connectToTln", startseq="\\x1b9{\\r", echo="on", case="")
    assert d.bridges[0].kind == "tln"
    assert d.bridges[0].params["startseq"] == b"\x1b9{\r"
    assert d.sent.endswith(b"\x1b\x3a\x6a\x45early")  # lowercase off; echo on
    assert d.type(b"x") == b"x"  # echo on
    d.type(FIN)
    assert not d.call.bridging and not d.call.closed
    assert d.last.fctn == "DIRECTCALLENDED"


def test_bridge_failures_and_the_remote_closing() -> None:
    d = bridged()
    d.call.bridge_ended(True)
    assert d.pump().endswith(b"after the relay") and d.last.fctn == "DIRECTCALLFAILED"
    d = bridged()
    d.call.bridge_ended(False)
    d.pump()
    assert d.last.fctn == "DIRECTCALLENDED"


def test_bridge_idle_and_probe_limits() -> None:
    d = bridged()
    start = d.clock.monotonic()
    assert d.call.next_deadline() == start + 30  # fewer than 200 bytes yet
    d.call.bridge_data(b"x" * 200)
    assert d.call.next_deadline() == start + BRIDGE_IDLE
    d.clock.advance(100)
    d.type(b"k")
    assert d.call.next_deadline() == start + 100 + BRIDGE_IDLE
    d.clock.advance(BRIDGE_IDLE)
    d.call.tick()
    d.pump()
    assert not d.call.bridging and d.last.fctn == "DIRECTCALLENDED"
    d = bridged()
    d.clock.advance(30)
    d.call.tick()
    assert not d.call.bridging  # the server said next to nothing


def test_a_bridge_without_host_is_refused_as_ended() -> None:
    d = Driver()
    d.start()
    d.reply(answer(b"p", command={"name": "connectToWs", "param": {"host": " "}}))
    assert d.bridges == [] and d.last.fctn == "DIRECTCALLENDED"


@pytest.mark.parametrize(("host", "key", "allowed"), [
    ("svc.example:8080", "", True),  # the host of the service that asks: no key needed
    ("ssl://SVC.example:443", None, True),
    ("bbs.example:23", "sesame", True),
    ("bbs.example:23", "wrong", False),
    ("bbs.example:23", None, False),
])
def test_bridge_keys(host: str, key: str | None, allowed: bool) -> None:
    d = Driver(bridge_keys={"sesame"})
    d.start()
    param: dict[str, Any] = {"host": host} if key is None else {"host": host, "key": key}
    d.reply(answer(b"p", command={"name": "connectToTln", "param": param},
                   next_url="https://other.example/after"))
    assert bool(d.bridges) is allowed and d.call.bridging is allowed
    if not allowed:
        assert (d.last.fctn, d.last.url) == ("DIRECTCALLENDED", "https://other.example/after")


def test_hanging_up_during_a_bridge() -> None:
    d = bridged()
    d.type(b"")
    assert not d.call.bridging and d.call.close_reason == "hangup"
    assert d.last.fctn == "FIN" and d.last.wait is False


# -- fuzz -----------------------------------------------------------------------------------

commands = st.sampled_from([
    None, input_txt(), input_txt(validwith=1), {"name": "InputMsg", "param": {"h": 2}},
    {"name": "InputForm", "param": {"x": [1, 5], "y": [2, 3], "l": [3, 3]}},
    {"name": "libCnx"}, {"name": "connectToWs", "param": {"host": "h:1"}},
    {"name": "getScreen"}, {"name": "connectToExt"}, {"name": "Nope"},
    {"name": "InputTxt", "param": {"validwith": "x"}},
])
bodies = st.one_of(
    st.builds(answer, st.binary(max_size=8), command=commands,
              next_url=st.sampled_from(["", URL + "?a=1", "bad", DEFAULT]),
              context=st.sampled_from(["", "c"]), echo=st.sampled_from(["on", "off"]),
              directcall=st.sampled_from(["no", "yes", "yes-cnx"])),
    st.binary(max_size=16), st.none())
events = st.lists(st.one_of(
    st.tuples(st.just("type"), st.binary(max_size=10)),
    st.tuples(st.just("reply"), bodies),
    st.tuples(st.just("remote"), st.binary(max_size=10)),
    st.tuples(st.just("bridge_end"), st.booleans()),
    st.tuples(st.just("time"), st.sampled_from([1.0, 31.0, 200.0, 700.0])),
), max_size=25)


@settings(max_examples=300, deadline=None)
@given(events, st.sampled_from([None, DEFAULT]))
def test_the_engine_takes_anything_and_stays_consistent(steps: list[tuple[str, Any]],
                                                        default: str | None) -> None:
    d = Driver(URL, default_url=default)
    d.start()
    for kind, value in steps:
        if kind == "type":
            d.call.receive_data(value)
        elif kind == "reply" and d.posts:
            d.call.deliver(d.last.id, HttpResult(value) if value is not None
                           else HttpResult(None, "down"))
        elif kind == "remote":
            d.call.bridge_data(value)
        elif kind == "bridge_end":
            d.call.bridge_ended(value)
        elif kind == "time":
            d.clock.advance(value)
            d.call.tick()
        d.pump()
        d.call.bridge_outgoing()
        waiting = [p for p in d.posts if p.wait]
        assert (d.call.state is CallState.WAITING) == (
            not d.call.closed and bool(waiting) and d.call._waiting == waiting[-1].id)
        assert d.call.bridging == (d.call.state is CallState.BRIDGE)
        deadline = d.call.next_deadline()
        assert deadline is None or deadline >= 0
    if d.call.closed:
        before = len(d.posts)
        d.call.receive_data(ENVOI)
        d.call.tick()
        d.pump()
        assert len(d.posts) == before
    d.call.receive_data(b"")
    d.pump()
    assert d.call.closed
