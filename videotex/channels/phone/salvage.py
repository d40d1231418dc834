"""What can still be answered in a SIP request the codec refused, sans-IO.

RFC 3261 §21.4.1 wants ``400 Bad Request`` for a malformed request, and a response needs
the request's Via, From, To, Call-ID and CSeq. :func:`salvage` looks for just those in bytes
:func:`~videotex.protocols.sip.parse_message` refused (a broken start line, a bad header
elsewhere, a body shorter than its Content-Length) and returns a stub request to answer, or
None when it cannot be answered (a response, no request line, one of the five missing or
the Via unreadable): then the datagram is dropped, as a proxy would.
"""

from __future__ import annotations

from videotex.protocols.sip import SipError, SipRequest, canonical_name, parse_via

__all__ = ["salvage"]

_NEEDED = ("Via", "From", "To", "Call-ID", "CSeq")


def salvage(data: bytes) -> SipRequest | None:
    text = data[:8192].decode("utf-8", errors="replace").replace("\r\n", "\n")
    lines = text.split("\n\n", 1)[0].split("\n")
    start = lines[0].strip().split(" ")
    if start[0].startswith("SIP/") or not start[0].isalpha() or "SIP/2.0" not in lines[0]:
        return None
    found: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = canonical_name(name.strip())
        if key in _NEEDED and key not in found and value.strip():
            found[key] = value.strip()
    if len(found) < len(_NEEDED) or any("\ufffd" in v for v in found.values()):
        return None
    try:
        parse_via(found["Via"])
    except SipError:
        return None
    headers = tuple((name, found[name]) for name in _NEEDED)
    return SipRequest(headers, b"", start[0].upper(), "sip:invalid")
