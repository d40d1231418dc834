"""The voice service's texts: every prompt has words, results and hours read right in
French, and before publication nothing tells whether a number exists."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pages import ResultsService
from tests.helpers.results import NOW, PARIS, PARIS_HOUR, PAUL_PARIS
from videotex.store import Result
from videotex.store.exams import Mention, Outcome
from videotex.teletel import Context, FakeClock
from videotex.voice.prompts import (
    PROMPT_TEXTS,
    Dynamic,
    Prompt,
    digit_prompts,
    not_published_segments,
    not_published_text,
    result_segments,
    result_text,
    speakable_name,
    spoken_number,
    spoken_time,
    spoken_when,
)

PARIS_TZ = ZoneInfo("Europe/Paris")


def _result(outcome: Outcome, mention: Mention | None = None, *, nom: str = "Lefèvre-Dupré",
            prenom: str = "Maëlle") -> Result:
    return Result("1930000042", nom, prenom, date(1987, 3, 1), "bac", "paris", 2005, "S",
                  outcome, mention, "Lycée Henri-IV", "J01", True)


def test_every_prompt_has_french_words() -> None:
    assert set(PROMPT_TEXTS) == set(Prompt)
    for prompt in Prompt:
        assert prompt.text.strip(), prompt
        assert Prompt(prompt.value) is prompt  # the dialogue plays prompts by key


def test_the_dialogue_keys_are_prompts() -> None:
    for key in ("welcome", "ask_number", "ask_birth", "correction", "no_input",
                "number_invalid", "birth_invalid", "searching", "result_intro",
                "not_published", "not_scheduled", "call_back", "not_found", "refused",
                "after_menu", "goodbye", *(f"digit_{d}" for d in range(10))):
        assert Prompt(key).text


def test_the_number_prompt_says_the_hash_key() -> None:
    assert Prompt.ASK_NUMBER.text == "Tapez votre numéro de candidat, puis la touche dièse."
    assert "huit chiffres" in Prompt.ASK_BIRTH.text
    assert "étoile" in Prompt.STAR_CORRECTS.text


OUTCOME_WORDS = {
    Outcome.ADMIS: "Admis.",
    Outcome.SECOND_GROUPE: "Admissible au second groupe.",
    Outcome.AJOURNE: "Ajourné.",
    Outcome.ADMIS_APRES_SECOND_GROUPE: "Admis après le second groupe.",
    Outcome.AJOURNE_APRES_SECOND_GROUPE: "Ajourné après le second groupe.",
    Outcome.NOTES: "Notes communiquées.",
}


@pytest.mark.parametrize("outcome", list(Outcome))
def test_each_outcome_in_french(outcome: Outcome) -> None:
    text = result_text(_result(outcome))
    assert text == f"Voici votre résultat. Maëlle Lefèvre-Dupré. {OUTCOME_WORDS[outcome]}"
    assert "Mention" not in text


@pytest.mark.parametrize(("mention", "words"), [
    (Mention.AB, "Mention assez bien."), (Mention.B, "Mention bien."),
    (Mention.TB, "Mention très bien."),
])
def test_each_mention_in_french(mention: Mention, words: str) -> None:
    assert result_text(_result(Outcome.ADMIS, mention)).endswith(f"Admis. {words}")


def test_result_segments_cache_all_but_the_name() -> None:
    segments = result_segments(_result(Outcome.ADMIS, Mention.B, nom="LE GALL", prenom="LÉA"))
    assert segments == (Prompt.RESULT_INTRO, Dynamic("Léa Le Gall."), Prompt.OUTCOME_ADMIS,
                        Prompt.MENTION_B)
    assert speakable_name("N'DIAYE") == "N'Diaye"
    assert speakable_name("  Da   Silva ") == "Da Silva"


def _paris(hour: int, minute: int, day: int = 8) -> datetime:
    """A time in Paris in July 2005 (UTC+2) as UTC."""
    return datetime(2005, 7, day, hour, minute, tzinfo=PARIS_TZ).astimezone(UTC)


@pytest.mark.parametrize(("hour", "minute", "words"), [
    (14, 30, "quatorze heures trente"),
    (10, 0, "dix heures"),
    (9, 5, "neuf heures cinq"),
    (1, 0, "une heure"),
    (21, 21, "vingt et une heures vingt et une"),
    (17, 45, "dix-sept heures quarante-cinq"),
    (12, 0, "douze heures"),
])
def test_spoken_time(hour: int, minute: int, words: str) -> None:
    assert spoken_time(_paris(hour, minute)) == words


def test_spoken_numbers() -> None:
    assert [spoken_number(n) for n in (0, 16, 20, 31, 59)] == [
        "zéro", "seize", "vingt", "trente et un", "cinquante-neuf"]
    with pytest.raises(ValueError, match="60 is outside 0-59"):
        spoken_number(60)


def test_not_published_at_an_hour_today() -> None:
    text = not_published_text(_paris(14, 30), NOW)
    assert text == ("Pas encore publié. Les résultats de votre académie seront publiés "
                    "aujourd'hui à quatorze heures trente. Inutile de rester en ligne : "
                    "rappelez après cette heure.")
    segments = not_published_segments(_paris(14, 30), NOW)
    assert segments[0] is Prompt.NOT_PUBLISHED and segments[-1] is Prompt.CALL_BACK
    assert isinstance(segments[1], Dynamic) and segments[1].fallback is Prompt.AT_OFFICIAL_HOUR


def test_not_published_another_day_and_unscheduled() -> None:
    assert spoken_when(_paris(10, 0, day=11), NOW) == "le lundi onze juillet à dix heures"
    assert spoken_when(_paris(10, 0, day=1), NOW) == "le vendredi premier juillet à dix heures"
    assert not_published_segments(None, NOW) == (Prompt.NOT_PUBLISHED, Prompt.NOT_SCHEDULED)


_HINTS = re.compile(r"aucun|inconnu|introuvable|existe|trouvé|candidat|numéro|\d", re.I)


def test_not_published_never_hints_whether_the_number_exists(service: ResultsService,
                                                              clock: FakeClock) -> None:
    # Paul is in the Paris bac batch, staged but not yet out; the other number is in that
    # batch and belongs to nobody. The service answers both the same, and so do the words.
    ctx = Context(service=service, clock=clock, identity="test")
    known = service.consult(ctx, PAUL_PARIS[0], date(1987, 3, 3))
    unknown = service.consult(ctx, f"{PARIS}0999999", date(1990, 1, 1))
    assert known.kind == unknown.kind == "not-published"
    said = [not_published_text(c.scheduled_at, clock.wall()) for c in (known, unknown)]
    assert said[0] == said[1]
    assert "quatorze heures" in said[0]  # 12:00 UTC is 14:00 in Paris
    assert known.scheduled_at == PARIS_HOUR
    for text in (*said, not_published_text(None, NOW), Prompt.AT_OFFICIAL_HOUR.text):
        assert not _HINTS.search(text), text


def test_digits_are_spelt_from_prompts() -> None:
    assert digit_prompts("19*#") == (Prompt.DIGIT_1, Prompt.DIGIT_9, Prompt.STAR, Prompt.HASH)
    assert [p.text for p in digit_prompts("07")] == ["zéro", "sept"]
    with pytest.raises(ValueError, match="cannot spell 'a'"):
        digit_prompts("12a")
