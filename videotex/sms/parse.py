"""Reading what a candidate texts, sans-IO: a mobile-originated message -> a request.

Owns :func:`parse_mo`: a mobile-originated text -> :class:`MoRequest` (result, alert, stop,
help) or :class:`MoError` (a code and a one-line French reply). Forgiving about keywords,
accents, case, separators, the order of number and date and the date's format; strict
about what a digit is (ASCII 0-9 only: '¹', '１', '٣' are refused by name, as everywhere
in the server) and about dates (a real day, a candidate 10 to 100 years old). It never
raises for a ``str``; the exam keyword is a hint, the number's prefix decides the batch.
The words of the answers are :mod:`videotex.sms.wording`'s; only the one-line ``detail``
of an error, which says what was wrong with this message, is built here.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

from videotex.store.exams import batch_of_number

__all__ = [
    "EXAMPLE",
    "MAX_MO_CHARS",
    "MoError",
    "MoErrorCode",
    "MoKind",
    "MoRequest",
    "parse_mo",
]

#: Longer messages are refused unread (four concatenated parts of 160 characters).
MAX_MO_CHARS: Final = 640
MIN_AGE: Final = 10  #: a candidate's youngest age on ``today``
MAX_AGE: Final = 100  #: and oldest, for a four-digit year ("1850" is a typo)
SHORT_YEAR_AGES: Final = (10, 90)  #: a two-digit year is the century giving an age in here


class MoKind(enum.StrEnum):
    """What a valid message asks for."""

    RESULT = "result"  #: the result of a number and birth date
    ALERT = "alert"  #: the same, sent at publication (``ALERTE``)
    STOP = "stop"  #: forget this phone's alerts (all, or ``numero``'s)
    HELP = "help"  #: ``AIDE``, ``HELP``, ``?``


class MoErrorCode(enum.StrEnum):
    """Why a message could not be read; :attr:`MoError.detail` says it in French."""

    EMPTY = "empty"
    TOO_LONG = "too_long"  #: over :data:`MAX_MO_CHARS`
    UNKNOWN_KEYWORD = "unknown_keyword"  #: words only, none of them ours
    NO_NUMBER = "no_number"
    BAD_NUMBER = "bad_number"  #: not 10 digits, or too many numbers
    BAD_DIGITS = "bad_digits"  #: digits other than ASCII 0-9 ('¹', '１', '٣'...)
    AMBIGUOUS = "ambiguous"  #: digit groups that read as two different number/date pairs
    NO_DATE = "no_date"
    BAD_DATE = "bad_date"  #: not a date, or an absurd one (31/02, future, age < 10)


@dataclass(frozen=True, slots=True)
class MoRequest:
    """A message understood. ``numero`` and ``birth`` are set for results and alerts (STOP
    may name a number); ``exam_hint`` is the exam id a keyword named (``BREVET`` ->
    ``brevet``), informative only: ``exam_hint_mismatch`` says it contradicts the number's
    batch (``BAC`` covers bac, bac pro and the anticipés)."""

    kind: MoKind
    numero: str | None = None
    birth: date | None = None
    exam_hint: str | None = None
    exam_hint_mismatch: bool = False


@dataclass(frozen=True, slots=True)
class MoError:
    """A message not understood: ``code`` for the program, ``detail`` for the candidate
    (one French sentence, a reply as it is; :func:`videotex.sms.wording.error_text` adds
    an example)."""

    code: MoErrorCode
    detail: str


EXAMPLE: Final = "BAC 2310512345 14031987"
_SEND = "envoyez BAC + numéro + date de naissance."
_DETAILS: Final = {
    MoErrorCode.EMPTY: f"Message vide : {_SEND}",
    MoErrorCode.UNKNOWN_KEYWORD: f"Message non compris : {_SEND}",
    MoErrorCode.NO_NUMBER: "Il manque le numéro de candidat (10 chiffres, voir convocation).",
    MoErrorCode.BAD_DIGITS: "Chiffres non reconnus : écrivez-les avec les touches 0 à 9.",
    MoErrorCode.AMBIGUOUS: ("Numéro et date ambigus : écrivez les 10 chiffres du numéro "
                            "sans espace."),
    MoErrorCode.NO_DATE: "Il manque la date de naissance (8 chiffres, JJMMAAAA).",
}
_BAD_FORMAT: Final = "Date de naissance non comprise : écrivez-la en 8 chiffres, JJMMAAAA."
_TOO_MANY: Final = "Trop de nombres : envoyez seulement le numéro et la date de naissance."

#: Everything between words and digit groups (ASCII punctuation but letters and digits,
#: Unicode spaces, typographic quotes and dashes).
_SEPARATORS = re.compile(r"[\s!-/:-@\[-`{-~°º’‘‚«»“”„–—‐‑−·•…¡¿]+")
_RUNS = re.compile(r"[0-9]+|[^0-9]+")
#: The usual message: keyword, number, date DDMMYYYY (no separator or twice the same).
_FAST = re.compile(r" *([A-Za-z]{2,12})? *([0-9]{10})[ ,;]+([0-9]{2})([/. -]?)([0-9]{2})\4"
                   r"([0-9]{4}) *")

_EXAM_WORDS: Final = {
    "bac": "bac", "baccalaureat": "bac", "bacpro": "bac-pro", "brevet": "brevet",
    "dnb": "brevet", "bep": "bep", "cap": "cap", "bts": "bts", "eaf": "anticipes",
    "anticipe": "anticipes", "anticipes": "anticipes", "anticipee": "anticipes",
    "anticipees": "anticipes",
}
#: After ``bac``: the word that makes it another exam (``BAC PRO``, ``BAC FRANCAIS``).
_AFTER_BAC: Final = {"pro": "bac-pro", "professionnel": "bac-pro", "francais": "anticipes",
                     "fr": "anticipes"}
_RESULT_WORDS: Final = frozenset({"resultat", "resultats", "res", "result", "results",
                                  "rslt", "examen", "exam", "examens", "note", "notes"})
_ALERT_WORDS: Final = frozenset({"alerte", "alertes", "alert", "alerts", "alrt"})
_STOP_WORDS: Final = frozenset({"stop", "arret", "arreter", "stopper", "desabonner",
                                "desabonnement", "desinscription", "unsubscribe"})
_HELP_WORDS: Final = frozenset({"aide", "help", "info", "infos"})
_MONTHS_IN: Final = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11,
    "nov": 11, "decembre": 12, "dec": 12,
}
#: ``BAC`` is said by bac pro and anticipés candidates too.
_HINT_COVERS: Final = {"bac": frozenset({"bac", "bac-pro", "anticipes"})}
_KEYWORD_CACHE: dict[str, str] = {}
#: In the digit items, where words stood between two groups: neither a number nor a date
#: spans a gap ("3 BAC 231051234" is not the number 3231051234). Months are 1-12.
_GAP: Final = 0
#: After a digit group, not a word: "1er mars".
_ORDINALS: Final = frozenset({"er", "ere", "re", "e", "eme"})


def parse_mo(text: str, *, today: date) -> MoRequest | MoError:
    """Read a candidate's text (see the module docstring); never raises.

    Keywords may be anywhere; STOP wins over everything (it must always work), then help.
    Words we do not know are ignored when the digits make a whole request. The digits are
    split into a number (10 digits, in one group or several: ``231 051 2345``) and a birth
    date (``14031987``, ``14/03/1987``, ``14 03 87``, ``140387``, ``1987-03-14``, ``14 mars
    1987``) in either order; a word between two groups separates them. When two readings
    both make sense the message is refused as ambiguous rather than guessed (numbers of a
    known batch are preferred first). Also weighed: the message without a year just after an
    exam keyword (``BAC 2005 ...``, the session), and 18 or 16 digits typed together cut
    into number + date.
    """
    if len(text) > MAX_MO_CHARS:
        return MoError(MoErrorCode.TOO_LONG, f"Message trop long ({len(text)} caractères, "
                       f"{MAX_MO_CHARS} au plus) : {_SEND}")
    fast = _FAST.fullmatch(text)
    if fast is not None:
        found = _parse_fast(fast, today)
        if found is not None:
            return found
    return _parse_general(text, today)


def _parse_fast(m: re.Match[str], today: date) -> MoRequest | MoError | None:
    """The usual message, the same answer as :func:`_parse_general` (tests hold them
    equal); None when the keyword is not an exam, result or alert word."""
    word = m.group(1)
    hint = None
    kind = MoKind.RESULT
    if word is not None:
        key = word.lower()
        if key in _ALERT_WORDS:
            kind = MoKind.ALERT
        elif key in _EXAM_WORDS:
            hint = _EXAM_WORDS[key]
        elif key not in _RESULT_WORDS:
            return None
    birth = _check_birth(int(m.group(3)), int(m.group(5)), m.group(6), today)
    if isinstance(birth, str):
        return MoError(MoErrorCode.BAD_DATE, birth)
    return _request(kind, m.group(2), birth, hint)


def _request(kind: MoKind, numero: str, birth: date, hint: str | None) -> MoRequest:
    mismatch = False
    if hint is not None:
        batch = batch_of_number(numero)
        mismatch = batch is not None and batch[0] not in _HINT_COVERS.get(hint, (hint,))
    return MoRequest(kind, numero, birth, hint, mismatch)


def _keyword(run: str) -> str:
    """A word as matched: accents and invisible characters gone, case folded (cached)."""
    key = _KEYWORD_CACHE.get(run)
    if key is None:
        if run.isascii():
            key = run.lower()
        else:
            key = "".join(c for c in unicodedata.normalize("NFKD", run)
                          if not unicodedata.combining(c)
                          and unicodedata.category(c)[0] not in "CZ").casefold()
        if len(_KEYWORD_CACHE) >= 20_000:  # arbitrary texts must not grow it forever
            _KEYWORD_CACHE.clear()
        _KEYWORD_CACHE[run] = key
    return key


def _parse_general(text: str, today: date) -> MoRequest | MoError:
    """Every other message: tokens, keywords, then the digits' number/date split."""
    items: list[str | int] = []  # digit groups, month numbers and gaps, in order
    years: list[int] = []  # indexes in items of years just after an exam word
    stop = help_ = alert = bad_digits = keyword = gap = False
    words = 0
    hint: str | None = None
    prev = ""
    for token in _SEPARATORS.split(text):
        for run in _RUNS.findall(token):
            if "0" <= run[0] <= "9":
                if gap:
                    items.append(_GAP)
                    gap = False
                if (prev in _EXAM_WORDS and len(run) == 4
                        and abs(int(run) - today.year) <= 1):
                    years.append(len(items))
                items.append(run)
                prev = run
                continue
            if not run.isascii() and any(c.isnumeric() for c in run):
                bad_digits = True
            key = _keyword(run)
            if not key or (key in _ORDINALS and prev.isdigit()):
                continue
            words += 1
            month = _MONTHS_IN.get(key)
            if month is not None:
                if gap:
                    items.append(_GAP)
                items.append(month)
                gap = False
                prev = key
                continue
            gap = bool(items)
            if key in _STOP_WORDS:
                stop = True
            elif key in _HELP_WORDS:
                help_ = True
            elif key in _ALERT_WORDS:
                alert = keyword = True
            elif key in _EXAM_WORDS:
                keyword = True
                hint = hint or _EXAM_WORDS[key]
            elif prev == "bac" and key in _AFTER_BAC:
                hint = _AFTER_BAC[key] if hint == "bac" else hint
            elif key in _RESULT_WORDS:
                keyword = True
            prev = key
    if stop:
        tens = [i for i in items if isinstance(i, str) and len(i) == 10]
        return MoRequest(MoKind.STOP, tens[0] if len(tens) == 1 else None)
    if help_:
        return MoRequest(MoKind.HELP)
    if bad_digits:
        return _error(MoErrorCode.BAD_DIGITS)
    if not items:
        if keyword:
            return _error(MoErrorCode.NO_NUMBER)
        if "?" in text or "¿" in text:
            return MoRequest(MoKind.HELP)
        return _error(MoErrorCode.UNKNOWN_KEYWORD if words else MoErrorCode.EMPTY)
    found = _split_digits(items, years, today)
    if isinstance(found, MoError):
        return found
    return _request(MoKind.ALERT if alert else MoKind.RESULT, *found, hint)


def _error(code: MoErrorCode) -> MoError:
    return MoError(code, _DETAILS[code])


class _Reading:
    """What the number/date splits of some digit groups gave: the whole readings, and the
    nearest misses, which say what is wrong when there is none."""

    def __init__(self) -> None:
        self.ok: set[tuple[str, date]] = set()
        self.bad_date: str | None = None  # a number, and this wrong date
        self.no_date = False  # a number alone
        self.bad_number: int | None = None  # a date, and this many digits for a number
        self.no_number = False  # a date alone

    def add(self, number: list[str | int], when: list[str | int], today: date) -> None:
        number, when = _trim(number), _trim(when)
        digits = "".join(x for x in number if isinstance(x, str))
        only_digits = all(isinstance(x, str) for x in number)
        if len(digits) == 10 and only_digits:
            birth = _date_of(when, today)
            if isinstance(birth, date):
                self.ok.add((digits, birth))
            elif birth is None:
                self.no_date = True
            elif self.bad_date is None:
                self.bad_date = birth
        elif isinstance(_date_of(when, today), date):
            if not number:
                self.no_number = True
            elif self.bad_number is None and only_digits:
                self.bad_number = len(digits)


def _split_digits(items: list[str | int], years: list[int],
                  today: date) -> tuple[str, date] | MoError:
    """The one (number, birth) the digit groups make, or the error that says best why not.
    The number is all the groups before the date or all those after it."""
    if len(items) - items.count(_GAP) > 16:  # 10 one-digit groups and a 3-group date
        return MoError(MoErrorCode.BAD_NUMBER, _TOO_MANY)
    reading = _Reading()
    for variant in _variants(items, years):
        for k in range(len(variant) + 1):
            reading.add(variant[:k], variant[k:], today)
            reading.add(variant[k:], variant[:k], today)
    ok = reading.ok
    if len(ok) > 1:
        ok = {(n, b) for n, b in ok if batch_of_number(n) is not None}
    if len(ok) == 1:
        return next(iter(ok))
    if ok or reading.ok:
        return _error(MoErrorCode.AMBIGUOUS)
    if reading.bad_date is not None:
        return MoError(MoErrorCode.BAD_DATE, reading.bad_date)
    if reading.no_date:
        return _error(MoErrorCode.NO_DATE)
    if reading.bad_number is not None:
        return MoError(MoErrorCode.BAD_NUMBER, _bad_number(reading.bad_number))
    if reading.no_number:
        return _error(MoErrorCode.NO_NUMBER)
    return MoError(MoErrorCode.BAD_NUMBER, _bad_number(None))


def _bad_number(count: int | None) -> str:
    sent = f" (vous en avez envoyé {count})" if count is not None else ""
    return f"Le numéro de candidat compte 10 chiffres{sent} : voir votre convocation."


def _variants(items: list[str | int], years: list[int]) -> list[list[str | int]]:
    """The groups as typed, then without a session year, then with the first run of 16 or
    18 digits cut into number + date and date + number."""
    out = [items] + [items[:i] + items[i + 1:] for i in years]
    for i, x in enumerate(items):
        if isinstance(x, str) and len(x) in (16, 18):
            out.append([*items[:i], x[:10], x[10:], *items[i + 1:]])
            out.append([*items[:i], x[:-10], x[-10:], *items[i + 1:]])
            break
    return out


def _trim(items: list[str | int]) -> list[str | int]:
    """A piece without the gaps at its ends (the split between number and date)."""
    if items and items[0] == _GAP:
        items = items[1:]
    if items and items[-1] == _GAP:
        items = items[:-1]
    return items


def _date_of(items: list[str | int], today: date) -> date | str | None:
    """The birth date some digit groups spell, the reason they do not, or None if empty."""
    if not items:
        return None
    if _GAP in items:
        return _BAD_FORMAT
    if len(items) == 1:
        s = items[0]
        if isinstance(s, str) and len(s) in (6, 8):
            return _check_birth(int(s[:2]), int(s[2:4]), s[4:], today)
        return _BAD_FORMAT
    if len(items) != 3:
        return _BAD_FORMAT
    a, b, c = items
    if not isinstance(a, str) or not isinstance(c, str):
        return _BAD_FORMAT
    month = b if isinstance(b, int) else int(b) if len(b) <= 2 else None
    if month is None:
        return _BAD_FORMAT
    if len(a) <= 2 and len(c) in (2, 4):
        return _check_birth(int(a), month, c, today)
    if len(a) == 4 and len(c) <= 2 and isinstance(b, str):  # ISO: 1987-03-14
        return _check_birth(int(c), month, a, today)
    return _BAD_FORMAT


def _check_birth(day: int, month: int, year: str, today: date) -> date | str:
    """A birth date, or why it is absurd (French, one line). ``year`` has 2 or 4 digits."""
    if not 1 <= month <= 12:
        return f"Le mois {month} n'existe pas : vérifiez la date de naissance (JJMMAAAA)."
    later = (today.month, today.day) < (month, day)  # no birthday yet this year
    if len(year) == 2:
        low, high = SHORT_YEAR_AGES
        full = [c + int(year) for c in (1900, 2000)
                if low <= today.year - c - int(year) - later <= high]
        if not full:
            return f"Année {year} ambiguë : écrivez l'année de naissance en 4 chiffres."
        y = full[0]
    else:
        y = int(year)
        if y > today.year:
            return "Date de naissance dans le futur : vérifiez l'année."
        if today.year - y - later > MAX_AGE:
            return f"Année de naissance {y} impossible : vérifiez la date."
    try:
        birth = date(y, month, day)
    except ValueError:
        return f"Le {day:02d}/{month:02d}/{y} n'existe pas : vérifiez la date de naissance."
    if birth > today:
        return "Date de naissance dans le futur : vérifiez l'année."
    if today.year - y - later < MIN_AGE:
        return f"Date de naissance trop récente (moins de {MIN_AGE} ans) : vérifiez l'année."
    return birth
