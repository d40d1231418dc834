"""``terminal-emu connect sip:...`` end to end on loopback: the emulator dials a small UAS
(``tests/emu/sip_uas.py``: its own SIP code, the server's V.23 modem for the audio), the
answer tone is recognised, a videotex page comes down at 1200 baud, keys go up at 75.
Every wait is for an event, with a timeout."""

from __future__ import annotations

import asyncio
import os
import pty
import random
import socket
import sys
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.client import ConnectError, MinitelClient
from terminal_emu.keyboard import Key
from terminal_emu.sip_call import CallState
from terminal_emu.transport_sip import SipTransport

from .sip_uas import LoopUas, UasScript

pytestmark = pytest.mark.timeout(60)

PAGE = b"\x0c\x1f\x41\x41BONJOUR MINITEL\x1f\x43\x41PAGE DE TEST"


async def dial(uas: LoopUas, wait: float = 5.0, **query: str) -> MinitelClient:
    return await MinitelClient.connect(uas.url(**query), timeout=wait)


def transport_of(client: MinitelClient) -> SipTransport:
    t = client.transport
    assert isinstance(t, SipTransport)
    return t


@pytest.fixture
async def uas() -> AsyncIterator[LoopUas]:
    server = await LoopUas(UasScript(page=PAGE)).start()
    yield server
    server.close()


async def wait_bytes(uas: LoopUas, data: bytes, timeout: float = 5.0) -> None:
    await uas.until(lambda: data in uas.minitel_bytes, timeout, f"{data!r} from the Minitel")


async def test_a_call_shows_the_page_and_carries_the_keys(uas: LoopUas) -> None:
    url = uas.url(**{"from": "0612345678", "pai": "0199000001"})
    client = await MinitelClient.connect(url, timeout=5)
    t = transport_of(client)
    await client.wait_for_text("PAGE DE TEST", timeout=10)
    assert client.shows("BONJOUR MINITEL") and client.minitel.errors == 0
    assert t.history[:4] == [f"dialing 3615 at 127.0.0.1:{uas.port}", "trying", "ringing",
                             "answered (PCMU), listening for the answer tone"]
    assert "answer tone heard" in t.history
    assert t.status == "connected, V.23 1200/75 (answer tone)"
    await client.type("AB")
    await client.press(Key.ENVOI)
    await wait_bytes(uas, b"\x13\x53AB\x13\x41")  # SEP 53 first (reference §1), then the keys
    invite = uas.received[0]
    assert invite.method == "INVITE" and invite.first.startswith("INVITE sip:3615@127.0.0.1:")
    assert invite.get("from").startswith("<sip:0612345678@127.0.0.1>;tag=")
    assert invite.get("p-asserted-identity").startswith("<sip:0199000001@")
    assert t.local_address == "0612345678"
    await client.close()
    assert [m.method for m in uas.received] == ["INVITE", "ACK", "BYE"]
    assert t.status == "hung up" and t.ended
    assert t.dropped == {"sip": 0, "rtp_foreign": 0, "rtp_bad": 0, "rtp_other": 0}
    assert t.jitter.stats.concealed == 0 and t.jitter.stats.late == 0


async def test_a_law() -> None:
    uas = await LoopUas(UasScript(codec="PCMA", page=PAGE)).start()
    try:
        client = await dial(uas, codec="pcma")
        assert "m=audio" in uas.received[0].body.decode()
        assert " RTP/AVP 8 101\r\n" in uas.received[0].body.decode()
        await client.wait_for_text("BONJOUR MINITEL", timeout=10)
        assert transport_of(client).media.codec.name == "PCMA"  # type: ignore[union-attr]
        await client.close()
    finally:
        uas.close()


async def test_invite_is_retransmitted_when_unanswered() -> None:
    uas = await LoopUas(UasScript(ignore_invites=2, page=PAGE)).start()
    try:
        client = await dial(uas)
        invites = [m for m in uas.received if m.method == "INVITE"]
        assert len(invites) == 3 and len({m.get("via") for m in invites}) == 1
        await client.wait_for_text("BONJOUR", timeout=10)
        await client.close()
    finally:
        uas.close()


async def test_a_rejected_call_names_the_status() -> None:
    uas = await LoopUas(UasScript(provisional=(100,), final=(486, "Busy Here"))).start()
    try:
        with pytest.raises(ConnectError, match="the call was refused: 486 Busy Here"):
            await dial(uas)
        await uas.wait("ACK")
    finally:
        uas.close()


async def test_no_server_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        with pytest.raises(ConnectError, match=r"no answer after 0.6 s \(no response from "
                                               rf"127.0.0.1:{port} over UDP"):
            await MinitelClient.connect(f"sip:3615@127.0.0.1:{port}", timeout=0.6)
        assert silent.recv(4096).startswith(b"INVITE ")


async def test_ringing_for_ever_is_cancelled_on_timeout() -> None:
    uas = await LoopUas(UasScript(final=(0, ""))).start()
    try:
        with pytest.raises(ConnectError, match=r"no answer after 0.5 s \(last heard: 180 Ringing"):
            await dial(uas, wait=0.5)
        await uas.wait("CANCEL")
        assert uas.received[-1].get("cseq") == "1 CANCEL"
    finally:
        uas.close()


async def test_an_unusable_answer_is_refused_and_hung_up() -> None:
    sdp = b"v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"
    uas = await LoopUas(UasScript(codec="", sdp=sdp)).start()
    try:
        with pytest.raises(ConnectError, match=r"unusable SDP.*none of the offered codecs"):
            await dial(uas)
        await uas.wait("BYE")
    finally:
        uas.close()


async def test_the_server_hangs_up(uas: LoopUas) -> None:
    client = await dial(uas)
    await client.wait_for_text("BONJOUR", timeout=10)
    uas.send_request("BYE", cseq=2)
    await client.wait_closed(5)
    t = transport_of(client)
    assert t.status == "the server hung up" and t.ended
    await uas.wait("200")
    await client.close()


async def test_connexion_fin_twice_hangs_up(uas: LoopUas) -> None:
    client = await dial(uas)
    await client.wait_for_text("BONJOUR", timeout=10)
    await client.press(Key.CONNEXION_FIN)
    await wait_bytes(uas, b"\x13\x49")  # the first press goes to the server
    assert "BYE" not in uas.events
    await client.press(Key.CONNEXION_FIN)
    await uas.wait("BYE")
    await client.wait_closed(5)
    assert transport_of(client).status == "hung up (Connexion/Fin)"
    await client.close()


async def test_carrier_loss_drops_the_line(uas: LoopUas) -> None:
    client = await dial(uas)
    t = transport_of(client)
    await t.wait_connected(10)
    uas._stop_media()  # the server's audio stops: silence, then the 440 ms carrier timer
    await uas.wait("BYE")
    await client.wait_closed(5)
    assert t.status == "carrier lost"
    await client.close()


async def test_reordered_packets_are_put_back_in_order() -> None:
    swaps = frozenset(range(10, 200, 3))  # before and while the page comes down
    uas = await LoopUas(UasScript(page=PAGE * 2, swap=swaps)).start()
    try:
        client = await dial(uas)
        await client.wait_for_text("PAGE DE TEST", timeout=10)
        await uas.wait("data")
        t = transport_of(client)
        assert t.jitter.stats.reordered > 10
        assert t.jitter.stats.concealed == 0 and t.jitter.stats.late == 0
        assert client.minitel.errors == 0
        await client.close()
    finally:
        uas.close()


async def test_in_call_options_and_reinvite_get_the_same_sdp(uas: LoopUas) -> None:
    client = await dial(uas)
    t = transport_of(client)
    await t.wait_connected(10)
    offer = uas.received[0].body
    uas.send_request("OPTIONS", cseq=2)
    uas.send_request("INVITE", cseq=3, body=uas._sdp())
    await uas.until(lambda: sum(m.status == 200 for m in uas.received) >= 2, 5)
    answers = [m for m in uas.received if m.status == 200]
    assert [m.get("cseq") for m in answers] == ["2 OPTIONS", "3 INVITE"]
    assert all(m.body == offer for m in answers)
    await client.wait_for_text("BONJOUR", timeout=10)  # the call went on
    await client.close()


async def test_garbage_on_both_sockets_and_the_call_goes_on(uas: LoopUas) -> None:
    client = await dial(uas)
    t = transport_of(client)
    await client.wait_for_text("BONJOUR", timeout=10)
    call = t.call
    assert call is not None and t._sip is not None and t._rtp is not None
    sip_addr = t._sip.get_extra_info("sockname")
    rtp_addr = t._rtp.get_extra_info("sockname")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind(("127.0.0.1", 0))

        @given(st.binary(max_size=300), st.booleans())
        @settings(max_examples=150, deadline=None, database=None)
        def feed(data: bytes, from_the_server: bool) -> None:
            # straight into the handlers, from a stranger or from the server's own addresses
            t._on_sip(data, (uas.host, uas.port) if from_the_server else stranger.getsockname())
            t._on_rtp(data, (uas.host, uas.rtp_port) if from_the_server
                      else stranger.getsockname())

        feed()
        assert call.state is CallState.ESTABLISHED and not t.ended
        before = dict(t.dropped)
        rnd = random.Random(14)
        for _ in range(100):  # then over the real sockets
            data = rnd.randbytes(rnd.randrange(0, 300))
            stranger.sendto(data, sip_addr)
            stranger.sendto(data, rtp_addr)
        stranger.sendto(b"\x80\x00" + bytes(10) + bytes(160), rtp_addr)  # RTP, wrong source
        # both ways still work: a key goes up, then a page comes down
        await client.type("Z")
        await wait_bytes(uas, b"Z")
        uas.modem.send(b"\x0c ENCORE LA")
        await client.wait_for_text("ENCORE LA", timeout=10)
    assert call.state is CallState.ESTABLISHED and not t.ended
    assert t.dropped["rtp_foreign"] - before["rtp_foreign"] == 101
    assert t.dropped["sip"] - before["sip"] == 100
    await client.close()
    assert "BYE" in uas.events


async def test_a_held_up_loop_catches_up_without_losing_a_byte(uas: LoopUas) -> None:
    client = await dial(uas)
    t = transport_of(client)
    await client.wait_for_text("PAGE DE TEST", timeout=10)
    uas.modem.send(b"\x0c" + b"0123456789" * 6)
    # The process descheduled for 400 ms (a busy shared core): the stall is the stimulus
    # here, not a wait for something. Both ends' audio then comes late, in a burst.
    time.sleep(0.4)
    await client.wait_for_text("0123456789" * 4, timeout=10)
    assert client.minitel.errors == 0
    assert t.jitter.stats.overflow == 0 and t.jitter.stats.concealed == 0
    assert t.rtp_sent == t._ticks  # every frame sent, none skipped
    await client.close()


async def run_in_pty(*args: str, until: bytes, then: bytes = b"",
                     uas: LoopUas | None = None) -> tuple[int, str]:
    """``terminal-emu ARGS`` on a pseudo-terminal: read until ``until`` shows, type ``then``
    (after the UAS has RTP, if given), read to the end; (exit status, everything shown)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command line as a person runs it
        try:
            os.execv(sys.executable, [sys.executable, "-m", "terminal_emu.cli", *args])
        finally:
            os._exit(127)  # never back into the test runner
    out = bytearray()
    seen, eof = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_output() -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            eof.set()
        out.extend(data)
        if until in out:
            seen.set()

    loop.add_reader(fd, on_output)
    try:
        await asyncio.wait_for(seen.wait(), 20)
        if uas is not None:
            await uas.wait("rtp")
        os.write(fd, then)
        await asyncio.wait_for(eof.wait(), 20)
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


async def test_the_command_line_dials_shows_progress_and_hangs_up_on_ctrl_c(
        uas: LoopUas) -> None:
    code, shown = await run_in_pty("connect", uas.url(**{"from": "0612345678"}),
                                   until=b"BONJOUR", then=b"\x03", uas=uas)
    await uas.wait("BYE")
    assert code == 0
    assert f"dialing 3615 at 127.0.0.1:{uas.port}\r\n" in shown  # while dialing
    assert "ringing\r\n" in shown
    assert "[connected, V.23 1200/75 (answer tone)]" in shown  # under the screen
    assert shown.rstrip().endswith("hung up")


async def test_the_command_line_names_what_is_wrong_in_a_url() -> None:
    code, shown = await run_in_pty("connect", "sip:3615@127.0.0.1?codec=g729", until=b"\n")
    assert code == 1
    assert "terminal-emu connect: sip:3615@127.0.0.1?codec=g729: codec 'g729' is not pcmu" \
        in shown
