"""SIP messages (RFC 3261 §7, §20, §25), sans-IO: bytes ⇄ :class:`SipRequest`/:class:`SipResponse`.

Owns: the message codec (start line, headers with folding and compact names, body framed by
Content-Length), TCP stream framing (:class:`SipStream`), the header values a user agent reads
(URIs, name-addr, Via, CSeq, comma lists) and the response a server builds for a request.

Invariants:

- every refusal is a :class:`SipError` (a ``ValueError``) whose message names what is wrong
  (the line, the header); nothing else escapes the parsers, whatever the bytes;
- header names are kept in their canonical long form (``v`` → ``Via``, ``call-id`` →
  ``Call-ID``) and in wire order; values are stripped, folded lines joined by one space;
- ``parse_message(bytes(m)) == m`` for every message built here (``Content-Length`` is
  written from the body on encoding, so it is never stored);
- limits: :data:`MAX_MESSAGE` bytes, :data:`MAX_HEADERS` header lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_HEADERS",
    "MAX_MESSAGE",
    "REASONS",
    "NameAddr",
    "SipError",
    "SipMessage",
    "SipRequest",
    "SipResponse",
    "SipStream",
    "SipUri",
    "Via",
    "canonical_name",
    "missing_headers",
    "parse_cseq",
    "parse_message",
    "parse_name_addr",
    "parse_uri",
    "parse_via",
    "response_for",
    "split_commas",
]

#: Largest message accepted (a UDP datagram's payload; a TCP message is held to the same).
MAX_MESSAGE = 65_535
#: Most header lines in one message (after unfolding).
MAX_HEADERS = 128
#: Headers a request must carry (RFC 3261 §8.1.1; Max-Forwards is often left out in dialogs).
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")

#: RFC 3261 §7.3.3 compact forms, and RFC 3515/4028 ones seen in the wild.
_COMPACT = {"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
            "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To",
            "v": "Via", "o": "Event", "u": "Allow-Events", "r": "Refer-To",
            "b": "Referred-By", "x": "Session-Expires"}
_SPECIAL = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
            "p-asserted-identity": "P-Asserted-Identity", "mime-version": "MIME-Version",
            "rseq": "RSeq", "rack": "RAck", "sip-etag": "SIP-ETag", "sip-if-match": "SIP-If-Match"}

REASONS = {
    100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 407: "Proxy Authentication Required", 408: "Request Timeout",
    415: "Unsupported Media Type", 420: "Bad Extension", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 483: "Too Many Hops", 486: "Busy Here",
    487: "Request Terminated", 488: "Not Acceptable Here", 491: "Request Pending",
    500: "Server Internal Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "Version Not Supported", 513: "Message Too Large", 603: "Decline",
}

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+\Z")
_STATUS = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?\Z")


class SipError(ValueError):
    """Bytes that are not a SIP message this codec accepts; the message says why."""


def canonical_name(name: str) -> str:
    """``v`` → ``Via``, ``call-id`` → ``Call-ID``, ``x-foo`` → ``X-Foo``."""
    low = name.lower()
    if low in _COMPACT:
        return _COMPACT[low]
    if low in _SPECIAL:
        return _SPECIAL[low]
    return "-".join(part[:1].upper() + part[1:] for part in low.split("-"))


@dataclass(frozen=True, slots=True)
class SipMessage:
    """What requests and responses share: headers in wire order and a body."""

    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any spelling), or None."""
        want = canonical_name(name)
        for key, value in self.headers:
            if key == want:
                return value
        return None

    def all(self, name: str) -> list[str]:
        """Every value of header ``name``, comma lists split (Via, Route, Contact...)."""
        want = canonical_name(name)
        out: list[str] = []
        for key, value in self.headers:
            if key == want:
                out += split_commas(value)
        return out

    def _start(self) -> str:
        raise NotImplementedError

    def __bytes__(self) -> bytes:
        lines = [self._start()]
        lines += [f"{k}: {v}" for k, v in self.headers if k != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True, slots=True)
class SipRequest(SipMessage):
    method: str = ""
    uri: str = ""

    def _start(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"


@dataclass(frozen=True, slots=True)
class SipResponse(SipMessage):
    status: int = 0
    reason: str = ""

    def _start(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"


# -- the message codec ---------------------------------------------------------------------

def _split_head(data: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = data.find(sep)
        if at >= 0:
            return data[:at], data[at + len(sep):]
    return data, b""


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """One whole message (a UDP datagram, or what :class:`SipStream` framed) → the message.

    Line ends may be CRLF or bare LF; a Content-Length shorter than the body cuts it, a
    longer one is an error (RFC 3261 §18.3); without one the body is the rest.
    """
    if len(data) > MAX_MESSAGE:
        raise SipError(f"message of {len(data)} bytes, more than {MAX_MESSAGE}")
    data = data.lstrip(b"\r\n")  # RFC 3261 §7.5: CRLFs before the start line are ignored
    if not data:
        raise SipError("empty message")
    head, rest = _split_head(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SipError(f"start line and headers are not UTF-8 (byte {e.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0]
    headers = _headers(lines[1:])
    body = _body(headers, rest)
    headers = tuple(h for h in headers if h[0] != "Content-Length")  # the body says it
    if start.startswith("SIP/"):
        m = _STATUS.match(start)
        if m is None:
            raise SipError(f"status line {start[:60]!r} is not 'SIP/2.0 code reason'")
        return SipResponse(headers, body, int(m.group(1)), m.group(2) or "")
    parts = start.split(" ")
    if len(parts) != 3 or not parts[1]:
        raise SipError(f"request line {start[:60]!r} is not 'METHOD URI SIP/2.0'")
    method, uri, version = parts
    if not _TOKEN.match(method):
        raise SipError(f"request line: method {method[:20]!r} is not a token")
    if version != "SIP/2.0":
        raise SipError(f"request line: version {version[:20]!r} is not SIP/2.0")
    if any(c in uri for c in "<>\"\t"):
        raise SipError(f"request line: URI {uri[:60]!r} has characters a URI cannot hold")
    return SipRequest(headers, body, method, uri)


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    out: list[list[str]] = []
    for n, line in enumerate(lines, start=2):
        if not line:
            continue
        if line[0] in " \t":
            if not out:
                raise SipError(f"line {n}: a continuation line before any header")
            out[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _TOKEN.match(name):
            raise SipError(f"line {n}: {line[:40]!r} is not 'Name: value'")
        out.append([canonical_name(name), value.strip()])
        if len(out) > MAX_HEADERS:
            raise SipError(f"more than {MAX_HEADERS} headers")
    return tuple((k, v.strip()) for k, v in out)


def _body(headers: tuple[tuple[str, str], ...], rest: bytes) -> bytes:
    lengths = [v for k, v in headers if k == "Content-Length"]
    if not lengths:
        return rest
    if len(set(lengths)) > 1:
        raise SipError(f"Content-Length given twice with different values {lengths[:2]}")
    if not (lengths[0].isascii() and lengths[0].isdigit()) or len(lengths[0]) > 6:
        raise SipError(f"Content-Length {lengths[0][:20]!r} is not a number of bytes")
    n = int(lengths[0])
    if n > len(rest):
        raise SipError(f"Content-Length says {n} bytes, the body has {len(rest)}")
    return rest[:n]


class SipStream:
    """Messages out of a byte stream (SIP over TCP, RFC 3261 §18.3): ``feed(bytes)`` →
    whole messages. Keep-alive CRLFs between messages are skipped. A header block longer
    than :data:`MAX_MESSAGE` or a bad Content-Length raises :class:`SipError`: the
    connection cannot be resynchronised and must be closed."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[SipRequest | SipResponse]:
        self._buf += data
        out: list[SipRequest | SipResponse] = []
        while True:
            while self._buf[:2] == b"\r\n" or self._buf[:1] == b"\n":
                del self._buf[: 2 if self._buf[:1] == b"\r" else 1]
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_MESSAGE:
                    raise SipError(f"no end of headers within {MAX_MESSAGE} bytes")
                return out
            head = bytes(self._buf[: end + 4])
            length = 0
            for line in head.split(b"\r\n"):
                name, colon, value = line.partition(b":")
                if colon and name.strip().lower() in (b"content-length", b"l"):
                    text = value.strip()
                    if not (text.isascii() and text.isdigit()) or len(text) > 6:
                        raise SipError(f"Content-Length {text[:20]!r} is not a number of bytes")
                    length = int(text)
            if end + 4 + length > MAX_MESSAGE:
                raise SipError(f"message of {end + 4 + length} bytes, more than {MAX_MESSAGE}")
            if len(self._buf) < end + 4 + length:
                return out
            whole = bytes(self._buf[: end + 4 + length])
            del self._buf[: end + 4 + length]
            out.append(parse_message(whole))


def missing_headers(request: SipRequest) -> list[str]:
    """Mandatory headers (RFC 3261 §8.1.1) the request lacks, in order."""
    return [name for name in REQUIRED if not request.header(name)]


# -- header values ---------------------------------------------------------------------------

def split_commas(value: str) -> list[str]:
    """A comma list split where commas are separators (not inside quotes or ``<...>``)."""
    out: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            out.append(value[start:i].strip())
            start = i + 1
        i += 1
    out.append(value[start:].strip())
    return [v for v in out if v]


def _params(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if not _TOKEN.match(key):
            raise SipError(f"{where}: parameter {part[:30]!r} is not name[=value]")
        out[key] = value.strip().strip('"')
    return out


@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:user@host:port;params`` (or ``sips:``, ``tel:``)."""

    scheme: str
    user: str
    host: str
    port: int | None = None
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def parse_uri(text: str) -> SipUri:
    """``sip:+33320123456@gw.example:5060;user=phone`` → its parts; ``tel:`` URIs give the
    number as the user and no host."""
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips", "tel"):
        raise SipError(f"URI {text[:60]!r} is not sip:, sips: or tel:")
    if any(c.isspace() or c in '<>"' for c in text):
        raise SipError(f"URI {text[:60]!r} has spaces or characters a URI cannot hold")
    rest = rest.split("?", 1)[0]
    main, _, ptext = rest.partition(";")
    params = _params(ptext, f"URI {text[:40]!r}")
    if scheme == "tel":
        if not main:
            raise SipError(f"URI {text[:60]!r} has no number")
        return SipUri(scheme, main, "", None, params)
    user, at, hostport = main.rpartition("@")
    if at:
        user = user.split(":", 1)[0]  # user:password (deprecated) keeps the user
    host, port = _hostport(hostport, f"URI {text[:40]!r}")
    return SipUri(scheme, user, host, port, params)


def _hostport(text: str, where: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, bracket, tail = text[1:].partition("]")
        if not bracket or not host:
            raise SipError(f"{where}: IPv6 host {text[:50]!r} has no closing ']'")
        port_text = tail[1:] if tail.startswith(":") else None
        if tail and port_text is None:
            raise SipError(f"{where}: {tail[:20]!r} after the IPv6 host")
    else:
        host, colon, port_text_ = text.partition(":")
        port_text = port_text_ if colon else None
    if not host or any(c in host for c in " <>\"@;,"):
        raise SipError(f"{where}: host {host[:50]!r} is not a host name or address")
    if port_text is None:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise SipError(f"{where}: port {port_text[:10]!r} is not 1-65535")
    return host, int(port_text)


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From/To/Contact/P-Asserted-Identity value: display name, URI, header parameters."""

    display: str
    uri: SipUri
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")


def parse_name_addr(text: str) -> NameAddr:
    """``"Minitel" <sip:0320123456@gw>;tag=1`` or ``sip:0320@gw;tag=1`` → its parts."""
    text = text.strip()
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise SipError(f"address {text[:60]!r} has '<' without '>'")
        display = text[:lt].strip().strip('"')
        uri = parse_uri(text[lt + 1 : gt])
        params = _params(text[gt + 1 :], f"address {text[:40]!r}")
        return NameAddr(display, uri, params)
    main, _, ptext = text.partition(";")  # addr-spec: the parameters are the header's
    return NameAddr("", parse_uri(main), _params(ptext, f"address {text[:40]!r}"))


@dataclass(frozen=True, slots=True)
class Via:
    """One Via hop: ``SIP/2.0/UDP host:port;branch=z9hG4bK...;rport``."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")

    @property
    def sent_by(self) -> str:
        return f"{self.host}:{self.port or 5060}"


def parse_via(text: str) -> Via:
    """The first hop of a Via value."""
    first = split_commas(text)
    if not first:
        raise SipError("Via is empty")
    proto, _, rest = first[0].partition(" ")
    pieces = proto.split("/")
    if len(pieces) != 3 or pieces[0].upper() != "SIP" or not pieces[2]:
        raise SipError(f"Via {first[0][:50]!r} does not start with SIP/2.0/transport")
    sent_by, _, ptext = rest.strip().partition(";")
    host, port = _hostport(sent_by.strip(), f"Via {first[0][:40]!r}")
    return Via(pieces[2].upper(), host, port, _params(ptext, "Via"))


def parse_cseq(text: str) -> tuple[int, str]:
    """``314159 INVITE`` → (314159, "INVITE")."""
    parts = text.split()
    if len(parts) != 2 or not (parts[0].isascii() and parts[0].isdigit()) or len(parts[0]) > 10:
        raise SipError(f"CSeq {text[:40]!r} is not 'number METHOD'")
    number = int(parts[0])
    if number >= 2**31 or not _TOKEN.match(parts[1]):
        raise SipError(f"CSeq {text[:40]!r}: number beyond 2**31 or method not a token")
    return number, parts[1]


# -- building ----------------------------------------------------------------------------------

def response_for(request: SipRequest, status: int, reason: str | None = None, *,
                 to_tag: str | None = None, headers: tuple[tuple[str, str], ...] = (),
                 body: bytes = b"", received: tuple[str, int] | None = None) -> SipResponse:
    """The response to ``request`` (RFC 3261 §8.2.6): its Via (the top one stamped with
    ``received``/``rport`` when the request came from ``received``), From, To (with
    ``to_tag`` added if it has none), Call-ID and CSeq, then ``headers``."""
    out: list[tuple[str, str]] = []
    vias = [v for k, v in request.headers if k == "Via"]
    for i, value in enumerate(vias):
        out.append(("Via", _stamp(value, received) if i == 0 and received else value))
    for name in ("From", "To", "Call-ID", "CSeq"):
        found = request.header(name)
        if found is None:
            continue
        if name == "To" and to_tag and ";tag=" not in found.replace(" ", "").lower():
            found = f"{found};tag={to_tag}"
        out.append((name, found))
    return SipResponse(tuple(out) + headers, body, status, reason or REASONS.get(status, ""))


def _stamp(via: str, received: tuple[str, int]) -> str:
    """RFC 3261 §18.2.1 ``received`` and RFC 3581 ``rport`` on the first hop of ``via``."""
    hops = split_commas(via)
    first = hops[0]
    parts = [p for p in first.split(";")]
    keep = [parts[0]]
    for p in parts[1:]:
        key = p.split("=", 1)[0].strip().lower()
        if key == "rport":
            keep.append(f"rport={received[1]}")
        elif key != "received":
            keep.append(p)
    keep.append(f"received={received[0]}")
    return ", ".join([";".join(keep), *hops[1:]])
