"""Loopback listeners for tests: telnet and raw TCP on 127.0.0.1, port 0, one switchboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from videotex.channels.raw import start_raw
from videotex.channels.telnet import start_telnet
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

__all__ = ["Servers", "loopback_servers", "port_of", "url_of"]


def port_of(listener: Any) -> int:
    """The port a loopback listener got: an asyncio server, or one of ours (SSH, SFTP,
    WebSocket) that says where it listens with ``addresses()``."""
    sockets = getattr(listener, "sockets", None)
    if sockets:
        return int(sockets[0].getsockname()[1])
    return int(listener.addresses()[0].rpartition(":")[2])


def url_of(kind: str, server: asyncio.AbstractServer) -> str:
    return f"{kind}://127.0.0.1:{port_of(server)}"


@dataclass
class Servers:
    """A switchboard and its telnet and raw listeners, as URLs for the emulator."""

    board: Switchboard
    telnet: str
    raw: str


@asynccontextmanager
async def loopback_servers(service: Any, board: Switchboard | None = None
                           ) -> AsyncIterator[Servers]:
    """Telnet and raw listeners on a switchboard (made on ``service`` if not given);
    at the end: listeners closed, callers sent the goodbye page."""
    board = board or Switchboard(service, SystemClock())
    tel = await start_telnet(board.handle, "127.0.0.1", 0)
    raw = await start_raw(board.handle, "127.0.0.1", 0)
    try:
        yield Servers(board, url_of("telnet", tel), url_of("raw", raw))
    finally:
        tel.close()
        raw.close()
        await board.shutdown(grace=2)
        await tel.wait_closed()
        await raw.wait_closed()
