"""The services behind one server, as a Teletel kiosk lists them.

A :class:`ServiceEntry` is one service a caller can reach: its code (typed after the
kiosk's number, ``EXAMENS`` after 3615), its name in the Guide's list, its kind (the
built-in exam results, a page tree of ``.vdt`` files, a MiniPavi service by URL), the
tariff plan billing applies to the time spent in it, and what the engine needs to run it
(``target``: the service object, or the URL). A :class:`Directory` holds them with the
kiosk's own number, name and plan. Sans-IO: nothing here opens a socket.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "Directory", "ServiceEntry", "normalise_code"]

#: What a service can be: the built-in exam results, a page tree, a MiniPavi service.
KINDS = ("results", "pages", "minipavi")


def normalise_code(text: str) -> str:
    """A typed service code as the directory keys it: letters and digits, uppercase,
    accents dropped (a Minitel keyboard types ``é`` as SS2 sequences; 3615 codes have none)."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in plain.upper() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class ServiceEntry:
    """One service of the kiosk (see the module docstring)."""

    code: str
    name: str
    kind: str
    #: The service object (``results``, ``pages``) or the URL (``minipavi``).
    target: Any = field(default=None, compare=False)
    #: The tariff plan of the time spent in this service (None: the kiosk's plan).
    plan: str | None = None
    #: Shown in the Guide's list next to the name (the price, in words).
    price_text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"service {self.code!r}: kind {self.kind!r} is not one of "
                             f"{', '.join(KINDS)}")
        if not self.code or normalise_code(self.code) != self.code:
            raise ValueError(f"service code {self.code!r}: letters and digits only, "
                             "uppercase, no accents (it is what callers type)")


@dataclass
class Directory:
    """The kiosk: its number (``3615``), the services behind it, the kiosk's plan."""

    number: str = "3615"
    name: str = "TELETEL"
    entries: dict[str, ServiceEntry] = field(default_factory=dict)
    #: The plan of the time spent at the kiosk itself (None: billing's default plan).
    plan: str | None = None

    def add(self, entry: ServiceEntry) -> None:
        if entry.code in self.entries:
            raise ValueError(f"service code {entry.code!r} is listed twice")
        self.entries[entry.code] = entry

    def lookup(self, typed: str) -> ServiceEntry | None:
        return self.entries.get(normalise_code(typed))

    def access_code(self, entry: ServiceEntry | None) -> str:
        """What records and the status row call a part of a call: ``3615 EXAMENS``, or
        ``3615`` for the kiosk itself."""
        return self.number if entry is None else f"{self.number} {entry.code}"

    def listing(self) -> list[ServiceEntry]:
        return sorted(self.entries.values(), key=lambda e: e.code)
