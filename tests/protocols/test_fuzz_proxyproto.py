"""PROXY protocol under hostile input: a header, a wait or ProxyProtocolError, whatever
the bytes and however they arrive.

Regression (found while writing bench/bench_fuzz.py): a v1 line longer than 107 bytes
was accepted when its CRLF came in the same read, and a port of thousands of digits then
raised ``ValueError`` from ``int()`` (Python's limit on digits) instead of the protocol
error: the telnet listener, which buffers whole reads, let it escape ``data_received``."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols import proxyproto
from videotex.protocols.proxyproto import MAX_V1, MAX_V2, ProxyHeader, ProxyProtocolError

V1 = b"PROXY TCP4 192.0.2.7 127.0.0.1 51000 3615\r\n"
V2 = (proxyproto.V2_SIGNATURE + b"\x21\x11" + struct.pack("!H", 12)
      + bytes([192, 0, 2, 7, 127, 0, 0, 1]) + struct.pack("!HH", 51000, 3615))


@pytest.mark.parametrize("line", [
    b"PROXY TCP4 192.0.2.7 127.0.0.1 " + b"1" * 5000 + b" 3615\r\n",  # int() digit limit
    b"PROXY TCP4 192.0.2.7 127.0.0.1 51000 3615" + b" " * 70 + b"\r\n",
    b"PROXY UNKNOWN " + b"x" * 200 + b"\r\n",
])
def test_a_line_over_107_bytes_is_refused_even_in_one_read(line: bytes) -> None:
    with pytest.raises(ProxyProtocolError, match=f"longer than {MAX_V1} bytes"):
        proxyproto.parse(line + b"\x13\x41")


def test_the_longest_line_allowed_is_107_bytes() -> None:
    longest = b"PROXY UNKNOWN " + b"x" * (MAX_V1 - 16) + b"\r\n"
    assert len(longest) == MAX_V1
    assert proxyproto.parse(longest) == (ProxyHeader(1, False), MAX_V1)
    with pytest.raises(ProxyProtocolError, match="longer than"):
        proxyproto.parse(longest[:-2] + b"x\r\n")


_CHUNKS = st.sampled_from([V1[:11], V1[11:20], V1[20:], V2[:16], V2[16:], b"PROXY UNKNOWN ",
                           b" ", b"\r\n", b"1" * 40, b"::1", b"TCP6 ", b"UNKNOWN", b"\x00",
                           b"\xff"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_CHUNKS, max_size=12), st.binary(max_size=8))
def test_header_wait_or_protocol_error_and_more_bytes_change_nothing(
        chunks: list[bytes], tail: bytes) -> None:
    buf = b"".join(chunks)
    try:
        result = proxyproto.parse(buf)
    except ProxyProtocolError:
        with pytest.raises(ProxyProtocolError):  # more bytes never repair a bad start
            proxyproto.parse(buf + tail)
        return
    if result is None:
        assert len(buf) < max(MAX_V1, MAX_V2)
        return
    header, used = result
    assert 0 < used <= len(buf)
    assert used <= (MAX_V1 if buf.startswith(b"PROXY") else MAX_V2)
    assert proxyproto.parse(buf + tail) == (header, used)  # what follows is the caller's
    if header.proxied:
        assert header.peer.rsplit(":", 1)[1].isdigit()
