"""What the voice service says, as data: the fixed prompts' texts by key, and the items of
an answer to a lookup (:func:`answer_items`).

The wording follows the Minitel service's pages (``pages/result.py``): the result with the
mention when there is one; before publication the exam, the académie and its official hour
(or that the hour is not fixed yet), and nothing that tells whether the number exists; a
number not found; a caller refused after too many failed lookups. An answer starts with a
fixed prompt (cached: its first sample goes out at once) and goes on with what is
synthesised at call time (names, hours), which has that prompt's length to be ready.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .dialogue import Item, Say, Speak

__all__ = ["PROMPTS", "answer_items", "spoken_hour"]

#: The fixed prompts, by the keys the dialogue says them by.
PROMPTS: dict[str, str] = {
    "welcome": "Bienvenue au service des résultats des examens.",
    "ask_number": "Tapez votre numéro de candidat, puis la touche dièse.",
    "ask_birth": "Tapez votre date de naissance, en huit chiffres : le jour, le mois, "
                 "puis l'année.",
    "correction": "Correction.",
    "number_invalid": "Le numéro de candidat compte dix chiffres.",
    "birth_invalid": "Cette date n'est pas valide.",
    "no_input": "Je n'ai rien reçu.",
    "searching": "Recherche en cours.",
    "result_intro": "Voici votre résultat.",
    "not_published": "Vos résultats ne sont pas encore publiés.",
    "not_scheduled": "L'heure de publication n'est pas encore fixée par l'académie. "
                     "Rappelez plus tard : chaque minute est facturée.",
    "call_back": "Inutile de rester en ligne : chaque minute est facturée. Rappelez après "
                 "cette heure.",
    "not_found": "Aucun résultat ne correspond à ce numéro et à cette date de naissance. "
                 "Vérifiez votre convocation.",
    "refused": "Trop de recherches sans résultat depuis votre ligne. Rappelez plus tard.",
    "after_menu": "Pour une autre recherche, tapez 1. Pour réécouter, tapez 2. "
                  "Sinon, raccrochez.",
    "goodbye": "Merci de votre appel. Au revoir.",
    **{f"digit_{d}": w for d, w in zip("0123456789", (
        "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
        strict=True)},
}

_OUTCOMES = {
    "ADMIS": "Admis.",
    "SECOND_GROUPE": "Admissible au second groupe : oral de rattrapage.",
    "AJOURNE": "Ajourné.",
    "ADMIS_APRES_SECOND_GROUPE": "Admis après le second groupe.",
    "AJOURNE_APRES_SECOND_GROUPE": "Ajourné après le second groupe.",
    "NOTES": "Notes communiquées.",
}


def spoken_hour(when: datetime) -> str:
    """``10 h 30`` as a voice says it: "10 heures 30", "14 heures", "midi"."""
    from pages.layout import PARIS

    local = when.astimezone(PARIS)
    if local.hour == 12 and local.minute == 0:
        return "midi"
    hour = "1 heure" if local.hour == 1 else f"{local.hour} heures"
    return hour if local.minute == 0 else f"{hour} {local.minute}"


def _when(scheduled: datetime, now: datetime) -> str:
    from pages.layout import PARIS

    local, today = scheduled.astimezone(PARIS), now.astimezone(PARIS)
    if local.date() == today.date():
        return f"aujourd'hui à {spoken_hour(scheduled)}"
    from pages.layout import format_when

    day = format_when(scheduled).rsplit(" à ", 1)[0]
    return f"{day} à {spoken_hour(scheduled)}"


def answer_items(found: Any, service: Any, now: datetime) -> tuple[Item, ...]:
    """The items that say ``found`` (a :class:`pages.service.Consultation`)."""
    if found.kind == "result":
        r = found.result
        # a surname in capitals may be spelt letter by letter by a speech engine
        items: list[Item] = [Say("result_intro"), Speak(f"{r.prenom} {r.nom.title()}."),
                             Speak(_OUTCOMES.get(r.resultat.name, r.resultat.label_fr))]
        if r.mention is not None:
            items.append(Speak(f"Mention {r.mention.label.lower()}."))
        return tuple(items)
    if found.kind == "not-published":
        exam, academie = found.batch
        if found.scheduled_at is None:
            return (Say("not_published"), Say("not_scheduled"))
        name = service.exam_name(exam)
        of = "des " + name[0].lower() + name[1:] if name.startswith("Épreuves") else \
            "du " + name[0].lower() + name[1:]
        sentence = (f"Les résultats {of}, académie de "
                    f"{service.academie_name(academie)}, seront publiés "
                    f"{_when(found.scheduled_at, now)}.")
        return (Say("not_published"), Speak(sentence), Say("call_back"))
    return (Say("not_found"),)
