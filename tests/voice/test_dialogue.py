"""The voice dialogue, sans-IO on a fake clock, on the test results store: what is said
(the plays' items), when, and what a key does; the embargo over voice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.results import ELODIE, MARIE_AJOURNEE, PAUL_PARIS
from videotex.voice.dialogue import Play, Say, Speak, Stop, VoiceDialogue
from videotex.voice.prompts import Prompt


class Phone:
    """Drives a dialogue as the runtime does: plays end when the test says they were
    heard; keys are the ASCII of the keypad."""

    def __init__(self, service: Any, clock: Any) -> None:
        self.clock = clock
        self.d = VoiceDialogue(service, clock, caller="0320123456")
        self.plays: list[Play] = []
        self.stops: list[int] = []
        self.d.start()
        self._collect()

    def _collect(self) -> None:
        for _who, effect in self.d.effects():
            if isinstance(effect, Play):
                self.plays.append(effect)
            elif isinstance(effect, Stop):
                self.stops.append(effect.id)

    def keys(self, text: str) -> None:
        self.d.receive_data(text.encode())
        self._collect()

    def heard(self) -> None:
        """The current play was heard to its end."""
        assert self.d.playing is not None
        self.d.prompt_ended(self.d.playing.id)
        self._collect()

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.d.tick()
        self._collect()

    @property
    def last(self) -> tuple[Any, ...]:
        return self.plays[-1].items

    def keys_of(self, play: Play) -> list[str]:
        return [i.key for i in play.items if isinstance(i, Say)]


@pytest.fixture
def phone(service: Any, clock: Any) -> Phone:
    return Phone(service, clock)


def consult(p: Phone, numero: str, birth: str) -> None:
    p.heard()
    p.keys(numero + "#")
    p.heard()
    p.keys(birth)


def test_welcome_then_the_number_then_the_birth_date_then_the_result(phone: Phone) -> None:
    assert phone.keys_of(phone.plays[0]) == ["welcome", "ask_number"]
    consult(phone, *ELODIE)
    answer = phone.plays[-1]
    assert answer.answer
    assert answer.items[:2] == (Say("result_intro"), Speak("Élodie Dupont."))
    assert answer.items[2:4] == (Say("outcome_admis"), Say("mention_tb"))
    assert answer.items[-1] == Say("after_menu")
    assert phone.d.ctx.facts.result_found and phone.d.ctx.facts.lookups == 1


def test_an_ajourne_candidate_hears_it_without_a_mention(phone: Phone) -> None:
    consult(phone, *MARIE_AJOURNEE)
    items = phone.plays[-1].items
    assert Say("outcome_ajourne") in items
    assert not any(isinstance(i, Say) and i.key.startswith("mention") for i in items)


def test_star_corrects_and_a_short_number_is_asked_again(phone: Phone) -> None:
    phone.heard()
    phone.keys("0110*")
    assert phone.keys_of(phone.plays[-1]) == ["correction", "ask_number"]
    phone.heard()
    phone.keys("123#")
    assert phone.keys_of(phone.plays[-1]) == ["number_invalid", "ask_number"]
    phone.heard()
    phone.keys(ELODIE[0] + "#")
    assert phone.keys_of(phone.plays[-1]) == ["ask_birth"]
    phone.heard()
    phone.keys("3113")  # a key during the question's silence, then * again
    phone.keys("*")
    assert phone.keys_of(phone.plays[-1]) == ["correction", "ask_birth"]
    phone.heard()
    phone.keys("31021987")  # 31 February
    assert phone.keys_of(phone.plays[-1]) == ["birth_invalid", "ask_birth"]


def test_a_key_interrupts_a_prompt(phone: Phone) -> None:
    first = phone.plays[0].id
    phone.keys("0")  # during the welcome: barge-in
    assert phone.stops == [first] and phone.d.playing is None


def test_silence_repeats_the_question_twice_then_goodbye(phone: Phone) -> None:
    phone.heard()
    phone.wait(7.9)
    assert len(phone.plays) == 1
    phone.wait(0.2)
    assert phone.keys_of(phone.plays[-1]) == ["no_input", "ask_number"]
    phone.heard()
    phone.wait(8.1)
    phone.heard()
    phone.wait(8.1)
    assert phone.keys_of(phone.plays[-1]) == ["goodbye"]
    phone.heard()
    assert phone.d.closed and phone.d.close_reason == "no input"


def test_after_the_answer_1_searches_again_and_2_repeats(phone: Phone) -> None:
    consult(phone, *ELODIE)
    answer = phone.plays[-1].items
    phone.keys("2")
    assert phone.plays[-1].items == answer
    phone.keys("1")
    assert phone.keys_of(phone.plays[-1]) == ["ask_number"]


def test_hanging_up_ends_the_dialogue(phone: Phone) -> None:
    phone.keys("01")
    phone.d.receive_data(b"")
    assert phone.d.closed and phone.d.close_reason == "hangup"


def test_before_publication_an_unknown_number_and_a_real_one_hear_the_same(
        service: Any, clock: Any) -> None:
    real = Phone(service, clock)
    consult(real, *PAUL_PARIS)
    unknown_number = PAUL_PARIS[0][:-3] + "999"  # same batch (exam, académie), no candidate
    unknown = Phone(service, clock)
    consult(unknown, unknown_number, PAUL_PARIS[1])
    assert real.plays[-1].items == unknown.plays[-1].items
    items = real.plays[-1].items
    assert items[0] == Say("not_published")
    assert isinstance(items[1], Speak) and "publiés aujourd'hui à quatorze heures" in items[1].text
    assert "1910" not in items[1].text  # no number, no name: nothing tells it exists


def test_every_prompt_key_said_has_a_text(phone: Phone) -> None:
    consult(phone, *ELODIE)
    phone.keys("1")
    said = {i.key for items in phone.d.said for i in items if isinstance(i, Say)}
    assert said <= {p.value for p in Prompt}
