"""The speech of voice calls as the phone line's player asks for it (the
:class:`~videotex.channels.phone.voice.Speech` protocol), on :class:`~.speech.Speech`: fixed
prompts from its cache (rendered once, at the listener's start: :meth:`PlayerSpeech.warm`),
texts synthesised at call time through its bounded pool.
"""

from __future__ import annotations

import numpy as np

from .prompts import Prompt
from .speech import Speech

__all__ = ["PlayerSpeech"]


class PlayerSpeech:
    """See the module docstring. ``speech``: the engine and caches (a default
    :class:`Speech`, espeak-ng in French, when not given)."""

    def __init__(self, speech: Speech | None = None) -> None:
        self.speech = speech or Speech()

    async def warm(self) -> None:
        """Render every fixed prompt (from the disk cache when the engine keeps one)."""
        await self.speech.warm()

    def prompt_pcm(self, key: str) -> np.ndarray:
        return self.speech.cached(Prompt(key)).pcm

    def digit_pcm(self, digit: str) -> np.ndarray:
        return self.speech.cached(Prompt(f"digit_{digit}")).pcm

    async def speak_pcm(self, text: str, fallback: str | None = None) -> np.ndarray:
        prompt = Prompt(fallback) if fallback is not None else None
        return (await self.speech.speak(text, fallback=prompt)).pcm

    def close(self) -> None:
        self.speech.close()
