"""The emulator calls the real server over the phone: ``terminal-emu connect sip:...``
against ``videotex serve --sip`` (its SIP listener started in this process on 127.0.0.1 by
``tests/phone/conftest.py``, with the results store of ``tests/helpers/results.py`` and a
real billing ledger). Two independent stacks meet: the emulator's SIP UAC, RTP and
originate modem; the server's SIP UAS, RTP and answer modem.

A consultation at 1200/75 baud: the home page, a candidate number, Suite, a birth date,
Envoi, the result page, Connexion/Fin; billed on channel ``phone`` to the caller's number.
"""

from __future__ import annotations

import asyncio

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from terminal_emu.transport_sip import SipTransport
from tests.helpers.results import ELODIE
from tests.phone.conftest import MakeServer
from tests.phone.conftest import make_server as make_server  # the fixture, for pytest

pytestmark = pytest.mark.timeout(120)


def sip_of(client: MinitelClient) -> SipTransport:
    t = client.transport
    assert isinstance(t, SipTransport)
    return t


async def test_a_consultation_over_the_phone(make_server: MakeServer) -> None:
    server = await make_server(answer_tone=0.5)
    numero, birth = ELODIE
    url = f"sip:3615@127.0.0.1:{server.listener.port}?from=0612345678"
    t = await MinitelClient.connect(url, timeout=10)
    sip = sip_of(t)
    await t.wait_for_text("RESULTATS DES EXAMENS", timeout=60)
    assert "connected, V.23 1200/75 (answer tone)" in sip.history
    (call,) = server.board.calls
    assert call.conn.channel == "phone" and call.conn.identity == "0612345678"
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15) and c.minitel.cursor_visible,
                     timeout=30, what="the cursor in the number field")
    await t.type(numero)
    await t.press(Key.SUITE)
    await t.type(birth)
    await t.wait_for(lambda c: birth in c.text, timeout=30, what="birth date echoed")
    await t.press(Key.ENVOI)
    await t.wait_for_text("Lycée Faidherbe", timeout=60)
    assert t.shows("Mention Très bien") and t.shows("ADMIS") and t.minitel.errors == 0
    assert sip.jitter.stats.concealed == 0 and sip.jitter.stats.overflow == 0
    await t.press(Key.CONNEXION_FIN)  # once: the server says goodbye and hangs up
    await t.wait_for_text("AU REVOIR", timeout=30)
    await t.wait_closed(30)
    assert sip.status == "the server hung up"
    await t.close()
    (record,) = await server.stop()
    assert record.channel == "phone" and record.caller == "0612345678"
    assert record.ended_at and record.lookups == 1 and record.result_found


async def test_a_withheld_number_with_an_asserted_identity_in_a_law(
        make_server: MakeServer) -> None:
    server = await make_server(answer_tone=0.5)
    url = (f"sip:3615@127.0.0.1:{server.listener.port}"
           "?from=anonymous&pai=0199000042&codec=pcma")
    t = await MinitelClient.connect(url, timeout=10)
    sip = sip_of(t)
    assert sip.media is not None and sip.media.codec.name == "PCMA"
    await t.wait_for_text("RESULTATS DES EXAMENS", timeout=60)
    (call,) = server.board.calls
    assert call.conn.identity == "0199000042"  # P-Asserted-Identity over a withheld From
    await t.close()  # Ctrl+C: BYE
    assert sip.status == "hung up" and sip.ended
    assert call.task is not None
    await asyncio.wait_for(call.task, 10)
    (record,) = await server.stop()
    assert record.caller == "0199000042" and record.ended_at
