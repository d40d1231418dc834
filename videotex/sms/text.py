"""The text side of the SMS channel, sans-IO: what a candidate texts, what we answer, and how
the answer is packed into SMPP short messages.

Owns:

- :func:`parse_mo`: a mobile-originated text -> :class:`MoRequest` (result, alert, stop,
  help) or :class:`MoError` (a code and a one-line French reply). Forgiving about keywords,
  accents, case, separators, the order of number and date and the date's format; strict
  about what a digit is (ASCII 0-9 only: '¹', '１', '٣' are refused by name, as everywhere
  in the server) and about dates (a real day, a candidate 10 to 100 years old). It never
  raises for a ``str``; the exam keyword is a hint, the number's prefix decides the batch.
- The replies (:func:`result_text`, :func:`not_published_text`, ...): the Minitel's rules
  (``pages/result.py``) in one SMS each where possible. A result by number and birth date
  says the names, the outcome and the mention; before publication the words are built from
  the batch (exam, académie) and the official hour only — never the number — so they are
  the same whether the candidate exists or not: this module cannot leak what it is not given.
- :func:`encode_sms` / :func:`decode_sms`: GSM 03.38 (unpacked septets, data_coding 0)
  when the text fits after transliteration, else UCS-2 (data_coding 8); concatenated parts
  with an 8-bit-reference UDH, never splitting an escape or a surrogate pair. The
  character tables are aiosmpplib's (:mod:`aiosmpplib.codec`); only its decoding of
  undefined escape codes is replaced (see :func:`decode_sms`).
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from aiosmpplib.codec import (
    GSM_BASIC_ENCODE_MAP,
    GSM_EXTENDED_DECODE_MAP,
    GSM_EXTENDED_ENCODE_MAP,
    GSM7BitCodec,
    UCS2Codec,
)

from videotex.store.exams import ACADEMIES, EXAMS, Mention, Outcome, batch_of_number

__all__ = [
    "MAX_MO_CHARS",
    "MAX_PARTS",
    "MoError",
    "MoErrorCode",
    "MoKind",
    "MoRequest",
    "SmsDecodeError",
    "SmsEncoding",
    "SmsParts",
    "alert_already_text",
    "alert_confirm_text",
    "alert_not_found_text",
    "decode_sms",
    "encode_sms",
    "error_text",
    "help_text",
    "not_found_text",
    "not_published_text",
    "parse_mo",
    "refused_text",
    "result_text",
    "stop_text",
    "too_many_alerts_text",
]

# -- what a message asks ------------------------------------------------------------------

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
    (one French sentence, a reply as it is; :func:`error_text` adds an example)."""

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


# -- the replies ----------------------------------------------------------------------------

#: Official hours are French hours, whatever the server's zone (as ``pages/layout.py``).
PARIS: Final = ZoneInfo("Europe/Paris")
_DAYS: Final = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS: Final = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                  "septembre", "octobre", "novembre", "décembre")
#: Exam id -> (the name after "Résultats", the name alone): short, for one SMS.
_EXAM_LABELS: Final = {
    "bac": ("du Bac", "Bac"),
    "bac-pro": ("du Bac pro", "Bac pro"),
    "anticipes": ("des épreuves anticipées", "Épreuves anticipées"),
    "brevet": ("du Brevet", "Brevet"),
    "cap": ("du CAP", "CAP"),
    "bep": ("du BEP", "BEP"),
    "bts": ("du BTS", "BTS"),
}
if set(_EXAM_LABELS) != set(EXAMS):  # a new exam must get its SMS name here
    raise RuntimeError("videotex/sms/text.py: _EXAM_LABELS does not name exactly the exams "
                       f"of videotex.store.exams.EXAMS ({', '.join(EXAMS)})")
_EXAM_IDS: Final = {**{name: e for e, name in EXAMS.items()}, **{e: e for e in EXAMS}}
_ACADEMIE_NAMES: Final = {**{n: n for n in ACADEMIES.values()}, **ACADEMIES}


class _ResultLike(Protocol):
    @property
    def prenom(self) -> str: ...
    @property
    def nom(self) -> str: ...
    @property
    def resultat(self) -> Outcome: ...
    @property
    def mention(self) -> Mention | None: ...
    @property
    def exam(self) -> str: ...
    @property
    def academie(self) -> str: ...
    @property
    def session(self) -> int: ...


def _exam_label(exam: str) -> tuple[str, str]:
    """An exam id (or its :data:`EXAMS` display name) -> its two SMS names."""
    key = _EXAM_IDS.get(exam)
    if key is None:
        raise ValueError(f"unknown exam {exam!r}; expected one of {', '.join(EXAMS)}")
    return _EXAM_LABELS[key]


def _academie_label(academie: str) -> str:
    """An académie id (or its display name) -> ``académie de Lille``, ``d'Amiens``."""
    name = _ACADEMIE_NAMES.get(academie)
    if name is None:
        raise ValueError(f"unknown académie {academie!r}; expected one of "
                         f"{', '.join(ACADEMIES)}")
    vowel = unicodedata.normalize("NFKD", name[0])[0] in "AEIOUYaeiouy"
    return f"académie d'{name}" if vowel else f"académie de {name}"


def _when(when: datetime, now: datetime) -> str:
    """``aujourd'hui à 14h``, ``le 1er juillet à 10h30`` (Paris time; no weekday: an SMS
    is read the day it comes, and the date must fit in one message)."""
    local = when.astimezone(PARIS)
    hour = f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"
    if now.astimezone(PARIS).date() == local.date():
        return f"aujourd'hui à {hour}"
    day = "1er" if local.day == 1 else str(local.day)
    return f"le {day} {_MONTHS[local.month - 1]} à {hour}"


def _one_sms(*texts: str) -> str:
    """The first text that fits in one SMS, else the last: the full sentence when it fits,
    the compact one for the longest exam and académie names."""
    for text in texts:
        if encode_sms(text, ref=0).count == 1:
            return text
    return texts[-1]


def _price_note(price: str | Decimal | float | None) -> str:
    """`` 0,35 EUR/SMS + prix d'un SMS`` (with its leading space), or "" without a price.
    A string is taken as written ("0,35 EUR"); a number is euros. "EUR", not "€": the
    euro sign costs two septets, and the Minitel writes EUR too."""
    if price is None:
        return ""
    if isinstance(price, str):
        amount = price.strip()
    else:
        value = Decimal(str(price))
        if value == 0:
            return " Prix d'un SMS."
        amount = f"{value:.2f}".replace(".", ",") + " EUR"
    return f" {amount}/SMS + prix d'un SMS."


def result_text(result: _ResultLike) -> str:
    """A result, asked by number and birth date: exam, session and académie, first name,
    surname, outcome, and the mention when there is one (the Minitel's ResultPage with
    ``full=True``): ``Bac 2005, académie de Lille : Élodie DUPONT, ADMIS, mention Très
    bien.``"""
    exam = _exam_label(result.exam)[1]
    text = (f"{exam} {result.session}, {_academie_label(result.academie)} : "
            f"{' '.join(result.prenom.split())} {' '.join(result.nom.split())}, "
            f"{result.resultat.label_fr}")
    if result.mention is not None:
        text += f", mention {result.mention.label}"
    return text + "."


def not_published_text(exam: str, academie: str, scheduled_at: datetime | None,
                       now: datetime) -> str:
    """Before publication: the batch and its official hour (or that it is not set), and how
    to be told at publication. Takes no number: the same words whether the candidate
    exists or not (the embargo rule of ``pages/service.py``). ``exam`` and ``academie``
    are ids (or the store's display names)."""
    du, _ = _exam_label(exam)
    when = ("heure de publication non fixée." if scheduled_at is None
            else f"publiés {_when(scheduled_at, now)}.")
    head = f"Résultats {du}, {_academie_label(academie)} : {when}"
    return _one_sms(f"{head} Envoyez ALERTE + numéro + date de naissance pour les recevoir "
                    "dès la publication.",
                    f"{head} ALERTE + numéro + date de naissance : envoi dès publication.")


def alert_confirm_text(exam: str, academie: str, scheduled_at: datetime | None,
                       now: datetime) -> str:
    """An alert kept: said from the batch and hour only, like :func:`not_published_text`
    (an alert may be asked for any well-formed number, and says nothing more)."""
    _, name = _exam_label(exam)
    when = "" if scheduled_at is None else f", {_when(scheduled_at, now)}"
    batch = f"({name}, {_academie_label(academie)}{when})"
    return _one_sms(f"Alerte enregistrée : résultat envoyé par SMS dès la publication "
                    f"{batch}. STOP pour annuler.",
                    f"Alerte enregistrée : résultat envoyé dès la publication {batch}. "
                    "STOP : annuler.")


def alert_already_text() -> str:
    """The same alert asked again."""
    return ("Alerte déjà enregistrée : le résultat vous sera envoyé dès la publication. "
            "STOP pour annuler.")


def too_many_alerts_text(limit: int) -> str:
    """An alert refused: this phone already waits for ``limit``."""
    return (f"Alerte non enregistrée : {limit} alertes au plus par téléphone. "
            "STOP pour les annuler.")


def alert_not_found_text() -> str:
    """At publication, no result for an alert's number and birth date."""
    return ("Résultats publiés : aucun ne correspond au numéro et à la date de naissance de "
            "votre alerte. Vérifiez votre convocation.")


def not_found_text() -> str:
    """After publication, nothing for this number and birth date (the NotFoundPage)."""
    return ("Aucun résultat publié pour ce numéro et cette date de naissance. Vérifiez votre "
            "convocation : numéro à 10 chiffres, date JJMMAAAA.")


def refused_text() -> str:
    """Too many failed lookups from this phone (the enumeration guard, the RefusedPage)."""
    return ("Trop de recherches sans résultat depuis ce téléphone. Vérifiez votre "
            "convocation et réessayez plus tard.")


def stop_text() -> str:
    """STOP: the alerts are forgotten."""
    return ("Alertes annulées : vous ne recevrez plus de SMS de ce service. Pour un "
            "résultat, envoyez BAC + numéro + date de naissance.")


def help_text(price: str | Decimal | float | None = None, error: MoError | None = None) -> str:
    """The help reply with the price (as the Minitel's home page states it), or, given an
    ``error``, :func:`error_text`."""
    if error is not None:
        return error_text(error, price)
    return (f"Envoyez BAC + numéro + date de naissance, ex. {EXAMPLE}. Avec ALERTE devant : "
            "envoi à la publication. STOP : arrêt." + _price_note(price))


def error_text(error: MoError, price: str | Decimal | float | None = None) -> str:
    """The reply to a message not understood: what was wrong, an example, and the price of
    this reply when given (it is charged like any other)."""
    return f"{error.detail} Ex. : {EXAMPLE}.{_price_note(price)}"


# -- packing a reply into short messages ----------------------------------------------------

class SmsEncoding(enum.StrEnum):
    """The alphabet of a short message."""

    GSM7 = "gsm7"  #: GSM 03.38 default alphabet, one septet per octet (SMPP data_coding 0)
    UCS2 = "ucs2"  #: UTF-16-BE, surrogate pairs for characters beyond the BMP (data_coding 8)


DC_GSM: Final = 0  #: SMPP 3.4 §5.2.19 data_coding: SMSC default alphabet (GSM 03.38 here)
DC_IA5: Final = 1  #: IA5 (CCITT T.50), i.e. ASCII
DC_LATIN1: Final = 3  #: ISO-8859-1
DC_UCS2: Final = 8  #: ISO/IEC 10646 UCS-2, sent as UTF-16-BE
ESM_UDHI: Final = 0x40  #: SMPP 3.4 §5.2.12 esm_class: short_message starts with a UDH
#: Most parts a reply may take; every reply of this module fits in one.
MAX_PARTS: Final = 6
ESCAPE: Final = 0x1B  #: GSM 03.38: the next septet is from the extension table
#: Bytes of short_message: a whole message, and a part after its 6-byte UDH (GSM 03.40
#: 9.2.3.24.1: 153 septets with a UDH, packed by the SMSC with one fill bit; 67 UCS-2 units).
_GSM_SINGLE, _GSM_PART, _UCS2_SINGLE, _UCS2_PART = 160, 153, 140, 134

_GSM: Final = frozenset(GSM_BASIC_ENCODE_MAP) | frozenset(GSM_EXTENDED_ENCODE_MAP)
_GSM_CODEC: Final = GSM7BitCodec()
_UCS2_CODEC: Final = UCS2Codec()
#: Characters GSM lacks whose NFKD decomposition gives nothing sensible (or nothing).
_TRANSLIT: Final = {
    "ç": "c", "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "‚": "'", "′": "'", "`": "'",
    "´": "'", "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "″": '"', "\t": " ",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2028": "\n", "\u2029": "\n",
    "…": "...", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "•": "-", "·": ".",
    "°": "o", "º": "o", "ª": "a", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i",
    "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ħ": "h", "Ħ": "H", "ŋ": "n", "Ŋ": "N",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}


class SmsDecodeError(ValueError):
    """Bytes that are not text in their data_coding; ``offset`` is in the message given."""

    def __init__(self, message: str, data_coding: int, offset: int) -> None:
        super().__init__(message)
        self.data_coding = data_coding
        self.offset = offset


@dataclass(frozen=True, slots=True)
class SmsParts:
    """A reply ready for submit_sm: ``parts`` are the short_message bytes, each with its
    UDH when there are several (then ``esm_class`` is 0x40). ``encoding`` and ``reason``
    say which alphabet and why; ``transliterated``: GSM after replacing characters it
    lacks; ``text`` is what the candidate reads; ``units``: septets (an escaped character
    counts 2) or UTF-16 units, UDH excluded."""

    parts: tuple[bytes, ...]
    encoding: SmsEncoding
    data_coding: int
    esm_class: int
    transliterated: bool
    reason: str
    text: str
    units: int

    @property
    def count(self) -> int:
        return len(self.parts)


@functools.lru_cache(maxsize=4096)
def _gsm_of(ch: str) -> str | None:
    """What replaces a character GSM lacks: the table's choice, else its NFKD decomposition
    without combining marks if that is all GSM ("ễ" -> "e", "ﬁ" -> "fi"), else None."""
    if ch in _TRANSLIT:
        return _TRANSLIT[ch]
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if c in _GSM:
            out.append(c)
        elif c in _TRANSLIT:
            out.append(_TRANSLIT[c])
        elif not unicodedata.combining(c):
            return None
    return "".join(out)


def _to_gsm(text: str) -> tuple[str | None, str]:
    """(the text in GSM characters, why) or (None, why not). Raises ValueError for a
    control character or a lone surrogate: nothing can send those."""
    if _GSM.issuperset(text):
        return text, "GSM 03.38: every character is in the default alphabet"
    out: list[str] = []
    changes: list[str] = []
    blocker = None
    for i, ch in enumerate(text):
        if ch in _GSM:
            out.append(ch)
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") and ch != "\t":
            raise ValueError(f"encode_sms: U+{ord(ch):04X} at offset {i} cannot be sent "
                             "(a control character or a lone surrogate)")
        sub = _gsm_of(ch) if blocker is None else None
        if sub is None:
            blocker = blocker or ch
            continue
        out.append(sub)
        if len(changes) < 4 and f"{ch}->{sub!r}" not in changes:
            changes.append(f"{ch}->{sub!r}")
    if blocker is not None:
        return None, (f"UCS-2: {blocker!r} (U+{ord(blocker):04X}) has no GSM 03.38 "
                      "transliteration")
    return "".join(out), "GSM 03.38 after transliteration: " + ", ".join(changes)


def _cut(data: bytes, single: int, per: int, ucs2: bool) -> list[bytes]:
    """``data`` whole if it fits ``single`` bytes, else parts of at most ``per`` bytes that
    never end inside an escape pair (GSM) or a surrogate pair (UCS-2)."""
    if len(data) <= single:
        return [data]
    out = []
    i = 0
    while i < len(data):
        j = min(i + per, len(data))
        if j < len(data):
            if ucs2 and 0xD8 <= data[j - 2] <= 0xDB:  # a high surrogate: keep its pair whole
                j -= 2
            elif not ucs2 and data[j - 1] == ESCAPE:  # only ever an escape's first byte
                j -= 1
        out.append(data[i:j])
        i = j
    return out


def encode_sms(text: str, *, ref: int, max_parts: int = MAX_PARTS) -> SmsParts:
    """``text`` as SMPP short messages.

    The rule: the text (NFC) goes in GSM 03.38 when every character is in the alphabet,
    or has a GSM transliteration (a small table: ç->c, œ->oe, ’->', «»->", no-break space
    -> space, …->...; else NFKD without combining marks: ê->e, "Nguyễn"->"Nguyen"); if one
    character has none ("王", Greek or Cyrillic small letters, emoji) the whole text goes
    in UCS-2, untouched. One message up to 160 septets or 70 UCS-2 units; beyond, parts of
    153 septets or 67 units behind a UDH ``05 00 03 ref total seq``.

    Raises ValueError (never another error) for a ``ref`` outside 0-255, a control
    character or lone surrogate in ``text``, or more than ``max_parts`` parts (naming the
    length)."""
    if not 0 <= ref <= 255:
        raise ValueError(f"encode_sms: ref {ref} is not an 8-bit reference (0-255)")
    if not 1 <= max_parts <= 255:
        raise ValueError(f"encode_sms: max_parts {max_parts} is outside 1-255 (UDH limit)")
    text = unicodedata.normalize("NFC", text)
    gsm, reason = _to_gsm(text)
    if gsm is not None:
        sent, encoding, coding, unit = gsm, SmsEncoding.GSM7, DC_GSM, "septets"
        payload = _GSM_CODEC.encode(gsm)[0]
        units = len(payload)
        chunks = _cut(payload, _GSM_SINGLE, _GSM_PART, ucs2=False)
    else:
        sent, encoding, coding, unit = text, SmsEncoding.UCS2, DC_UCS2, "UTF-16 units"
        payload = _UCS2_CODEC.encode(text)[0]
        units = len(payload) // 2
        chunks = _cut(payload, _UCS2_SINGLE, _UCS2_PART, ucs2=True)
    total = len(chunks)
    if total > max_parts:
        per = _GSM_PART if coding == DC_GSM else _UCS2_PART // 2
        raise ValueError(f"encode_sms: {units} {unit} need {total} parts, more than the "
                         f"{max_parts} allowed ({max_parts * per} {unit} at most)")
    parts: tuple[bytes, ...]
    if total == 1:
        parts, esm = (chunks[0],), 0
    else:
        parts = tuple(bytes((5, 0, 3, ref, total, seq)) + chunk
                      for seq, chunk in enumerate(chunks, start=1))
        esm = ESM_UDHI
    return SmsParts(parts, encoding, coding, esm, sent != text and coding == DC_GSM,
                    reason, sent, units)


_CODINGS: Final = {DC_GSM: "GSM 03.38", DC_IA5: "IA5", DC_LATIN1: "Latin-1",
                   DC_UCS2: "UCS-2"}


def decode_sms(data: bytes, data_coding: int, has_udh: bool = False) -> str:
    """A received short message's text: data_coding 0 (GSM 03.38, one septet per octet as
    SMPP carries it), 1 (IA5/ASCII), 3 (Latin-1) or 8 (UCS-2, surrogate pairs allowed);
    ``has_udh`` (esm_class 0x40): the UDH is skipped. Raises :class:`SmsDecodeError`
    naming the coding and the offset in ``data``, never another error.

    GSM escapes follow 3GPP TS 23.038 §6.2.1.1 where aiosmpplib does not: an undefined
    extension code reads as the basic table's character (aiosmpplib gives U+00A0), and
    ESC ESC as a space (aiosmpplib escapes twice)."""
    name = _CODINGS.get(data_coding)
    if name is None:
        raise SmsDecodeError(f"decode_sms: data_coding {data_coding} is not supported "
                             "(0 GSM 03.38, 1 IA5, 3 Latin-1, 8 UCS-2)", data_coding, 0)
    start = 0
    if has_udh:
        if not data:
            raise SmsDecodeError(f"decode_sms: a UDH is announced but the message is empty "
                                 f"({name}, data_coding {data_coding})", data_coding, 0)
        start = data[0] + 1
        if start > len(data):
            raise SmsDecodeError(f"decode_sms: the UDH says {data[0]} bytes, the message has "
                                 f"{len(data) - 1} after its length ({name}, data_coding "
                                 f"{data_coding})", data_coding, 0)
    body = bytes(data[start:])
    if data_coding == DC_LATIN1:
        return body.decode("latin-1")
    if data_coding in (DC_GSM, DC_IA5) and not body.isascii():
        at = next(i for i, b in enumerate(body) if b >= 0x80)
        what = "a GSM 03.38 septet" if data_coding == DC_GSM else "IA5"
        raise SmsDecodeError(f"decode_sms: byte 0x{body[at]:02X} at offset {start + at} is "
                             f"not {what} (data_coding {data_coding})", data_coding, start + at)
    if data_coding == DC_IA5:
        return body.decode("ascii")
    if data_coding == DC_GSM:
        return _GSM_CODEC.decode(_escapes(body, start) if ESCAPE in body else body)[0]
    try:
        text, used = _UCS2_CODEC.decode(body, "strict")
    except UnicodeDecodeError as e:
        raise SmsDecodeError(f"decode_sms: {e.reason} at offset {start + e.start} (UCS-2, "
                             "data_coding 8)", DC_UCS2, start + e.start) from None
    if used != len(body):  # aiosmpplib stops silently there (utf_16_be_decode, not final)
        what = "an odd last byte" if (len(body) - used) % 2 else "a lone high surrogate"
        raise SmsDecodeError(f"decode_sms: {what} at offset {start + used} (UCS-2, "
                             "data_coding 8)", DC_UCS2, start + used)
    return text


def _escapes(body: bytes, start: int) -> bytes:
    """GSM septets with each escape pair made one aiosmpplib decodes as TS 23.038 says."""
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        if b != ESCAPE:
            out.append(b)
            i += 1
            continue
        if i + 1 == len(body):
            raise SmsDecodeError(f"decode_sms: the message ends with an escape (0x1B) at "
                                 f"offset {start + i} (GSM 03.38, data_coding 0)", DC_GSM,
                                 start + i)
        code = body[i + 1]
        if code in GSM_EXTENDED_DECODE_MAP:
            out += bytes((ESCAPE, code))
        elif code == ESCAPE:
            out.append(0x20)  # reserved for a further table: "shall display a space"
        else:
            out.append(code)  # undefined: "display the character of the default table"
        i += 2
    return bytes(out)
