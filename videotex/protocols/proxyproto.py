"""The PROXY protocol (HAProxy), versions 1 and 2: the real caller behind a balancer.

Sans-IO: :func:`parse` takes the bytes received so far and returns the header once it is
complete, with how many bytes it used; the rest belongs to the caller's stream. A
:class:`HeaderBuffer` keeps those bytes between reads for a listener. A
listener configured for the PROXY protocol accepts nothing else: a connection whose first
bytes are not a valid header is closed (it did not come through the balancer).

Spec: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt (v1 text line of at
most 107 bytes; v2 binary, 16-byte preamble then addresses).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "MAX_V1",
    "V2_SIGNATURE",
    "HeaderBuffer",
    "ProxyHeader",
    "ProxyProtocolError",
    "parse",
]

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
MAX_V1 = 107
#: Largest v2 header we accept (addresses plus TLVs); HAProxy's own limit is similar.
MAX_V2 = 16 + 536


class ProxyProtocolError(ValueError):
    """The connection did not start with a valid PROXY header."""


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    version: int
    #: False for v2 LOCAL or v1 UNKNOWN (health checks): keep the connection's own address.
    proxied: bool
    source: str = ""
    source_port: int = 0
    dest: str = ""
    dest_port: int = 0

    @property
    def peer(self) -> str:
        host = f"[{self.source}]" if ":" in self.source else self.source
        return f"{host}:{self.source_port}"


class HeaderBuffer:
    """The bytes of a connection until its PROXY header is complete."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> tuple[ProxyHeader, bytes] | None:
        """``(header, bytes past it)`` once the header is complete, else ``None``.

        Raises :class:`ProxyProtocolError` as soon as the bytes cannot start a header."""
        self._buf += data
        parsed = parse(self._buf)
        if parsed is None:
            return None
        header, used = parsed
        rest, self._buf = self._buf[used:], b""
        return header, rest


def parse(buf: bytes) -> tuple[ProxyHeader, int] | None:
    """``(header, used)`` once complete, ``None`` if more bytes are needed."""
    if buf.startswith(V2_SIGNATURE[: len(buf)]) and not buf.startswith(b"PROXY"):
        if len(buf) < 16:
            return None
        return _parse_v2(buf)
    if b"PROXY "[: len(buf)] == buf[:6]:
        end = buf.find(b"\r\n")
        # the limit holds however the line arrived: a longer line in one read would
        # reach int() with thousands of digits (a ValueError, not a protocol error)
        if end + 2 > MAX_V1 or (end < 0 and len(buf) >= MAX_V1):
            raise ProxyProtocolError(f"PROXY v1 line longer than {MAX_V1} bytes")
        if end < 0:
            return None
        return _parse_v1(buf[:end].decode("ascii", "replace")), end + 2
    raise ProxyProtocolError("connection did not start with a PROXY protocol header")


def _address(text: str, family: int, what: str) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise ProxyProtocolError(f"PROXY v1: bad {what} address {text!r}") from None
    if addr.version != family:
        raise ProxyProtocolError(f"PROXY v1: {what} address {text!r} is not IPv{family}")
    return str(addr)


def _port(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or not (0 <= int(text) <= 65535) or (len(text) > 1 and text[0] == "0"):
        raise ProxyProtocolError(f"PROXY v1: bad {what} port {text!r}")
    return int(text)


def _parse_v1(line: str) -> ProxyHeader:
    parts = line.split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return ProxyHeader(1, False)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise ProxyProtocolError(f"PROXY v1: malformed line {line[:60]!r}")
    family = 4 if parts[1] == "TCP4" else 6
    return ProxyHeader(
        1, True,
        _address(parts[2], family, "source"), _port(parts[4], "source"),
        _address(parts[3], family, "destination"), _port(parts[5], "destination"),
    )


def _parse_v2(buf: bytes) -> tuple[ProxyHeader, int] | None:
    ver_cmd, fam, length = struct.unpack("!BBH", buf[12:16])
    if ver_cmd >> 4 != 2:
        raise ProxyProtocolError(f"PROXY v2: version {ver_cmd >> 4} is not 2")
    if 16 + length > MAX_V2:
        raise ProxyProtocolError(f"PROXY v2: header of {16 + length} bytes is too long")
    if len(buf) < 16 + length:
        return None
    used = 16 + length
    cmd = ver_cmd & 0x0F
    if cmd == 0:  # LOCAL: the balancer's own connection (health check)
        return ProxyHeader(2, False), used
    if cmd != 1:
        raise ProxyProtocolError(f"PROXY v2: unknown command {cmd}")
    body = buf[16:used]
    if fam == 0x11:  # TCP over IPv4
        if length < 12:
            raise ProxyProtocolError("PROXY v2: IPv4 address block too short")
        src, dst, sport, dport = struct.unpack("!4s4sHH", body[:12])
    elif fam == 0x21:  # TCP over IPv6
        if length < 36:
            raise ProxyProtocolError("PROXY v2: IPv6 address block too short")
        src, dst, sport, dport = struct.unpack("!16s16sHH", body[:36])
    elif fam == 0x00:  # UNSPEC
        return ProxyHeader(2, False), used
    else:
        raise ProxyProtocolError(f"PROXY v2: unsupported address family 0x{fam:02x}")
    return ProxyHeader(2, True, str(ipaddress.ip_address(src)), sport,
                       str(ipaddress.ip_address(dst)), dport), used
