"""What the voice service says, as data: the fixed prompts and the templates with slots.

Owns the French wording of the phone line: :class:`Prompt` names every fixed sentence (its
value is the key the dialogue plays, ``Say("ask_number")``), :data:`PROMPT_TEXTS` gives
each its text, and the templates build the sentences that hold a name or an hour.

Invariants:

- Outcome and mention words come from the store's own vocabulary
  (:attr:`Outcome.label_fr`, :attr:`Mention.label`), as the Minitel result page shows
  them: a new outcome cannot be forgotten here (:data:`PROMPT_TEXTS` is checked whole at
  import).
- The not-published sentence takes the official hour only: no number, no name, no
  candidate. Before publication it is the same words whether the number exists or not —
  the embargo rule of the Minitel service (``pages/service.py``), which decides when it
  is said; this module cannot leak what it is never given.
- Numbers meant to be heard (hours, minutes, days) are written out in French words here,
  not left to the engine: "14 h 30" read by espeak-ng says the letter "h", and "1 heure"
  says "un heure".
- Texts are sentences the engine reads as they are: nothing here runs an engine.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from videotex.store.exams import Mention, Outcome
from videotex.store.records import Result

__all__ = [
    "PROMPT_TEXTS",
    "Dynamic",
    "Prompt",
    "Segment",
    "digit_prompts",
    "not_published_segments",
    "not_published_text",
    "result_segments",
    "result_text",
    "segments_text",
    "speakable_name",
    "spoken_number",
    "spoken_time",
    "spoken_when",
]

#: Official hours are French hours, whatever the server's zone (as ``pages/layout.py``).
PARIS: Final = ZoneInfo("Europe/Paris")


class Prompt(enum.Enum):
    """A fixed prompt: rendered once, kept as G.711. The value is its key in the dialogue."""

    WELCOME = "welcome"
    ASK_NUMBER = "ask_number"
    ASK_BIRTH = "ask_birth"
    CORRECTION = "correction"  #: said when the caller presses star
    STAR_CORRECTS = "star_corrects"
    NO_INPUT = "no_input"  #: said on silence, before the question again
    NUMBER_INVALID = "number_invalid"
    BIRTH_INVALID = "birth_invalid"
    YOU_TYPED = "you_typed"
    SEARCHING = "searching"
    RESULT_INTRO = "result_intro"
    NOT_PUBLISHED = "not_published"  #: opens the answer before publication
    AT_OFFICIAL_HOUR = "at_official_hour"  #: the hour could not be synthesised (pool full)
    NOT_SCHEDULED = "not_scheduled"
    CALL_BACK = "call_back"
    NOT_FOUND = "not_found"
    REFUSED = "refused"
    AFTER_MENU = "after_menu"
    BUSY = "busy"
    GOODBYE = "goodbye"
    OUTCOME_ADMIS = "outcome_admis"
    OUTCOME_SECOND_GROUPE = "outcome_second_groupe"
    OUTCOME_AJOURNE = "outcome_ajourne"
    OUTCOME_ADMIS_APRES_SECOND_GROUPE = "outcome_admis_apres_second_groupe"
    OUTCOME_AJOURNE_APRES_SECOND_GROUPE = "outcome_ajourne_apres_second_groupe"
    OUTCOME_NOTES = "outcome_notes"
    MENTION_AB = "mention_ab"
    MENTION_B = "mention_b"
    MENTION_TB = "mention_tb"
    DIGIT_0 = "digit_0"
    DIGIT_1 = "digit_1"
    DIGIT_2 = "digit_2"
    DIGIT_3 = "digit_3"
    DIGIT_4 = "digit_4"
    DIGIT_5 = "digit_5"
    DIGIT_6 = "digit_6"
    DIGIT_7 = "digit_7"
    DIGIT_8 = "digit_8"
    DIGIT_9 = "digit_9"
    STAR = "star"
    HASH = "hash"

    @property
    def text(self) -> str:
        """The French text of this prompt."""
        return PROMPT_TEXTS[self]


_UNITS: Final = (
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
    "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit",
    "dix-neuf",
)
_TENS: Final = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante"}
_DAYS: Final = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS: Final = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre",
)

_FIXED: Final[dict[Prompt, str]] = {
    Prompt.WELCOME: "Bienvenue sur le service des résultats d'examens.",
    Prompt.ASK_NUMBER: "Tapez votre numéro de candidat, puis la touche dièse.",
    Prompt.ASK_BIRTH: ("Tapez votre date de naissance en huit chiffres : deux pour le jour, "
                       "deux pour le mois, et quatre pour l'année."),
    Prompt.CORRECTION: "Saisie effacée.",
    Prompt.STAR_CORRECTS: "En cas d'erreur, la touche étoile corrige.",
    Prompt.NO_INPUT: "Je n'ai rien reçu.",
    Prompt.NUMBER_INVALID: "Le numéro de candidat compte dix chiffres.",
    Prompt.BIRTH_INVALID: "Cette date de naissance n'est pas valide.",
    Prompt.YOU_TYPED: "Vous avez tapé :",
    Prompt.SEARCHING: "Recherche en cours, veuillez patienter.",
    Prompt.RESULT_INTRO: "Voici votre résultat.",
    Prompt.NOT_PUBLISHED: "Pas encore publié.",
    Prompt.AT_OFFICIAL_HOUR: ("Les résultats de votre académie seront publiés à l'heure "
                              "officielle fixée par l'académie."),
    Prompt.NOT_SCHEDULED: ("L'heure de publication des résultats de votre académie n'est pas "
                           "encore fixée. Rappelez plus tard."),
    Prompt.CALL_BACK: "Inutile de rester en ligne : rappelez après cette heure.",
    Prompt.NOT_FOUND: ("Aucun résultat ne correspond à ce numéro et à cette date de "
                       "naissance. Vérifiez votre convocation."),
    Prompt.REFUSED: ("Trop de recherches sans résultat depuis cet appel. Vérifiez votre "
                     "convocation et rappelez plus tard."),
    Prompt.AFTER_MENU: ("Pour une autre recherche, tapez 1. Pour réécouter, tapez 2."),
    Prompt.BUSY: "Le service est très demandé. Merci de patienter.",
    Prompt.GOODBYE: "Merci de votre appel. Au revoir.",
    Prompt.STAR: "étoile",
    Prompt.HASH: "dièse",
}

#: Outcome -> its prompt; words from the store's vocabulary (the Minitel page's wording).
OUTCOME_PROMPTS: Final = MappingProxyType({o: Prompt[f"OUTCOME_{o.name}"] for o in Outcome})
#: Mention -> its prompt.
MENTION_PROMPTS: Final = MappingProxyType({m: Prompt[f"MENTION_{m.name}"] for m in Mention})
#: "0".."9" -> the prompt that says the digit.
DIGIT_PROMPTS: Final = MappingProxyType({str(d): Prompt[f"DIGIT_{d}"] for d in range(10)})


def _vocabulary() -> dict[Prompt, str]:
    words: dict[Prompt, str] = {}
    for outcome, prompt in OUTCOME_PROMPTS.items():
        words[prompt] = outcome.label_fr.capitalize() + "."
    for mention, prompt in MENTION_PROMPTS.items():
        words[prompt] = f"Mention {mention.label.lower()}."
    for digit, prompt in DIGIT_PROMPTS.items():
        words[prompt] = _UNITS[int(digit)]
    return words


def _table() -> Mapping[Prompt, str]:
    table = {**_FIXED, **_vocabulary()}
    missing = [p.name for p in Prompt if p not in table]
    if missing:
        raise RuntimeError(f"videotex/voice/prompts.py: no text for prompt(s) {', '.join(missing)}")
    return MappingProxyType({p: table[p] for p in Prompt})


#: Every prompt's French text (read-only).
PROMPT_TEXTS: Final[Mapping[Prompt, str]] = _table()

#: The official hour, between :data:`Prompt.NOT_PUBLISHED` and :data:`Prompt.CALL_BACK`;
#: ``{when}`` is :func:`spoken_when` of the hour.
PUBLISHED_AT: Final = "Les résultats de votre académie seront publiés {when}."
#: The candidate's name, after :data:`Prompt.RESULT_INTRO`.
CANDIDATE: Final = "{prenom} {nom}."


@dataclass(frozen=True, slots=True)
class Dynamic:
    """A text synthesised at call time. ``fallback``: what to say instead when the pool is
    full or the engine fails (None: wait for a slot, and raise if the engine fails)."""

    text: str
    fallback: Prompt | None = None


#: One piece of an answer: a cached prompt or a text to synthesise.
Segment = Prompt | Dynamic


def spoken_number(n: int, *, feminine: bool = False) -> str:
    """``n`` (0–59) in French words: 21 ``vingt et un``, 45 ``quarante-cinq``; with
    ``feminine``, a final "un" is "une" (une heure, vingt et une heures)."""
    if not 0 <= n <= 59:
        raise ValueError(f"spoken_number: {n} is outside 0-59 (hours, minutes and days only)")
    if n < 20:
        words = _UNITS[n]
    else:
        tens, unit = divmod(n, 10)
        words = _TENS[tens] + ("" if unit == 0 else " et un" if unit == 1 else f"-{_UNITS[unit]}")
    if feminine and (words == "un" or words.endswith(" un")):
        words += "e"
    return words


def spoken_time(when: datetime) -> str:
    """The hour in Paris as said on the phone: ``quatorze heures trente``, ``une heure``,
    ``dix heures cinq``; minutes are omitted on the hour."""
    local = when.astimezone(PARIS)
    hours = spoken_number(local.hour, feminine=True)
    text = f"{hours} {'heure' if local.hour <= 1 else 'heures'}"
    if local.minute:
        text += " " + spoken_number(local.minute, feminine=True)
    return text


def spoken_when(when: datetime, now: datetime) -> str:
    """``aujourd'hui à quatorze heures``, or ``le vendredi huit juillet à dix heures``
    (``le vendredi premier juillet`` on the first): the words of the Minitel's
    ``format_when``, for the ear."""
    local = when.astimezone(PARIS)
    at = f"à {spoken_time(when)}"
    if now.astimezone(PARIS).date() == local.date():
        return f"aujourd'hui {at}"
    day = "premier" if local.day == 1 else spoken_number(local.day)
    return f"le {_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {at}"


def not_published_segments(scheduled_at: datetime | None, now: datetime) -> tuple[Segment, ...]:
    """What to say before publication: "pas encore publié", then the official hour when it
    is set (synthesised while the opening prompt plays; :data:`Prompt.AT_OFFICIAL_HOUR`
    when the pool is full) and "rappelez après cette heure", else that the hour is not set.
    Takes no number: the same words whether the candidate exists or not."""
    if scheduled_at is None:
        return (Prompt.NOT_PUBLISHED, Prompt.NOT_SCHEDULED)
    text = PUBLISHED_AT.format(when=spoken_when(scheduled_at, now))
    return (Prompt.NOT_PUBLISHED, Dynamic(text, fallback=Prompt.AT_OFFICIAL_HOUR),
            Prompt.CALL_BACK)


def not_published_text(scheduled_at: datetime | None, now: datetime) -> str:
    """:func:`not_published_segments` as one text."""
    return segments_text(not_published_segments(scheduled_at, now))


def speakable_name(name: str) -> str:
    """A name as an engine should read it: a name in capitals in title case (some engines
    spell capitals letter by letter: "LE GALL" -> "Le Gall", "N'DIAYE" -> "N'Diaye")."""
    name = " ".join(name.split())
    return name.title() if name.isupper() else name


def result_segments(result: Result) -> tuple[Segment, ...]:
    """A result as said on the phone: "voici votre résultat", the name (synthesised while
    the intro plays; no fallback: the name is how the caller knows the result is theirs,
    so a full pool makes this wait), the outcome, the mention when there is one (the
    caller gave number and birth date: the mention is theirs, as on the Minitel page)."""
    name = CANDIDATE.format(prenom=speakable_name(result.prenom),
                            nom=speakable_name(result.nom))
    out: list[Segment] = [Prompt.RESULT_INTRO, Dynamic(name), OUTCOME_PROMPTS[result.resultat]]
    if result.mention is not None:
        out.append(MENTION_PROMPTS[result.mention])
    return tuple(out)


def result_text(result: Result) -> str:
    """:func:`result_segments` as one text (one synthesis, the whole sentence's prosody)."""
    return segments_text(result_segments(result))


def digit_prompts(digits: str) -> tuple[Prompt, ...]:
    """The cached prompts that spell ``digits`` (``0``–``9``, ``*``, ``#``) one by one."""
    keys = {**DIGIT_PROMPTS, "*": Prompt.STAR, "#": Prompt.HASH}
    bad = sorted({c for c in digits if c not in keys})
    if bad:
        raise ValueError(f"digit_prompts: cannot spell {''.join(bad)!r} in {digits!r} "
                         "(keypad keys 0-9, * and # only)")
    return tuple(keys[c] for c in digits)


def segments_text(segments: tuple[Segment, ...]) -> str:
    """The text of segments read in one go (dynamic texts themselves, not their fallbacks)."""
    return " ".join(s.text for s in segments)
