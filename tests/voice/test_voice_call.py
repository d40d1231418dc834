"""A consultation by voice, end to end over real SIP and RTP on loopback: the caller's
keys as in-band DTMF tones or RFC 4733 events, the server's dialogue, the audio the caller
hears matched against the synthesised prompts, and the billing record."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from tests.helpers.results import ELODIE, PAUL_PARIS
from tests.voice.caller import VoiceLine, VoicePhones
from videotex.voice.dialogue import Say, Speak
from videotex.voice.player_speech import PlayerSpeech


def best_offset(heard: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where ``reference`` sits in ``heard``, and the normalised correlation there."""
    from videotex.voice.tts import best_match

    offset, score = best_match(heard, reference)
    return int(offset), float(score)


async def until(line: VoiceLine, predicate: Any, timeout: float = 20.0,
                what: str = "") -> None:
    """Until ``predicate()`` holds, checked at each of the telephone's 20 ms ticks."""
    async with asyncio.timeout(timeout):
        while not predicate():
            line.changed.clear()
            await line.changed.wait()


def dialogue_of(server: Any) -> Any:
    (call,) = server.board.calls
    return call.session


async def welcomed(server: Any, phones: VoicePhones) -> tuple[VoiceLine, Any]:
    """A call to the voice menu (3617), once the welcome and the question have been said:
    the caller's line and the server's dialogue."""
    line = await phones.call(called="3617")
    assert isinstance(line, VoiceLine)
    await until(line, lambda: server.board.calls)
    dialogue = dialogue_of(server)
    await until(line, lambda: dialogue.said and dialogue.playing is None,
                what="welcome and the question said")
    return line, dialogue


async def test_a_consultation_by_voice_with_keypad_tones(make_server: Any,
                                                        voice_speech: PlayerSpeech) -> None:
    server = await make_server(voice="3617")
    phones = await VoicePhones(server.address).open()
    try:
        line = await phones.call(called="3617")
        assert isinstance(line, VoiceLine)
        await until(line, lambda: server.board.calls, what="the call on the switchboard")
        dialogue = dialogue_of(server)
        await until(line, lambda: dialogue.state.value == "number" and dialogue.playing is None,
                    what="welcome and the question heard")
        phones.keys(line, ELODIE[0] + "#")
        await until(line, lambda: dialogue.state.value == "birth", what="the number taken")
        start = len(line.heard)
        phones.keys(line, ELODIE[1])
        await until(line, lambda: any(p[:1] == (Say("result_intro"),) for p in dialogue.said),
                    what="the result said")
        await until(line, lambda: dialogue.playing is None or len(line.heard) - start > 250,
                    what="the result heard")
        heard = phones.audio(line, start)
        intro = voice_speech.prompt_pcm("result_intro")
        # the prompt the server synthesised is what was heard, quarter-second by quarter-
        # second (a frame late on the loopback shifts what follows by 20 ms: a whole-prompt
        # match would count that as a mismatch), in order...
        matches = [best_offset(heard, intro[i : i + 2000])
                   for i in range(0, len(intro) - 2000, 2000)]
        assert len(matches) >= 3 and all(score > 0.9 for _, score in matches), matches
        offsets = [o for o, _ in matches]
        assert offsets == sorted(offsets), offsets
        # ... right after the eight keys (8 × 160 ms) were typed
        assert 1.0 < offsets[0] / 8000 < 3.0, offsets[0] / 8000
        answer = next(p for p in dialogue.said if p[:1] == (Say("result_intro"),))
        assert Speak("Élodie Dupont.") in answer
        await phones.hangup(line)
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.channel == "voice" and record.plan == "audiotel"
    assert record.result_found and record.lookups == 1 and record.ended_at


async def test_keys_as_rfc4733_events_and_the_embargo_by_voice(
        make_server: Any, voice_speech: PlayerSpeech) -> None:
    server = await make_server(voice="3617")
    phones = await VoicePhones(server.address).open()
    try:
        line = await phones.call(called="3617")
        assert isinstance(line, VoiceLine)
        await until(line, lambda: server.board.calls)
        dialogue = dialogue_of(server)
        phones.keys(line, PAUL_PARIS[0] + "#", rfc4733=True)
        await until(line, lambda: dialogue.state.value == "birth", what="the number taken")
        phones.keys(line, PAUL_PARIS[1], rfc4733=True)
        await until(line, lambda: any(p[:1] == (Say("not_published"),) for p in dialogue.said),
                    what="not yet published said")
        await phones.hangup(line)
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.channel == "voice" and not record.result_found


async def test_keys_from_a_caller_whose_audio_comes_in_bursts(make_server: Any,
                                                              voice_speech: PlayerSpeech) -> None:
    """The caller's RTP stalls for 200 ms in the middle of a key's tone, then comes in a
    burst (a sender that fell behind): the server's jitter buffer runs dry there. Its DTMF
    detector stands still while it waits (silence in that gap would cut the key in two:
    a digit too many), and every key is heard: the number, the birth date, the result."""
    server = await make_server(voice="3617")
    phones = await VoicePhones(server.address).open()

    line: VoiceLine

    def stall_mid_tone(keys: str) -> None:
        phones.stutter(line, stall=10, period=1000)
        line.frames_out = 998  # two frames of the first tone go, then 10 are held back
        phones.keys(line, keys)

    try:
        line, dialogue = await welcomed(server, phones)
        stall_mid_tone(ELODIE[0] + "#")
        await until(line, lambda: len(dialogue.said) > 1, what="an answer to the number")
        await until(line, lambda: not line.outgoing and dialogue.playing is None)
        stall_mid_tone(ELODIE[1])
        await until(line, lambda: len(dialogue.said) > 2, what="an answer to the birth date")
        said = [p[0].key for p in dialogue.said]
        assert said == ["welcome", "ask_birth", "result_intro"], dialogue.said
        assert Speak("Élodie Dupont.") in dialogue.said[-1]
        (call,) = server.listener.calls.values()
        assert call.line.held >= 4  # it did run dry, twice
        await phones.hangup(line)
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.result_found


async def test_silence_asks_again_aloud_then_goodbye(make_server: Any, voice_speech: PlayerSpeech,
                                                    monkeypatch: Any) -> None:
    """A question met with silence is said again (the dialogue's timer, not a key, asks for
    it), heard by the caller, and after the retries goodbye is said and the server hangs up.
    (Timer-made prompts once waited for the next key: on a silent line, forever.)"""
    from videotex.channels.phone import sip_listener
    from videotex.voice.dialogue import VoiceConfig

    made = sip_listener.voice_session

    def quick(*args: Any, **kw: Any) -> Any:  # 1 s of silence instead of 8: a short test
        dialogue = made(*args, **kw)
        dialogue.voice = VoiceConfig(no_input=1.0, retries=1)
        return dialogue

    monkeypatch.setattr(sip_listener, "voice_session", quick)
    server = await make_server(voice="3617")
    phones = await VoicePhones(server.address).open()
    try:
        line, dialogue = await welcomed(server, phones)
        start = len(line.heard)
        await until(line, lambda: line.state == "ended", timeout=30,
                    what="the server hanging up after the retries")
        assert [tuple(i.key for i in p) for p in dialogue.said] == [
            ("welcome", "ask_number"), ("no_input", "ask_number"), ("goodbye",)]
        heard = phones.audio(line, start)
        for key in ("no_input", "goodbye"):  # each said aloud, in this order
            prompt = voice_speech.prompt_pcm(key)[:4000]
            assert best_offset(heard, prompt)[1] > 0.9, key
        no_input = best_offset(heard, voice_speech.prompt_pcm("no_input")[:4000])[0]
        goodbye = best_offset(heard, voice_speech.prompt_pcm("goodbye")[:4000])[0]
        # the first after 1 s of silence (and the telephone's 0.5 s jitter buffer), the
        # goodbye after the question and 1 s more
        assert 0.9 < no_input / 8000 < 2.5, no_input / 8000
        assert goodbye > no_input + len(voice_speech.prompt_pcm("ask_number"))
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.channel == "voice" and record.lookups == 0


async def test_garbage_events_and_keys_leave_the_call_usable(
        make_server: Any, voice_speech: PlayerSpeech, caplog: Any) -> None:
    """Malformed RFC 4733 payloads, events that are no key, keys the menu does not take:
    counted or ignored, never an error, and the consultation still goes through."""
    import logging
    import secrets

    caplog.set_level(logging.INFO)
    server = await make_server(voice="3617")
    phones = await VoicePhones(server.address).open()
    try:
        line = await phones.call(called="3617")
        assert isinstance(line, VoiceLine) and line.remote is not None
        await until(line, lambda: server.board.calls)
        dialogue = dialogue_of(server)
        sender = line.sender
        assert sender is not None
        for payload in (b"\x01", b"\x01\x0a\x00", secrets.token_bytes(40),
                        bytes([200, 0x8A, 0, 160])):  # too short, too long, event 200
            header = bytearray(sender.packet(b"", samples=0)[:12])
            header[1] = 101
            line.rtp.sendto(bytes(header) + payload, line.remote)
        line.rtp.sendto(secrets.token_bytes(7), line.remote)  # not RTP at all
        phones.keys(line, "#*#")  # an empty number, corrections: the menu asks again
        await until(line, lambda: len(dialogue.said) >= 3, what="the menu's answers to the keys")
        phones.keys(line, ELODIE[0] + "#")
        await until(line, lambda: dialogue.state.value == "birth", what="the number taken")
        phones.keys(line, ELODIE[1])
        await until(line, lambda: any(p[:1] == (Say("result_intro"),) for p in dialogue.said),
                    what="the result said")
        (call,) = server.listener.calls.values()
        assert call.line.malformed >= 2  # the short and long payloads (event 200 is valid)
        await phones.hangup(line)
    finally:
        await phones.close()
    (record,) = await server.stop()
    assert record.result_found
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
