"""SIP messages (RFC 3261 §7, §20), sans-IO: datagram bytes ↔ :class:`Request`/:class:`Response`.

Owns the wire syntax of the emulator's SIP user agent: start line, headers (compact forms
and folded lines understood, names kept as written, lookups case-insensitive), body cut to
``Content-Length``; and the small parsers of header values a UA needs (the URI of a
name-addr, a ``;tag=`` parameter, the ``CSeq`` pair, the top ``Via`` branch).

Invariants: :func:`parse` either returns a message or raises :class:`SipError` saying what
is wrong, for any bytes; :func:`build_request` and :func:`build_response` always write
``Content-Length`` and CRLF line ends; a message built here parses back to itself.
Written from RFC 3261 for the emulator; it shares no code with the server.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "COMPACT",
    "Headers",
    "Request",
    "Response",
    "SipError",
    "branch_of",
    "build_request",
    "build_response",
    "cseq_of",
    "new_branch",
    "new_tag",
    "param_of",
    "parse",
    "uri_of",
]

#: RFC 3261 §7.3.3 (and RFC 3265, 3515 for o, r, u): compact header names.
COMPACT = {
    "i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact", "l": "content-length",
    "c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding",
    "o": "event", "r": "refer-to", "u": "allow-events",
}
#: RFC 3261 §8.1.1.7: every branch of a compliant UA starts with this magic cookie.
BRANCH_COOKIE = "z9hG4bK"
_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_MAX_HEADERS = 200

Headers = tuple[tuple[str, str], ...]


class SipError(ValueError):
    """A datagram that is not a well-formed SIP message; the text says what is wrong."""


def _key(name: str) -> str:
    low = name.strip().lower()
    return COMPACT.get(low, low)


@dataclass(frozen=True, slots=True)
class _Message:
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case, compact form too), or None."""
        key = _key(name)
        for n, v in self.headers:
            if _key(n) == key:
                return v
        return None

    def headers_named(self, name: str) -> list[str]:
        """Every value of header ``name``, in order (comma-joined lines not split)."""
        key = _key(name)
        return [v for n, v in self.headers if _key(n) == key]


@dataclass(frozen=True, slots=True)
class Request(_Message):
    """A SIP request: ``METHOD URI SIP/2.0``."""

    method: str
    uri: str

    def encode(self) -> bytes:
        return _encode(f"{self.method} {self.uri} SIP/2.0", self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Response(_Message):
    """A SIP response: ``SIP/2.0 STATUS REASON``."""

    status: int
    reason: str

    def encode(self) -> bytes:
        return _encode(f"SIP/2.0 {self.status} {self.reason}", self.headers, self.body)


def _encode(start: str, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    lines = [start]
    lines += [f"{n}: {v}" for n, v in headers if _key(n) != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def parse(data: bytes) -> Request | Response:
    """One SIP message from one datagram; raises :class:`SipError` naming the fault."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise SipError("no blank line after the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SipError(f"headers are not UTF-8 (byte {e.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    headers = _headers(lines[1:])
    length_text = next((v for n, v in headers if _key(n) == "content-length"), None)
    if length_text is not None:
        if not (length_text.strip().isascii() and length_text.strip().isdigit()):
            raise SipError(f"Content-Length {length_text!r} is not a number")
        length = int(length_text)
        if length > len(body):
            raise SipError(f"body shorter ({len(body)} bytes) than Content-Length {length}")
        body = body[:length]
    if start.startswith("SIP/"):
        return _response(start, headers, body)
    return _request(start, headers, body)


def _headers(lines: Sequence[str]) -> Headers:
    out: list[list[str]] = []
    for line in lines:
        if not line:
            continue
        if line[0] in " \t":  # §7.3.1 folding: continues the previous header
            if not out:
                raise SipError("a continuation line before any header")
            out[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.strip()):
            raise SipError(f"header line without a name: {line[:40]!r}")
        out.append([name.strip(), value.strip()])
        if len(out) > _MAX_HEADERS:
            raise SipError(f"more than {_MAX_HEADERS} headers")
    return tuple((n, v) for n, v in out)


def _response(start: str, headers: Headers, body: bytes) -> Response:
    version, _, rest = start.partition(" ")
    code, _, reason = rest.partition(" ")
    if version != "SIP/2.0":
        raise SipError(f"unsupported version {version!r} (SIP/2.0 only)")
    if not (len(code) == 3 and (code.isascii() and code.isdigit()) and 100 <= int(code) <= 699):
        raise SipError(f"status {code!r} is not a number from 100 to 699")
    return Response(headers=headers, body=body, status=int(code), reason=reason.strip())


def _request(start: str, headers: Headers, body: bytes) -> Request:
    parts = start.split(" ")
    if len(parts) != 3:
        raise SipError(f"request line is not METHOD URI SIP/2.0: {start[:60]!r}")
    method, uri, version = parts
    if version != "SIP/2.0":
        raise SipError(f"unsupported version {version!r} (SIP/2.0 only)")
    if not _TOKEN.fullmatch(method) or ":" not in uri:
        raise SipError(f"bad method or URI in {start[:60]!r}")
    return Request(headers=headers, body=body, method=method, uri=uri)


def build_request(method: str, uri: str, headers: Sequence[tuple[str, str]],
                  body: bytes = b"") -> Request:
    """A request with these headers in this order (``Content-Length`` is added)."""
    return Request(headers=tuple(headers), body=body, method=method, uri=uri)


def build_response(request: Request, status: int, reason: str, *,
                   to_tag: str | None = None, extra: Sequence[tuple[str, str]] = (),
                   body: bytes = b"") -> Response:
    """A response to ``request`` (§8.2.6.2): its Via headers, From, To, Call-ID and CSeq
    copied; ``to_tag`` is added to To when it has none; then ``extra``."""
    copied: list[tuple[str, str]] = []
    for name, value in request.headers:
        key = _key(name)
        if key == "to" and to_tag and param_of(value, "tag") is None:
            value = f"{value};tag={to_tag}"
        if key in ("via", "from", "to", "call-id", "cseq"):
            copied.append((name, value))
    return Response(headers=(*copied, *extra), body=body, status=status, reason=reason)


# -- header values -------------------------------------------------------------------


def _split_params(value: str) -> tuple[str, list[str]]:
    """``value`` → (the part before the header parameters, the parameters)."""
    end = value.rfind(">")
    cut = value.find(";", end + 1 if end >= 0 else 0)
    if cut < 0:
        return value.strip(), []
    return value[:cut].strip(), [p.strip() for p in value[cut + 1:].split(";")]


def param_of(value: str, name: str) -> str | None:
    """A header parameter (``tag``, ``branch``, ...) of a From/To/Via value, or None;
    a parameter without a value gives ``""``."""
    for p in _split_params(value)[1]:
        key, eq, val = p.partition("=")
        if key.strip().lower() == name:
            return val.strip() if eq else ""
    return None


def uri_of(value: str) -> str:
    """The URI of a name-addr (``"Bob" <sip:b@h>;tag=1``) or addr-spec (``sip:b@h;tag=1``)."""
    lt = value.find("<")
    if lt >= 0:
        gt = value.find(">", lt)
        return value[lt + 1:gt if gt > 0 else None].strip()
    return _split_params(value)[0]


def cseq_of(message: Request | Response) -> tuple[int, str] | None:
    """(number, method) of the CSeq header, or None if absent or malformed."""
    value = message.header("cseq")
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 2 or not (parts[0].isascii() and parts[0].isdigit()):
        return None
    return int(parts[0]), parts[1].upper()


def branch_of(message: Request | Response) -> str | None:
    """The ``branch`` of the top Via (the first value of the first Via header)."""
    via = message.header("via")
    if via is None:
        return None
    return param_of(via.split(",")[0], "branch")


def new_tag() -> str:
    """A From/To tag (§19.3: at least 32 bits of randomness)."""
    return secrets.token_hex(6)


def new_branch() -> str:
    """A Via branch unique to one transaction, with the RFC 3261 magic cookie."""
    return BRANCH_COOKIE + secrets.token_hex(8)
