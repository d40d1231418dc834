"""A consultation over a phone call, end to end on loopback: SIP INVITE to the ``sip``
listener, RTP both ways, the server's V.23 answer modem against the Minitel's originate modem,
the independent emulator reading the screen; billed on channel ``phone`` to the caller's
number, closed once."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from terminal_emu import Key
from tests.helpers.results import ELODIE
from videotex.runtime.loop import ServerLoop

from .caller import PhoneLine, Phones
from .conftest import MakeServer

pytestmark = pytest.mark.timeout(120)


async def home(phones: Phones, line: PhoneLine) -> None:
    await phones.wait(line, lambda ln: ln.shows("RESULTATS DES EXAMENS")
                      and ln.minitel.cursor == (10, 15) and ln.minitel.cursor_visible,
                      timeout=30, what="the home page with the cursor in the number field")


async def consult(phones: Phones, line: PhoneLine, numero: str, birth: str) -> None:
    await home(phones, line)
    phones.type(line, numero)
    phones.press(line, Key.SUITE)
    phones.type(line, birth)
    await phones.wait(line, lambda ln: birth in ln.text, timeout=30, what="birth date echoed")
    phones.press(line, Key.ENVOI)


async def test_a_consultation_over_the_phone_is_billed_to_the_caller(
        make_server: MakeServer) -> None:
    server = await make_server()
    phones = await server.phones()
    try:
        line = await phones.call("0320123456", codecs=("PCMA",))
        await consult(phones, line, *ELODIE)
        await phones.wait(line, lambda ln: "Lycée Faidherbe" in ln.text, timeout=30,
                          what="the result page")
        assert line.shows("Mention Très bien")
        (call,) = server.board.calls
        assert call.conn.channel == "phone" and call.conn.identity == "0320123456"
        phones.press(line, Key.CONNEXION_FIN)
        await phones.wait(line, lambda ln: ln.state == "ended" or ln.shows("AU REVOIR"),
                          what="the goodbye")
        await line.ended.wait()  # the server hangs up (BYE) once the goodbye is sent
        assert line.end_reason == "server hung up"
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.channel == "phone" and record.caller == "0320123456"
    assert record.ended_at and record.lookups == 1 and record.result_found
    assert record.units >= 1


async def test_ulaw_and_the_asserted_identity(make_server: MakeServer) -> None:
    server = await make_server()
    phones = await server.phones()
    try:
        line = phones.invite("0999999999", codecs=("PCMU",),
                             extra=(("P-Asserted-Identity", "<sip:+33320654321@trunk>"),))
        await phones.answered(line)
        await home(phones, line)
        (call,) = server.board.calls
        assert call.conn.identity == "+33320654321"
        assert await phones.hangup(line) is not None
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.caller == "+33320654321" and record.ended_at


async def test_a_caller_whose_audio_comes_late_in_bursts_loses_no_byte(
        make_server: MakeServer) -> None:
    """The caller's RTP stalls 160 ms (twice the server's jitter buffer) every 240 ms, counted
    in its own frames, while it types, then comes in a burst: the server's modem holds still through a
    stall instead of hearing invented audio, so every byte arrives, later."""
    assert isinstance(asyncio.get_running_loop(), ServerLoop)  # (the server's own loop)
    server = await make_server()
    phones = await server.phones()
    try:
        line = await phones.call("0320123456")
        await home(phones, line)
        (call,) = server.board.calls
        far = call.conn.line
        concealed = far.concealed

        phones.stutter(line, stall=8, period=12)  # 160 ms held back of every 240
        try:
            await consult(phones, line, *ELODIE)
            await phones.wait(line, lambda ln: "Lycée Faidherbe" in ln.text, timeout=30,
                              what="the result page")
        finally:
            phones.steady(line)
        # the first stall reached the server's modem (its buffer then holds the stall's
        # length more, which absorbs the next ones)...
        assert far.held > 0
        assert far.concealed == concealed  # ...which never heard invented audio
        assert (far.up, far.crc_up) == (len(line.sent), zlib.crc32(bytes(line.sent)))
        assert line.shows("Mention Très bien")
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.lookups == 1 and record.result_found
