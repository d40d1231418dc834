"""baresip (an independent SIP user agent and RTP stack, Debian package) dials the server and
carries a Minitel's audio: its source is a WAV file of the Minitel's modem made beforehand
(the carrier once the answer sequence is heard, then a consultation typed at 8 s), and its
``sndfile`` module records what it received from the server. That recording, decoded by the
Minitel's modem and shown by the independent emulator, must be the result page; the call is
billed on channel ``phone`` to baresip's number."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from terminal_emu import Key, Minitel
from tests.helpers.results import ELODIE
from videotex.protocols.v23 import AnswerConfig, AnswerModem, Data, OriginateModem

from .conftest import MakeServer, free_rtp_range

BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
pytestmark = [pytest.mark.skipif(not Path(BARESIP).exists(), reason="baresip is not installed"),
              pytest.mark.timeout(120)]

SECONDS = 18
KEYS_AT = 8.0


def minitel_audio(path: Path) -> None:
    """What a Minitel sends on a call answered with a 1 s tone: silence until it hears the
    answer sequence (made here by an answer modem), its carrier, then the keys at KEYS_AT."""
    server, minitel, keys = AnswerModem(AnswerConfig(answer_tone_ms=1000)), OriginateModem(), Minitel()
    typed = (keys.type(ELODIE[0]) + keys.press(Key.SUITE) + keys.type(ELODIE[1])
             + keys.press(Key.ENVOI))
    out = []
    for block in range(SECONDS * 50):
        if block == int(KEYS_AT * 50):
            minitel.send(typed)
        minitel.receive_audio(server.audio_out(160))
        out.append(minitel.audio_out(160))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.concatenate(out).astype("<i2").tobytes())


def screen_of(recording: Path) -> tuple[str, bytes]:
    """The received audio through the Minitel's modem and the emulator."""
    with wave.open(str(recording)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    modem, minitel, got = OriginateModem(), Minitel(), bytearray()
    for i in range(0, len(pcm) - 159, 160):
        for event in modem.receive_audio(pcm[i:i + 160]):
            if isinstance(event, Data):
                got += event.data
                minitel.feed(event.data)
    return minitel.render_text(), bytes(got)


async def test_baresip_carries_a_consultation(make_server: MakeServer, tmp_path: Path) -> None:
    server = await make_server()
    minitel_audio(tmp_path / "minitel.wav")
    (tmp_path / "dump").mkdir()
    (tmp_path / "accounts").write_text("<sip:0320123456@127.0.0.1>;regint=0;audio_codecs=PCMA\n")
    (tmp_path / "config").write_text(
        "poll_method epoll\nsip_listen 127.0.0.1:0\n"
        f"audio_source aufile,{tmp_path / 'minitel.wav'}\n"
        f"audio_alert aufile,{tmp_path / 'minitel.wav'}\n"
        "audio_player aufile,/dev/null\naudio_srate 8000\naudio_channels 1\n"
        "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\n"
        "module sndfile.so\nmodule_app account.so\nmodule_app menu.so\n"
        f"snd_path {tmp_path / 'dump'}\nrtp_ports {free_rtp_range(20)}\n"
        "jitter_buffer_delay 5-10\n")
    proc = await asyncio.create_subprocess_exec(
        BARESIP, "-n", "127.0.0.1", "-f", str(tmp_path), "-t", str(SECONDS),
        "-e", f"/dial sip:3615@127.0.0.1:{server.listener.port}", cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), SECONDS + 30)
    log = out.decode(errors="replace")
    assert "Call established" in log, log[-2000:]
    (recording,) = (tmp_path / "dump").glob("*-dec.wav")
    await server.listener.idle()  # baresip's BYE at -t: the session is billed and closed
    (record,) = await server.stop()
    text, received = screen_of(recording)
    assert "Lycée Faidherbe" in text, text
    assert received.count(0x1A) == 0
    assert record.channel == "phone" and record.caller == "0320123456"
    assert record.result_found and record.ended_at
