"""``serial:///dev/PORT?baud=1200[&parity=software|hardware]``: the emulator on a serial line.

The line is 7E1 (§1 of the reference). A real UART does it (``parity=hardware``); a Linux
pty cannot, so on ptys (the default there) the port is opened 8N1 and the parity bit is
made and checked here: bit 7 is the even-parity bit on output; on input a byte of odd
weight is a parity error and becomes SUB (0x1A), which the Minitel shows as an error block.

Written independently of the server's framing (the emulator imports nothing from
``videotex``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from urllib.parse import parse_qs, urlsplit

import serial
from serial_asyncio_fast import create_serial_connection

from .client import ConnectError, Transport

__all__ = ["BAUDS", "SerialTransport", "even_parity", "open_serial", "strip_parity"]

#: Speeds a Minitel socket knows (§1): 300, 1200, 4800, and 9600 on the Minitel 2.
BAUDS = (300, 1200, 4800, 9600)
_SUB = 0x1A


def _weight_is_odd(value: int) -> bool:
    return bin(value).count("1") % 2 == 1


_OUT = bytes((b & 0x7F) | (0x80 if _weight_is_odd(b & 0x7F) else 0) for b in range(256))
_IN = bytes(_SUB if _weight_is_odd(b) else b & 0x7F for b in range(256))


def even_parity(data: bytes) -> bytes:
    """7-bit bytes with the even-parity bit in bit 7 (what goes on the wire)."""
    return data.translate(_OUT)


def strip_parity(data: bytes) -> bytes:
    """Wire bytes back to 7 bits; a parity error becomes SUB."""
    return data.translate(_IN)


class _Protocol(asyncio.Protocol):
    def __init__(self, software: bool) -> None:
        self.software = software
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def data_received(self, data: bytes) -> None:
        self.queue.put_nowait(strip_parity(data) if self.software else data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait(b"")


class SerialTransport(Transport):
    """A serial port carrying videotex, 7E1 in hardware or software."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol, device: str) -> None:
        self._transport = transport
        self._protocol = protocol
        self.device = device

    @property
    def software_parity(self) -> bool:
        return self._protocol.software

    async def read(self) -> bytes:
        data = await self._protocol.queue.get()
        if not data:
            self._protocol.queue.put_nowait(b"")  # every later read sees the hang-up too
        return data

    def write(self, data: bytes) -> None:
        if data and not self._transport.is_closing():
            self._transport.write(even_parity(data) if self._protocol.software else data)

    def write_wire(self, data: bytes) -> None:
        """Bytes straight onto the line, parity untouched (tests: parity errors)."""
        self._transport.write(data)

    @property
    def local_address(self) -> str:
        return self.device

    async def close(self) -> None:
        self._transport.close()
        with contextlib.suppress(TimeoutError):
            while True:
                data = await asyncio.wait_for(self._protocol.queue.get(), 2.0)
                if not data:
                    self._protocol.queue.put_nowait(b"")
                    break


def _is_pty(device: str) -> bool:
    path = os.path.realpath(device)
    if path.startswith("/dev/pts/"):
        return True
    with contextlib.suppress(OSError):
        return 136 <= os.major(os.stat(path).st_rdev) <= 143
    return False


def _parse(url: str) -> tuple[str, int, str | None]:
    parts = urlsplit(url)
    if parts.scheme != "serial" or not parts.path or parts.netloc:
        raise ConnectError(f"{url}: expected serial:///dev/PORT?baud=1200")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"baud", "parity"}
    if unknown:
        raise ConnectError(f"{url}: unknown option {sorted(unknown)[0]!r} (baud, parity)")
    text = query.get("baud", ["1200"])[-1]
    try:
        baud = int(text)
    except ValueError:
        raise ConnectError(f"{url}: baud {text!r} is not a number") from None
    if baud not in BAUDS:
        raise ConnectError(f"{url}: baud {baud} is not one of {', '.join(map(str, BAUDS))}")
    parity = query.get("parity", [None])[-1]
    if parity not in (None, "software", "hardware"):
        raise ConnectError(f"{url}: parity must be software or hardware, not {parity!r}")
    return parts.path, baud, parity


async def open_serial(url: str, timeout: float) -> Transport:
    """Open ``serial:///dev/PORT?baud=1200``; raises :class:`ConnectError` naming the URL."""
    device, baud, parity = _parse(url)
    software = parity == "software" or (parity is None and _is_pty(device))
    protocol = _Protocol(software)
    kwargs: dict[str, object] = {"baudrate": baud}
    if not software:
        kwargs.update(bytesize=serial.SEVENBITS, parity=serial.PARITY_EVEN)
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await asyncio.wait_for(
            create_serial_connection(loop, lambda: protocol, device, **kwargs), timeout)
    except (OSError, serial.SerialException, TimeoutError, ValueError) as e:
        raise ConnectError(f"{url}: cannot open {device}: {e or 'timed out'}") from None
    return SerialTransport(transport, protocol, device)
