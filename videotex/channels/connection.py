"""The byte pipe every transport adapts to, and output pacing.

Transport quirks (telnet IAC, SSH channels, serial framing, WebSocket frames) stay in
the adapters; :func:`~videotex.runtime.interact.interact` only sees :class:`Connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

__all__ = ["Connection", "Pacer", "StreamConnection"]


class Connection(ABC):
    """A caller's line: read bytes, write bytes, hang up."""

    #: Transport name for logs, metrics and billing ("telnet", "raw", "ssh", ...).
    channel: str = "?"
    #: Where the caller is, as the transport knows it (address:port, modem line, user).
    peer: str = ""
    #: ``write`` hands the bytes to the line at once (``drain`` is only flow control):
    #: a timer may then write a status row without the coroutine that reads.
    writes_now: bool = False

    @property
    def gone(self) -> bool:
        """The line is known to be gone (the pacer stops writing a page out at once).
        Transports that track the end of their line in ``ended`` (serial, modem) say so;
        stream transports override this."""
        return bool(getattr(self, "ended", False))

    @property
    def identity(self) -> str:
        """Who pays, for per-caller limits and offers: the address without the port by
        default; transports that know better (caller ID on a modem line) override it."""
        host, sep, port = self.peer.rpartition(":")
        return host.strip("[]") if sep and port.isdigit() else self.peer

    @abstractmethod
    async def read(self) -> bytes:
        """Next bytes from the caller; ``b""`` when the line is gone."""

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Queue bytes for the caller."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait until queued bytes are handed to the line."""

    @abstractmethod
    def close(self) -> None:
        """Hang up."""


class StreamConnection(Connection):
    """An asyncio stream pair (raw TCP)."""

    writes_now = True

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 channel: str) -> None:
        self._reader = reader
        self._writer = writer
        self._unread = b""
        self.channel = channel
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")

    def unread(self, data: bytes) -> None:
        """Bytes that arrived with a PROXY header: the caller's first input."""
        self._unread = data

    async def read(self) -> bytes:
        if self._unread:
            data, self._unread = self._unread, b""
            return data
        try:
            return await self._reader.read(4096)
        except (ConnectionError, OSError):
            return b""

    @property
    def gone(self) -> bool:
        return self._writer.is_closing()

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self) -> None:
        # a caller who is gone is reported by the next read, as a hang-up
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.drain()

    def close(self) -> None:
        self._writer.close()


class Pacer:
    """Hands bytes to a connection no faster than a real line of ``baud`` bits/s.

    A videotex character is 10 bits on the line (start, 7 data, parity, stop), so
    1200 baud is 120 characters per second. Output goes in slices of about 50 ms.
    """

    def __init__(self, baud: int) -> None:
        if baud <= 0:
            raise ValueError(f"pacing speed must be positive, not {baud} baud")
        self.baud = baud
        self.cps = baud / 10
        self._slice = max(1, int(self.cps / 20))

    def seconds(self, nbytes: int) -> float:
        return nbytes / self.cps

    async def send(self, conn: Connection, data: bytes) -> None:
        """Write ``data`` at the line's speed; stop as soon as the line is gone (carrier
        lost, socket closed), so that the call and its meter end with the line, not
        with the page."""
        for i in range(0, len(data), self._slice):
            if conn.gone:
                return
            chunk = data[i : i + self._slice]
            conn.write(chunk)
            await conn.drain()
            await asyncio.sleep(len(chunk) / self.cps)
