from __future__ import annotations

import pytest

from videotex.store import ACADEMIES, EXAMS, Mention, Outcome, batch_of_number, normalise_name
from videotex.store.exams import (
    ACADEMY_CODES,
    EXAM_CODES,
    allowed_outcomes,
    mention_allowed,
    parse_mention,
    parse_outcome,
    parse_serie,
)


def test_codes_follow_the_domain_reference_order() -> None:
    assert len(ACADEMIES) == 30 and len(EXAMS) == 7
    assert ACADEMY_CODES["aix-marseille"] == "01"
    assert ACADEMY_CODES["versailles"] == "26"
    assert ACADEMY_CODES["la-reunion"] == "30"
    assert EXAM_CODES == {"bac": "1", "bac-pro": "2", "anticipes": "3", "brevet": "4",
                          "cap": "5", "bep": "6", "bts": "7"}
    assert ACADEMIES["creteil"] == "Créteil" and ACADEMIES["la-reunion"] == "La Réunion"


@pytest.mark.parametrize(("numero", "batch"), [
    ("2611234567", ("bac", "versailles")),
    ("0170000001", ("bts", "aix-marseille")),
    ("3040000001", ("brevet", "la-reunion")),
    ("3140000001", None),  # académie 31 does not exist
    ("2681234567", None),  # exam 8 does not exist
    ("261123456", None),
    ("26112345678", None),
    ("26112345a7", None),
    ("２６１１２３４５６７", None),  # full-width digits are not ASCII digits
    ("", None),
])
def test_batch_of_number(numero: str, batch: tuple[str, str] | None) -> None:
    assert batch_of_number(numero) == batch


@pytest.mark.parametrize(("text", "outcome"), [
    ("admis", Outcome.ADMIS), ("ADMISE", Outcome.ADMIS), ("Ajourné", Outcome.AJOURNE),
    ("ajourne", Outcome.AJOURNE), ("  second   groupe ", Outcome.SECOND_GROUPE),
    ("Admis après second groupe", Outcome.ADMIS_APRES_SECOND_GROUPE),
    ("ajourne apres le second groupe", Outcome.AJOURNE_APRES_SECOND_GROUPE),
    ("notes", Outcome.NOTES), ("recalé", None), ("", None),
])
def test_outcome_spellings(text: str, outcome: Outcome | None) -> None:
    assert parse_outcome(text) is outcome


def test_labels() -> None:
    assert Outcome.ADMIS.label_fr == "ADMIS"
    assert Outcome.AJOURNE.label_fr == "AJOURNÉ"
    assert Outcome.SECOND_GROUPE.label_fr == "ADMISSIBLE AU SECOND GROUPE"
    assert Mention.AB.label == "Assez bien" and Mention.TB.label == "Très bien"
    assert parse_mention("très bien") == (True, Mention.TB)
    assert parse_mention("") == (True, None)
    assert parse_mention("excellent") == (False, None)


def test_rules_per_exam() -> None:
    assert Outcome.SECOND_GROUPE in allowed_outcomes("bac")
    assert Outcome.SECOND_GROUPE not in allowed_outcomes("bac-pro")
    assert allowed_outcomes("anticipes") == {Outcome.NOTES}
    assert not mention_allowed("brevet", 2005) and mention_allowed("brevet", 2006)
    assert mention_allowed("bac", 2005) and not mention_allowed("bts", 2005)
    assert parse_serie("bac", "hotellerie") == "Hôtellerie"
    assert parse_serie("bac", "es") == "ES"
    assert parse_serie("bac", "XYZ") is None
    assert parse_serie("cap", " Petite   enfance ") == "Petite enfance"
    assert parse_serie("cap", "") is None


@pytest.mark.parametrize(("name", "norm"), [
    ("Lefèvre", "LEFEVRE"), ("lefevre", "LEFEVRE"), ("Lefèvre-d'Orçay", "LEFEVRE D ORCAY"),
    ("  Jean   Pierre ", "JEAN PIERRE"), ("Cœur", "COEUR"), ("Müller", "MULLER"),
    ("N’Diaye", "N DIAYE"), ("Zoé", "ZOE"),
])
def test_normalise_name(name: str, norm: str) -> None:
    assert normalise_name(name) == norm
