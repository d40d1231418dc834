"""PROXY protocol v1/v2: a table of headers, fed whole and byte by byte, and listeners
that take the caller's real address from it."""

from __future__ import annotations

import asyncio
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.client import MinitelClient
from videotex.channels.raw import start_raw
from videotex.channels.telnet import start_telnet
from videotex.protocols import proxyproto
from videotex.protocols.proxyproto import ProxyHeader, ProxyProtocolError
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

SIG = proxyproto.V2_SIGNATURE


def v2(cmd: int, fam: int, body: bytes) -> bytes:
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + body


V4_BODY = bytes([192, 0, 2, 7]) + bytes([127, 0, 0, 1]) + struct.pack("!HH", 51000, 3615)
V6_BODY = (bytes.fromhex("20010db8000000000000000000000001") + bytes(15) + b"\x01"
           + struct.pack("!HH", 40000, 23))

VALID = [
    (b"PROXY TCP4 192.0.2.7 127.0.0.1 51000 3615\r\n",
     ProxyHeader(1, True, "192.0.2.7", 51000, "127.0.0.1", 3615)),
    (b"PROXY TCP6 2001:db8::1 ::1 40000 23\r\n",
     ProxyHeader(1, True, "2001:db8::1", 40000, "::1", 23)),
    (b"PROXY UNKNOWN\r\n", ProxyHeader(1, False)),
    (b"PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n", ProxyHeader(1, False)),
    (v2(1, 0x11, V4_BODY), ProxyHeader(2, True, "192.0.2.7", 51000, "127.0.0.1", 3615)),
    (v2(1, 0x21, V6_BODY), ProxyHeader(2, True, "2001:db8::1", 40000, "::1", 23)),
    (v2(1, 0x11, V4_BODY + b"\x04\x00\x01X"),  # with a TLV, ignored
     ProxyHeader(2, True, "192.0.2.7", 51000, "127.0.0.1", 3615)),
    (v2(0, 0x00, b""), ProxyHeader(2, False)),
]

INVALID = [
    (b"GET / HTTP/1.1\r\n", "did not start"),
    (b"PROXY TCP4 192.0.2.7 127.0.0.1 51000\r\n", "malformed"),
    (b"PROXY TCP4 ::1 127.0.0.1 1 2\r\n", "not IPv4"),
    (b"PROXY TCP4 192.0.2.999 127.0.0.1 1 2\r\n", "bad source address"),
    (b"PROXY TCP4 192.0.2.7 127.0.0.1 99999 2\r\n", "bad source port"),
    (b"PROXY " + b"X" * 120, "longer than"),
    (SIG + bytes([0x31, 0x11, 0, 12]) + V4_BODY, "version 3"),
    (v2(2, 0x11, V4_BODY), "unknown command"),
    (v2(1, 0x11, V4_BODY[:8]), "too short"),
    (v2(1, 0x31, b"x" * 216), "unsupported address family"),
    (SIG + bytes([0x21, 0x11]) + struct.pack("!H", 60000), "too long"),
]


@pytest.mark.parametrize(("data", "expected"), VALID)
@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
def test_valid_headers(data: bytes, expected: ProxyHeader, mode: str) -> None:
    if mode == "bytewise":
        for i in range(1, len(data)):
            assert proxyproto.parse(data[:i]) is None
    extra = b"\x13\x41rest" if mode == "trailing" else b""
    assert proxyproto.parse(data + extra) == (expected, len(data))


@pytest.mark.parametrize(("data", "message"), INVALID)
def test_invalid_headers_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ProxyProtocolError, match=message):
        proxyproto.parse(data)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_header_a_wait_or_a_protocol_error(data: bytes) -> None:
    try:
        result = proxyproto.parse(data)
    except ProxyProtocolError:
        return
    if result is not None:
        header, used = result
        assert 0 < used <= len(data)
        assert isinstance(header, ProxyHeader)


@pytest.mark.parametrize("kind", ["telnet", "raw"])
@pytest.mark.parametrize("header", [VALID[0][0], VALID[4][0]], ids=["v1", "v2"])
async def test_listener_takes_the_real_address_from_the_header(service, kind, header) -> None:
    board = Switchboard(service, SystemClock())
    start = start_telnet if kind == "telnet" else start_raw
    server = await start(board.handle, "127.0.0.1", 0, proxy=True)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(header)
    got = b""
    while b"CNX/FIN" not in got:
        chunk = await asyncio.wait_for(reader.read(4096), 5)
        assert chunk
        got += chunk
    (call,) = board.calls
    assert call.conn.peer == "192.0.2.7:51000"
    assert call.conn.identity == "192.0.2.7"
    writer.close()
    server.close()
    await board.shutdown(grace=2)


@pytest.mark.parametrize("kind", ["telnet", "raw"])
async def test_listener_drops_connections_without_a_header(service, kind) -> None:
    board = Switchboard(service, SystemClock())
    start = start_telnet if kind == "telnet" else start_raw
    server = await start(board.handle, "127.0.0.1", 0, proxy=True)
    port = server.sockets[0].getsockname()[1]
    client = await MinitelClient.connect(f"{kind}://127.0.0.1:{port}")
    await client.send(b"hello, no header here\r\n")
    await client.wait_closed(timeout=5)
    assert "RESULTATS" not in client.text
    assert board.total_calls == 0
    server.close()


async def test_telnet_listener_drops_a_caller_whose_header_never_came(service) -> None:
    """The opening negotiation ends (here after 0.2 s) before any PROXY header: the
    call must not start with the listener's own peer address, it is dropped."""
    board = Switchboard(service, SystemClock())
    server = await start_telnet(board.handle, "127.0.0.1", 0, proxy=True, connect_maxwait=0.2)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got = b""
    async with asyncio.timeout(5):
        while chunk := await reader.read(4096):
            got += chunk
    assert b"\x0c" not in got.replace(b"\xff", b"")  # no page was drawn
    assert board.total_calls == 0
    writer.close()
    server.close()
    await board.shutdown(grace=2)
