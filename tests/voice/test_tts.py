"""The speech engine adapter and the speech cache: every prompt rendered at 8 kHz at the
right level, the cache and the LRU hit, the pool stays bounded and the loop keeps its
pace, G.711 round trips, and a prompt is found in noisy received audio."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from videotex.protocols.g711 import Law, decode
from videotex.voice.prompts import PROMPT_TEXTS, Dynamic, Prompt
from videotex.voice.speech import FRAME_BYTES, Source, Speech, Utterance
from videotex.voice.tts import (
    ESPEAK_FR,
    RATE,
    Engine,
    TtsError,
    best_match,
    condition,
    level_dbfs,
    parse_wav,
    render,
    resample,
    synthesize,
    to_g711,
)

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")

Pcm = npt.NDArray[np.int16]


class Counting:
    """A renderer that counts its calls and how many run at once; ``gate`` holds every
    run until it is set; without ``real``, a tone stands in for the engine."""

    def __init__(self, *, real: bool = True, gate: threading.Event | None = None) -> None:
        self.calls: list[str] = []
        self.running = 0
        self.peak = 0
        self.real = real
        self.gate = gate
        self._lock = threading.Lock()

    def __call__(self, text: str) -> Pcm:
        with self._lock:
            self.calls.append(text)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if self.gate is not None:
                assert self.gate.wait(30), "the test never opened the gate"
            if self.real:
                return render(ESPEAK_FR, text)
            t = np.arange(RATE // 2) / RATE
            return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        finally:
            with self._lock:
                self.running -= 1


async def _until(cond: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``cond`` holds (bounded: 10 s)."""
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.001)


# -- the engine and the conditioning -----------------------------------------------------

@needs_espeak
async def test_every_prompt_renders_at_8khz_and_at_level(tmp_path: Path) -> None:
    async with Speech(workers=2) as speech:
        await speech.warm()
        assert speech.stats.syntheses == len(Prompt)
        for prompt in Prompt:
            u = speech.cached(prompt)
            assert u.pcm.dtype == np.int16 and u.pcm.size >= RATE // 10, prompt
            assert len(u.ulaw) == len(u.alaw) == u.pcm.size
            assert -17.0 <= level_dbfs(u.pcm) <= -15.5, (prompt, level_dbfs(u.pcm))
            assert int(np.max(np.abs(u.pcm.astype(np.int32)))) <= 31_700, prompt
            # trimmed: speech within the first and last 60 ms
            edge = RATE * 60 // 1000
            assert np.max(np.abs(u.pcm[:edge])) > 300 or np.max(np.abs(u.pcm[edge:2 * edge])) > 300
        # 8 kHz: the engine's seconds are the utterance's seconds, give or take the trim
        raw, rate = synthesize(ESPEAK_FR, Prompt.ASK_NUMBER.text)
        assert rate == 22050
        said = speech.cached(Prompt.ASK_NUMBER).seconds
        assert 0.6 * raw.size / rate < said <= raw.size / rate + 0.1


def test_resampler_low_passes_before_decimating() -> None:
    t = np.arange(22050) / 22050
    for freq, lowest, highest in ((1000, -0.1, 0.1), (3000, -0.2, 0.1), (5000, -200, -70),
                                  (9000, -200, -70)):
        y = resample(np.sin(2 * np.pi * freq * t) * 10000, 22050, RATE)
        assert y.size == RATE
        gain = 20 * np.log10(np.sqrt(np.mean(y[400:-400] ** 2)) / (10000 / np.sqrt(2)) + 1e-12)
        assert lowest <= gain <= highest, (freq, gain)
    impulse = np.zeros(2205)
    impulse[1102] = 1.0
    assert abs(int(np.argmax(resample(impulse, 22050, RATE))) - 400) <= 1  # delay removed


def test_condition_trims_levels_and_never_clips() -> None:
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 300 * t) * 3000
    loud = np.concatenate((np.zeros(8000), tone, np.zeros(16000)))
    loud[12000] = 32767  # a lone spike: limited, not clipped
    pcm = condition(loud.astype(np.int16), 16000)
    assert abs(pcm.size / RATE - 1.06) < 0.03  # 1 s of tone and 30 ms each side
    assert -16.5 <= level_dbfs(pcm) <= -15.5
    assert int(np.max(np.abs(pcm.astype(np.int32)))) <= 31_700
    assert condition(np.zeros(4000, np.int16), 16000).size == 0


def test_parse_wav_reads_a_streamed_header() -> None:
    samples = np.array([0, 1000, -1000, 32767], dtype="<i2").tobytes()
    fmt = b"fmt " + (16).to_bytes(4, "little") + bytes.fromhex("0100 0100 2256 0000 44ac 0000 0200 1000".replace(" ", ""))
    data = b"RIFF" + b"\x24\xf0\xff\x7f" + b"WAVE" + fmt + b"data" + b"\x00\xf0\xff\x7f" + samples
    pcm, rate = parse_wav(data)
    assert rate == 22050 and pcm.tolist() == [0, 1000, -1000, 32767]
    with pytest.raises(ValueError, match="not a WAV file"):
        parse_wav(b"hello")


def test_engine_failures_name_the_engine_and_the_text() -> None:
    missing = Engine("nope", ("/nonexistent/tts-engine", "{text}"), "fr")
    with pytest.raises(TtsError, match=r"'nope'.*'bonjour'.*not installed"):
        synthesize(missing, "bonjour")
    echo = Engine("echo", ("echo", "{text}"), "fr")
    with pytest.raises(TtsError, match=r"not a WAV file"):
        synthesize(echo, "bonjour")
    failing = Engine("false", ("false",), "fr")
    with pytest.raises(TtsError, match=r"exit status 1"):
        synthesize(failing, "bonjour")
    with pytest.raises(ValueError, match="empty"):
        synthesize(ESPEAK_FR, "  ")


# -- G.711 and frames ---------------------------------------------------------------------

def test_g711_round_trip_and_frames() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(RATE) / RATE
    pcm = (np.sin(2 * np.pi * 440 * t) * 5000 + rng.normal(0, 500, RATE)).astype(np.int16)
    for law in Law:
        data = to_g711(pcm, law)
        assert len(data) == pcm.size
        back = decode(data, law).astype(np.float64)
        err = back - pcm
        assert 10 * np.log10(np.mean(pcm.astype(np.float64) ** 2) / np.mean(err**2)) > 30
        assert to_g711(decode(data, law), law) == data  # codes are stable
    u = Utterance.of("test", pcm[:1000])
    frames = list(u.frames(Law.ALAW))
    assert [len(f) for f in frames] == [FRAME_BYTES] * 7
    assert b"".join(frames)[:1000] == u.alaw
    assert set(decode(b"".join(frames)[1000:], Law.ALAW).tolist()) <= {-8, 8}  # silence
    joined = Utterance.join([u, u], gap_ms=100)
    assert joined.pcm.size == 2000 + 800 == len(joined.ulaw)


# -- the cache ----------------------------------------------------------------------------

@needs_espeak
async def test_cache_hits_the_second_time(tmp_path: Path) -> None:
    counting = Counting()
    async with Speech(renderer=counting, cache_dir=tmp_path) as speech:
        first = await speech.speak("Camille Lefèvre-Dupré.")
        again = await speech.speak("Camille Lefèvre-Dupré.")
        assert first.source is Source.SYNTH and again.source is Source.CACHE
        assert np.array_equal(first.pcm, again.pcm)
        p1 = await speech.prompt(Prompt.GOODBYE)
        p2 = await speech.speak(Prompt.GOODBYE.text)  # a prompt's text is that prompt
        assert p2.ulaw == p1.ulaw
        assert counting.calls == ["Camille Lefèvre-Dupré.", Prompt.GOODBYE.text]
        s = speech.stats
        assert (s.hits, s.misses, s.syntheses) == (2, 2, 2)
        assert s.synth_seconds > 0 and [t for t, _ in s.recent] == counting.calls
        assert s.hit_rate == 0.5
    # a restart reads fixed prompts back from disk (names never go there)
    assert len(list(tmp_path.iterdir())) == 1
    restarted = Counting()
    async with Speech(renderer=restarted, cache_dir=tmp_path) as speech:
        back = await speech.prompt(Prompt.GOODBYE)
        assert back.source is Source.DISK and back.ulaw == p1.ulaw
        assert restarted.calls == [] and speech.stats.disk_hits == 1


async def test_lru_evicts_the_least_recently_used_and_shares_runs() -> None:
    counting = Counting(real=False)
    async with Speech(renderer=counting, lru_size=2) as speech:
        for text in ("Un.", "Deux.", "Un.", "Trois.", "Un.", "Deux."):
            await speech.speak(text)
        assert counting.calls == ["Un.", "Deux.", "Trois.", "Deux."]
        together = await asyncio.gather(*(speech.speak("Quatre.") for _ in range(5)))
        assert counting.calls.count("Quatre.") == 1 and speech.stats.coalesced == 4
        assert sum(u.source is Source.SYNTH for u in together) == 1


@needs_espeak
async def test_digits_are_spelt_from_cached_prompts() -> None:
    counting = Counting()
    async with Speech(renderer=counting) as speech:
        await speech.warm([Prompt[f"DIGIT_{d}"] for d in range(10)])
        before = len(counting.calls)
        said = await speech.spell("0123456789")
        assert len(counting.calls) == before == 10
        assert said.text == " ".join(PROMPT_TEXTS[Prompt[f"DIGIT_{d}"]] for d in range(10))
        assert said.pcm.size > sum(speech.cached(Prompt[f"DIGIT_{d}"]).pcm.size for d in range(10))


# -- the pool -----------------------------------------------------------------------------

async def test_pool_is_bounded_and_busy_callers_get_their_fallback() -> None:
    gate = threading.Event()
    counting = Counting(real=False, gate=gate)
    speech = Speech(renderer=counting, workers=2, queue=3)
    try:
        gate.set()
        await speech.prompt(Prompt.RESULT_INTRO)
        gate.clear()
        waiting = [asyncio.ensure_future(speech.speak(f"Nom {i}.")) for i in range(8)]
        await _until(lambda: counting.running == 2 and speech.stats.admitted == 5,
                     "2 runs and 5 admitted")
        busy = await speech.speak("Nom pressé.", fallback=Prompt.RESULT_INTRO)
        assert busy.source is Source.FALLBACK and busy.ulaw == speech.cached(Prompt.RESULT_INTRO).ulaw
        assert speech.stats.fallbacks == 1
        assert not any(t.done() for t in waiting)  # without a fallback: waiting for a slot
        said = await speech.say((Dynamic("Encore un.", fallback=Prompt.RESULT_INTRO),))
        assert said.text == Prompt.RESULT_INTRO.text
        gate.set()
        done = await asyncio.gather(*waiting)
        assert [u.text for u in done] == [f"Nom {i}." for i in range(8)]
        assert counting.peak == 2 and speech.stats.peak_running == 2
        assert speech.stats.peak_admitted == 5
        assert speech.stats.queue_waits >= 6
        assert "Nom pressé." not in counting.calls
    finally:
        gate.set()
        speech.close()


async def test_engine_failure_gives_the_fallback_or_raises() -> None:
    speech = Speech(Engine("nope", ("/nonexistent/tts-engine", "{text}"), "fr"))
    try:
        with pytest.raises(TtsError, match="not installed"):
            await speech.speak("Jean Dupont.")
        assert speech.stats.failures == 1 and "nope" in speech.stats.last_error
        with pytest.raises(TtsError):  # the fallback itself cannot be rendered either
            await speech.speak("Jean Dupont.", fallback=Prompt.RESULT_INTRO)
    finally:
        speech.close()
    broken = Counting(real=False)
    speech = Speech(renderer=broken)
    try:
        await speech.prompt(Prompt.AT_OFFICIAL_HOUR)
        speech._render = _raise  # the engine breaks after start-up
        said = await speech.speak("à quatorze heures", fallback=Prompt.AT_OFFICIAL_HOUR)
        assert said.source is Source.FALLBACK and speech.stats.failures == 1
    finally:
        speech.close()


def _raise(text: str) -> Pcm:
    raise TtsError(ESPEAK_FR, text, "broken on purpose")


async def test_speak_never_blocks_the_loop() -> None:
    """The engine runs in worker threads: each render waits until the event loop has run
    (a flag only the loop sets), which would never happen if ``speak`` ran it on the loop's
    thread (no timing: a blocked loop deadlocks the render and the assertion says so)."""
    loop_thread = threading.get_ident()
    loop_ran = threading.Event()
    render_threads: list[int] = []

    def render(text: str) -> Pcm:
        render_threads.append(threading.get_ident())
        assert loop_ran.wait(20), "the event loop did not run while the engine worked"
        return np.full(800, 1000, dtype=np.int16)

    async with Speech(workers=2, queue=8, renderer=render) as speech:
        pending = asyncio.ensure_future(
            asyncio.gather(*(speech.speak(f"Candidat numéro {i}") for i in range(6))))
        await asyncio.sleep(0)  # the loop runs on while the renders wait
        asyncio.get_running_loop().call_soon(loop_ran.set)
        said = await asyncio.wait_for(pending, 30)
    assert all(u.pcm.size for u in said) and speech.stats.syntheses == 6
    assert render_threads and loop_thread not in render_threads


# -- finding a prompt in received audio ---------------------------------------------------

@needs_espeak
def test_best_match_finds_a_prompt_in_noisy_audio() -> None:
    ask = render(ESPEAK_FR, Prompt.ASK_NUMBER.text)
    other = render(ESPEAK_FR, Prompt.NOT_FOUND.text)
    rng = np.random.default_rng(2005)
    at = 1000 + other.size + RATE + 123  # another prompt first, then a second of noise
    received = rng.normal(0, 1500, at + ask.size + 2 * RATE)  # about -27 dBFS of noise
    received[1000:1000 + other.size] += other
    # through the phone: A-law both ways
    received[at:at + ask.size] += decode(to_g711(ask, Law.ALAW), Law.ALAW)
    offset, score = best_match(received, ask)
    assert offset == at and score > 0.8
    _, wrong = best_match(received, render(ESPEAK_FR, Prompt.GOODBYE.text))
    assert wrong < 0.5
    with pytest.raises(ValueError, match="at least as long"):
        best_match(ask[:10], ask)
