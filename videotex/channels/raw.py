"""Raw TCP listener: bare videotex both ways, no negotiation at all.

For modem bridges and dongles that put a Minitel's serial bytes straight on a socket.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from videotex.protocols import proxyproto

from .connection import Connection, StreamConnection

__all__ = ["close_and_forget", "read_proxy_header", "start_raw"]

log = logging.getLogger("videotex.raw")


async def read_proxy_header(
    reader: asyncio.StreamReader,
) -> tuple[proxyproto.ProxyHeader, bytes]:
    """Read a PROXY header off a stream; return it and the bytes read past it."""
    buf = proxyproto.HeaderBuffer()
    while True:
        chunk = await reader.read(proxyproto.MAX_V2)
        if not chunk:
            raise ConnectionError("closed before the PROXY header")
        parsed = buf.feed(chunk)
        if parsed is not None:
            return parsed


async def close_and_forget(writer: asyncio.StreamWriter, timeout: float = 60.0) -> None:
    """Once the call is over and the socket closed, drop the bound method asyncio's
    socket transport keeps of itself (``_read_ready_cb``): without that reference cycle
    an ended call is freed by reference counting, not left for a full collection."""
    writer.close()
    try:
        async with asyncio.timeout(timeout):
            await writer.wait_closed()
    except (TimeoutError, ConnectionError, OSError):
        writer.transport.abort()
    if hasattr(writer.transport, "_read_ready_cb"):
        writer.transport._read_ready_cb = None


async def start_raw(
    handler: Callable[[Connection], Awaitable[None]],
    host: str,
    port: int,
    *,
    backlog: int = 4096,
    reuse_port: bool = False,
    sock: socket.socket | None = None,
    proxy: bool = False,
    proxy_timeout: float = 10.0,
) -> asyncio.Server:
    """Listen for bare videotex callers. With ``proxy=True`` each connection must start
    with a PROXY protocol header (v1 or v2), whose source becomes the caller's address."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = StreamConnection(reader, writer, "raw")
        if proxy:
            try:
                async with asyncio.timeout(proxy_timeout):
                    header, rest = await read_proxy_header(reader)
            except (TimeoutError, proxyproto.ProxyProtocolError, ConnectionError) as e:
                log.warning("dropped: %s", e or "no PROXY header in time",
                            extra={"listener": "raw", "peer": conn.peer})
                writer.close()
                return
            if header.proxied:
                conn.peer = header.peer
            if rest:
                conn.unread(rest)
        try:
            await handler(conn)
        finally:
            await close_and_forget(writer)

    if sock is not None:
        return await asyncio.start_server(accept, sock=sock, backlog=backlog)
    return await asyncio.start_server(
        accept, host, port, backlog=backlog, reuse_port=reuse_port or None
    )
