"""Serial lines over real pty pairs, serving the results store of tests/helpers/results.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers.results import ELODIE, PAUL_PARIS
from tests.helpers.serial_line import PtyPair
from videotex.channels.serial_line import SerialLine, start
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Call, Switchboard
from videotex.teletel import SystemClock

__all__ = ["ELODIE", "PAUL_PARIS", "Recorder", "Served", "pty", "serve_line"]


class Recorder:
    """Call hooks: what billing would see (one open and one close per call)."""

    def __init__(self) -> None:
        self.opened: list[Call] = []
        self.closed: list[tuple[Call, str]] = []

    def call_opened(self, call: Call) -> None:
        self.opened.append(call)

    def call_closed(self, call: Call, reason: str) -> None:
        self.closed.append((call, reason))


@dataclass
class Served:
    board: Switchboard
    line: SerialLine
    hooks: Recorder

    async def stop(self) -> None:
        self.line.close()
        await self.board.shutdown(grace=2)
        await self.line.wait_closed(10)


async def serve_line(service: Any, device: str, baud: int | None = None,
                     **options: Any) -> Served:
    hooks = Recorder()
    board = Switchboard(service, SystemClock(), hooks=[hooks])
    line = await start(ListenerConfig("serial", device, 0, baud, options=options), board)
    return Served(board, line, hooks)


@pytest.fixture
def pty() -> Iterator[PtyPair]:
    pair = PtyPair()
    yield pair
    pair.close()
