"""telnetlib3 runs the opening negotiation of a telnet call; this module is all of it.

Every use of telnetlib3 in the server is here (its imports, the private attributes the
hand-over reads, the per-call tables it slims): an upgrade of telnetlib3 is checked
against this module alone, with ``TELNETLIB3_TESTED`` the versions it is tested with
(``.ci/telnetlib3_versions.py``, run by ``make test``, runs
``tests/channels/test_telnet_handover.py`` with each).

The negotiation a Minitel bridge or a telnet client needs is short: the server will echo
(so the client stops echoing locally) and suppress go-ahead (character at a time), and
both directions are binary. Nothing else is asked: no terminal type, no window size, no
charset, which keeps connection storms cheap. A client's subnegotiations are dropped
before telnetlib3 sees them (:class:`~videotex.protocols.telnet.SubnegotiationFilter`),
so telnetlib3's option handlers stay out of a caller's reach.

When telnetlib3 starts its shell the negotiation is over: :func:`protocol_factory`'s
``take_over`` is handed the socket's transport and a :class:`Negotiated` (the steady
codec, started from the options agreed and awaited and from any IAC sequence cut by a
segment boundary; the bytes typed already), then telnetlib3's objects are unlinked so
that they are freed at once by reference counting (see ``videotex.runtime.gcpolicy``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telnetlib3.server_base import BaseServer
from telnetlib3.telopt import BINARY, DO, ECHO, SGA, WILL

from videotex.protocols import proxyproto
from videotex.protocols.telnet import SteadyTelnet, SubnegotiationFilter, SubnegotiationTooLong

__all__ = [
    "TELNETLIB3_TESTED",
    "Negotiated",
    "TakeOver",
    "negotiation_input",
    "protocol_factory",
]

log = logging.getLogger("videotex.telnet")

#: telnetlib3 releases the negotiation and the hand-over are tested with, oldest first
#: (the range pinned in pyproject.toml goes from the first to the last).
TELNETLIB3_TESTED = ("2.0.8", "2.6.1", "3.0.3", "4.0.5", "5.0.1")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the opening negotiation leaves to the steady part of the call."""

    codec: SteadyTelnet
    #: Bytes the caller typed during the negotiation, not read yet.
    typed: bytes
    #: The caller's address from a PROXY header, if any (else the socket's).
    peer: str | None


#: ``take_over(transport, negotiated)``: set the socket's new protocol at once (before it
#: returns), then serve the call in the awaitable it returns.
TakeOver = Callable[[asyncio.Transport, Negotiated], Awaitable[None]]

_OPTS = {bytes((i,)): i for i in (0, 1, 3)}  # BINARY, ECHO, SGA: all we negotiate
_WAITING, _RUNNING, _DONE = range(3)  # the shell (the call) of a connection


class _EmptyTable(dict[Any, Any]):
    """A shared, always-empty table: writes are refused, clearing is a no-op."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("telnet SLC is disabled on Minitel connections")

    def clear(self) -> None:
        pass


_NO_TABLE = _EmptyTable()  # stands in for telnetlib3's per-connection SLC tables
_HANDLER_NAMES: dict[tuple[bytes, ...], dict[bytes, str]] = {}  # learnt once


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


class MinitelTelnetProtocol(BaseServer):
    """telnetlib3's server protocol with the Minitel's minimal negotiation. With
    ``proxy=True`` the connection must start with a PROXY protocol header."""

    def __init__(self, take_over: TakeOver, *, proxy: bool = False, **kw: Any) -> None:
        super().__init__(shell=self._shell, **kw)
        self._take_over = take_over
        self._proxy = proxyproto.HeaderBuffer() if proxy else None
        self._filter = SubnegotiationFilter()
        self.peer: str | None = None
        self._shell_state = _WAITING

    async def _shell(self, reader: Any, writer: Any) -> None:
        if self._closing:  # the caller left between the negotiation and now
            return
        transport = self._transport
        if self._proxy is not None:  # the negotiation ended before the PROXY header
            log.warning("dropped: no PROXY protocol header before the negotiation ended",
                        extra={"listener": "telnet"})
            transport.close()
            return
        self._shell_state = _RUNNING
        pending = writer.pending_option
        f = self._filter
        codec = SteadyTelnet(
            {i for o, i in _OPTS.items() if writer.local_option.enabled(o)},
            {i for o, i in _OPTS.items() if writer.remote_option.enabled(o)},
            asked_local={i for o, i in _OPTS.items() if pending.enabled(WILL + o)},
            asked_remote={i for o, i in _OPTS.items() if pending.enabled(DO + o)},
            state=f.state, cmd=f.cmd, sb_len=f.sb_len)
        call = self._take_over(transport, Negotiated(codec, bytes(reader._buffer), self.peer))
        for task in self._tasks:  # telnetlib3's negotiation timers
            task.cancel()
        self._tasks.clear()
        del reader, writer, transport  # this coroutine lives as long as the call
        self._shell_state = _DONE
        self._unlink()  # telnetlib3's part of the call is over
        await call

    def connection_lost(self, exc: Exception | None) -> None:
        """The caller left during the opening negotiation (afterwards the socket's
        protocol is the one ``take_over`` set)."""
        transport = self._transport
        super().connection_lost(exc)
        if transport is not None and hasattr(transport, "_read_ready_cb"):
            transport._read_ready_cb = None  # asyncio's transport: a cycle with itself
        if self._shell_state == _WAITING:  # the shell will not start now
            asyncio.get_running_loop().call_soon(self._unlink)

    def _unlink(self) -> None:
        """Break the reference cycles between this protocol, its reader and writer (and
        their tables), so that they are freed at once by reference counting."""
        for obj in (self.writer, self.reader):
            if obj is not None:
                vars(obj).clear()
        vars(self).clear()
        self._closing = True  # a late connection_lost finds the call ended
        self.shell = None  # a late begin_shell starts nothing

    def data_received(self, data: bytes) -> None:
        if self._proxy is not None:
            try:
                parsed = self._proxy.feed(data)
            except proxyproto.ProxyProtocolError as e:
                self._drop(str(e))
                return
            if parsed is None:
                return
            header, data = parsed
            self._proxy = None
            if header.proxied:
                self.peer = header.peer
        try:
            data = self._filter.feed(data)
        except SubnegotiationTooLong as e:
            self._drop(str(e))
            return
        if data:
            super().data_received(data)

    def _drop(self, why: str) -> None:
        log.warning("dropped: %s", why, extra={"listener": "telnet", "peer": self.peer})
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        w: Any = self.writer
        # Minitel bytes are data, never telnet "special line characters": SEP (0x13, every
        # function key) is XOFF to SLC, SI (0x0F) is Abort Output. No SLC snooping; and
        # the SLC tables behind it (only reachable through LINEMODE subnegotiations,
        # which are dropped) are not kept per connection (about 7 KiB each).
        w.slc_simulated = False
        w.slctab = _NO_TABLE
        w._slc_callback = _NO_TABLE
        # The command tables resolve their handler when used instead of holding ~40
        # bound methods per connection.
        for name in ("_iac_callback", "_ext_callback", "_ext_send_callback",
                     "_ext_offer_callback"):
            if hasattr(w, name):  # _ext_offer_callback: since telnetlib3 2.x
                setattr(w, name, _Handlers(w, getattr(w, name)))

    def begin_negotiation(self) -> None:
        super().begin_negotiation()
        w: Any = self.writer
        for cmd, opt in ((WILL, ECHO), (WILL, SGA), (WILL, BINARY), (DO, BINARY)):
            w.iac(cmd, opt)

    def negotiation_should_advance(self) -> bool:
        return False


def protocol_factory(take_over: TakeOver, *, proxy: bool = False,
                     connect_maxwait: float = 1.0) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for ``loop.create_server``: each connection negotiates, then
    ``take_over(transport, negotiated)`` gets the socket."""

    def factory() -> asyncio.Protocol:
        return MinitelTelnetProtocol(take_over, proxy=proxy, encoding=False,
                                     force_binary=True, connect_maxwait=connect_maxwait)

    return factory


def negotiation_input(protocol: object) -> int:
    """Bytes a caller typed that the negotiation holds unread (0 once handed over)."""
    reader = getattr(protocol, "reader", None) if isinstance(
        protocol, MinitelTelnetProtocol) else None
    return len(reader._buffer) if reader is not None else 0
