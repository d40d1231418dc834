"""The serial device itself: opening it at 7E1, framed writes, decoded reads, modem lines.

:func:`open_port` gives a :class:`Port`: 7E1 with parity in hardware when the device
keeps CS7 PARENB, else (and by default on a pty) 8N1 with parity made in software by
:mod:`.framing`. Reads arrive decoded on the port's inbox, with :class:`Signal` items
for what is not bytes. The line driver that serves calls on a port is :mod:`.serial_line`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import termios
from typing import Any

import serial
from serial_asyncio_fast import SerialTransport, create_serial_connection

from videotex.protocols.framing import HardwareDecoder, LineCodec, Parity, SoftwareCodec

__all__ = ["Port", "SerialLineError", "Signal", "is_pty", "open_port"]


class SerialLineError(ValueError):
    """A serial listener option that cannot work (names the device and the option)."""


class Signal(enum.Enum):
    """What the inbox carries besides bytes."""

    #: The device went away (unplugged, pty closed): re-open it.
    LOST = "lost"
    #: DCD dropped while online.
    CARRIER = "carrier"
    #: Direct mode: we hung up while the call waited for the caller's next key.
    WAKE = "wake"


class _LineProtocol(asyncio.Protocol):
    def __init__(self, codec: LineCodec) -> None:
        self.codec = codec
        self.inbox: asyncio.Queue[bytes | Signal] = asyncio.Queue()
        self.can_write = asyncio.Event()
        self.can_write.set()

    def data_received(self, data: bytes) -> None:
        out = self.codec.decode(data)
        if out:
            self.inbox.put_nowait(out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.can_write.set()
        self.inbox.put_nowait(Signal.LOST)

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()


def is_pty(device: str) -> bool:
    """Whether ``device`` is a pseudo-terminal (which cannot do 7E1)."""
    path = os.path.realpath(device)
    if path.startswith("/dev/pts/"):
        return True
    with contextlib.suppress(OSError):
        return 136 <= os.major(os.stat(path).st_rdev) <= 143
    return False


class Port:
    """An open device: framed writes, the inbox of decoded reads, modem lines."""

    def __init__(self, device: str, transport: SerialTransport, protocol: _LineProtocol
                 ) -> None:
        self.device = device
        self.transport = transport
        self.protocol = protocol
        self.codec = protocol.codec
        self.inbox = protocol.inbox
        ser = transport.serial
        assert ser is not None
        self.serial: serial.Serial = ser
        self.has_modem_lines = _probe(lambda: ser.cd)

    @property
    def closed(self) -> bool:
        return self.transport.is_closing()

    def write(self, data: bytes) -> None:
        if data and not self.transport.is_closing():
            self.transport.write(self.codec.encode(data))

    async def drain(self) -> None:
        await self.protocol.can_write.wait()

    async def flush(self, timeout: float = 5.0) -> None:
        """Wait until the bytes written have left the UART (before a speed change)."""
        await self.drain()
        with contextlib.suppress(TimeoutError, OSError, serial.SerialException):
            await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                None, self.serial.flush), timeout)

    def set_baud(self, baud: int) -> None:
        self.serial.baudrate = baud
        if self.codec.parity is Parity.HARDWARE:
            _mark_errors(self.serial)  # pyserial clears PARMRK on every reconfiguration

    def carrier(self) -> bool:
        """DCD; always True on a device without modem lines."""
        if not self.has_modem_lines:
            return True
        try:
            return bool(self.serial.cd)
        except (OSError, serial.SerialException):
            return False

    async def drop_dtr(self, seconds: float) -> bool:
        """Drop DTR for ``seconds``; False when the device has no DTR (a pty)."""
        try:
            self.serial.dtr = False
        except (OSError, serial.SerialException):
            return False
        try:
            await asyncio.sleep(seconds)
        finally:
            with contextlib.suppress(OSError, serial.SerialException):
                self.serial.dtr = True
        return True

    def close(self) -> None:
        self.transport.close()


def _probe(get: Any) -> bool:
    try:
        get()
    except (OSError, serial.SerialException):
        return False
    return True


def _mark_errors(ser: serial.Serial) -> None:
    """Parity/framing errors marked ``FF 00 x`` by the kernel (decoded as SUB)."""
    attrs = termios.tcgetattr(ser.fd)
    attrs[0] = (attrs[0] | termios.INPCK | termios.PARMRK) & ~(termios.IGNPAR | termios.ISTRIP)
    termios.tcsetattr(ser.fd, termios.TCSANOW, attrs)


def _keeps_7e1(ser: serial.Serial) -> bool:
    cflag = termios.tcgetattr(ser.fd)[2]
    return bool(cflag & termios.PARENB) and (cflag & termios.CSIZE) == termios.CS7


async def open_port(device: str, baud: int = 1200, parity: Parity | None = None) -> Port:
    """Open ``device`` at ``baud`` 7E1; ``parity=None`` chooses (software on ptys)."""
    loop = asyncio.get_running_loop()
    if parity is None and is_pty(device):
        parity = Parity.SOFTWARE
    want_hw = parity is not Parity.SOFTWARE
    protocol = _LineProtocol(HardwareDecoder() if want_hw else SoftwareCodec())
    kwargs: dict[str, Any] = {"baudrate": baud}
    if want_hw:
        kwargs.update(bytesize=serial.SEVENBITS, parity=serial.PARITY_EVEN)
    transport, _ = await create_serial_connection(loop, lambda: protocol, device, **kwargs)
    ser = transport.serial
    assert ser is not None
    if want_hw and not _keeps_7e1(ser):
        if parity is Parity.HARDWARE:
            transport.close()
            raise SerialLineError(f"serial {device}: the device does not keep 7E1 "
                                  "settings; use parity=software")
        # the device ignored CS7 PARENB: 8N1 with parity in software
        ser.bytesize, ser.parity = serial.EIGHTBITS, serial.PARITY_NONE
        protocol.codec = SoftwareCodec()
    elif want_hw:
        _mark_errors(ser)
    return Port(device, transport, protocol)
