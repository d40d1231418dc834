"""Telnet listener: a short opening negotiation, then a small sans-IO codec.

The opening negotiation (WILL ECHO, WILL SGA, WILL/DO BINARY, with its timers and client
quirks) is telnetlib3's, confined to :mod:`.telnet_negotiation`. When it is over the call
is handed to :class:`~videotex.protocols.telnet.SteadyTelnet` on the same socket: an
asyncio stream pair with a small IAC codec, holding a few integers where telnetlib3
holds about 12 KiB of reader, writer and option tables per call. 5,000 idle telnet
callers weigh 24 KiB each with telnetlib3 kept for the whole call, 12 KiB after the
hand-over (bench/bench_service.py). Videotex itself never sees a telnet byte.

The server is built with ``loop.create_server(..., backlog=...)`` rather than
telnetlib3's ``create_server``, whose backlog is asyncio's default of 100.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from videotex.protocols.telnet import SteadyTelnet, SubnegotiationTooLong, escape

from .connection import Connection, StreamConnection
from .raw import close_and_forget
from .telnet_negotiation import Negotiated, protocol_factory

__all__ = ["TelnetConnection", "start_telnet"]

log = logging.getLogger("videotex.telnet")


class TelnetConnection(StreamConnection):
    """A telnet call after the opening negotiation: videotex bytes out with 0xFF
    doubled; in, what :class:`SteadyTelnet` leaves of the client's bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 peer: str | None = None) -> None:
        super().__init__(reader, writer, "telnet")
        if peer is not None:
            self.peer = peer

    def write(self, data: bytes) -> None:
        super().write(escape(data))


class _SteadyProtocol(asyncio.StreamReaderProtocol):
    """The socket's protocol once the negotiation has handed the call over."""

    def __init__(self, reader: asyncio.StreamReader, codec: SteadyTelnet,
                 peer: str | None) -> None:
        super().__init__(reader)
        self._codec = codec
        self._peer = peer
        self._wire: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert isinstance(transport, asyncio.Transport)
        self._wire = transport

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._wire = None

    def data_received(self, data: bytes) -> None:
        try:
            payload, replies = self._codec.receive(data)
        except SubnegotiationTooLong as e:
            log.warning("dropped: %s", e, extra={"peer": self._peer})
            if self._wire is not None:
                self._wire.close()
            return
        if replies and self._wire is not None:
            self._wire.write(replies)
        if payload:
            super().data_received(payload)


def steady_connection(transport: asyncio.Transport, done: Negotiated) -> TelnetConnection:
    """The same socket as a stream pair read through the steady codec, starting where
    the negotiation stopped (bytes typed already come first)."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(loop=loop)
    if done.typed:
        stream.feed_data(done.typed)
    proto = _SteadyProtocol(stream, done.codec, done.peer)
    transport.set_protocol(proto)
    proto.connection_made(transport)
    return TelnetConnection(stream, asyncio.StreamWriter(transport, proto, stream, loop),
                            done.peer)


async def start_telnet(
    handler: Callable[[Connection], Awaitable[None]],
    host: str,
    port: int,
    *,
    backlog: int = 4096,
    reuse_port: bool = False,
    connect_maxwait: float = 1.0,
    sock: socket.socket | None = None,
    proxy: bool = False,
) -> asyncio.Server:
    """Listen for telnet callers; each becomes ``handler(TelnetConnection)``. With
    ``proxy=True`` each connection must start with a PROXY protocol header (v1 or v2)."""

    async def serve(conn: TelnetConnection) -> None:
        try:
            await handler(conn)
        finally:
            await close_and_forget(conn._writer)

    def take_over(transport: asyncio.Transport, done: Negotiated) -> Awaitable[None]:
        return serve(steady_connection(transport, done))

    factory = protocol_factory(take_over, proxy=proxy, connect_maxwait=connect_maxwait)
    loop = asyncio.get_running_loop()
    if sock is not None:
        return await loop.create_server(factory, sock=sock, backlog=backlog)
    return await loop.create_server(
        factory, host, port, backlog=backlog, reuse_port=reuse_port or None
    )
