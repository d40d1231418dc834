"""What a candidate may text: many spellings, absurd dates refused clearly, any string
gives a request or an error, never an exception."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.sms import parse as sms_parse
from videotex.sms import text as sms
from videotex.sms.text import (
    MoError,
    MoErrorCode,
    MoKind,
    MoRequest,
    encode_sms,
    error_text,
    parse_mo,
)

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
