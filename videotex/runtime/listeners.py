"""Listener kinds and how each is started.

Every transport lives in its own module and exposes one starter::

    async def start(cfg: ListenerConfig, board: Switchboard) -> Listener

A :class:`Listener` can be closed (stop accepting) and describes where it listens. The
transports hand every caller to ``board.handle(conn, pacer=...)``; nothing else of the
server knows how a caller arrived.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Protocol

from videotex.channels.connection import Connection, Pacer
from videotex.channels.raw import start_raw
from videotex.channels.telnet import start_telnet

from .config import ListenerConfig
from .switchboard import BoardView, Switchboard

__all__ = ["STARTERS", "Listener", "ServerListener", "start_listener"]


class Listener(Protocol):
    def close(self) -> None: ...
    async def wait_closed(self) -> None: ...
    def addresses(self) -> list[str]:
        """Where it listens, as URLs (``telnet://127.0.0.1:3615``)."""
        ...


class ServerListener:
    """A listener backed by an :class:`asyncio.Server`."""

    def __init__(self, kind: str, server: asyncio.AbstractServer) -> None:
        self.kind = kind
        self.server = server

    def close(self) -> None:
        self.server.close()

    async def wait_closed(self) -> None:
        await self.server.wait_closed()

    def addresses(self) -> list[str]:
        out = []
        for sock in getattr(self.server, "sockets", ()):
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            out.append(f"{self.kind}://{shown}:{port}")
        return out


def pacer_for(cfg: ListenerConfig) -> Pacer | None:
    return Pacer(cfg.baud) if cfg.baud else None


async def _start_telnet(cfg: ListenerConfig, board: Switchboard) -> Listener:
    pacer = pacer_for(cfg)

    async def handler(conn: Connection) -> None:
        await board.handle(conn, pacer=pacer)

    server = await start_telnet(handler, cfg.host, cfg.port, backlog=cfg.backlog,
                                reuse_port=bool(cfg.options.get("reuse_port")),
                                proxy=bool(cfg.options.get("proxy_protocol")))
    return ServerListener("telnet", server)


async def _start_raw(cfg: ListenerConfig, board: Switchboard) -> Listener:
    pacer = pacer_for(cfg)

    async def handler(conn: Connection) -> None:
        await board.handle(conn, pacer=pacer)

    server = await start_raw(handler, cfg.host, cfg.port, backlog=cfg.backlog,
                             reuse_port=bool(cfg.options.get("reuse_port")),
                             proxy=bool(cfg.options.get("proxy_protocol")))
    return ServerListener("raw", server)


#: kind -> "module:function" (imported when that kind is configured).
STARTERS: dict[str, str] = {
    "telnet": "videotex.runtime.listeners:_start_telnet",
    "raw": "videotex.runtime.listeners:_start_raw",
    "ssh": "videotex.channels.ssh:start",
    "sftp": "videotex.inbox.sftp:start",
    "ws": "videotex.channels.ws:start",
    "serial": "videotex.channels.serial_line:start",
    "sip": "videotex.channels.phone.sip_listener:start",
    "audiosocket": "videotex.channels.phone.audiosocket_listener:start",
}


async def start_listener(cfg: ListenerConfig, board: Switchboard) -> Listener:
    """Start ``cfg``'s listener; with a ``service`` option (a gateway), its calls go
    straight to that service instead of the kiosk."""
    module_name, _, func = STARTERS[cfg.kind].partition(":")
    start = cfg.options.get("service")
    if start:
        board = BoardView(board, str(start))  # type: ignore[assignment]
    starter = getattr(importlib.import_module(module_name), func)
    listener: Listener = await starter(cfg, board)
    return listener
