"""The result record: its public immutable class and its compact LMDB encoding.

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
from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Any

from .exams import _PREFIXES, Mention, Outcome

__all__ = ["FIELDS", "Result", "decode_public", "decode_record", "encode_record", "lazy_result", "name_key",
           "result_to_json"]

US = "\x1f"
_OUTCOMES = {o.value: o for o in Outcome}
_MENTIONS: dict[str, Mention | None] = {m.value: m for m in Mention}
_MENTIONS[""] = None


#: The public fields of a :class:`Result`, in order (repr, equality, pickling).
FIELDS = ("numero", "nom", "prenom", "naissance", "exam", "academie", "session", "serie",
          "resultat", "mention", "etablissement", "jury", "consent")
#: Fields decoded from the stored value on first access (lazy results).
_LAZY = frozenset(FIELDS) - {"numero", "naissance"}


class Result:
    """One candidate's published result: immutable, compared and hashed by value.

    Fields: ``numero``, ``nom``, ``prenom``, ``naissance`` (date), ``exam``,
    ``academie``, ``session`` (int), ``serie``, ``resultat`` (:class:`Outcome`),
    ``mention`` (:class:`Mention` or None), ``etablissement``, ``jury``,
    ``consent`` (bool). Built by keyword or position like a frozen dataclass.

    A lookup by number returns a *lazy* result: it holds the number, the
    (already checked) birth date and the stored value, and decodes the other
    fields together on the first access to any of them, so a lookup costs
    little more than the LMDB read. :meth:`replace` returns a modified copy.
    """

    __slots__ = (*FIELDS, "_raw")

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

    def __init__(self, numero: str, nom: str, prenom: str, naissance: datetime.date, exam: str,
                 academie: str, session: int, serie: str, resultat: Outcome,
                 mention: Mention | None, etablissement: str, jury: str, consent: bool) -> None:
        for name, value in zip(FIELDS, (numero, nom, prenom, naissance, exam, academie, session,
                                        serie, resultat, mention, etablissement, jury, consent),
                               strict=True):
            _set(self, name, value)

    if not TYPE_CHECKING:  # hidden from mypy, which would accept any attribute name
        def __getattr__(self, name: str) -> Any:
            # Called only for an unset slot: a lazy result's first field access.
            if name in _LAZY:
                _fill(self)
                return _get(self, name)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _astuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Result)
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in FIELDS)
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple[type[Result], tuple[Any, ...]]:
        return (type(self), self._astuple())

    def __copy__(self) -> Result:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Result:
        return self

    def replace(self, **changes: Any) -> Result:
        """A copy with some fields changed (like :func:`dataclasses.replace`)."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"Result has no field {', '.join(sorted(unknown))}")
        values = dict(zip(FIELDS, self._astuple(), strict=True))
        values.update(changes)
        return Result(**values)


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
_get = object.__getattribute__


def lazy_result(numero: str, value: bytes, naissance: datetime.date) -> Result:
    """A :class:`Result` that decodes ``value`` on first access. The caller
    guarantees that ``naissance`` equals the stored birth date and that
    ``value`` is a stored record (``bytes``, not a buffer into the map)."""
    result = _new(Result)
    _set_numero(result, numero)
    _set_naissance(result, naissance)
    _set_raw(result, value)
    return result


# The slots' own setters: cheaper than object.__setattr__ (no type lookup).
_set_numero = Result.numero.__set__  # type: ignore[attr-defined]
_set_naissance = Result.naissance.__set__  # type: ignore[attr-defined]
_set_raw = Result._raw.__set__  # type: ignore[attr-defined]


def _fill(result: Result) -> None:
    """Decode every lazy field of ``result`` from its stored value."""
    raw: bytes = _get(result, "_raw")
    head, nom, prenom, serie, oc, mc, etab, jury, consent = raw.decode().split(US)
    exam, academie = _PREFIXES[_get(result, "numero")[:3]]
    _set(result, "nom", nom)
    _set(result, "prenom", prenom)
    _set(result, "exam", exam)
    _set(result, "academie", academie)
    _set(result, "session", int(head[10:]))
    _set(result, "serie", serie)
    _set(result, "resultat", _OUTCOMES[oc])
    _set(result, "mention", _MENTIONS[mc])
    _set(result, "etablissement", etab)
    _set(result, "jury", jury)
    _set(result, "consent", consent == "1")


def decode_record(numero: str, value: bytes, naissance: datetime.date | None = None) -> Result:
    """Rebuild a :class:`Result` from its key and stored value, decoded at
    once (a malformed value raises here). ``naissance``, when the caller
    already holds the equal date, saves re-parsing it."""
    if naissance is None:
        naissance = datetime.date.fromisoformat(value[:10].decode())
    result = lazy_result(numero, bytes(value), naissance)
    _fill(result)
    return result


def decode_public(numero: str, value: bytes) -> Result:
    """:func:`decode_record` without the mention (results found by name)."""
    result = decode_record(numero, value)
    _set(result, "mention", None)
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
