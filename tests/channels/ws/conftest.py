"""A real ``ws`` listener on loopback, started through its listener starter, serving the
results store of ``tests/helpers/results.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.helpers.results import ELODIE, PAUL_PARIS
from videotex.channels.ws import WsListener, start
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

__all__ = ["ELODIE", "PAUL_PARIS", "WsServer", "ws_server"]


@dataclass
class WsServer:
    board: Switchboard
    listener: WsListener
    host: str
    port: int

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"


async def serve_ws(service, **options) -> tuple[Switchboard, WsListener]:
    board = Switchboard(service, SystemClock())
    listener = await start(ListenerConfig("ws", "127.0.0.1", 0, options=options), board)
    return board, listener


@pytest.fixture
async def ws_server(service) -> AsyncIterator[WsServer]:
    board, listener = await serve_ws(service)
    host, port = listener.server.sockets[0].getsockname()[:2]
    yield WsServer(board, listener, host, port)
    listener.close()
    await board.shutdown(grace=2)
    await listener.wait_closed()
