"""WebSocket input under hostile bytes, on the server side as deployed.

* Frames: websockets' sans-IO ``ServerProtocol`` configured as :func:`videotex.channels.ws.start`
  configures it (``max_size`` 4 KiB, no compression), opened by a valid handshake, then
  fed any frame bytes split anywhere. It either gives frames or fails the connection with
  a documented close code; every complete message then goes through
  :meth:`WsConnection.read`, whose bytes must be the message's characters up to U+00FF.
* The HTTP upgrade request, on a real listener: whatever the request, an HTTP answer
  that is not a 500 and nothing logged as an error.

Regression (found while writing bench/bench_fuzz.py): a request with two ``Upgrade``
headers made ``process_request`` raise ``MultipleValuesError``: HTTP 500 and a logged
traceback instead of the 426 of a bad upgrade.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from websockets.exceptions import (
    ConnectionClosedError,
    PayloadTooBig,
    ProtocolError,
)
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from videotex.channels.ws import MAX_MESSAGE, WsConnection, _select_subprotocol

from .conftest import WsServer

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
HANDSHAKE = (b"GET /ws HTTP/1.1\r\nHost: minitel.example\r\nUpgrade: websocket\r\n"
             b"Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + b"\r\n"
             b"Sec-WebSocket-Version: 13\r\n\r\n")
MASK = b"\x37\xfa\x21\x3d"
#: What a server may answer to a bad frame: its documented errors, and nothing else.
DOCUMENTED = (ProtocolError, PayloadTooBig, UnicodeDecodeError, EOFError)


def client_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0,
                 masked: bool = True) -> bytes:
    """A frame as a browser sends it (masked), or as it must not (unmasked)."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload)
    bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def opened() -> ServerProtocol:
    """A server protocol as ``ws.start`` makes it, after a valid opening handshake."""
    proto = ServerProtocol(max_size=MAX_MESSAGE, extensions=None,
                           select_subprotocol=lambda p, offered: _select_subprotocol(
                               None, offered))  # type: ignore[arg-type]
    proto.receive_data(HANDSHAKE)
    (request,) = proto.events_received()
    assert isinstance(request, Request)
    response = proto.accept(request)
    assert response.status_code == 101
    proto.send_response(response)
    proto.data_to_send()
    return proto


class _Ws:
    """What :class:`WsConnection` needs of websockets' connection: ``recv()`` giving
    the messages of the frames, then ConnectionClosed."""

    subprotocol = None
    remote_address = ("192.0.2.7", 51000)

    def __init__(self, messages: list[str | bytes | Exception]) -> None:
        self.messages = messages

    async def recv(self) -> str | bytes:
        if not self.messages:
            raise ConnectionClosedError(None, None)
        item = self.messages.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def run_now(coro: Coroutine[Any, Any, bytes]) -> bytes:
    """Run a coroutine that never waits (``_Ws.recv`` does not)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return bytes(stop.value)
    raise AssertionError("WsConnection.read waited on a fake that never waits")


def messages_of(frames: list[Frame]) -> list[str | bytes | Exception]:
    """The messages ``recv()`` gives for these frames (text decoded as websockets does:
    invalid UTF-8 fails the connection)."""
    out: list[str | bytes | Exception] = []
    parts: list[bytes] = []
    kind: Opcode | None = None
    for frame in frames:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            kind, parts = frame.opcode, [bytes(frame.data)]
        elif frame.opcode is Opcode.CONT:
            parts.append(bytes(frame.data))
        else:
            continue
        if frame.fin:
            data = b"".join(parts)
            if kind is Opcode.BINARY:
                out.append(data)
            else:
                try:
                    out.append(data.decode())
                except UnicodeDecodeError:
                    out.append(ConnectionClosedError(None, None))
                    return out
    return out


def check_read(messages: list[str | bytes | Exception]) -> int:
    """Every message through ``WsConnection.read``; returns the bytes read."""
    conn = WsConnection(_Ws(list(messages)))  # type: ignore[arg-type]
    total = 0
    for message in messages:
        got = run_now(conn.read())
        if isinstance(message, Exception):
            assert got == b""  # a hang-up
            return total
        if isinstance(message, bytes):
            assert got == message
        else:
            assert got == bytes(ord(c) for c in message if ord(c) < 256)
        total += len(got)
    assert run_now(conn.read()) == b""  # then the caller is gone
    expected_dropped = sum(sum(ord(c) > 255 for c in m) for m in messages if isinstance(m, str))
    assert conn.dropped_chars == expected_dropped
    return total


def feed(proto: ServerProtocol, data: bytes, cuts: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        proto.receive_data(data[start:cut])
        start = max(start, cut)
        frames += [e for e in proto.events_received() if isinstance(e, Frame)]
        proto.data_to_send()
    return frames


# -- frames ---------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from("AZ09 \x13\x19\x1b\x7fé€\u00ff\u0100☎\U0001f4de"),
                max_size=40)


@st.composite
def frame_bytes(draw: st.DrawFn) -> bytes:
    """Mostly frames a browser could send; now and then a bad one (reserved opcode or
    bit, unmasked, fragment out of place, too big, damaged)."""
    opcode = draw(st.sampled_from([1] * 8 + [2] * 4 + [0, 8, 9, 10, 3, 11]))
    if opcode == 1 or (opcode == 0 and draw(st.booleans())):
        payload = draw(_TEXT).encode()
    elif opcode == 8:
        payload = draw(st.sampled_from([b"", b"\x03\xe8", b"\x03\xe8bye", b"\x03", b"\x00\x01",
                                        b"\x03\xe8\xff"]))
    else:
        payload = draw(st.binary(max_size=40))
    if draw(st.integers(0, 19)) == 0:
        payload = draw(st.binary(min_size=MAX_MESSAGE - 8, max_size=MAX_MESSAGE + 8))
    frame = client_frame(opcode, payload, fin=draw(st.integers(0, 7)) > 0,
                         rsv=draw(st.sampled_from([0] * 18 + [1, 4])),
                         masked=draw(st.integers(0, 29)) > 0)
    damage = draw(st.integers(0, 11))
    if damage == 0 and frame:  # a flipped byte
        at = draw(st.integers(0, len(frame) - 1))
        frame = frame[:at] + bytes([frame[at] ^ draw(st.integers(1, 255))]) + frame[at + 1:]
    elif damage == 1:  # cut short
        frame = frame[: draw(st.integers(0, len(frame)))]
    return frame


@settings(max_examples=300, deadline=None)
@given(st.lists(frame_bytes(), max_size=8), st.binary(max_size=24) | st.just(b""),
       st.lists(st.integers(0, 10_000), max_size=6))
def test_any_frames_give_messages_or_a_documented_close(
        frames: list[bytes], tail: bytes, cuts: list[int]) -> None:
    proto = opened()
    got = feed(proto, b"".join(frames) + tail, cuts)
    event(type(proto.parser_exc).__name__ if proto.parser_exc else "no error")
    if proto.parser_exc is not None:
        assert isinstance(proto.parser_exc, DOCUMENTED), repr(proto.parser_exc)
        assert proto.close_sent is not None and proto.close_sent.code in (1002, 1007, 1009)
    data = [f for f in got if f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)]
    assert sum(len(f.data) for f in data) <= len(b"".join(frames) + tail)
    messages = messages_of(got)
    event(f"{min(len(messages), 3)} messages")
    check_read(messages)


def test_text_frames_carry_one_videotex_byte_per_character() -> None:
    proto = opened()
    text = "\x13A\x19Be" + "\u00ff" + "☎"  # SEP ENVOI, SS2 acute e, 0xFF, then a phone
    frames = feed(proto, client_frame(1, text.encode()), [])
    assert proto.parser_exc is None
    (message,) = messages_of(frames)
    assert check_read([message]) == 6


def test_a_message_over_max_message_closes_with_1009() -> None:
    proto = opened()
    feed(proto, client_frame(2, b"x" * 3000, fin=False) + client_frame(0, b"y" * 2000), [7])
    assert isinstance(proto.parser_exc, PayloadTooBig)
    assert proto.close_sent is not None and proto.close_sent.code == 1009


def test_unmasked_client_frame_is_a_protocol_error() -> None:
    proto = opened()
    feed(proto, client_frame(1, b"12345", masked=False), [])
    assert isinstance(proto.parser_exc, ProtocolError)
    assert proto.close_sent is not None and proto.close_sent.code == 1002


# -- the HTTP upgrade request, on a real listener ------------------------------------


async def http_status(server: WsServer, request: bytes) -> int | None:
    """The status code the listener answers to ``request`` (None: closed without one)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request)  # no EOF after it: a browser keeps the socket open
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    if not line:
        return None
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


async def test_two_upgrade_headers_get_426_not_500(
        ws_server: WsServer, caplog: pytest.LogCaptureFixture) -> None:
    request = HANDSHAKE.replace(b"Upgrade: websocket\r\n",
                                b"Upgrade: websocket\r\nUpgrade: h2c\r\n")
    with caplog.at_level(logging.ERROR):
        assert await http_status(ws_server, request) == 426
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await http_status(ws_server, HANDSHAKE.replace(b"/ws", b"/nowhere")) == 404
    assert await http_status(ws_server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 200


#: The lines of a valid upgrade request, then what a request may add or change.
_VALID_LINES = HANDSHAKE.split(b"\r\n")[1:-2]
_ODD_LINES = [
    b"Upgrade: WebSocket, h2c", b"Upgrade: h2c", b"Upgrade:", b"Connection: keep-alive",
    b"Connection: close", b"Sec-WebSocket-Key: short", b"Sec-WebSocket-Version: 8",
    b"Sec-WebSocket-Protocol: tty", b"Sec-WebSocket-Protocol: a, binary",
    b"Sec-WebSocket-Extensions: permessage-deflate", b"Origin: https://example.org",
    b"Origin: null", b"Transfer-Encoding: chunked", b"Content-Length: 3", b"X: \xe9\xff",
    b"Bad header", b": empty name", b"X:\x00", b"X: " + b"x" * 9000,
]


@st.composite
def upgrade_request(draw: st.DrawFn) -> bytes:
    """A valid upgrade request (or a plain GET) with a few lines dropped, doubled or added,
    and now and then a strange method, target or version."""
    lines = list(_VALID_LINES) if draw(st.integers(0, 5)) else [b"Host: x"]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.integers(0, 2))
        if op == 0 and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif op == 1 and lines:
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(lines)))
        else:
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(_ODD_LINES)))
    method = draw(st.sampled_from([b"GET"] * 8 + [b"POST", b"get", b"G\x00T"]))
    target = draw(st.sampled_from([b"/ws"] * 4 + [b"/", b"/ws?x=1", b"/index.html",
                                                  b"/minitel.js", b"/../etc/passwd", b"*",
                                                  b"/\xe9", b"/a b", b"/ws/"]))
    version = draw(st.sampled_from([b"HTTP/1.1"] * 8 + [b"HTTP/1.0", b"HTTP/2", b""]))
    eol = draw(st.sampled_from([b"\r\n"] * 9 + [b"\n"]))
    return b" ".join((method, target, version)) + eol + b"".join(h + eol for h in lines) + eol


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(upgrade_request())
async def test_any_upgrade_request_gets_an_http_answer_never_a_500(
        ws_server: WsServer, caplog: pytest.LogCaptureFixture, request: bytes) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        status = await http_status(ws_server, request)
    event(f"HTTP {status}")  # pytest --hypothesis-show-statistics
    # None: no HTTP request could be read (websockets then closes without an answer)
    assert status in (None, 101, 200, 400, 403, 404, 405, 414, 426, 431, 505), status
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("after", [
    client_frame(1, b"\x13A"),  # a valid frame, sent before the 101 (RFC 6455 4.1 says wait)
    client_frame(1, b"x", masked=False),  # an invalid one
    b"\x00\x00garbage",
], ids=["frame", "unmasked", "garbage"])
@pytest.mark.parametrize(("request_", "answer"), [
    (HANDSHAKE, 101), (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200),
    (HANDSHAKE.replace(b"/ws", b"/nowhere"), 404)], ids=["upgrade", "page", "not-found"])
async def test_bytes_pipelined_behind_the_request_wait_for_the_answer(
        ws_server: WsServer, caplog: pytest.LogCaptureFixture, after: bytes,
        request_: bytes, answer: int) -> None:
    """websockets 17 parses such bytes as frames before answering the handshake; a bad
    frame then failed the connection and ``send_response`` tripped an assertion: no
    HTTP answer, an ERROR with a traceback in the log for each such connection."""
    with caplog.at_level(logging.ERROR):
        status = await http_status(ws_server, request_ + after)
    assert status == answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
