"""What a voice call is told, item by item: a fixed prompt (:class:`Say`), a text synthesised
at call time (:class:`Speak`), digits spelt (:class:`Spell`). The dialogue plays them, the
answers are made of them, the phone line's player turns them into audio."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Item", "Say", "Speak", "Spell"]


@dataclass(frozen=True, slots=True)
class Say:
    """A fixed prompt, by its key in the prompt table (rendered once, cached)."""

    key: str


@dataclass(frozen=True, slots=True)
class Speak:
    """A text synthesised at call time (a name, an hour): through the bounded pool;
    ``fallback``: the key of a prompt said instead when the pool is full (None: wait)."""

    text: str
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class Spell:
    """Digits said one by one from the cached digit prompts (what the caller typed)."""

    digits: str


Item = Say | Speak | Spell
