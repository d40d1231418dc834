"""Switchboard hooks a test can await: each call's opening and closing as it happens."""

from __future__ import annotations

import asyncio

from videotex.runtime.switchboard import Call

__all__ = ["CallWatch"]


class CallWatch:
    """Hooks (``Switchboard(hooks=[watch])``) that queue every call opened and closed."""

    def __init__(self) -> None:
        self.opened: asyncio.Queue[Call] = asyncio.Queue()
        self.closed: asyncio.Queue[tuple[Call, str]] = asyncio.Queue()

    def call_opened(self, call: Call) -> None:
        self.opened.put_nowait(call)

    def call_closed(self, call: Call, reason: str) -> None:
        self.closed.put_nowait((call, reason))

    async def next_opened(self, timeout: float = 5.0) -> Call:
        async with asyncio.timeout(timeout):
            return await self.opened.get()

    async def next_closed(self, timeout: float = 5.0) -> tuple[Call, str]:
        async with asyncio.timeout(timeout):
            return await self.closed.get()
