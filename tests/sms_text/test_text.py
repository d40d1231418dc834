"""The SMS channel's words: what a candidate may text (many spellings, absurd dates, any
string without an exception), what we answer (the Minitel's rules, one SMS, nothing said
before publication about whether a number exists), and the short messages it makes (GSM or
UCS-2, part boundaries, UDH, escape and surrogate pairs kept whole, round trips)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pages import ResultsService
from tests.helpers.results import NOW, PARIS, PARIS_HOUR, PAUL_PARIS
from videotex.sms import gsm as sms_gsm
from videotex.sms import parse as sms_parse
from videotex.sms import text as sms
from videotex.sms.text import (
    MAX_PARTS,
    MoError,
    MoErrorCode,
    MoKind,
    MoRequest,
    SmsDecodeError,
    SmsEncoding,
    decode_sms,
    encode_sms,
    error_text,
    help_text,
    not_published_text,
    parse_mo,
    result_text,
)
from videotex.store import Result
from videotex.store.exams import ACADEMIES, EXAMS, Mention, Outcome
from videotex.teletel import Context, FakeClock

TODAY = date(2005, 7, 8)
BIRTH = date(1987, 3, 14)
BAC = "2310512345"  # académie 23 (Rouen), exam 1 (bac)
BREVET = "2340512345"  # exam 4 (brevet)


def parse(text: str) -> MoRequest | MoError:
    return parse_mo(text, today=TODAY)


# -- parsing: what a candidate may send -------------------------------------------------------

_RESULTS = [
    # (message, numero, birth, exam_hint, mismatch)
    ("BAC 2310512345 14031987", BAC, BIRTH, "bac", False),
    ("bac 2310512345 14031987", BAC, BIRTH, "bac", False),
    ("Bac 2310512345 14/03/1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14-03-1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14.03.1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14 03 1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 140387", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14/03/87", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 1987-03-14", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14/3/1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14 mars 1987", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 14 MARS 87", BAC, BIRTH, "bac", False),
    ("BAC 2310512345 1er mars 1987", BAC, date(1987, 3, 1), "bac", False),
    ("14031987 2310512345", BAC, BIRTH, None, False),
    ("2310512345 14031987", BAC, BIRTH, None, False),
    ("  2310512345,14031987  ", BAC, BIRTH, None, False),
    ("2310512345;14031987", BAC, BIRTH, None, False),
    ("2310512345\n14031987", BAC, BIRTH, None, False),
    ("2310512345\t\t14/03/1987\n", BAC, BIRTH, None, False),
    ("2310512345 ,; .. 14/03/1987", BAC, BIRTH, None, False),
    ("1987-03-14 2310512345", BAC, BIRTH, None, False),
    ("RESULTAT 2310512345 14031987", BAC, BIRTH, None, False),
    ("RESULTATS 2310512345 14031987", BAC, BIRTH, None, False),
    ("RESULTAT(S) 2310512345 14031987", BAC, BIRTH, None, False),
    ("Résultat 2310512345 14031987", BAC, BIRTH, None, False),
    ("RÉSULTAT 14.03.87, 231 051 2345", BAC, BIRTH, None, False),
    ("RES 231.051.2345 14031987", BAC, BIRTH, None, False),
    ("bac 23 10 51 23 45 14031987", BAC, BIRTH, "bac", False),
    ("BAC2310512345 14031987", BAC, BIRTH, "bac", False),
    ("BAC+2310512345+14031987", BAC, BIRTH, "bac", False),
    ("bac: 2310512345 / 14-03-1987", BAC, BIRTH, "bac", False),
    ("N° 2310512345 né le 14/03/1987", BAC, BIRTH, None, False),
    ("Bonjour, résultat bac 2310512345 née le 14 03 1987 merci", BAC, BIRTH, "bac", False),
    ("BAC 2005 2310512345 14031987", BAC, BIRTH, "bac", False),  # the session year
    ("231051234514031987", BAC, BIRTH, None, False),  # typed together
    ("140319872310512345", BAC, BIRTH, None, False),
    ("0110000001140387", "0110000001", BIRTH, None, False),  # 01/10/00 is no birth date
    ("ＢＡＣ 2310512345 14031987", BAC, BIRTH, "bac", False),  # full-width letters are fine
    ("BREVET 2340512345 14031987", BREVET, BIRTH, "brevet", False),
    ("DNB 2340512345 14031987", BREVET, BIRTH, "brevet", False),
    ("BREVET 2310512345 14031987", BAC, BIRTH, "brevet", True),  # the number decides
    ("BAC 2340512345 14031987", BREVET, BIRTH, "bac", True),
    ("BAC PRO 2320512345 14031987", "2320512345", BIRTH, "bac-pro", False),
    ("bac-pro 2320512345 14031987", "2320512345", BIRTH, "bac-pro", False),
    ("BACPRO 2310512345 14031987", BAC, BIRTH, "bac-pro", True),
    ("BAC 2320512345 14031987", "2320512345", BIRTH, "bac", False),  # BAC covers bac pro
    ("BAC 2330512345 14031987", "2330512345", BIRTH, "bac", False),  # and the anticipés
    ("ANTICIPES 2330512345 14031987", "2330512345", BIRTH, "anticipes", False),
    ("Anticipés 2330512345 14031987", "2330512345", BIRTH, "anticipes", False),
    ("EAF 2330512345 14031987", "2330512345", BIRTH, "anticipes", False),
    ("BAC FRANCAIS 2330512345 14031987", "2330512345", BIRTH, "anticipes", False),
    ("épreuves anticipées 2330512345 14031987", "2330512345", BIRTH, "anticipes", False),
    ("CAP 2350512345 14031987", "2350512345", BIRTH, "cap", False),
    ("BEP 2360512345 14031987", "2360512345", BIRTH, "bep", False),
    ("BTS 2370512345 14031987", "2370512345", BIRTH, "bts", False),
    ("CAP 2370512345 14031987", "2370512345", BIRTH, "cap", True),
    ("BAC 9990000001 14031987", "9990000001", BIRTH, "bac", False),  # no batch: no claim
]


@pytest.mark.parametrize(("message", "numero", "birth", "hint", "mismatch"), _RESULTS)
def test_result_requests_in_many_spellings(message: str, numero: str, birth: date,
                                           hint: str | None, mismatch: bool) -> None:
    assert parse(message) == MoRequest(MoKind.RESULT, numero, birth, hint, mismatch)


@pytest.mark.parametrize("message", [
    "ALERTE 2310512345 14031987", "alerte 2310512345 14/03/1987", "Alert 14031987 2310512345",
    "ALRT 2310512345 140387", "alertes: 2310512345, 14 03 1987", "ALERTE BAC 2310512345 14031987",
])
def test_alert_requests(message: str) -> None:
    got = parse(message)
    assert isinstance(got, MoRequest) and got.kind is MoKind.ALERT
    assert (got.numero, got.birth) == (BAC, BIRTH)


@pytest.mark.parametrize(("message", "numero"), [
    ("STOP", None), ("stop", None), ("Stop.", None), ("STOP ALERTE", None), ("ARRET", None),
    ("Arrêt", None), ("arrêter svp", None), ("STOP 2310512345", BAC),
    ("STOP ALERTE 2310512345 14031987", BAC), ("BAC 2310512345 STOP", BAC),
    ("stop ２３", None),  # STOP always works, whatever else the message holds
    ("STOP " + "9" * 700, None),  # ... except past the length limit, see below
])
def test_stop_requests(message: str, numero: str | None) -> None:
    got = parse(message)
    if len(message) > sms.MAX_MO_CHARS:
        assert isinstance(got, MoError) and got.code is MoErrorCode.TOO_LONG
        return
    assert got == MoRequest(MoKind.STOP, numero)


@pytest.mark.parametrize("message", ["AIDE", "aide", "Aide ?", "HELP", "help me", "?", " ? ",
                                     "??", "INFO", "Quoi ?"])
def test_help_requests(message: str) -> None:
    assert parse(message) == MoRequest(MoKind.HELP)


_ERRORS = [
    ("", MoErrorCode.EMPTY),
    ("   ", MoErrorCode.EMPTY),
    (" ... ,;", MoErrorCode.EMPTY),
    ("\u200b", MoErrorCode.EMPTY),
    ("x" * 641, MoErrorCode.TOO_LONG),
    ("BAC 2310512345 14031987 " + " " * 617, MoErrorCode.TOO_LONG),
    ("Bonjour", MoErrorCode.UNKNOWN_KEYWORD),
    ("STPO", MoErrorCode.UNKNOWN_KEYWORD),
    ("BAC", MoErrorCode.NO_NUMBER),
    ("ALERTE", MoErrorCode.NO_NUMBER),
    ("Résultats", MoErrorCode.NO_NUMBER),
    ("BAC 14031987", MoErrorCode.NO_NUMBER),
    ("BAC 2310512345", MoErrorCode.NO_DATE),
    ("ALERTE 2310512345", MoErrorCode.NO_DATE),
    ("BAC 231051234 14031987", MoErrorCode.BAD_NUMBER),
    ("BAC 23105123456 14031987", MoErrorCode.BAD_NUMBER),
    ("BAC 12345", MoErrorCode.BAD_NUMBER),
    ("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7", MoErrorCode.BAD_NUMBER),
    ("BAC 2310512345 1403198", MoErrorCode.BAD_DATE),
    ("BAC 2310512345 14/031987", MoErrorCode.BAD_DATE),
    ("BAC ２３１０５１２３４５ 14031987", MoErrorCode.BAD_DIGITS),  # full-width digits
    ("BAC 231051234٥ 14031987", MoErrorCode.BAD_DIGITS),  # an Arabic-Indic five
    ("BAC 2310512345 1403198⁷", MoErrorCode.BAD_DIGITS),  # a superscript seven
    ("BAC ¹2310512345 14031987", MoErrorCode.BAD_DIGITS),
    ("23 10 51 23 45 14 03 87", MoErrorCode.AMBIGUOUS),  # 23/10/51 + 2345140387 too
    ("2310512345140387", MoErrorCode.AMBIGUOUS),  # the same, typed together
]


@pytest.mark.parametrize(("message", "code"), _ERRORS)
def test_refusals_say_why(message: str, code: MoErrorCode) -> None:
    got = parse(message)
    assert isinstance(got, MoError) and got.code is code, got
    assert got.detail and "\n" not in got.detail


@pytest.mark.parametrize("message", [
    "3 BAC 2005 231051234 14031987",  # found by bench_fuzz: was read as 3231051234
    "7 BAC 2005 231051234\x1f14031987",
    "231 BAC 0512345 14031987",
    "2310512345 14 le 03 1987",
])
def test_numbers_and_dates_never_span_words(message: str) -> None:
    got = parse(message)
    assert isinstance(got, MoError), got


def test_a_session_year_at_either_end_is_skipped() -> None:
    for message in ("BAC 2005 2310512345 14031987", "2310512345 14031987 bac 2005",
                    "Résultats bac 2005 : 231 051 2345, né le 14/03/1987"):
        assert parse(message) == MoRequest(MoKind.RESULT, BAC, BIRTH, "bac", False), message


def test_a_wrong_count_of_digits_is_named() -> None:
    got = parse("BAC 231051234 14031987")
    assert isinstance(got, MoError) and "9" in got.detail and "10 chiffres" in got.detail


_ABSURD = [
    ("31021987", "31/02/1987 n'existe pas"),
    ("30021988", "30/02/1988 n'existe pas"),
    ("29021987", "29/02/1987 n'existe pas"),
    ("00031987", "00/03/1987 n'existe pas"),
    ("14131987", "mois 13"),
    ("14001987", "mois 0"),
    ("14031850", "1850"),
    ("14030001", "1"),
    ("14032010", "futur"),
    ("09072005", "futur"),  # tomorrow
    ("14032001", "moins de 10 ans"),
    ("09071995", "moins de 10 ans"),  # ten tomorrow
    ("140399", "ambiguë"),  # 1999: 6 years old; 2099: future
    ("140310", "ambiguë"),  # 1910: 95; 2010: future
    ("14 03 1987 12", "JJMMAAAA"),
]


@pytest.mark.parametrize(("birth", "said"), _ABSURD)
def test_absurd_dates_are_refused_clearly(birth: str, said: str) -> None:
    got = parse(f"BAC 2310512345 {birth}")
    assert isinstance(got, MoError) and got.code is MoErrorCode.BAD_DATE, got
    assert said in got.detail


@pytest.mark.parametrize(("birth", "expected"), [
    ("29021988", date(1988, 2, 29)),
    ("08071995", date(1995, 7, 8)),  # ten today
    ("140315", date(1915, 3, 14)),  # two digits: 90 years old is the oldest
    ("080795", date(1995, 7, 8)),
    ("14031906", date(1906, 3, 14)),  # four digits: up to 100
])
def test_dates_at_the_limits(birth: str, expected: date) -> None:
    got = parse(f"BAC 2310512345 {birth}")
    assert isinstance(got, MoRequest) and got.birth == expected, got


def test_the_short_year_window_moves_with_today() -> None:
    got = parse_mo("BAC 2310512345 140315", today=date(2030, 1, 1))
    assert isinstance(got, MoRequest) and got.birth == date(2015, 3, 14)


_ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=700)
_TOKENS = st.sampled_from(["BAC", "bac", "ALERTE", "STOP", "AIDE", "?", "mars", "pro",
                           "2310512345", "231", "051", "2345", "14", "03", "1987", "87",
                           "14031987", "2005", "１", "²", "é", "œ", "\u200b", "né", "le"])
_SEPS = st.sampled_from([" ", ",", ";", ".", "/", "-", "\n", "\t", "  ", "", "+", ":"])


@settings(max_examples=400, deadline=None)
@given(text=_ANY_TEXT)
def test_any_string_gives_a_request_or_an_error(text: str) -> None:
    _check_answer(text, parse(text))


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.tuples(_TOKENS, _SEPS), max_size=12))
def test_any_mix_of_our_words_gives_a_request_or_an_error(
        parts: list[tuple[str, str]]) -> None:
    text = "".join(t + s for t, s in parts)
    _check_answer(text, parse(text))


def _check_answer(text: str, got: MoRequest | MoError) -> None:
    if isinstance(got, MoError):
        assert got.code in MoErrorCode and got.detail
        assert encode_sms(error_text(got, "0,35 EUR"), ref=0).count == 1
        return
    assert got.kind in MoKind
    if got.kind in (MoKind.RESULT, MoKind.ALERT):
        assert got.numero is not None and got.birth is not None
        assert len(got.numero) == 10 and got.numero.isascii() and got.numero.isdigit()
        assert got.numero in re.sub(r"[^0-9]", "", text)
        assert 10 <= (TODAY - got.birth).days / 365.25 <= 101


@settings(max_examples=300, deadline=None)
@given(numero=st.from_regex(r"[0-9]{10}", fullmatch=True),
       birth=st.dates(date(1910, 1, 1), date(1995, 7, 8)),
       keyword=st.sampled_from(["", "BAC ", "bac", "Brevet ", "RES ", "ALERTE ", "alrt "]),
       sep=st.sampled_from([" ", ",", ";", " , "]),
       date_sep=st.sampled_from(["", "/", ".", "-", " "]))
def test_the_fast_path_and_the_general_one_agree(numero: str, birth: date, keyword: str,
                                                 sep: str, date_sep: str) -> None:
    text = f"{keyword}{numero}{sep}{birth:%d}{date_sep}{birth:%m}{date_sep}{birth:%Y}"
    assert sms_parse._FAST.fullmatch(text) is not None
    got = parse(text)
    assert got == sms_parse._parse_general(text, TODAY)
    assert isinstance(got, MoRequest) and (got.numero, got.birth) == (numero, birth)


@settings(max_examples=300, deadline=None)
@given(birth=st.dates(date(1916, 1, 1), date(1995, 7, 8)),
       form=st.sampled_from(["%d%m%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y",
                             "%d%m%y", "%d/%m/%y", "%Y-%m-%d"]),
       date_first=st.booleans())
def test_every_date_format_reads_back(birth: date, form: str, date_first: bool) -> None:
    when = birth.strftime(form)
    text = f"{when} {BAC}" if date_first else f"BAC {BAC} {when}"
    got = parse(text)
    assert isinstance(got, MoRequest) and (got.numero, got.birth) == (BAC, birth), got


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


# -- encoding ---------------------------------------------------------------------------------

def _body(part: bytes, count: int) -> bytes:
    return part[6:] if count > 1 else part


def _decoded(parts: sms.SmsParts) -> str:
    return "".join(decode_sms(p, parts.data_coding, has_udh=parts.count > 1)
                   for p in parts.parts)


@pytest.mark.parametrize(("text", "sent", "encoding", "transliterated"), [
    ("Élodie DUPONT, ADMIS", "Élodie DUPONT, ADMIS", SmsEncoding.GSM7, False),
    ("àéèùìòÇÄÖÑÜäöñüßÆæØøÅå€[]{}~^\\|", "àéèùìòÇÄÖÑÜäöñüßÆæØøÅå€[]{}~^\\|",
     SmsEncoding.GSM7, False),
    ("François", "Francois", SmsEncoding.GSM7, True),
    ("âêîôûëïÿ ÂÊÎÔÛËÏ", "aeiouei​y AEIOUEI".replace("\u200b", ""), SmsEncoding.GSM7, True),
    ("Œdipe, cœur", "OEdipe, coeur", SmsEncoding.GSM7, True),
    ("l’été « chaud »\u00a0: fin…", "l'été \" chaud \" : fin...", SmsEncoding.GSM7, True),
    ("n° 5 – fin", "no 5 - fin", SmsEncoding.GSM7, True),
    ("Nguyễn Thị", "Nguyen Thi", SmsEncoding.GSM7, True),
    ("Đặng Łukasz", "Dang Lukasz", SmsEncoding.GSM7, True),
    ("Ｂａｃ", "Bac", SmsEncoding.GSM7, True),
    ("e\u0301lodie", "élodie", SmsEncoding.GSM7, False),  # NFC first: é is GSM
    ("王小明 ADMIS", "王小明 ADMIS", SmsEncoding.UCS2, False),
    ("Ольга, admise, ç", "Ольга, admise, ç", SmsEncoding.UCS2, False),  # no partial change
    ("Bravo 🎓", "Bravo 🎓", SmsEncoding.UCS2, False),
])
def test_alphabet_choice_and_transliteration(text: str, sent: str, encoding: SmsEncoding,
                                            transliterated: bool) -> None:
    parts = encode_sms(text, ref=7)
    assert (parts.text, parts.encoding, parts.transliterated) == (sent, encoding,
                                                                  transliterated)
    assert parts.data_coding == (0 if encoding is SmsEncoding.GSM7 else 8)
    assert _decoded(parts) == sent
    if encoding is SmsEncoding.UCS2:
        assert "has no GSM 03.38 transliteration" in parts.reason
    elif transliterated:
        assert "transliteration" in parts.reason


@pytest.mark.parametrize(("text", "counts"), [
    ("a" * 160, [160]),
    ("a" * 161, [153, 8]),
    ("a" * 306, [153, 153]),
    ("a" * 307, [153, 153, 1]),
    ("€" * 80, [160]),  # escaped characters count two
    ("€" * 80 + "a", [152, 9]),  # 76 pairs, the 77th would straddle 153
    ("a" * 152 + "€" + "a" * 10, [152, 12]),  # the pair straddles 153: it moves whole
    ("a" * 151 + "€" + "a" * 10, [153, 10]),  # the pair ends at 153: it stays
])
def test_gsm_part_boundaries(text: str, counts: list[int]) -> None:
    parts = encode_sms(text, ref=9)
    assert parts.encoding is SmsEncoding.GSM7 and parts.count == len(counts)
    assert [len(_body(p, parts.count)) for p in parts.parts] == counts
    assert parts.units == sum(counts)
    for p in parts.parts:
        assert not _body(p, parts.count).endswith(b"\x1b")
    assert _decoded(parts) == text


@pytest.mark.parametrize(("text", "units"), [
    ("王" * 70, [70]),
    ("王" * 71, [67, 4]),
    ("王" * 134, [67, 67]),
    ("王" * 135, [67, 67, 1]),
    ("🎓" * 35, [70]),
    ("王" * 66 + "🎓" + "王" * 5, [66, 7]),  # the pair straddles 67: it moves whole
    ("王" * 65 + "🎓" + "王" * 5, [67, 5]),  # the pair ends at 67: it stays
])
def test_ucs2_part_boundaries(text: str, units: list[int]) -> None:
    parts = encode_sms(text, ref=9)
    assert parts.encoding is SmsEncoding.UCS2 and parts.count == len(units)
    assert [len(_body(p, parts.count)) // 2 for p in parts.parts] == units
    for p in parts.parts:
        body = _body(p, parts.count)
        assert not 0xD8 <= body[-2] <= 0xDB and not 0xDC <= body[0] <= 0xDF
    assert _decoded(parts) == text


def test_udh_of_concatenated_parts() -> None:
    parts = encode_sms("a" * 400, ref=0xAB)
    assert parts.count == 3 and parts.esm_class == 0x40 and parts.data_coding == 0
    for seq, p in enumerate(parts.parts, start=1):
        assert p[:6] == bytes([0x05, 0x00, 0x03, 0xAB, 3, seq])
    single = encode_sms("a", ref=0xAB)
    assert single.parts == (b"a",) and single.esm_class == 0 and single.count == 1
    assert encode_sms("", ref=0).parts == (b"",)


def test_too_long_or_bad_arguments_raise_value_error() -> None:
    assert encode_sms("a" * 153 * MAX_PARTS, ref=0).count == MAX_PARTS
    with pytest.raises(ValueError, match=r"919 septets need 7 parts.*918 septets at most"):
        encode_sms("a" * (153 * MAX_PARTS + 1), ref=0)
    with pytest.raises(ValueError, match="403 UTF-16 units need 7 parts"):
        encode_sms("王" * 403, ref=0)
    assert encode_sms("a" * 153 * 20, ref=0, max_parts=20).count == 20
    with pytest.raises(ValueError, match="ref 256"):
        encode_sms("a", ref=256)
    with pytest.raises(ValueError, match="U\\+0007 at offset 2"):
        encode_sms("ab\x07", ref=0)
    with pytest.raises(ValueError, match="U\\+D800 at offset 1"):
        encode_sms("a\ud800", ref=0)


_GSM_TEXT = st.text(alphabet=st.sampled_from(sorted(sms_gsm._GSM)), max_size=500)


@settings(max_examples=300, deadline=None)
@given(text=_GSM_TEXT, ref=st.integers(0, 255))
def test_gsm_round_trip(text: str, ref: int) -> None:
    parts = encode_sms(text, ref=ref)
    assert parts.encoding is SmsEncoding.GSM7 and not parts.transliterated
    assert _decoded(parts) == text
    assert all(len(_body(p, parts.count)) <= (160 if parts.count == 1 else 153)
               for p in parts.parts)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), ref=st.integers(0, 255))
def test_any_text_round_trips_or_is_refused(text: str, ref: int) -> None:
    try:
        parts = encode_sms(text, ref=ref)
    except ValueError as e:
        assert type(e) is ValueError
        return
    assert _decoded(parts) == parts.text
    limit = 140 if parts.encoding is SmsEncoding.UCS2 else 160
    assert all(len(p) <= limit for p in parts.parts)


# -- decoding what candidates send -------------------------------------------------------------

def test_decode_each_coding() -> None:
    assert decode_sms(b"BAC \x05t\x05 \x04 \x1be", 0, False) == "BAC été è €"
    assert decode_sms(b"BAC 123", 1, False) == "BAC 123"
    assert decode_sms("Résultat".encode("latin-1"), 3, False) == "Résultat"
    assert decode_sms("王 🎓".encode("utf-16-be"), 8, False) == "王 🎓"
    assert decode_sms(bytes([5, 0, 3, 1, 2, 1]) + b"BAC", 0, True) == "BAC"
    assert decode_sms(bytes([0]) + b"BAC", 1, True) == "BAC"


def test_decode_follows_ts_23038_on_odd_escapes() -> None:
    # aiosmpplib gives U+00A0 for an undefined escape and escapes twice on ESC ESC
    assert decode_sms(b"a\x1bAb", 0, False) == "aAb"
    assert decode_sms(b"a\x1b\x1b\x65b", 0, False) == "a eb"


@pytest.mark.parametrize(("data", "coding", "udh", "offset", "said"), [
    (b"ab\x80", 0, False, 2, "0x80 at offset 2"),
    (b"ab\x1b", 0, False, 2, "ends with an escape"),
    (b"\x05\x00\x03\x01\x02\x01ab\xff", 0, True, 8, "0xFF at offset 8"),
    (b"ab\xe9", 1, False, 2, "is not IA5"),
    (b"\x00a\x00", 8, False, 2, "odd last byte"),
    (b"\x00a\xd8\x3d", 8, False, 2, "lone high surrogate"),
    (b"\x00a\xde\x00\x00b", 8, False, 2, "offset 2"),
    (b"\x05\x00\x03", 0, True, 0, "UDH says 5 bytes"),
    (b"", 0, True, 0, "empty"),
    (b"abc", 4, False, 0, "data_coding 4 is not supported"),
])
def test_decode_errors_name_coding_and_offset(data: bytes, coding: int, udh: bool,
                                              offset: int, said: str) -> None:
    with pytest.raises(SmsDecodeError, match=said) as caught:
        decode_sms(data, coding, udh)
    assert caught.value.offset == offset and caught.value.data_coding == coding
    assert isinstance(caught.value, ValueError)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=200), coding=st.sampled_from([0, 1, 3, 8, 2, 4]),
       udh=st.booleans())
def test_any_bytes_decode_or_raise_sms_decode_error(data: bytes, coding: int,
                                                    udh: bool) -> None:
    try:
        got = decode_sms(data, coding, udh)
    except SmsDecodeError as e:
        assert 0 <= e.offset <= len(data) and str(coding) in str(e)
        return
    assert isinstance(got, str)
    _check_answer(got, parse(got))
