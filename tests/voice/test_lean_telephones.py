"""bench_voice's cheap telephones (``bench/telephones.py``) against a real voice server: their
packets are RTP the server takes keys from, and what they mark as heard is the answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bench.telephones import LeanTelephones, quiet_codes
from tests.helpers.results import ELODIE
from tests.phone.caller import _DECODE
from tests.voice.caller import QUIET
from videotex.voice.dialogue import Say
from videotex.voice.player_speech import PlayerSpeech


async def poll(predicate: Any, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("codec,offset", [("PCMU", 0), ("PCMA", 256)])
def test_quiet_codes_follow_the_tests_rule(codec: str, offset: int) -> None:
    quiet = quiet_codes(codec)
    for code in range(256):
        loud = abs(int(_DECODE[offset + code])) > QUIET
        assert loud == (bytes([code]).translate(None, quiet) != b""), (codec, code)
    assert 0 < len(quiet) < 256


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
async def test_a_lean_telephone_does_a_consultation(make_server: Any, codec: str,
                                                     voice_speech: PlayerSpeech) -> None:
    server = await make_server(voice="3617")
    phones = await LeanTelephones(server.address, capacity=2, jitter=4).open()
    try:
        line: Any = await phones.call(called="3617", codecs=(codec,))
        await poll(lambda: server.board.calls)
        (call,) = server.board.calls
        dialogue = call.session
        await poll(lambda: line.last_sound_at > 0)  # the welcome is heard
        await poll(lambda: dialogue.state.value == "number" and dialogue.playing is None)
        phones.keys(line, ELODIE[0] + "#")
        await poll(lambda: dialogue.state.value == "birth")
        phones.keys(line, ELODIE[1])
        await poll(lambda: not line.outgoing)
        pressed = line.last_key_at
        assert pressed and time.monotonic() - pressed < 1.0
        await poll(lambda: any(p[:1] == (Say("result_intro"),) for p in dialogue.said))
        await poll(lambda: line.answered_at is not None)
        # the answer is heard after the last key, no sooner than the playout delay
        assert line.answered_at - pressed >= phones.playout
        assert line.answered_at - pressed < 3.0
        phones.tally()
        assert line.frames_heard > 50 and line.sent_frames > 50
        await phones.hangup(line)
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.channel == "voice" and record.result_found and record.lookups == 1
