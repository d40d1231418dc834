"""The result record: its public dataclass and its compact LMDB encoding.

A record is stored under its 10-digit ``numero`` (ASCII) as UTF-8 text:
the ISO birth date (10 bytes) then, separated by US (0x1F), session, nom,
prénom, série, outcome code, mention code, établissement, jury, consent
("1"/"0"). Exam and académie are not stored: the number's prefix says them.
Validation guarantees no field holds a control character, so US is safe.

The name index maps ``prefix + NOM + US + PRENOM + US + numero`` (normalised
names, prefix = the batch's three digits) to an empty value; only candidates
who consented are indexed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from .exams import _PREFIXES, Mention, Outcome

__all__ = ["Result", "decode_record", "decode_text", "encode_record", "name_key", "result_to_json"]

US = "\x1f"
_OUTCOMES = {o.value: o for o in Outcome}
_MENTIONS: dict[str, Mention | None] = {m.value: m for m in Mention}
_MENTIONS[""] = None


@dataclass(frozen=True)
class Result:
    """One candidate's published result."""

    numero: str
    nom: str
    prenom: str
    naissance: datetime.date
    exam: str
    academie: str
    session: int
    serie: str
    resultat: Outcome
    mention: Mention | None
    etablissement: str
    jury: str
    consent: bool


def encode_record(naissance_iso: str, session: int, nom: str, prenom: str, serie: str,
                  outcome: Outcome, mention: Mention | None, etablissement: str, jury: str,
                  consent: bool) -> bytes:
    """The stored value of a result (see module docstring)."""
    return US.join((
        naissance_iso + str(session), nom, prenom, serie, outcome.value,
        mention.value if mention else "", etablissement, jury, "1" if consent else "0",
    )).encode()


def name_key(prefix: str, nom_norm: str, prenom_norm: str, numero: str) -> bytes:
    """The name-index key of a consenting candidate."""
    return f"{prefix}{nom_norm}{US}{prenom_norm}{US}{numero}".encode()


_new = object.__new__
_set = object.__setattr__


def decode_record(numero: str, value: bytes, naissance: datetime.date | None = None) -> Result:
    """Rebuild a :class:`Result` from its key and stored value. ``naissance``,
    when the caller already holds the equal date, saves re-parsing it."""
    return decode_text(numero, value.decode(), naissance)


def decode_text(numero: str, text: str, naissance: datetime.date | None = None) -> Result:
    """:func:`decode_record` from the already decoded value."""
    head, nom, prenom, serie, oc, mc, etab, jury, consent = text.split(US)
    exam, academie = _PREFIXES[numero[:3]]
    # Lookups are the hot path: setting __dict__ at once is about 3x faster
    # than the frozen dataclass __init__ (13 object.__setattr__ calls).
    result = _new(Result)
    _set(result, "__dict__", dict(
        numero=numero, nom=nom, prenom=prenom,
        naissance=naissance if naissance is not None else datetime.date.fromisoformat(head[:10]),
        exam=exam, academie=academie, session=int(head[10:]), serie=serie,
        resultat=_OUTCOMES[oc], mention=_MENTIONS[mc], etablissement=etab, jury=jury,
        consent=consent == "1",
    ))
    return result


def result_to_json(result: Result) -> dict[str, Any]:
    """A JSON-ready dict of a result (CLI ``lookup`` output)."""
    return {
        "numero": result.numero,
        "nom": result.nom,
        "prenom": result.prenom,
        "naissance": result.naissance.isoformat(),
        "exam": result.exam,
        "academie": result.academie,
        "session": result.session,
        "serie": result.serie,
        "resultat": result.resultat.name.lower(),
        "resultat_label": result.resultat.label_fr,
        "mention": result.mention.value if result.mention else None,
        "mention_label": result.mention.label if result.mention else None,
        "etablissement": result.etablissement,
        "jury": result.jury,
    }
