"""The emulator's SIP and RTP against SIPp, a SIP implementation that is not ours.

SIPp plays a UAS (a scenario written here: 180, then 200 with a PCMA answer, ACK, BYE,
200) and echoes RTP back (``-rtp_echo``). The emulator's modem is given a 1 s answer
timeout: it hears only its own silence echoed, gives up after 50 frames, and hangs up;
SIPp counts the call successful (exit status 0) only if every message came as scripted.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from terminal_emu.modem import V23Modem
from terminal_emu.transport_sip import SipTransport, parse_sip_url

pytestmark = [
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed"),
    pytest.mark.timeout(60),
]

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="terminal-emu UAS">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

  ]]></send>
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

  ]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

  ]]></send>
</scenario>
"""


def free_udp_port(even: bool = False) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if not even or port % 2 == 0:
            return port


async def test_a_call_to_sipp(tmp_path: Path) -> None:
    scenario = tmp_path / "uas.xml"
    scenario.write_text(SCENARIO)
    port, media = free_udp_port(), free_udp_port(even=True)
    sipp = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-mp", str(media),
        "-rtp_echo", "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error",
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        t = SipTransport(parse_sip_url(f"sip:3615@127.0.0.1:{port}?from=0612345678"),
                         modem=V23Modem(answer_timeout_s=1.0))
        media_answer = await t.dial(timeout=10)
        assert (media_answer.host, media_answer.port, media_answer.codec.name) == (
            "127.0.0.1", media, "PCMA")
        assert await t.wait_ended(10), t.history
        assert t.history[-1] == "no answer tone: the modem gave up"
        assert "ringing" in t.history
        assert t.jitter.stats.received >= 40  # our own frames, echoed from the answer's port
        assert t.dropped["rtp_foreign"] == 0 and t.dropped["sip"] == 0
        assert await t.read() == b""
        await t.close()
        _, err = await asyncio.wait_for(sipp.communicate(), 20)
        assert sipp.returncode == 0, err.decode(errors="replace")[-2000:]
    finally:
        if sipp.returncode is None:
            sipp.kill()
            await sipp.wait()
