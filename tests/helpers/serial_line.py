"""The far end of a pty pair: a 7E1 line to an emulated Minitel, and a fake Hayes modem.

The server opens the pty's slave path like a real device; the test drives the master fd
with ``loop.add_reader``. The 7E1 framing here is written again on purpose (not the
server's): the parity bit is bit 7, even weight; a byte of odd weight is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable

from terminal_emu import Minitel
from terminal_emu.client import MinitelClient, Transport


def with_parity(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        b &= 0x7F
        out.append(b | 0x80 if bin(b).count("1") % 2 else b)
    return bytes(out)


def parity_ok(byte: int) -> bool:
    return bin(byte).count("1") % 2 == 0


class PtyPair:
    """A pty: ``path`` for the server, ``master`` for the test. The test keeps the slave
    open too, so the master never sees EIO while the server re-opens the device."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class Waitable:
    """Conditions awaited with a timeout, never a sleep."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._notifies: set[asyncio.Future[None]] = set()

    def changed(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()
        task = asyncio.ensure_future(notify())
        self._notifies.add(task)
        task.add_done_callback(self._notifies.discard)

    async def until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0
                    ) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)
        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no {what} after {timeout} s") from None


class SevenE1Line(Transport, Waitable):
    """The master fd as a :class:`Transport` for a :class:`MinitelClient`: 7E1 both ways,
    parity errors from the server counted (there must be none)."""

    def __init__(self, pty: PtyPair) -> None:
        Waitable.__init__(self)
        self.pty = pty
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.bad_parity = 0
        self.wire = bytearray()
        asyncio.get_running_loop().add_reader(pty.master, self._readable)

    def _readable(self) -> None:
        try:
            wire = os.read(self.pty.master, 4096)
        except BlockingIOError:
            return
        except OSError:
            wire = b""
        if not wire:
            asyncio.get_running_loop().remove_reader(self.pty.master)
            self.queue.put_nowait(b"")
            return
        self.wire += wire
        self.bad_parity += sum(not parity_ok(b) for b in wire)
        self.received(bytes(b & 0x7F for b in wire))
        self.changed()

    def received(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    async def read(self) -> bytes:
        return await self.queue.get()

    def write(self, data: bytes) -> None:
        self.write_wire(with_parity(data))

    def write_wire(self, wire: bytes) -> None:
        os.write(self.pty.master, wire)

    async def close(self) -> None:
        self.stop()
        self.queue.put_nowait(b"")

    def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.pty.master)


def socket_minitel(model: str = "1B") -> Minitel:
    """A Minitel whose DIN socket is the line, in the local state (§1)."""
    m = Minitel(model, link="socket")
    m.protocol.set_connected(False)
    return m


class _CallSide(Transport):
    """The Minitel's side of a modem call (what the fake modem relays)."""

    def __init__(self, modem: FakeModem) -> None:
        self.modem = modem
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def read(self) -> bytes:
        data = await self.queue.get()
        if not data:
            self.queue.put_nowait(b"")
        return data

    def write(self, data: bytes) -> None:
        if self.modem.call is self:
            self.modem.write(data)

    async def close(self) -> None:  # the Minitel hangs up: carrier lost
        if self.modem.call is self:
            self.modem.drop_carrier()


class FakeModem(SevenE1Line):
    """A Hayes modem on the master side of a pty.

    Command mode: every ``AT...`` line is recorded and answered ``OK`` (unless ``silent``);
    ``ATA`` while ringing answers ``CONNECT <speed>`` and starts relaying to a fresh
    emulated Minitel; ``+++`` while online goes back to command mode (the carrier is
    dropped: the Minitel's client sees the hang-up); ``ATH`` answers ``OK``."""

    def __init__(self, pty: PtyPair, *, speed: int = 9600) -> None:
        super().__init__(pty)
        self.speed = speed
        self.silent = False
        self.commands: list[str] = []
        self.ringing = False
        self.call: _CallSide | None = None
        self.calls = 0
        self.client: MinitelClient | None = None
        self._line = bytearray()
        self._plus = 0

    def count(self, command: str) -> int:
        return sum(c.upper() == command.upper() for c in self.commands)

    def received(self, data: bytes) -> None:
        for b in data:
            if self.call is not None:
                self._plus = self._plus + 1 if b == 0x2B else 0
                if self._plus == 3:
                    self.commands.append("+++")
                    self._hang_up_call()
                    continue
                self.call.queue.put_nowait(bytes((b,)))
                continue
            if b == 0x0D:
                self._command(self._line.decode("ascii", "replace").strip())
                self._line.clear()
            elif b != 0x0A:
                self._line.append(b)

    def _command(self, text: str) -> None:
        # like a real modem, anything before "AT" (rest of a page after carrier loss) is noise
        at = text.upper().find("AT")
        if at < 0:
            return
        text = text[at:]
        self.commands.append(text)
        if self.silent:
            return
        if text.upper() == "ATA" and self.ringing:
            self.ringing = False
            self.say(f"CONNECT {self.speed}")
            self.call = _CallSide(self)
            self.calls += 1
            self.client = MinitelClient(self.call, Minitel())
            return
        self.say("OK")

    def say(self, text: str) -> None:
        self.write(f"\r\n{text}\r\n".encode("ascii"))

    def ring(self, caller: str | None = None) -> None:
        self.ringing = True
        self.say("RING")
        if caller:
            self.say(f"NMBR = {caller}")

    def _hang_up_call(self) -> None:
        call, self.call = self.call, None
        if call is not None:
            call.queue.put_nowait(b"")
        self._plus = 0

    def drop_carrier(self) -> None:
        """The caller went away: NO CARRIER to the server, the Minitel's line is dead."""
        self._hang_up_call()
        self.say("NO CARRIER")

    async def answered(self, timeout: float = 10.0) -> MinitelClient:
        await self.until(lambda: self.call is not None, "CONNECT", timeout)
        assert self.client is not None
        return self.client
