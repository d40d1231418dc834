"""A SIP call's numbers: the one dialled (which service answers) and the caller's (who pays,
and whose per-caller limits count), read from the INVITE."""

from __future__ import annotations

from videotex.protocols.sip import SipError, SipRequest, parse_name_addr, parse_uri

__all__ = ["called_number", "caller_number"]


def called_number(request: SipRequest) -> str:
    """The number the caller dialled: the request URI's user (``3615`` in
    ``sip:3615@host``), without parameters; ``""`` when there is none."""
    try:
        return parse_uri(request.uri).user.split(";", 1)[0]
    except SipError:
        return ""


def caller_number(request: SipRequest, source: str) -> str:
    """Who pays: the user part of P-Asserted-Identity (RFC 3325, set by the trunk), else of
    From; ``anonymous@<source address>`` for a withheld or missing number."""
    for header in ("P-Asserted-Identity", "From"):
        for value in request.all(header):
            try:
                user = parse_name_addr(value).uri.user
            except SipError:
                continue
            user = user.split(";", 1)[0]
            if user and user.lower() not in ("anonymous", "restricted", "unavailable"):
                return user
    return f"anonymous@{source}"
