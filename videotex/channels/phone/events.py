"""What the SIP user agent core (:mod:`.ua`) tells the phone listener: frozen events.

A peer is ``(transport, host, port)``; a call is known by its Call-ID.
"""

from __future__ import annotations

from dataclasses import dataclass

from videotex.protocols.sip import SipRequest, SipResponse

__all__ = ["Cancelled", "Confirmed", "Dropped", "Ended", "Event", "Invite", "Refused",
           "Reinvite", "Response"]


@dataclass(frozen=True, slots=True)
class Invite:
    """A new call (100 Trying is sent): ``answer``, ``ring`` or ``reject`` it."""

    call_id: str
    request: SipRequest
    peer: tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Reinvite:
    """A re-INVITE in an established call: ``answer`` (with SDP) or ``reject`` it."""

    call_id: str
    request: SipRequest


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The ACK of our 2xx; ``body`` is an SDP answer when our 2xx carried an offer."""

    call_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Cancelled:
    """CANCEL before we answered: 487 sent, the call is gone."""

    call_id: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The call is over from the SIP side: ``bye`` (they hung up), ``no ACK``."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Response:
    """The final answer to one of our requests (a made-up 408 when none came)."""

    key: tuple[str, str]
    response: SipResponse


@dataclass(frozen=True, slots=True)
class Refused:
    """We answered a request with an error of our own (malformed, unknown dialog...)."""

    peer: tuple[str, str, int]
    status: int
    why: str
    call_id: str


@dataclass(frozen=True, slots=True)
class Dropped:
    """A message we could not answer at all (no way to route a response)."""

    peer: tuple[str, str, int]
    why: str


Event = Invite | Reinvite | Confirmed | Cancelled | Ended | Response | Refused | Dropped
