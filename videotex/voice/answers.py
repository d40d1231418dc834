"""What the voice service says in answer to a lookup (:func:`answer_items`), from the
prompt table and templates of :mod:`videotex.voice.prompts` (the one place for the words).

An answer starts with a fixed prompt (cached: its first sample goes out at once) and goes on
with what is synthesised at call time (the name, the hour), which has that prompt's length to
be ready. Before publication the words take no number: the same for a candidate who exists
and one who does not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .items import Item, Say, Speak
from .prompts import Dynamic, Prompt, Segment, not_published_segments, result_segments

__all__ = ["answer_items", "items_of"]


def items_of(segments: tuple[Segment, ...]) -> tuple[Item, ...]:
    """The dialogue's items for prompt segments."""
    out: list[Item] = []
    for s in segments:
        if isinstance(s, Prompt):
            out.append(Say(s.value))
        elif isinstance(s, Dynamic):
            out.append(Speak(s.text, s.fallback.value if s.fallback is not None else None))
    return tuple(out)


def answer_items(found: Any, service: Any, now: datetime) -> tuple[Item, ...]:
    """The items that say ``found`` (a :class:`pages.service.Consultation`)."""
    if found.kind == "result":
        return items_of(result_segments(found.result))
    if found.kind == "not-published":
        return items_of(not_published_segments(found.scheduled_at, now))
    return (Say(Prompt.NOT_FOUND.value),)
