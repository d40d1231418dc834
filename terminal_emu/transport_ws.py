"""``ws://HOST:PORT/PATH`` (and ``wss://``): the emulator behind a WebSocket.

The convention of the community's browser emulators (miedit, MiniPavi): every message is
a text frame whose characters are videotex bytes, one code point per byte (latin-1).
Binary frames from a server are taken as bytes too. What the Minitel sends goes out as
text frames. The transport only moves bytes; framing stays here.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .client import ConnectError, Transport

__all__ = ["WsTransport", "open_ws"]

#: Largest message accepted from the server (a full page is a few kilobytes).
MAX_MESSAGE = 1 << 20


class WsTransport(Transport):
    """A WebSocket carrying videotex as latin-1 text frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        # one sender task keeps the messages in the order they were written
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._sender = asyncio.ensure_future(self._send_all())

    async def read(self) -> bytes:
        try:
            message = await self._ws.recv()
        except ConnectionClosed:
            self._queue.put_nowait(None)  # the server hung up: the sender ends too
            return b""
        if isinstance(message, bytes):
            return message
        try:
            return message.encode("latin-1")
        except UnicodeEncodeError:
            # a code point above U+00FF is not a byte: the Minitel shows an error (SUB)
            return bytes(c if c < 0x100 else 0x1A for c in map(ord, message))

    def write(self, data: bytes) -> None:
        if data:
            self._queue.put_nowait(data.decode("latin-1"))

    def write_binary(self, data: bytes) -> None:
        """Send ``data`` as one binary frame (tests: clients that send binary)."""
        self._queue.put_nowait(bytes(data))

    async def _send_all(self) -> None:
        while (message := await self._queue.get()) is not None:
            try:
                await self._ws.send(message)
            except ConnectionClosed:
                return

    @property
    def local_address(self) -> str:
        sockname = self._ws.local_address
        if not isinstance(sockname, tuple):
            return ""
        host, port = sockname[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def close_code(self) -> int | None:
        """The WebSocket close code once the connection is closed (1009: too big)."""
        return self._ws.close_code

    async def close(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._sender), 2.0)
        self._sender.cancel()
        await self._ws.close()


async def open_ws(url: str, timeout: float) -> Transport:
    """Connect to ``ws://HOST:PORT/PATH``; raises :class:`ConnectError` naming the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConnectError(f"{url}: expected ws://HOST:PORT/PATH")
    try:
        ws = await connect(url, open_timeout=timeout, max_size=MAX_MESSAGE,
                           compression=None, user_agent_header="terminal-emu")
    except InvalidURI as e:
        raise ConnectError(f"{url}: not a WebSocket URL: {e}") from None
    except InvalidHandshake as e:
        raise ConnectError(f"{url}: the server refused the WebSocket: {e}") from None
    except (OSError, TimeoutError) as e:
        raise ConnectError(f"{url}: cannot connect: {e or 'timed out'}") from None
    return WsTransport(ws)
