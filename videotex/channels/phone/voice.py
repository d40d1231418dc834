"""A voice call on a phone line: what the caller hears, and the keys they press.

:class:`VoicePlayer` turns the dialogue's :class:`~videotex.voice.dialogue.Play` effects into
20 ms frames of 8 kHz audio for the media tick (:meth:`VoicePlayer.frame`): fixed prompts come
from the speech cache at once, texts synthesised at call time arrive later (the player waits
in silence if it reaches one before it is ready: an answer starts with a cached prompt, so
it rarely does), digits are spelt from the cached digit prompts. A :class:`Stop` cuts the
play at once (barge-in). When a play has been heard to its end the dialogue is told
(``on_end``), never from inside the tick (``call_soon``).

:class:`VoiceConnection` is the :class:`PhoneConnection` of a voice call: channel ``voice``
(billing, metrics), keys in as their ASCII (``"5"``, ``"#"``) from the DTMF detectors, and
``play``/``stop`` for the player.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .lines import Line, LinePort, PhoneConnection

__all__ = ["Speech", "VoiceConnection", "VoicePlayer", "results_of", "set_voice_speech",
           "voice_session", "voice_speech"]

log = logging.getLogger("videotex.phone")

FRAME = 160
_SILENCE = np.zeros(FRAME, dtype=np.int16)


class Speech(Protocol):
    """What the player asks of the speech engine (:mod:`videotex.voice.speech`)."""

    def prompt_pcm(self, key: str) -> np.ndarray: ...
    def digit_pcm(self, digit: str) -> np.ndarray: ...
    async def speak_pcm(self, text: str, fallback: str | None = None) -> np.ndarray: ...


class _Playing:
    __slots__ = ("id", "on_end", "pos", "segments", "started")

    def __init__(self, play_id: int, segments: list[Any], on_end: Callable[[], None]) -> None:
        self.id = play_id
        self.segments = segments
        self.on_end = on_end
        self.pos = 0
        self.started: float | None = None


class VoicePlayer:
    """See the module docstring. ``first_sample``: when each play's first audio frame went
    out (time.monotonic), for the benchmark's last digit → answer figure."""

    def __init__(self, speech: Speech, loop: asyncio.AbstractEventLoop) -> None:
        self.speech = speech
        self.loop = loop
        self.current: _Playing | None = None
        self.first_sample: dict[int, float] = {}
        self._tasks: set[asyncio.Future[np.ndarray]] = set()

    def play(self, play: Any, on_end: Callable[[], None]) -> None:
        from videotex.voice.dialogue import Say, Speak, Spell

        segments: list[Any] = []
        for item in play.items:
            if isinstance(item, Say):
                segments.append(self.speech.prompt_pcm(item.key))
            elif isinstance(item, Spell):
                segments += [self.speech.digit_pcm(d) for d in item.digits if d.isdigit()]
            elif isinstance(item, Speak):
                task = asyncio.ensure_future(self.speech.speak_pcm(item.text, item.fallback))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                segments.append(task)
        self.stop()
        self.current = _Playing(play.id, segments, on_end)

    def stop(self, play_id: int | None = None) -> None:
        current = self.current
        if current is not None and (play_id is None or current.id == play_id):
            for s in current.segments:
                if isinstance(s, asyncio.Future) and not s.done():
                    s.cancel()
            self.current = None

    def frame(self) -> np.ndarray:
        """The next 20 ms the caller hears (the media tick calls this once per tick)."""
        current = self.current
        out = _SILENCE
        while current is not None and current.segments:
            seg = current.segments[0]
            if isinstance(seg, asyncio.Future):
                if not seg.done():
                    return out  # synthesis under way: silence until it is ready
                try:
                    seg = current.segments[0] = seg.result()
                except Exception:  # a synthesis that failed is skipped, not fatal
                    log.exception("speech synthesis failed")
                    current.segments.pop(0)
                    continue
            chunk = seg[current.pos : current.pos + FRAME]
            if current.started is None and len(chunk):
                current.started = time.monotonic()
                self.first_sample[current.id] = current.started
            current.pos += len(chunk)
            if current.pos >= len(seg):
                current.segments.pop(0)
                current.pos = 0
            if len(chunk) == FRAME:
                return chunk
            out = np.concatenate([chunk, _SILENCE[: FRAME - len(chunk)]]) if len(chunk) \
                else out
            if len(chunk):
                return out
        if current is not None and not current.segments:
            self.current = None
            self.loop.call_soon(current.on_end)
        return out

    def close(self) -> None:
        self.stop()


class VoiceConnection(PhoneConnection):
    """A voice call for the switchboard (see the module docstring)."""

    channel = "voice"

    def __init__(self, line: Line, port: LinePort, player: VoicePlayer) -> None:
        super().__init__(line, port)
        self.player = player

    def key(self, digit: str) -> None:
        """A key the caller pressed (in band or RFC 4733)."""
        if not self.gone:
            self.feed(digit.encode("ascii"))

    def play(self, play: Any, on_end: Callable[[], None]) -> None:
        self.player.play(play, on_end)

    def stop(self, play_id: int) -> None:
        self.player.stop(play_id)

    def write(self, data: bytes) -> None:
        """A voice call has no modem: nothing is written as bytes."""


def results_of(service: Any) -> Any:
    """The exam-results service behind ``service`` (the switchboard's: the results service
    itself, or a gateway's directory holding one)."""
    entries = getattr(service, "entries", None)
    if entries is None:
        return service
    for entry in entries.values():
        if entry.kind == "results":
            return entry.target
    raise RuntimeError("voice calls need the exam-results service: none in [[services]]")


def voice_session(service: Any, clock: Any, *, caller: str = "", channel: str = "voice",
                  identity: str = "", config: Any = None, start: str | None = None) -> Any:
    """The switchboard's session for a voice call: the dialogue of :mod:`videotex.voice`."""
    from videotex.voice.dialogue import VoiceDialogue

    return VoiceDialogue(results_of(service), clock, caller=caller, channel=channel,
                         identity=identity, config=config)


_SPEECH: Speech | None = None


def voice_speech() -> Speech:
    """The process's speech engine for voice calls (made at the first call)."""
    global _SPEECH
    if _SPEECH is None:
        from videotex.voice.player_speech import PlayerSpeech

        _SPEECH = PlayerSpeech()
    return _SPEECH


def set_voice_speech(speech: Speech | None) -> None:
    """Use ``speech`` for the voice calls of this process (tests, benchmarks, a preloaded
    cache at startup)."""
    global _SPEECH
    _SPEECH = speech
