"""What we answer: the Minitel's rules, one SMS, nothing said before publication about
whether a number exists."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from pages import ResultsService
from tests.helpers.results import NOW, PARIS, PARIS_HOUR, PAUL_PARIS
from videotex.sms import parse as sms_parse
from videotex.sms import text as sms
from videotex.sms.text import (
    MoError,
    MoErrorCode,
    SmsEncoding,
    encode_sms,
    error_text,
    help_text,
    not_published_text,
    result_text,
)
from videotex.store import Result
from videotex.store.exams import ACADEMIES, EXAMS, Mention, Outcome
from videotex.teletel import Context, FakeClock

from .test_parse import _ABSURD, _ERRORS, parse

# -- the replies ----------------------------------------------------------------------------

def _result(outcome: Outcome, mention: Mention | None = None, *, prenom: str = "Élodie",
            nom: str = "DUPONT", exam: str = "bac", academie: str = "lille") -> Result:
    return Result("1110000001", nom, prenom, date(1987, 7, 3), exam, academie, 2005, "S",
                  outcome, mention, "Lycée Faidherbe", "J12", True)


def test_a_result_says_names_outcome_and_mention() -> None:
    assert result_text(_result(Outcome.ADMIS, Mention.TB)) == (
        "Bac 2005, académie de Lille : Élodie DUPONT, ADMIS, mention Très bien.")
    assert result_text(_result(Outcome.AJOURNE)) == (
        "Bac 2005, académie de Lille : Élodie DUPONT, AJOURNÉ.")
    assert result_text(_result(Outcome.ADMIS, exam="brevet", academie="amiens")) == (
        "Brevet 2005, académie d'Amiens : Élodie DUPONT, ADMIS.")


_NAMES = [("Élodie", "DUPONT"), ("Jean-François", "LEFÈVRE-DUPRÉ"), ("Thị Minh", "Nguyễn"),
          ("Maëlle", "D'ALEMBERT DE LA ROCHEFOUCAULD"), ("Zoë", "Çelik"), ("Noël", "Œhmichen")]


@pytest.mark.parametrize(("prenom", "nom"), _NAMES)
def test_every_result_fits_one_sms_for_typical_names(prenom: str, nom: str) -> None:
    for exam in EXAMS:
        for academie in ("clermont-ferrand", "orleans-tours", "la-reunion"):
            for outcome in Outcome:
                for mention in (None, Mention.AB):
                    text = result_text(_result(outcome, mention, prenom=prenom, nom=nom,
                                               exam=exam, academie=academie))
                    parts = encode_sms(text, ref=0)
                    assert parts.count == 1 and parts.encoding is SmsEncoding.GSM7, text


def _paris(hour: int, minute: int = 0, *, day: int = 8, month: int = 7) -> datetime:
    return datetime(2005, month, day, hour, minute, tzinfo=UTC)


def test_not_published_wording() -> None:
    assert not_published_text("bac", "lille", _paris(8, day=5), NOW) == (
        "Résultats du Bac, académie de Lille : publiés le 5 juillet à 10h. Envoyez ALERTE + "
        "numéro + date de naissance pour les recevoir dès la publication.")
    assert "publiés aujourd'hui à 14h30." in not_published_text("bac", "lille",
                                                               _paris(12, 30), NOW)
    assert "le 1er juillet à 10h" in not_published_text("bac", "lille", _paris(8, day=1), NOW)
    assert "heure de publication non fixée" in not_published_text("cap", "creteil", None, NOW)
    # the store's display names, as the results service gives them, are understood too
    assert not_published_text(EXAMS["bac"], "Lille", None, NOW) == (
        not_published_text("bac", "lille", None, NOW))
    with pytest.raises(ValueError, match="unknown exam 'licence'"):
        not_published_text("licence", "lille", None, NOW)


_HINTS = re.compile(r"aucun|inconnu|introuvable|existe|trouvé|candidat|[0-9]{4,}", re.I)


def test_not_published_never_hints_whether_the_number_exists(service: ResultsService,
                                                              clock: FakeClock) -> None:
    # Paul is in the Paris bac batch, staged but not yet out; the other number is in that
    # batch and belongs to nobody. The service answers both the same, and so do the words.
    ctx = Context(service=service, clock=clock, identity="sms-test")
    known = service.consult(ctx, PAUL_PARIS[0], date(1987, 3, 3))
    unknown = service.consult(ctx, f"{PARIS}0999999", date(1990, 1, 1))
    assert known.kind == unknown.kind == "not-published"
    assert known.batch == unknown.batch == ("bac", "paris")
    said = []
    for found in (known, unknown):
        assert found.batch is not None
        exam, academie = found.batch
        said.append(not_published_text(exam, academie, found.scheduled_at, clock.wall()))
    assert said[0] == said[1]
    assert "aujourd'hui à 14h" in said[0] and known.scheduled_at == PARIS_HOUR
    for text in (*said, not_published_text("bac", "paris", None, NOW),
                 sms.alert_confirm_text("bac", "paris", PARIS_HOUR, NOW)):
        assert not _HINTS.search(text), text


def test_every_not_published_and_alert_fits_one_sms() -> None:
    long_day = _paris(8, 30, day=28, month=9)  # "le 28 septembre à 10h30"
    for exam in EXAMS:
        for academie in ACADEMIES:
            for when in (None, long_day, _paris(12, 30)):
                for text in (not_published_text(exam, academie, when, NOW),
                             sms.alert_confirm_text(exam, academie, when, NOW)):
                    parts = encode_sms(text, ref=0)
                    assert parts.count == 1, (parts.units, text)
                    assert "ALERTE" in text or "STOP" in text


def test_fixed_replies_fit_one_sms_and_help_states_the_price() -> None:
    texts = [sms.alert_already_text(), sms.alert_not_found_text(), sms.not_found_text(),
             sms.refused_text(), sms.stop_text(), sms.too_many_alerts_text(20),
             help_text("0,35 EUR"), help_text(None)]
    for text in texts:
        assert encode_sms(text, ref=0).count == 1, text
    assert help_text("0,35 EUR").endswith("0,35 EUR/SMS + prix d'un SMS.")
    assert help_text(0.35) == help_text("0,35 EUR")
    assert "0,50 EUR/SMS" in help_text(__import__("decimal").Decimal("0.5"))
    assert "STOP" in help_text() and "ALERTE" in help_text()


def test_every_error_reply_fits_one_sms_with_the_price() -> None:
    for code in MoErrorCode:
        if code in sms_parse._DETAILS:
            error = MoError(code, sms_parse._DETAILS[code])
            assert help_text("0,35 EUR", error) == error_text(error, "0,35 EUR")
            assert encode_sms(error_text(error, "0,35 EUR"), ref=0).count == 1, code
    for message, _ in _ERRORS + [(f"BAC 2310512345 {b}", "") for b, _ in _ABSURD]:
        got = parse(message)
        assert isinstance(got, MoError)
        assert encode_sms(error_text(got, "0,35 EUR"), ref=0).count == 1, got
