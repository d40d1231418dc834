"""Telnet listener: telnetlib3's protocol, binary, character at a time.

The negotiation a Minitel bridge or a telnet client needs is short: the server will
echo (so the client stops echoing locally) and suppress go-ahead (character at a time),
and both directions are binary (8-bit clean, videotex bytes untouched). Nothing else
is asked: no terminal type, no window size, no charset, which keeps connection storms
cheap. telnetlib3 parses IAC sequences and doubles 0xFF on output; videotex itself never
sees a telnet byte.

The server is built with ``loop.create_server(..., backlog=...)`` rather than
telnetlib3's ``create_server``, whose backlog is asyncio's default of 100.

telnetlib3 runs the opening negotiation only. When it is over (its shell starts) the
call is handed to :mod:`.telnet_steady` on the same socket: an asyncio stream pair
with a small IAC codec, holding a few integers where telnetlib3 holds about 12 KiB of
reader, writer and option tables per call. 5,000 idle telnet callers weigh 24 KiB
each with telnetlib3 kept for the whole call, 12 KiB after the hand-over
(bench/bench_service.py).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telnetlib3.server_base import BaseServer
from telnetlib3.telopt import BINARY, DO, ECHO, SGA, WILL

from videotex.protocols import proxyproto
from videotex.protocols.telnet import (
    AFTER_IAC,
    DATA,
    IN_SB,
    MAX_SUBNEGOTIATION,
    OPTION,
    SB_IAC,
    SteadyTelnet,
    SubnegotiationTooLong,
    escape,
)

from .connection import Connection, StreamConnection
from .raw import close_and_forget

log = logging.getLogger("videotex.telnet")

class _EmptyTable(dict[Any, Any]):
    """A shared, always-empty table: writes are refused, clearing is a no-op."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("telnet SLC is disabled on Minitel connections")

    def clear(self) -> None:
        pass


#: Shared stand-in for telnetlib3's per-connection SLC tables.
_NO_TABLE = _EmptyTable()

#: command byte -> handler method name, learnt once from the first writer's tables.
_HANDLER_NAMES: dict[tuple[bytes, ...], dict[bytes, str]] = {}


class _Handlers(dict[Any, Any]):
    """A writer's command table resolved on use: ``cmd in t`` and ``t[cmd]`` behave as
    telnetlib3's own dict of bound methods, which it replaces (same keys, same methods)."""

    __slots__ = ("_names", "_owner")

    def __init__(self, owner: Any, table: dict[bytes, Any]) -> None:
        super().__init__()
        key = tuple(table)
        names = _HANDLER_NAMES.get(key)
        if names is None:
            names = _HANDLER_NAMES[key] = {cmd: f.__name__ for cmd, f in table.items()}
        self._names = names
        self._owner = owner

    def __contains__(self, cmd: object) -> bool:
        return cmd in self._names

    def __getitem__(self, cmd: Any) -> Any:
        return getattr(self._owner, self._names[cmd])

    def get(self, cmd: Any, default: Any = None) -> Any:
        return self[cmd] if cmd in self._names else default

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("telnet handlers are fixed on Minitel connections")

    def clear(self) -> None:
        self._owner = None

__all__ = ["TelnetConnection", "start_telnet"]


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
    """The socket's protocol once telnetlib3 has handed the call over."""

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


_OPTS = {bytes((i,)): i for i in (0, 1, 3)}  # BINARY, ECHO, SGA: all we negotiate


_WAITING, _RUNNING, _DONE = range(3)  # the shell (the call) of a connection


class MinitelTelnetProtocol(BaseServer):
    """telnetlib3 server protocol with the Minitel's minimal negotiation.

    With ``proxy=True`` the connection must start with a PROXY protocol header (v1 or v2,
    from HAProxy): it is taken off the stream before any telnet parsing, and the caller's
    real address becomes the connection's peer.
    """

    def __init__(self, handler: Callable[[Connection], Awaitable[None]], *,
                 proxy: bool = False, **kw: Any) -> None:
        super().__init__(shell=self._shell, **kw)
        self._handler = handler
        self._proxy_buf: bytearray | None = bytearray() if proxy else None
        self.peer: str | None = None
        self._sb_state = 0
        self._sb_len = 0
        self._shell_state = _WAITING

    async def _shell(self, reader: Any, writer: Any) -> None:
        if self._closing:  # the caller left between the negotiation and now
            return
        if self._proxy_buf is not None:  # the negotiation ended before the PROXY header
            log.warning("dropped: no PROXY protocol header before the negotiation ended",
                        extra={"listener": "telnet"})
            if self._transport is not None:
                self._transport.close()
            return
        handler = self._handler
        self._shell_state = _RUNNING
        conn = self._hand_over(reader, writer)
        del reader, writer  # this coroutine lives as long as the call
        self._shell_state = _DONE
        self._unlink()  # telnetlib3's part of the call is over
        try:
            await handler(conn)
        finally:
            await close_and_forget(conn._writer)

    def _hand_over(self, reader: Any, writer: Any) -> TelnetConnection:
        """The same socket, from telnetlib3 to a stream pair with :class:`SteadyTelnet`,
        which starts where telnetlib3 stopped: options agreed and awaited, an IAC
        sequence cut by a segment boundary, bytes typed already."""
        transport = self._transport
        assert transport is not None
        pending = writer.pending_option
        state, cmd = DATA, 0
        if self._sb_state == 1:  # our filter holds an IAC whose command has not come
            state = AFTER_IAC
        elif self._sb_state == 3:  # telnetlib3 has IAC WILL/WONT/DO/DONT, not the option
            state, cmd = OPTION, ord(writer.cmd_received)
        elif self._sb_state in (2, 4):
            state = IN_SB if self._sb_state == 2 else SB_IAC
        codec = SteadyTelnet(
            {i for o, i in _OPTS.items() if writer.local_option.enabled(o)},
            {i for o, i in _OPTS.items() if writer.remote_option.enabled(o)},
            asked_local={i for o, i in _OPTS.items() if pending.enabled(WILL + o)},
            asked_remote={i for o, i in _OPTS.items() if pending.enabled(DO + o)},
            state=state, cmd=cmd, sb_len=self._sb_len)
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(loop=loop)
        if reader._buffer:
            stream.feed_data(bytes(reader._buffer))
        proto = _SteadyProtocol(stream, codec, self.peer)
        transport.set_protocol(proto)
        proto.connection_made(transport)
        for task in self._tasks:  # telnetlib3's negotiation timers
            task.cancel()
        self._tasks.clear()
        return TelnetConnection(stream, asyncio.StreamWriter(transport, proto, stream, loop),
                                self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        """The caller left during the opening negotiation (afterwards the socket's
        protocol is a :class:`_SteadyProtocol`)."""
        transport = self._transport
        super().connection_lost(exc)
        if transport is not None and hasattr(transport, "_read_ready_cb"):
            # asyncio's socket transport keeps a bound method of itself: a cycle
            transport._read_ready_cb = None
        if self._shell_state == _WAITING:  # the shell will not start now
            asyncio.get_running_loop().call_soon(self._unlink)

    def _unlink(self) -> None:
        """Break the reference cycles between this protocol, its reader and writer (and
        their tables) once telnetlib3's part is over, so that they are freed at once by
        reference counting. The cyclic collector then has nothing to do for ended calls,
        which is what lets the server keep full collections rare (see ``gcpolicy``)."""
        for obj in (self.writer, self.reader):
            if obj is not None:
                vars(obj).clear()
        vars(self).clear()
        self._closing = True  # a late connection_lost finds the call ended
        self.shell = None  # a late begin_shell starts nothing

    def data_received(self, data: bytes) -> None:
        if self._proxy_buf is None:
            self._filtered(data)
            return
        self._proxy_buf += data
        try:
            parsed = proxyproto.parse(bytes(self._proxy_buf))
        except proxyproto.ProxyProtocolError as e:
            log.warning("dropped: %s", e, extra={"listener": "telnet"})
            if self._transport is not None:
                self._transport.close()
            return
        if parsed is None:
            return
        header, used = parsed
        if header.proxied:
            self.peer = header.peer
        rest = bytes(self._proxy_buf[used:])
        self._proxy_buf = None
        if rest:
            self._filtered(rest)

    def _filtered(self, data: bytes) -> None:
        """Drop subnegotiations before telnetlib3 sees them.

        We negotiate no option that has any (ECHO, SGA, BINARY), so a client's ``IAC SB
        … IAC SE`` is unsolicited: dropping it keeps telnetlib3's option handlers out of
        a caller's reach; one longer than ``MAX_SUBNEGOTIATION`` ends the connection."""
        if 0xFF not in data and self._sb_state == 0:
            super().data_received(data)
            return
        out = bytearray()
        state = self._sb_state
        for b in data:
            if state == 0:  # data
                if b == 0xFF:
                    state = AFTER_IAC
                else:
                    out.append(b)
            elif state == 1:  # after IAC
                if b == 0xFA:
                    state = 2
                    self._sb_len = 0
                else:
                    out += bytes((0xFF, b))
                    state = 3 if b in (0xFB, 0xFC, 0xFD, 0xFE) else 0
            elif state == 3:  # option byte of WILL/WONT/DO/DONT
                out.append(b)
                state = 0
            else:  # inside SB (2), or SB then IAC (4)
                self._sb_len += 1
                if self._sb_len > MAX_SUBNEGOTIATION:
                    log.warning("dropped: telnet subnegotiation over %d bytes",
                                MAX_SUBNEGOTIATION, extra={"peer": self.peer})
                    if self._transport is not None:
                        self._transport.close()
                    return
                # SB body: IAC may start the end; after IAC, SE ends it
                state = (4 if b == 0xFF else 2) if state == 2 else (0 if b == 0xF0 else 2)
        self._sb_state = state
        if out:
            super().data_received(bytes(out))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        w = self.writer
        assert w is not None
        # Minitel bytes are data, never telnet "special line characters": SEP (0x13, every
        # function key) is XOFF to SLC, SI (0x0F) is Abort Output. No SLC snooping; and
        # the SLC tables behind it (only reachable through LINEMODE subnegotiations,
        # which _filtered drops) are not kept per connection (about 7 KiB each).
        w.slc_simulated = False
        w.slctab = _NO_TABLE
        w._slc_callback = _NO_TABLE
        # The command tables resolve their handler when used instead of holding ~40
        # bound methods per connection.
        for name in ("_iac_callback", "_ext_callback", "_ext_send_callback",
                     "_ext_offer_callback"):
            setattr(w, name, _Handlers(w, getattr(w, name)))

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
    proxy: bool = False,
) -> asyncio.Server:
    """Listen for telnet callers; each becomes ``handler(TelnetConnection)``."""

    def factory() -> asyncio.Protocol:
        return MinitelTelnetProtocol(
            handler, proxy=proxy, encoding=False, force_binary=True,
            connect_maxwait=connect_maxwait,
        )

    loop = asyncio.get_running_loop()
    if sock is not None:
        return await loop.create_server(factory, sock=sock, backlog=backlog)
    return await loop.create_server(
        factory, host, port, backlog=backlog, reuse_port=reuse_port or None
    )
