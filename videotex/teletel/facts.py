"""The facts of one call, shared by the pages, the billing hooks and the metrics.

A typed record instead of a string-keyed dictionary: a misspelt fact is an error that
mypy (or ``slots``) catches, not a silent zero on an invoice. It is bounded: whatever a
caller does for however long, it holds a few counters, the offers of a
per-consultation channel, and the last protocol reply of each kind (the kinds are the
keyboard decoder's fixed names), never a list that grows for the whole call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from videotex.codec import ProtocolReplyEvent

__all__ = ["CallFacts", "Offers"]


class Offers(Protocol):
    """What a page asks of the offers of a per-consultation channel
    (:class:`videotex.billing.offer.OfferBook`)."""

    def quote(self, caller_identity: str, numero: str) -> Any: ...
    def consume(self, caller_identity: str, numero: str, session_id: str = "") -> Any: ...


@dataclass(slots=True)
class CallFacts:
    """What happened during one call, as far as pages, billing and metrics care."""

    #: Result lookups made (by number or by name).
    lookups: int = 0
    #: Whether a lookup found a result (billing records it; metrics count the outcome).
    result_found: bool = False
    #: Lookups that found nothing (the enumeration guard slows the caller down).
    failures: int = 0
    #: Entitlements per result, set by the billing hooks on a per-consultation channel.
    offers: Offers | None = None
    #: The last protocol reply of each kind the terminal sent (identification, status).
    replies: dict[str, ProtocolReplyEvent] = field(default_factory=dict)

    def reply(self, event: ProtocolReplyEvent) -> None:
        """Keep ``event`` as the last reply of its kind."""
        self.replies[event.kind] = event
