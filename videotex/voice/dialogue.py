"""The voice service's dialogue: one caller on the phone keypad, sans-IO.

Digits come in (:meth:`VoiceDialogue.receive_data`: the ASCII of each key, ``b""`` when the
caller hangs up), time passes (:meth:`tick` on the injected clock) and the player says when
a prompt has been heard to its end (:meth:`prompt_ended`); out come effects the runtime
performs (:meth:`effects`): :class:`Play` a list of things to say (a fixed prompt by its
key, a text to synthesise, digits to spell) and :class:`Stop` (a key interrupts a prompt).

The conversation, as the 2005 results line had it:

1. welcome, then "tapez votre numéro de candidat, puis la touche dièse"; ``*`` corrects
   (starts the entry again); ``#`` ends it; not ten digits: said so, asked again;
2. the date of birth as eight digits (taken at the eighth);
3. the answer, by :meth:`pages.ResultsService.consult` (the same embargo and enumeration
   rules as the Minitel: before publication an unknown number and an unpublished one get
   the same words, and the same timing within noise): the result (first name, surname,
   outcome, mention), or when the académie's results come out, or not found, or refused;
4. "1" for another search, "2" to hear it again; silence: asked again twice, then goodbye.

Silence after a question (``no_input`` seconds from the end of its prompt) repeats it; a key
pressed during a prompt stops it (barge-in). The meter (billing) runs from answer to
hang-up: this class only counts what the caller did in :attr:`ctx` (lookups, result found).

Invariants: at most one :class:`Play` is current (:attr:`playing`); :meth:`prompt_ended`
for another play is ignored; once closed, nothing more is asked.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from typing import Any

from videotex.teletel import CallFacts, Clock, Context

from .answers import answer_items
from .items import Item, Say, Speak, Spell

__all__ = ["Play", "Say", "Speak", "Spell", "Stop", "VoiceConfig", "VoiceDialogue"]

_IDS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Play:
    """Say ``items`` in order. ``answer``: this play carries the answer to a lookup (the
    benchmark times the last digit to its first sample)."""

    id: int
    items: tuple[Item, ...]
    answer: bool = False


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the current play (the caller pressed a key)."""

    id: int


@dataclass(frozen=True)
class VoiceConfig:
    #: Seconds of silence after a question before it is asked again.
    no_input: float = 8.0
    #: Questions asked again on silence before goodbye.
    retries: int = 2
    #: Digits of a candidate number and of a birth date.
    number_digits: int = 10


class State(enum.Enum):
    NUMBER = "number"
    BIRTH = "birth"
    WAIT = "wait"  # the enumeration guard slows this caller down
    AFTER = "after"  # the answer was said: 1 another, 2 again
    BYE = "bye"  # goodbye is being said, then the line ends


#: What each state asks (said again on silence or after a mistake).
_QUESTION = {State.NUMBER: "ask_number", State.BIRTH: "ask_birth", State.AFTER: "after_menu"}


class VoiceDialogue:
    """One caller (see the module docstring). ``service`` is the results service
    (:class:`pages.ResultsService`): its :meth:`consult` answers."""

    def __init__(self, service: Any, clock: Clock, *, caller: str = "", channel: str = "voice",
                 identity: str = "", config: Any = None, voice: VoiceConfig | None = None,
                 facts: CallFacts | None = None) -> None:
        self.service = service
        self.clock = clock
        self.voice = voice or VoiceConfig()
        self.config = config
        self.ctx = Context(service=service, clock=clock, caller=caller, channel=channel,
                           connected_at=clock.monotonic(), identity=identity or caller,
                           facts=facts if facts is not None else CallFacts())
        self.state = State.NUMBER
        self.closed = False
        self.close_reason = ""
        #: The current play (None: silence), and when silence counts from.
        self.playing: Play | None = None
        self._silent_since: float | None = None
        self._retries = 0
        self._entry = ""
        self._numero = ""
        self._answer: tuple[Item, ...] = ()
        self._wait_until: float | None = None
        self._pending: Any = None
        self._effects: list[Any] = []
        #: Every play's items, in order (tests and the call log read what was said).
        self.said: list[tuple[Item, ...]] = []

    # -- the session interface (interact() drives it like a Minitel session) --------------

    input_pending = False

    def flush_input(self) -> None:
        """Nothing waits for more keys: each key is whole."""

    def start(self) -> None:
        self._play(Say("welcome"), Say("ask_number"))

    def receive_data(self, data: bytes) -> None:
        if self.closed:
            return
        if not data:
            self._close("hangup")
            return
        for key in data.decode("ascii", "replace"):
            if key in "0123456789*#":
                self._key(key)
            if self.closed:
                return

    def tick(self) -> None:
        if self.closed:
            return
        now = self.clock.monotonic()
        if self.state is State.WAIT and self._wait_until is not None and now >= self._wait_until:
            self._wait_until = None
            self._say_answer(self._pending)
            return
        if self._silent_since is not None and now - self._silent_since >= self.voice.no_input:
            self._silent_since = None
            if self._retries >= self.voice.retries:
                self._goodbye("no input")
                return
            self._retries += 1
            question = _QUESTION.get(self.state)
            if question is not None:
                self._play(Say("no_input"), Say(question))

    def next_deadline(self) -> float | None:
        if self.closed:
            return None
        times = []
        if self._wait_until is not None:
            times.append(self._wait_until)
        if self._silent_since is not None:
            times.append(self._silent_since + self.voice.no_input)
        return min(times) if times else None

    def data_to_send(self) -> bytes:
        return b""  # a voice call's output is audio: the effects

    def hangup(self, reason: str) -> None:
        if not self.closed:
            self._close(reason)

    def effects(self) -> list[tuple[VoiceDialogue, Any]]:
        out = [(self, e) for e in self._effects]
        self._effects.clear()
        return out

    def prompt_ended(self, play_id: int) -> None:
        """The player said the whole of play ``play_id``."""
        if self.closed or self.playing is None or self.playing.id != play_id:
            return
        self.playing = None
        if self.state is State.BYE:
            self._close(self._bye_reason)
            return
        if self.state in _QUESTION:
            self._silent_since = self.clock.monotonic()

    # -- the conversation ---------------------------------------------------------------

    _bye_reason = "goodbye"

    def _play(self, *items: Item, answer: bool = False) -> None:
        if self.playing is not None:
            self._effects.append(Stop(self.playing.id))
        self.playing = Play(next(_IDS), items, answer)
        self.said.append(items)
        self._effects.append(self.playing)
        self._silent_since = None

    def _interrupt(self) -> None:
        if self.playing is not None:
            self._effects.append(Stop(self.playing.id))
            self.playing = None
        self._silent_since = None

    def _key(self, key: str) -> None:
        self._retries = 0
        state = self.state
        if state is State.BYE or state is State.WAIT:
            return
        self._interrupt()
        if state is State.AFTER:
            if key == "1":
                self.state, self._entry = State.NUMBER, ""
                self._play(Say("ask_number"))
            elif key == "2":
                self._play(*self._answer, Say("after_menu"), answer=True)
            else:
                self._play(Say("after_menu"))
            return
        if key == "*":  # correction: the entry starts again
            self._entry = ""
            self._play(Say("correction"), Say(_QUESTION[state]))
            return
        if state is State.NUMBER:
            if key == "#":
                self._number_done()
            elif len(self._entry) < self.voice.number_digits:
                self._entry += key
            self._quiet_after_key()
            return
        if key == "#":  # a birth date is taken at its eighth digit: # early is a mistake
            self._entry = ""
            self._play(Say("birth_invalid"), Say("ask_birth"))
            return
        self._entry += key
        if len(self._entry) == 8:
            self._birth_done()
        else:
            self._quiet_after_key()

    def _quiet_after_key(self) -> None:
        """Between keys, silence counts from the last key (a caller reading a paper)."""
        if self.playing is None and not self.closed:
            self._silent_since = self.clock.monotonic()

    def _number_done(self) -> None:
        if len(self._entry) != self.voice.number_digits:
            self._entry = ""
            self._play(Say("number_invalid"), Say("ask_number"))
            return
        self._numero, self._entry = self._entry, ""
        self.state = State.BIRTH
        self._play(Say("ask_birth"))

    def _birth_done(self) -> None:
        from pages.home import parse_birth

        birth = parse_birth(self._entry)
        self._entry = ""
        if birth is None:
            self._play(Say("birth_invalid"), Say("ask_birth"))
            return
        found = self.service.consult(self.ctx, self._numero, birth)
        if found.delay > 0:  # slowed down: the answer comes after the guard's delay
            self.state, self._pending = State.WAIT, found
            self._wait_until = self.clock.monotonic() + found.delay
            self._play(Say("searching"))
            return
        self._say_answer(found)

    def _say_answer(self, found: Any) -> None:
        if found.kind == "refused":
            self._answer = (Say("refused"),)
            self._goodbye("refused", *self._answer)
            return
        self._answer = self._answer_items(found)
        self.state = State.AFTER
        self._play(*self._answer, Say("after_menu"), answer=True)

    def _answer_items(self, found: Any) -> tuple[Item, ...]:
        return answer_items(found, self.service, self.clock.wall())

    def _goodbye(self, reason: str, *before: Item) -> None:
        self.state = State.BYE
        self._bye_reason = reason
        self._play(*before, Say("goodbye"))

    def _close(self, reason: str) -> None:
        self._interrupt()
        self.closed = True
        self.close_reason = reason
