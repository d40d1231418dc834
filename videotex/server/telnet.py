"""Telnet listener: telnetlib3's protocol, binary, character at a time.

The negotiation a Minitel bridge or a telnet client needs is short: the server will
echo (so the client stops echoing locally) and suppress go-ahead (character at a time),
and both directions are binary (8-bit clean, videotex bytes untouched). Nothing else
is asked: no terminal type, no window size, no charset, which keeps connection storms
cheap. telnetlib3 parses IAC sequences and doubles 0xFF on output; videotex itself never
sees a telnet byte.

The server is built with ``loop.create_server(..., backlog=...)`` rather than
telnetlib3's ``create_server``, whose backlog is asyncio's default of 100.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telnetlib3.server_base import BaseServer
from telnetlib3.telopt import BINARY, DO, ECHO, SGA, WILL

from .connection import Connection

__all__ = ["TelnetConnection", "start_telnet"]


class TelnetConnection(Connection):
    channel = "telnet"

    def __init__(self, reader: Any, writer: Any) -> None:
        self._reader = reader
        self._writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")

    async def read(self) -> bytes:
        try:
            data: bytes = await self._reader.read(4096)
        except (ConnectionError, OSError, EOFError):
            return b""
        return data

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self) -> None:
        # a caller who is gone is reported by the next read, as a hang-up
        with contextlib.suppress(ConnectionError, OSError, AttributeError):
            await self._writer.drain()

    def close(self) -> None:
        self._writer.close()


class MinitelTelnetProtocol(BaseServer):
    """telnetlib3 server protocol with the Minitel's minimal negotiation."""

    def begin_negotiation(self) -> None:
        super().begin_negotiation()
        assert self.writer is not None
        self.writer.iac(WILL, ECHO)
        self.writer.iac(WILL, SGA)
        self.writer.iac(WILL, BINARY)
        self.writer.iac(DO, BINARY)

    def negotiation_should_advance(self) -> bool:
        return False


async def start_telnet(
    handler: Callable[[Connection], Awaitable[None]],
    host: str,
    port: int,
    *,
    backlog: int = 4096,
    reuse_port: bool = False,
    connect_maxwait: float = 1.0,
    sock: socket.socket | None = None,
) -> asyncio.Server:
    """Listen for telnet callers; each becomes ``handler(TelnetConnection)``."""

    async def shell(reader: Any, writer: Any) -> None:
        await handler(TelnetConnection(reader, writer))

    def factory() -> asyncio.Protocol:
        return MinitelTelnetProtocol(
            shell=shell, encoding=False, force_binary=True, connect_maxwait=connect_maxwait
        )

    loop = asyncio.get_running_loop()
    if sock is not None:
        return await loop.create_server(factory, sock=sock, backlog=backlog)
    return await loop.create_server(
        factory, host, port, backlog=backlog, reuse_port=reuse_port or None
    )
