"""What the SMS channel answers, sans-IO: the replies' French words.

Owns the replies (:func:`result_text`, :func:`not_published_text`, :func:`help_text`,
...): the Minitel's rules (``pages/result.py``) in one SMS each where possible. A result
by number and birth date says the names, the outcome and the mention; before publication
the words are built from the batch (exam, académie) and the official hour only — never
the number — so they are the same whether the candidate exists or not: this module cannot
leak what it is not given. What a message asked is :mod:`videotex.sms.parse`'s; whether a
reply fits in one SMS, :func:`videotex.sms.gsm.encode_sms`'s count.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from videotex.sms.gsm import encode_sms
from videotex.sms.parse import EXAMPLE, MoError
from videotex.store.exams import ACADEMIES, EXAMS
from videotex.store.records import Result

__all__ = [
    "alert_already_text",
    "alert_confirm_text",
    "alert_not_found_text",
    "error_text",
    "help_text",
    "not_found_text",
    "not_published_text",
    "refused_text",
    "result_text",
    "stop_text",
    "too_many_alerts_text",
]

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
    raise RuntimeError("videotex/sms/wording.py: _EXAM_LABELS does not name exactly the exams "
                       f"of videotex.store.exams.EXAMS ({', '.join(EXAMS)})")
_EXAM_IDS: Final = {**{name: e for e, name in EXAMS.items()}, **{e: e for e in EXAMS}}
_ACADEMIE_NAMES: Final = {**{n: n for n in ACADEMIES.values()}, **ACADEMIES}


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


def result_text(result: Result) -> str:
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
