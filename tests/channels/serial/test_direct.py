"""Direct mode: a Minitel on its DIN socket over a pty pair, 7E1 in software."""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.callers import at_home, send_form
from tests.helpers.serial_line import PtyPair, SevenE1Line, socket_minitel
from videotex.channels.serial_line import SerialConnection, SerialLine

from .conftest import ELODIE, serve_line


def speed_of(pty: PtyPair) -> int:
    return termios.tcgetattr(pty.slave)[4]


def settled(line: SerialLine) -> bool:
    return line.calls >= 1


async def test_speed_switch_to_4800_confirmed_then_consultation(service, pty: PtyPair) -> None:
    wire = SevenE1Line(pty)
    t = MinitelClient(wire, socket_minitel("1B"))
    served = await serve_line(service, pty.path, 4800, mode="direct")
    try:
        await served.line.wait_until(settled)
        assert served.line.speed == 4800
        assert speed_of(pty) == termios.B4800
        assert wire.wire.startswith(b"\x1b\x3a\x6b\x76".translate(
            bytes(b | 0x80 if bin(b).count("1") % 2 else b for b in range(256))))
        await at_home(t, timeout=15)
        await send_form(t, *ELODIE)
        await t.wait_for_text("Mention Très bien")
        (call,) = served.hooks.opened
        assert call.conn.channel == "serial"
        assert wire.bad_parity == 0
        # Connexion/Fin ends the call; the Minitel stays plugged: its next key starts again
        await t.press(Key.CONNEXION_FIN)
        await served.line.wait_until(lambda line: len(served.hooks.closed) == 1)
        before = wire.wire.count(b"\x0c")
        await t.press(Key.SOMMAIRE)
        await served.line.wait_until(lambda line: line.calls == 2)
        await wire.until(lambda: wire.wire.count(b"\x0c") > before, "a new home page")
    finally:
        await served.stop()
        wire.stop()


async def test_speed_switch_refused_stays_at_1200(service, pty: PtyPair) -> None:
    wire = SevenE1Line(pty)
    MinitelClient(wire, socket_minitel("1B"))  # a 1B has no 9600: it answers its old speed
    served = await serve_line(service, pty.path, 9600, mode="direct")
    try:
        await served.line.wait_until(settled)
        assert served.line.speed == 1200
        assert speed_of(pty) == termios.B1200
    finally:
        await served.stop()
        wire.stop()


async def test_speed_switch_without_reply_falls_back(service, pty: PtyPair) -> None:
    wire = SevenE1Line(pty)  # nothing answers on the far side
    served = await serve_line(service, pty.path, 4800, mode="direct", speed_timeout=0.2)
    try:
        await served.line.wait_until(settled)
        assert served.line.speed == 1200
        assert speed_of(pty) == termios.B1200
    finally:
        await served.stop()
        wire.stop()


async def test_1200_baud_7e1_parity_errors_become_sub(service, pty: PtyPair) -> None:
    wire = SevenE1Line(pty)
    t = MinitelClient(wire, socket_minitel("1B"))
    served = await serve_line(service, pty.path, mode="direct")
    try:
        await served.line.wait_until(settled)
        assert served.line.speed == 1200 and served.line.port is not None
        assert served.line.port.codec.parity.value == "software"
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), timeout=20,
                         what="home page complete")
        assert wire.bad_parity == 0 and all(b & 0x80 == 0 or bin(b).count("1") % 2 == 0
                                            for b in wire.wire)
        wire.write_wire(b"\x31")  # '1' with its parity bit missing: odd weight
        await t.type("2")  # a good byte after it still works
        await t.wait_for(lambda c: "2" in c.text.splitlines()[10], what="the digit echoed")
        assert served.line.port.codec.errors == 1
        assert served.board.calls  # the session is still there
    finally:
        await served.stop()
        wire.stop()


async def test_emulator_serial_url_against_direct_mode(service) -> None:
    """``serial:///dev/pts/N``: two ptys joined by a null-modem cable made here."""
    a, b = PtyPair(), PtyPair()
    loop = asyncio.get_running_loop()

    def cable(src: int, dst: int) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(dst, os.read(src, 4096))

    loop.add_reader(a.master, cable, a.master, b.master)
    loop.add_reader(b.master, cable, b.master, a.master)
    from terminal_emu.client import open_transport

    # The Minitel is switched on before the line is served: pyserial flushes the input
    # on open, so a speed request sent before that would be lost (and the line would
    # rightly stay at 1200 baud).
    transport = await open_transport(f"serial://{b.path}?baud=4800")
    t = MinitelClient(transport, socket_minitel("1B"))
    served = await serve_line(service, a.path, 4800, mode="direct")
    try:
        assert transport.software_parity  # type: ignore[attr-defined]
        await served.line.wait_until(settled)
        assert served.line.speed == 4800
        await at_home(t, timeout=15)
        await send_form(t, *ELODIE)
        await t.wait_for_text("Mention Très bien")
    finally:
        await t.close()
        await served.stop()
        loop.remove_reader(a.master)
        loop.remove_reader(b.master)
        a.close()
        b.close()


def reading(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set while a call waits in ``SerialConnection.read`` (for the caller's next key)."""
    waiting = asyncio.Event()
    read = SerialConnection.read

    async def watched(self: SerialConnection) -> bytes:
        waiting.set()
        try:
            return await read(self)
        finally:
            waiting.clear()

    monkeypatch.setattr(SerialConnection, "read", watched)
    return waiting


async def test_shutdown_with_the_caller_idle_says_goodbye_and_ends_the_call(
        service, pty: PtyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a caller who types nothing leaves the session waiting in ``read`` (for
    up to a status interval, 60 s); hanging up only marked the connection, so the call
    outlived the board's grace, then the line's wait_closed, and ended "cancelled"."""
    waiting = reading(monkeypatch)
    wire = SevenE1Line(pty)
    t = MinitelClient(wire, socket_minitel("1B"))
    served = await serve_line(service, pty.path, 4800, mode="direct")
    try:
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), timeout=15,
                         what="home page complete")
        await asyncio.wait_for(waiting.wait(), 5)
        served.line.close()
        await asyncio.wait_for(served.board.shutdown(grace=2), 5)
        assert [reason for _, reason in served.hooks.closed] == ["shutdown"]
        assert not served.board.calls
        await t.wait_for_text("AU REVOIR")
        await asyncio.wait_for(served.line.wait_closed(), 5)
    finally:
        await served.stop()
        wire.stop()
