"""Provider results files: CSV parsing and validation into LMDB records.

Input is UTF-8 CSV with a header row (see ``docs/results-format.md``). Every
row is checked against the batch (exam, académie, session); the first bad
row raises :class:`ValidationError` naming the file, the line and the field,
and rejects the whole batch. The output is ready to load: result records and
name-index keys, both sorted by key so LMDB appends them cheaply.
"""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import dataclass

from .errors import ValidationError
from .exams import (
    Mention,
    Outcome,
    allowed_outcomes,
    batch_prefix,
    mention_allowed,
    normalise_name,
    parse_mention,
    parse_outcome,
    parse_serie,
    vocab_key,
)

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "ParsedBatch", "parse_results"]

#: Required columns, in the documented order.
COLUMNS = ("numero", "nom", "prenom", "naissance", "serie", "resultat", "mention", "publication")
#: Optional columns.
OPTIONAL_COLUMNS = ("etablissement", "jury")

_CONSENT = {"oui": True, "non": False}
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_TEXT = 80


@dataclass(frozen=True)
class ParsedBatch:
    """A validated batch, ready to load."""

    exam: str
    academie: str
    session: int
    #: (numero, encoded record), sorted by numero.
    records: list[tuple[bytes, bytes]]
    #: (name-index key, b""), sorted, consenting candidates only.
    names: list[tuple[bytes, bytes]]

    @property
    def rows(self) -> int:
        return len(self.records)


def _header(file: str, header: list[str] | None) -> dict[str, int]:
    if not header:
        raise ValidationError(file, 1, "(header)", "empty file: expected a header row "
                              f"with columns {', '.join(COLUMNS)}")
    names = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS:
            raise ValidationError(file, 1, name or f"(column {i + 1})", "unknown column; expected "
                                  f"{', '.join(COLUMNS + OPTIONAL_COLUMNS)}")
        if name in index:
            raise ValidationError(file, 1, name, "column appears twice")
        index[name] = i
    for name in COLUMNS:
        if name not in index:
            raise ValidationError(file, 1, name, "required column is missing")
    return index


def parse_results(data: bytes | str, file: str, exam: str, academie: str, session: int,
                  today: datetime.date | None = None) -> ParsedBatch:
    """Validate a whole results file for one batch; raise on the first bad row."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ValidationError(file, line, "(encoding)", f"not UTF-8: {exc.reason}") from None
    else:
        text = data
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    header = _split(file, 1, lines[0]) if lines else None
    index = _header(file, header)
    return _Validator(file, exam, academie, session, index, today).run(lines)


def _split(file: str, line: int, text: str) -> list[str]:
    """One CSV record. Fields never hold line breaks (control characters are
    refused), so a record is one line; only lines with quotes need :mod:`csv`."""
    if text.endswith("\r"):
        text = text[:-1]
    if '"' not in text:
        return text.split(",")
    try:
        return next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise ValidationError(file, line, "(csv)", str(exc)) from None


class _Validator:
    """Row checks with caches: vocabularies, dates and names repeat a lot."""

    def __init__(self, file: str, exam: str, academie: str, session: int,
                 index: dict[str, int], today: datetime.date | None) -> None:
        self.file = file
        self.exam = exam
        self.academie = academie
        self.session = session
        self.prefix = batch_prefix(exam, academie)
        self.index = index
        self.outcomes = allowed_outcomes(exam)
        self.mentions_ok = mention_allowed(exam, session)
        today = today or datetime.date.today()
        self.oldest = datetime.date(session - 80, 1, 1)
        self.youngest = min(datetime.date(session - 10, 12, 31), today)
        self.dates: set[str] = set()
        self.norms: dict[str, str] = {}

    def fail(self, line: int, field: str, reason: str) -> ValidationError:
        return ValidationError(self.file, line, field, reason)

    def run(self, lines: list[str]) -> ParsedBatch:
        ix = self.index
        i_num, i_nom, i_pre, i_nai = ix["numero"], ix["nom"], ix["prenom"], ix["naissance"]
        i_ser, i_res, i_men, i_pub = ix["serie"], ix["resultat"], ix["mention"], ix["publication"]
        i_eta, i_jur = ix.get("etablissement"), ix.get("jury")
        ncols = len(ix)
        prefix = self.prefix
        seen: dict[str, int] = {}
        records: list[tuple[bytes, bytes]] = []
        names: list[tuple[bytes, bytes]] = []
        # Caches: vocabularies, dates, names and schools repeat a lot in a batch.
        outcome_cache: dict[str, Outcome] = {}
        mention_cache: dict[tuple[str, Outcome], str] = {}
        serie_cache: dict[str, str] = {}
        texts: dict[tuple[str, str], str] = {}
        dates = self.dates
        norms = self.norms
        session = str(self.session)
        file = self.file
        for line, text in enumerate(lines[1:], start=2):
            row = _split(file, line, text) if '"' in text or "\r" in text else text.split(",")
            if len(row) != ncols:
                if not any(cell.strip() for cell in row):
                    continue  # blank line
                raise self.fail(line, "(row)", f"expected {ncols} columns, found {len(row)}")
            if _CTRL.search("".join(row)):
                field = next(n for n, i in ix.items() if _CTRL.search(row[i]))
                raise self.fail(line, field, "contains a control character (tab, newline...)")
            numero = row[i_num].strip()
            if len(numero) != 10 or not numero.isdigit() or not numero.isascii():
                raise self.fail(line, "numero", f"{numero!r} is not a 10-digit candidate number")
            if numero[:3] != prefix:
                raise self.fail(line, "numero", f"{numero!r} does not start with {prefix} "
                                f"({self.exam}, {self.academie})")
            first = seen.get(numero)
            if first is not None:
                raise self.fail(line, "numero", f"{numero} already appears on line {first}")
            seen[numero] = line
            raw = row[i_nom]
            nom = texts.get(("nom", raw)) or self.text(texts, line, "nom", raw, True)
            raw = row[i_pre]
            prenom = texts.get(("prenom", raw)) or self.text(texts, line, "prenom", raw, True)
            naissance = row[i_nai].strip()
            if naissance not in dates:
                self.check_date(line, naissance)
            raw = row[i_ser]
            serie = serie_cache.get(raw)
            if serie is None:
                serie = parse_serie(self.exam, raw)
                if serie is None:
                    raise self.fail(line, "serie", self.serie_reason(raw))
                serie_cache[raw] = serie
            raw = row[i_res]
            outcome = outcome_cache.get(raw)
            if outcome is None:
                outcome = outcome_cache[raw] = self.outcome(line, raw)
            raw = row[i_men]
            mention = mention_cache.get((raw, outcome))
            if mention is None:
                found = self.mention(line, raw, outcome)
                mention = mention_cache[raw, outcome] = found.value if found else ""
            consent = _CONSENT.get(row[i_pub].strip().lower())
            if consent is None:
                raise self.fail(line, "publication", f"{row[i_pub]!r} is not oui or non")
            etab = jury = ""
            if i_eta is not None:
                raw = row[i_eta]
                etab = texts.get(("etablissement", raw)) or self.text(
                    texts, line, "etablissement", raw)
            if i_jur is not None:
                raw = row[i_jur]
                jury = texts.get(("jury", raw)) or self.text(texts, line, "jury", raw)
            # The record layout of records.encode_record, inlined for speed.
            records.append((numero.encode(), (
                f"{naissance}{session}\x1f{nom}\x1f{prenom}\x1f{serie}\x1f{outcome.value}"
                f"\x1f{mention}\x1f{etab}\x1f{jury}\x1f{'1' if consent else '0'}").encode()))
            if consent:
                nn = norms.get(nom) or norms.setdefault(nom, normalise_name(nom))
                pn = norms.get(prenom) or norms.setdefault(prenom, normalise_name(prenom))
                names.append((f"{prefix}{nn}\x1f{pn}\x1f{numero}".encode(), b""))
        records.sort()
        names.sort()
        return ParsedBatch(self.exam, self.academie, self.session, records, names)

    def text(self, cache: dict[tuple[str, str], str], line: int, field: str, raw: str,
             required: bool = False) -> str:
        value = " ".join(raw.split())
        if required and not value:
            raise self.fail(line, field, "is empty")
        if len(value) > _MAX_TEXT:
            raise self.fail(line, field, f"is longer than {_MAX_TEXT} characters")
        if value:  # empty optional values are not cached: "" is falsy in the fast path
            cache[field, raw] = value
        return value

    def check_date(self, line: int, value: str) -> None:
        """Check a birth date; remember it as valid."""
        try:
            date = datetime.date.fromisoformat(value)
        except ValueError:
            raise self.fail(line, "naissance", f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
        if len(value) != 10:
            raise self.fail(line, "naissance", f"{value!r} is not an ISO date (YYYY-MM-DD)")
        if not self.oldest <= date <= self.youngest:
            raise self.fail(line, "naissance", f"{value} is not plausible for session "
                            f"{self.session} (born {self.oldest} to {self.youngest}, age 10–80, "
                            "not in the future)")
        self.dates.add(value)

    def serie_reason(self, raw: str) -> str:
        if self.exam == "bac":
            return f"{raw!r} is not a bac série (L, ES, S, STT, STG, STI, STL, SMS, " \
                   "Hôtellerie, TMD, STAE, STPA)"
        return f"{raw!r} must be a non-empty série or spécialité of at most 60 characters"

    def outcome(self, line: int, raw: str) -> Outcome:
        outcome = parse_outcome(raw)
        if outcome is None:
            raise self.fail(line, "resultat", f"{raw!r} is not a known result "
                            "(see docs/results-format.md)")
        if outcome not in self.outcomes:
            allowed = ", ".join(sorted(o.name.lower() for o in self.outcomes))
            raise self.fail(line, "resultat", f"{raw!r} is not a result of {self.exam} "
                            f"(allowed: {allowed})")
        return outcome

    def mention(self, line: int, raw: str, outcome: Outcome) -> Mention | None:
        known, mention = parse_mention(raw)
        if not known:
            raise self.fail(line, "mention", f"{raw!r} is not empty, AB, B or TB")
        if mention is None:
            return None
        if not self.mentions_ok:
            raise self.fail(line, "mention", f"{self.exam} {self.session} has no mentions")
        if outcome is not Outcome.ADMIS:
            raise self.fail(line, "mention", f"a mention needs resultat admis, not "
                            f"{vocab_key(outcome.label_fr)!r}")
        return mention


