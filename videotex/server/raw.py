"""Raw TCP listener: bare videotex both ways, no negotiation at all.

For modem bridges and dongles that put a Minitel's serial bytes straight on a socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from .connection import Connection, StreamConnection

__all__ = ["start_raw"]


async def start_raw(
    handler: Callable[[Connection], Awaitable[None]],
    host: str,
    port: int,
    *,
    backlog: int = 4096,
    reuse_port: bool = False,
    sock: socket.socket | None = None,
) -> asyncio.Server:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handler(StreamConnection(reader, writer, "raw"))

    if sock is not None:
        return await asyncio.start_server(accept, sock=sock, backlog=backlog)
    return await asyncio.start_server(
        accept, host, port, backlog=backlog, reuse_port=reuse_port or None
    )
