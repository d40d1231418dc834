"""A small Teletel page framework and the sans-IO session engine.

- ``page``    pages, input fields, and what a page answers to a key (``Action``)
- ``session`` the per-caller state machine: bytes and time in, bytes out
- ``facts``   what happened during a call (:class:`CallFacts`), for pages, billing, metrics
- ``clock``   the injected clock (monotonic for durations, UTC wall time for display)

Nothing here imports asyncio, sockets or serial: transports drive a :class:`Session`
through :func:`videotex.runtime.interact.interact`.
"""

from __future__ import annotations

from .clock import Clock, FakeClock, SystemClock
from .facts import CallFacts, Offers
from .page import (
    DIGITS,
    LETTERS,
    Action,
    Beep,
    Context,
    Field,
    Goto,
    Hangup,
    Later,
    Page,
    Redraw,
    Stay,
)
from .session import Session, SessionConfig, TerminalLink
from .timers import Limits, Watch

__all__ = [
    "DIGITS",
    "LETTERS",
    "Action",
    "Beep",
    "CallFacts",
    "Clock",
    "Context",
    "FakeClock",
    "Field",
    "Goto",
    "Hangup",
    "Later",
    "Limits",
    "Offers",
    "Page",
    "Redraw",
    "Session",
    "SessionConfig",
    "Stay",
    "SystemClock",
    "TerminalLink",
    "Watch",
]
