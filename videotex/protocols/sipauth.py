"""HTTP Digest for SIP (RFC 3261 §22, RFC 7616, RFC 8760), the client side, sans-IO.

Owns: reading a ``WWW-Authenticate``/``Proxy-Authenticate`` challenge and writing the
``Authorization``/``Proxy-Authorization`` answer: MD5, MD5-sess, SHA-256 and SHA-256-sess,
with ``qop=auth`` when offered, without qop otherwise (RFC 2069 style).

Invariants: refusals are :class:`DigestError` (a ``ValueError``) naming the parameter; the
password never appears in an error or in what is returned other than hashed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Challenge", "DigestError", "authorization", "parse_challenge"]

_HASHES = {"MD5": "md5", "SHA-256": "sha256"}
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(?:,|$)')


class DigestError(ValueError):
    """A challenge we cannot answer; the message names the parameter."""


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """``Digest realm="trunk", nonce="...", qop="auth"`` → the challenge."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"challenge scheme {scheme[:20]!r} is not Digest")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None:
            raise DigestError(f"challenge parameter at {rest[pos:pos + 30]!r} is not name=value")
        raw = m.group(3) if m.group(3) is not None else m.group(2)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", raw)
        pos = m.end()
    for need in ("realm", "nonce"):
        if need not in params:
            raise DigestError(f"challenge has no {need}")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in _HASHES:
        raise DigestError(f"challenge algorithm {algorithm[:20]!r} is not MD5 or SHA-256")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    if qop and "auth" not in qop:
        raise DigestError(f"challenge qop {params['qop'][:30]!r} does not offer auth")
    return Challenge(params["realm"], params["nonce"], algorithm, qop, params.get("opaque"),
                     params.get("stale", "").lower() == "true")


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def authorization(challenge: Challenge, method: str, uri: str, user: str, password: str,
                  cnonce: str, nc: int = 1) -> str:
    """The ``Authorization`` value answering ``challenge`` for ``method`` on ``uri``."""
    algo = challenge.algorithm
    name = _HASHES[algo.removesuffix("-SESS")]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1 = h(f"{user}:{challenge.realm}:{password}")
    if algo.endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    parts = [f'username="{_quote(user)}"', f'realm="{_quote(challenge.realm)}"',
             f'nonce="{_quote(challenge.nonce)}"', f'uri="{_quote(uri)}"']
    if "auth" in challenge.qop:
        count = f"{nc:08x}"
        response = h(f"{ha1}:{challenge.nonce}:{count}:{cnonce}:auth:{ha2}")
        parts += [f'response="{response}"', f"algorithm={algo}", f'cnonce="{_quote(cnonce)}"',
                  "qop=auth", f"nc={count}"]
    else:
        parts += [f'response="{h(f"{ha1}:{challenge.nonce}:{ha2}")}"', f"algorithm={algo}"]
    if challenge.opaque is not None:
        parts.append(f'opaque="{_quote(challenge.opaque)}"')
    return "Digest " + ", ".join(parts)
