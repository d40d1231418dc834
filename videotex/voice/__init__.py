"""The voice channel: a caller on the phone keypad hears the results service.

- ``prompts``  what is said, as data: :class:`Prompt` (fixed prompts by the keys the
  dialogue plays), :data:`PROMPT_TEXTS`, and the templates that put a name, an outcome,
  a mention or an official hour into sentences (:func:`result_segments`,
  :func:`not_published_segments`, :func:`digit_prompts`)
- ``tts``      the speech engine adapter (espeak-ng as a subprocess), 8 kHz conditioning
  (resampling, trimming, level), G.711 bytes, and :func:`best_match` to find a prompt in
  received audio
- ``speech``   :class:`Speech`: fixed prompts cached as G.711, call-time texts from a
  bounded worker pool behind ``async`` calls that never block the loop, an LRU and stats

The names below are loaded on first use (PEP 562): importing the sans-IO dialogue of this
package does not bring in threads and subprocesses with ``speech`` and ``tts``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .prompts import (
        PROMPT_TEXTS,
        Dynamic,
        Prompt,
        Segment,
        digit_prompts,
        not_published_segments,
        not_published_text,
        result_segments,
        result_text,
        spoken_time,
        spoken_when,
    )
    from .speech import FRAME_BYTES, Source, Speech, SpeechStats, Utterance
    from .tts import ESPEAK_FR, RATE, Engine, TtsError, best_match, render, to_g711

__all__ = [
    "ESPEAK_FR",
    "FRAME_BYTES",
    "PROMPT_TEXTS",
    "RATE",
    "Dynamic",
    "Engine",
    "Prompt",
    "Segment",
    "Source",
    "Speech",
    "SpeechStats",
    "TtsError",
    "Utterance",
    "best_match",
    "digit_prompts",
    "not_published_segments",
    "not_published_text",
    "render",
    "result_segments",
    "result_text",
    "spoken_time",
    "spoken_when",
    "to_g711",
]

_HOME = {
    **dict.fromkeys(("PROMPT_TEXTS", "Dynamic", "Prompt", "Segment", "digit_prompts",
                     "not_published_segments", "not_published_text", "result_segments",
                     "result_text", "spoken_time", "spoken_when"), "prompts"),
    **dict.fromkeys(("FRAME_BYTES", "Source", "Speech", "SpeechStats", "Utterance"), "speech"),
    **dict.fromkeys(("ESPEAK_FR", "RATE", "Engine", "TtsError", "best_match", "render",
                     "to_g711"), "tts"),
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'videotex.voice' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
