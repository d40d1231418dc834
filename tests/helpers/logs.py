"""Await what the server logs: an event set when a record with a given message is logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["logged"]


@contextmanager
def logged(logger: str, message: str) -> Iterator[asyncio.Event]:
    """An event set once ``logger`` (or a child) logs ``message`` (from any thread)."""
    loop = asyncio.get_running_loop()
    event = asyncio.Event()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == message:
                loop.call_soon_threadsafe(event.set)

    handler = Handler()
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield event
    finally:
        target.removeHandler(handler)
