"""Modem mode over a real pty pair: a fake Hayes modem relays to an emulated Minitel."""

from __future__ import annotations

import asyncio
import logging

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.callers import at_home, send_form
from tests.helpers.serial_line import FakeModem, PtyPair
from videotex.channels.serial_line import SerialLine
from videotex.protocols.hayes import ModemState

from .conftest import ELODIE, serve_line
from .test_direct import reading

FAST = {"guard": 0.05, "at_timeout": 0.5, "reopen": 0.1}


def idle(line: SerialLine) -> bool:
    return line.modem is not None and line.modem.state is ModemState.IDLE


async def consult(t: MinitelClient, numero: str, birth: str) -> None:
    await at_home(t, timeout=15)
    await send_form(t, numero, birth)


async def test_whole_call_then_a_second_one(service, pty: PtyPair) -> None:
    modem = FakeModem(pty)
    served = await serve_line(service, pty.path, **FAST)
    try:
        await served.line.wait_until(idle)
        assert modem.commands[:2] == ["ATZ", "ATE0V1Q0X4&C1&D2S0=0"]
        for n in (1, 2):
            modem.ring(caller="0320123456")
            t = await modem.answered()
            assert modem.commands.count("ATA") == n
            await consult(t, *ELODIE)
            await t.wait_for_text("Mention Très bien")
            assert t.shows("ADMIS")
            await t.press(Key.CONNEXION_FIN)
            await t.wait_closed(10)  # the server hung up: +++ then ATH (a pty has no DTR)
            await modem.until(lambda n=n: modem.count("ATH") == n, "ATH")
            assert modem.count("+++") == n
            await served.line.wait_until(idle)
            assert len(served.hooks.closed) == n
        assert modem.bad_parity == 0
        first = served.hooks.opened[0]
        assert first.conn.channel == "modem"
        assert first.conn.identity == "0320123456"  # caller ID from NMBR
    finally:
        await served.stop()
        modem.stop()


async def test_call_dropped_mid_page(service, pty: PtyPair) -> None:
    modem = FakeModem(pty, speed=1200)
    served = await serve_line(service, pty.path, **FAST)
    try:
        await served.line.wait_until(idle)
        modem.ring()
        t = await modem.answered()
        await t.wait_for(lambda c: c.bytes_received >= 40, what="the page coming")
        assert not t.shows("RESULTATS DES EXAMENS")  # mid-page at 1200 baud
        resets = modem.count("ATZ")
        modem.drop_carrier()
        await served.line.wait_until(lambda line: len(served.hooks.closed) == 1)
        assert not served.board.calls
        await served.line.wait_until(idle)
        assert modem.count("ATZ") == resets + 1  # initialised again, waiting for RING
        # NO CARRIER could have been typed by the caller: ATH anyway (the modem, in
        # command mode already, took "+++" for noise before ATH)
        assert modem.count("ATH") == 1 and modem.count("+++") == 0
        modem.ring()
        again = await modem.answered()
        await again.wait_for(lambda c: c.bytes_received > 0, what="a second call")
    finally:
        await served.stop()
        modem.stop()


async def test_a_caller_typing_no_carrier_is_hung_up_not_taken_for_the_modem(
        service, pty: PtyPair) -> None:
    """Taken at its word, the forged NO CARRIER left the modem online and the init
    commands went to the caller, who could answer them and fake a new call with any
    caller ID (billing identity, limits): the line must be hung up for sure."""
    modem = FakeModem(pty)
    served = await serve_line(service, pty.path, **FAST)
    try:
        await served.line.wait_until(idle)
        modem.ring(caller="0320123456")
        t = await modem.answered()
        await t.wait_for_text("RESULTATS DES EXAMENS", timeout=15)
        await t.send(b"\r\nNO CARRIER\r\n")
        await t.wait_closed(10)  # the modem saw +++ (online: back to command mode)
        await modem.until(lambda: modem.count("ATH") == 1, "ATH")
        assert modem.count("+++") == 1
        await served.line.wait_until(idle)
        assert len(served.hooks.closed) == 1
        assert "ATZ" not in t.text  # no init command reached the caller
        modem.ring(caller="0999999999")  # the next call is a real one, with its own ID
        await modem.answered()
        await served.line.wait_until(lambda line: len(served.hooks.opened) == 2)
        assert served.hooks.opened[1].conn.identity == "0999999999"
    finally:
        await served.stop()
        modem.stop()


async def test_modem_that_never_answers_then_comes_back(
        service, pty: PtyPair, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="videotex.serial")
    modem = FakeModem(pty)
    modem.silent = True
    served = await serve_line(service, pty.path, at_timeout=0.1, retries=2, reopen=0.05,
                              guard=0.05)
    try:
        await served.line.wait_until(lambda line: line.opens >= 3)
        assert modem.count("ATZ") >= 4  # each opening: ATZ, then one retry
        assert "ATE0V1Q0X4&C1&D2S0=0" not in modem.commands
        assert any("modem not answering" in r.getMessage() for r in caplog.records)
        modem.silent = False
        await served.line.wait_until(idle)
        modem.ring()
        t = await modem.answered()
        await t.wait_for_text("RESULTATS DES EXAMENS", timeout=15)
    finally:
        await served.stop()
        modem.stop()


async def test_auto_answer_waits_for_connect_without_ata(service, pty: PtyPair) -> None:
    modem = FakeModem(pty)
    served = await serve_line(service, pty.path, init="ATZ;ATS0=1", **FAST)
    try:
        await served.line.wait_until(idle)
        modem.ring()
        await served.line.wait_until(
            lambda line: line.modem is not None and line.modem.state is ModemState.ANSWERING)
        assert "ATA" not in modem.commands
        modem.ringing = False
        modem.say("CONNECT 9600")  # the modem answered by itself
        await served.line.wait_until(lambda line: line.calls == 1)
    finally:
        await served.stop()
        modem.stop()


async def test_shutdown_during_a_call_says_goodbye_and_hangs_up(service, pty: PtyPair) -> None:
    modem = FakeModem(pty)
    served = await serve_line(service, pty.path, **FAST)
    try:
        await served.line.wait_until(idle)
        modem.ring()
        t = await modem.answered()
        await t.wait_for_text("RESULTATS DES EXAMENS", timeout=15)
    finally:
        await served.stop()
    await t.wait_closed(10)
    assert modem.count("ATH") == 1
    assert [reason for _, reason in served.hooks.closed] == ["shutdown"]
    modem.stop()


async def test_shutdown_with_the_caller_idle_ends_the_call_at_once(
        service, pty: PtyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: with nothing typed the session waits in ``read``, which only the
    caller's bytes or a carrier loss woke: the call outlived the shutdown's grace."""
    waiting = reading(monkeypatch)
    modem = FakeModem(pty)
    served = await serve_line(service, pty.path, **FAST)
    try:
        await served.line.wait_until(idle)
        modem.ring()
        t = await modem.answered()
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), timeout=15,
                         what="home page complete")
        await asyncio.wait_for(waiting.wait(), 5)
        served.line.close()
        await asyncio.wait_for(served.board.shutdown(grace=2), 5)
        assert [reason for _, reason in served.hooks.closed] == ["shutdown"]
        await t.wait_closed(10)
        await asyncio.wait_for(served.line.wait_closed(), 5)
        assert modem.count("ATH") == 1
    finally:
        await served.stop()
        modem.stop()
