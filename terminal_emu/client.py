"""The emulator as a network client, scripted (tests, load) or interactive (``connect``).

>>> async with await MinitelClient.connect("telnet://127.0.0.1:3615") as t:
...     await t.wait_for_text("RESULTATS")
...     await t.type("1111000001"); await t.press(Key.SUITE)
...     await t.type("03071987"); await t.press(Key.ENVOI)
...     await t.wait_for_text("Mention")

Every byte from the server goes through an independent :class:`Minitel`; what the
Minitel sends back (keys, protocol replies) goes to the server. Waiting is always for a
condition on the screen (with a timeout), never a fixed sleep.

Transports by URL (see :data:`SCHEMES`): ``telnet://HOST:PORT``, ``raw://HOST:PORT``
(bare videotex), ``ssh://USER@HOST:PORT``, ``ws://HOST:PORT/PATH``,
``serial:///dev/PORT?baud=1200``, ``sip:NUMBER@HOST:PORT`` (a phone call: SIP, RTP and
the V.23 modem).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from .keyboard import Key
from .telnet import TelnetCodec
from .terminal import Minitel

__all__ = ["SCHEMES", "ConnectError", "MinitelClient", "Transport", "open_transport"]


class ConnectError(OSError):
    """The URL is wrong or the server cannot be reached."""


class Transport:
    """Bytes to and from the server, transport framing removed.

    ``read`` returns ``b""`` once the server has hung up; ``write`` never blocks."""

    async def read(self) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    @property
    def local_address(self) -> str:
        """Our end of the line ("ip:port" for TCP), as the server would see it."""
        return ""

    @property
    def status(self) -> str:
        """The line's state in words, for transports that have one (a call's progress)."""
        return ""


class _TcpTransport(Transport):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 telnet: bool) -> None:
        self._reader = reader
        self._writer = writer
        self._telnet = TelnetCodec() if telnet else None

    async def read(self) -> bytes:
        while True:
            try:
                data = await self._reader.read(4096)
            except (ConnectionError, OSError):
                return b""
            if not data or self._telnet is None:
                return data
            out = self._telnet.decode(data)
            if self._telnet.replies:
                self._writer.write(bytes(self._telnet.replies))
                self._telnet.replies.clear()
            if out:
                return out

    def write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        self._writer.write(TelnetCodec.encode(data) if self._telnet else data)

    def write_transport(self, data: bytes) -> None:
        """Bytes straight onto the socket, telnet framing included (tests)."""
        self._writer.write(data)

    @property
    def local_address(self) -> str:
        host, port = self._writer.get_extra_info("sockname")[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConnectError(f"{url}: no host in the URL")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConnectError(f"{url}: the port is not a number") from None
    return parts.hostname, port


async def _open_tcp(url: str, timeout: float) -> Transport:
    """``telnet://HOST:PORT`` or ``raw://HOST:PORT``; ``?bind=ADDRESS`` connects from that
    local address (a second loopback address, to play another caller)."""
    parts = urlsplit(url)
    scheme = parts.scheme
    host, port = _host_port(url, 23 if scheme == "telnet" else 3616)
    query = parse_qs(parts.query)
    unknown = set(query) - {"bind"}
    if unknown:
        raise ConnectError(f"{url}: unknown option {', '.join(sorted(unknown))} (known: bind)")
    local = (query["bind"][-1], 0) if "bind" in query else None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=local), timeout)
    except (OSError, TimeoutError) as e:
        raise ConnectError(f"{url}: cannot connect: {e}") from None
    return _TcpTransport(reader, writer, telnet=scheme == "telnet")


#: URL scheme -> "module:function" opening a transport, ``async (url, timeout)``.
#: Each transport lives in its own module so that adding one touches nothing else.
SCHEMES: dict[str, str] = {
    "telnet": "terminal_emu.client:_open_tcp",
    "raw": "terminal_emu.client:_open_tcp",
    "ssh": "terminal_emu.transport_ssh:open_ssh",
    "ws": "terminal_emu.transport_ws:open_ws",
    "serial": "terminal_emu.transport_serial:open_serial",
    "sip": "terminal_emu.transport_sip:open_sip",
}


async def open_transport(url: str, timeout: float = 10.0) -> Transport:
    scheme = urlsplit(url).scheme
    target = SCHEMES.get(scheme)
    if target is None:
        raise ConnectError(f"{url}: unknown scheme {scheme!r} "
                           f"(use one of {', '.join(s + (':' if s == 'sip' else '://') for s in SCHEMES)})")
    module_name, _, func = target.partition(":")
    opener = getattr(importlib.import_module(module_name), func)
    transport: Transport = await opener(url, timeout)
    return transport


class MinitelClient:
    """A Minitel connected to a server."""

    def __init__(self, transport: Transport, minitel: Minitel) -> None:
        self.minitel = minitel
        self._transport = transport
        self._changed = asyncio.Condition()
        self.closed = False
        self.bytes_received = 0
        self.on_data: Callable[[bytes], Any] | None = None
        self._task = asyncio.ensure_future(self._pump())

    @classmethod
    async def connect(cls, url: str, *, model: str = "1B", timeout: float = 10.0
                      ) -> MinitelClient:
        transport = await open_transport(url, timeout)
        return cls(transport, Minitel(model))

    async def __aenter__(self) -> MinitelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _pump(self) -> None:
        try:
            while True:
                data = await self._transport.read()
                if not data:
                    break
                self.bytes_received += len(data)
                self.minitel.feed(data)
                back = self.minitel.take_output()
                if back:
                    self._transport.write(back)
                if self.on_data is not None:
                    self.on_data(data)
                async with self._changed:
                    self._changed.notify_all()
        finally:
            self.closed = True
            async with self._changed:
                self._changed.notify_all()

    # -- keyboard ------------------------------------------------------------------

    async def type(self, text: str) -> None:
        self.minitel.type(text)
        self.flush_keys()

    async def press(self, key: Key) -> None:
        self.minitel.press(key)
        self.flush_keys()

    async def send(self, data: bytes) -> None:
        """Raw bytes as if from the Minitel's keyboard or socket (tests, fuzz)."""
        self._transport.write(data)

    def flush_keys(self) -> None:
        """Send what the keyboard produced (after direct use of ``self.minitel``)."""
        data = self.minitel.take_output()
        if data:
            self._transport.write(data)

    # -- waiting ---------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[MinitelClient], bool],
                       timeout: float = 5.0, what: str = "condition") -> None:
        async def until() -> None:
            async with self._changed:
                while not predicate(self):
                    if self.closed:
                        raise ConnectionError(f"connection closed while waiting for {what}")
                    await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no {what} after {timeout} s; screen:\n{self.text}") from None

    async def wait_for_text(self, text: str, timeout: float = 5.0) -> None:
        """Wait until ``text`` is on screen (normal or double width)."""
        await self.wait_for(lambda c: c.shows(text), timeout, f"text {text!r}")

    async def wait_closed(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    # -- what the screen shows -----------------------------------------------------

    @property
    def text(self) -> str:
        return self.minitel.render_text()

    def shows(self, words: str) -> bool:
        text = self.text
        return words in text or "".join(ch * 2 for ch in words) in text

    def snapshot(self) -> dict[str, object]:
        return self.minitel.snapshot()

    @property
    def local_address(self) -> str:
        return self._transport.local_address

    @property
    def transport(self) -> Transport:
        return self._transport

    def render_png(self, path_or_file: str | IO[bytes], **kw: Any) -> None:
        self.minitel.render_png(path_or_file, **kw)

    async def close(self) -> None:
        await self._transport.close()
        try:
            await asyncio.wait_for(self._task, 2.0)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
