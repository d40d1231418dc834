"""Exams, académies and the result vocabulary (see ``docs/results-format.md``).

Owns every identifier the store accepts: exam ids and their one-digit codes,
académie ids and their two-digit codes (the order of the domain reference),
the outcomes and mentions with their accepted spellings, the bac séries, and
name normalisation for searches. Candidate numbers are self-describing: two
digits of académie, one of exam, seven of serial (:func:`batch_of_number`).
"""

from __future__ import annotations

import enum
import re
import unicodedata

__all__ = [
    "ACADEMIES",
    "ACADEMY_CODES",
    "BAC_SERIES",
    "EXAMS",
    "EXAM_CODES",
    "MENTION_EXAMS",
    "Mention",
    "Outcome",
    "allowed_outcomes",
    "batch_of_number",
    "batch_prefix",
    "check_batch",
    "mention_allowed",
    "normalise_name",
    "parse_mention",
    "parse_outcome",
    "parse_serie",
    "vocab_key",
]

#: Exam id -> display name (exam-results-domain.md, "Exams, outcomes, vocabulary").
EXAMS: dict[str, str] = {
    "bac": "Baccalauréat général et technologique",
    "bac-pro": "Baccalauréat professionnel",
    "anticipes": "Épreuves anticipées du baccalauréat",
    "brevet": "Diplôme national du brevet",
    "cap": "Certificat d'aptitude professionnelle",
    "bep": "Brevet d'études professionnelles",
    "bts": "Brevet de technicien supérieur",
}

#: Exam id -> the one-digit code in candidate numbers (lead's decision).
EXAM_CODES: dict[str, str] = {exam: str(i) for i, exam in enumerate(EXAMS, start=1)}

#: Académie id -> display name, in the domain reference's order (codes 01–30).
ACADEMIES: dict[str, str] = {
    "aix-marseille": "Aix-Marseille",
    "amiens": "Amiens",
    "besancon": "Besançon",
    "bordeaux": "Bordeaux",
    "caen": "Caen",
    "clermont-ferrand": "Clermont-Ferrand",
    "corse": "Corse",
    "creteil": "Créteil",
    "dijon": "Dijon",
    "grenoble": "Grenoble",
    "lille": "Lille",
    "limoges": "Limoges",
    "lyon": "Lyon",
    "montpellier": "Montpellier",
    "nancy-metz": "Nancy-Metz",
    "nantes": "Nantes",
    "nice": "Nice",
    "orleans-tours": "Orléans-Tours",
    "paris": "Paris",
    "poitiers": "Poitiers",
    "reims": "Reims",
    "rennes": "Rennes",
    "rouen": "Rouen",
    "strasbourg": "Strasbourg",
    "toulouse": "Toulouse",
    "versailles": "Versailles",
    "guadeloupe": "Guadeloupe",
    "guyane": "Guyane",
    "martinique": "Martinique",
    "la-reunion": "La Réunion",
}

#: Académie id -> the two-digit code in candidate numbers.
ACADEMY_CODES: dict[str, str] = {a: f"{i:02d}" for i, a in enumerate(ACADEMIES, start=1)}

_PREFIXES: dict[str, tuple[str, str]] = {
    ACADEMY_CODES[a] + EXAM_CODES[e]: (e, a) for a in ACADEMIES for e in EXAMS
}


class Outcome(enum.Enum):
    """A candidate's result; the value is the one-letter code stored in LMDB."""

    ADMIS = "A"  #: domain reference, "Exams": admis
    SECOND_GROUPE = "S"  #: bac: admissible au second groupe (oral de rattrapage)
    AJOURNE = "J"  #: ajourné
    ADMIS_APRES_SECOND_GROUPE = "P"  #: bac: admis after the second group (no mention)
    AJOURNE_APRES_SECOND_GROUPE = "Q"  #: bac: ajourné after the second group
    NOTES = "N"  #: anticipés: marks only, no pass/fail

    @property
    def label_fr(self) -> str:
        """The wording shown to candidates, upper case as on 1991 pages."""
        return _OUTCOME_LABELS[self]

    @property
    def admitted(self) -> bool:
        return self in (Outcome.ADMIS, Outcome.ADMIS_APRES_SECOND_GROUPE)


_OUTCOME_LABELS = {
    Outcome.ADMIS: "ADMIS",
    Outcome.SECOND_GROUPE: "ADMISSIBLE AU SECOND GROUPE",
    Outcome.AJOURNE: "AJOURNÉ",
    Outcome.ADMIS_APRES_SECOND_GROUPE: "ADMIS APRÈS LE SECOND GROUPE",
    Outcome.AJOURNE_APRES_SECOND_GROUPE: "AJOURNÉ APRÈS LE SECOND GROUPE",
    Outcome.NOTES: "NOTES COMMUNIQUÉES",
}


class Mention(enum.Enum):
    """A mention for admitted candidates; the value is the code in files and LMDB."""

    AB = "AB"  #: domain reference: Assez Bien, 12–14
    B = "B"  #: Bien, 14–16
    TB = "TB"  #: Très Bien, 16 and more

    @property
    def label(self) -> str:
        return _MENTION_LABELS[self]


_MENTION_LABELS = {Mention.AB: "Assez bien", Mention.B: "Bien", Mention.TB: "Très bien"}

#: Accepted ``resultat`` spellings, after :func:`vocab_key` (accents, case, spaces).
OUTCOME_SPELLINGS: dict[str, Outcome] = {
    "admis": Outcome.ADMIS,
    "admise": Outcome.ADMIS,
    "admis(e)": Outcome.ADMIS,
    "second groupe": Outcome.SECOND_GROUPE,
    "admissible": Outcome.SECOND_GROUPE,
    "admissible au second groupe": Outcome.SECOND_GROUPE,
    "ajourne": Outcome.AJOURNE,
    "ajournee": Outcome.AJOURNE,
    "ajourne(e)": Outcome.AJOURNE,
    "admis apres second groupe": Outcome.ADMIS_APRES_SECOND_GROUPE,
    "admis apres le second groupe": Outcome.ADMIS_APRES_SECOND_GROUPE,
    "ajourne apres second groupe": Outcome.AJOURNE_APRES_SECOND_GROUPE,
    "ajourne apres le second groupe": Outcome.AJOURNE_APRES_SECOND_GROUPE,
    "notes": Outcome.NOTES,
    "notes communiquees": Outcome.NOTES,
}

#: Accepted ``mention`` spellings, after :func:`vocab_key`; "" is no mention.
MENTION_SPELLINGS: dict[str, Mention | None] = {
    "": None,
    "ab": Mention.AB,
    "assez bien": Mention.AB,
    "b": Mention.B,
    "bien": Mention.B,
    "tb": Mention.TB,
    "tres bien": Mention.TB,
}

_PASS_FAIL = frozenset({Outcome.ADMIS, Outcome.AJOURNE})
_ALLOWED: dict[str, frozenset[Outcome]] = {
    "bac": frozenset(set(Outcome) - {Outcome.NOTES}),
    "bac-pro": _PASS_FAIL,  # no second group in 2005
    "anticipes": frozenset({Outcome.NOTES}),
    "brevet": _PASS_FAIL,
    "cap": _PASS_FAIL,
    "bep": _PASS_FAIL,
    "bts": _PASS_FAIL,
}

#: Exams with mentions, and the first session that had them.
MENTION_EXAMS: dict[str, int] = {"bac": 0, "bac-pro": 0, "brevet": 2006}

#: Bac séries of 2005 (domain reference), canonical spelling by vocab key.
BAC_SERIES: dict[str, str] = {
    s.lower(): s
    for s in ("L", "ES", "S", "STT", "STG", "STI", "STL", "SMS", "TMD", "STAE", "STPA")
}
BAC_SERIES["hotellerie"] = "Hôtellerie"
BAC_SERIES["stae/stpa"] = "STAE/STPA"
BAC_SERIES["stt/stg"] = "STT/STG"

_SPACES = re.compile(r"\s+")


def vocab_key(text: str) -> str:
    """Lower case, accents stripped, inner spaces collapsed: how vocabulary is matched."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped)


_LIGATURES = str.maketrans({"Œ": "OE", "œ": "OE", "Æ": "AE", "æ": "AE", "ß": "SS",
                            "-": " ", "'": " ", "’": " ", "‘": " "})


def normalise_name(name: str) -> str:
    """A name as indexed and searched: NFKD, accents stripped, upper case,
    hyphens and apostrophes to spaces, spaces collapsed ("Lefèvre-d'Orçay"
    -> "LEFEVRE D ORCAY")."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_LIGATURES))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.upper().split())


def check_batch(exam: str, academie: str) -> None:
    """Raise ``ValueError`` naming the bad exam or académie id."""
    if exam not in EXAMS:
        raise ValueError(f"unknown exam {exam!r}; expected one of {', '.join(EXAMS)}")
    if academie not in ACADEMIES:
        raise ValueError(f"unknown académie {academie!r}; expected one of {', '.join(ACADEMIES)}")


def batch_prefix(exam: str, academie: str) -> str:
    """The three leading digits of every candidate number of a batch."""
    check_batch(exam, academie)
    return ACADEMY_CODES[academie] + EXAM_CODES[exam]


def batch_of_number(numero: str) -> tuple[str, str] | None:
    """The (exam, académie) a candidate number belongs to, or None if it is not
    a well-formed number. Reveals nothing about whether the candidate exists."""
    if len(numero) != 10 or not numero.isascii() or not numero.isdigit():
        return None
    return _PREFIXES.get(numero[:3])


def allowed_outcomes(exam: str) -> frozenset[Outcome]:
    """The outcomes a batch of this exam may contain."""
    return _ALLOWED[exam]


def mention_allowed(exam: str, session: int) -> bool:
    """Whether admitted candidates of this exam and session may have a mention."""
    first = MENTION_EXAMS.get(exam)
    return first is not None and session >= first


def parse_outcome(text: str) -> Outcome | None:
    """The outcome for an accepted spelling, else None."""
    return OUTCOME_SPELLINGS.get(vocab_key(text))


def parse_mention(text: str) -> tuple[bool, Mention | None]:
    """(recognised, mention) for a ``mention`` cell; an empty cell is (True, None)."""
    key = vocab_key(text)
    if key in MENTION_SPELLINGS:
        return True, MENTION_SPELLINGS[key]
    return False, None


def parse_serie(exam: str, text: str) -> str | None:
    """The canonical série: a bac série from :data:`BAC_SERIES`, or for other
    exams the stripped free text (a spécialité); None if not acceptable."""
    text = " ".join(text.split())
    if exam == "bac":
        return BAC_SERIES.get(vocab_key(text))
    if not text or len(text) > 60:
        return None
    return text
