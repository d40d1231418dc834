"""The embargo test's store, built with the operator's command line, and what must never
be seen of a staged batch (its key, its plaintext) in files and logs (tests/abuse/test_embargo.py)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from videotex.cli import main as videotex
from videotex.runtime.logs import JsonFormatter
from videotex.store import publish_batch
from videotex.store.exams import ACADEMY_CODES, EXAM_CODES
from videotex.store.sealed import read_key, seal_bytes

UTC = datetime.UTC
#: The official hour of bac Paris: 14h00 in Paris. Far ahead, so that the real clock
#: never reaches it: only the key holder publishes, and only when told the hour has come.
HOUR = datetime.datetime(2100, 7, 8, 12, 0, tzinfo=UTC)
BEFORE = HOUR - datetime.timedelta(hours=4)
LILLE = ACADEMY_CODES["lille"] + EXAM_CODES["bac"]
PARIS = ACADEMY_CODES["paris"] + EXAM_CODES["bac"]

HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"
#: The staged candidate: consenting, admitted with a mention (all of it secret until 14h00).
NUMERO = f"{PARIS}0000017"
NOM, PRENOM, BIRTH = "QUINCAMPOIX", "Séverine", datetime.date(1987, 11, 23)
ETABLISSEMENT, JURY = "Lycée Fénelon", "J77"
BIRTH_TYPED, WRONG_BIRTH_TYPED = "23111987", "24111987"
#: A number of the same exam and académie that the batch does not hold.
ABSENT = f"{PARIS}0000500"
#: A surname nobody has, in any batch.
NOBODY = "VERCINGETORIX"
#: How many results the staged batch holds: a figure that must appear nowhere before 14h00.
ROWS = 37
_FILLER_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND",
                 "DUBOIS", "MOREAU", "LAURENT", "SIMON", "MICHEL")


def _paris_rows() -> list[str]:
    rows = []
    for serial in range(1, ROWS + 1):
        if f"{PARIS}{serial:07d}" == NUMERO:
            rows.append(f"{NUMERO},{NOM},{PRENOM},{BIRTH.isoformat()},S,admis,TB,oui,"
                        f"{ETABLISSEMENT},{JURY}")
            continue
        born = datetime.date(1987, 1 + serial % 9, 1 + serial % 27)  # never 23/11
        outcome = ("admis", "ajourné", "second groupe")[serial % 3]
        rows.append(f"{PARIS}{serial:07d},{_FILLER_NAMES[serial % 12]},Prénom{serial},"
                    f"{born.isoformat()},ES,{outcome},,{'oui' if serial % 4 else 'non'},"
                    f"Lycée Voltaire,J0{serial % 9}")
    return rows


LILLE_ROWS = [
    f"{LILLE}0000001,DUPONT,Élodie,1987-07-03,S,admis,TB,oui,Lycée Faidherbe,J12",
    f"{LILLE}0000002,LEFÈVRE,François,1987-02-02,STG,second groupe,,oui,Lycée Baggio,J14",
]


# -- what must never be seen ------------------------------------------------------------


def key_forms(key: bytes) -> dict[str, bytes]:
    """The key as it could slip into a log line or a file."""
    return {
        "raw": key,
        "hex": key.hex().encode(),
        "HEX": key.hex().upper().encode(),
        "base64": base64.b64encode(key),
        "base64 unpadded": base64.b64encode(key).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(key).rstrip(b"="),
        "repr": repr(key).encode(),
        "latin-1 text": key.decode("latin-1").encode(),
    }


def plaintext_forms() -> dict[str, bytes]:
    """The staged candidate's data, as it would be stored or shown."""
    return {
        "numero": NUMERO.encode(),
        "nom": NOM.encode(),
        "nom (normalised)": NOM.lower().encode(),
        "prenom": PRENOM.encode(),
        "prenom (normalised)": b"severine",
        "birth (ISO)": BIRTH.isoformat().encode(),
        "birth (typed)": BIRTH_TYPED.encode(),
        "birth (shown)": BIRTH.strftime("%d/%m/%Y").encode(),
        "etablissement": ETABLISSEMENT.encode(),
    }


def found_in(blob: bytes, forms: dict[str, bytes]) -> list[str]:
    return [name for name, form in forms.items() if form in blob]


def files_under(root: Path, skip: tuple[Path, ...] = ()) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path not in skip and path.is_file():
                yield path


def scan(root: Path, forms: dict[str, bytes], skip: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """Which forms appear in which file under ``root`` (every byte of every file)."""
    hits = {}
    for path in files_under(root, skip):
        found = found_in(path.read_bytes(), forms)
        if found:
            hits[str(path.relative_to(root))] = found
    return hits


class LogFile(logging.Handler):
    """What the server's own log would hold: every record formatted when emitted, as
    ``videotex serve`` writes it (JSON, extra fields included) and as plain text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.json = JsonFormatter()
        self.plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        for formatter in (self.json, self.plain):
            try:
                self.lines.append(formatter.format(record))
            except Exception as exc:  # a record a real handler would lose
                self.lines.append(f"unformattable {record.name} record: {exc!r}")

    def blob(self) -> bytes:
        return "\n".join(self.lines).encode("utf-8", "surrogateescape")


# -- the store, built with the operator's command line -------------------------------------


@dataclass
class Embargo:
    root: Path
    store: Path
    key: bytes
    key_file: Path
    csv: Path
    #: SHA-256 of the LMDB data file just before and just after the Paris batch was staged.
    lmdb_before: str
    lmdb_after: str
    outputs: list[str] = field(default_factory=list)

    @property
    def provider_files(self) -> tuple[Path, ...]:
        """The provider's own secrets, outside the server's reach (never scanned)."""
        return (self.key_file, self.csv)


def cli(out: list[str], capsys: pytest.CaptureFixture[str], *argv: str | Path) -> int:
    status = videotex([str(a) for a in argv])
    captured = capsys.readouterr()
    out.append(captured.out + captured.err)
    return status


def lmdb_digest(store: Path) -> str:
    return hashlib.sha256((store / "results.lmdb" / "data.mdb").read_bytes()).hexdigest()


def build(root: Path, capsys: pytest.CaptureFixture[str]) -> Embargo:
    """bac Lille published; bac Paris sealed, staged and scheduled at :data:`HOUR`."""
    store, provider = root / "store", root / "provider"
    provider.mkdir()
    out: list[str] = []
    lille_key = os.urandom(16)
    lille = provider / "bac-lille.sealed"
    lille.write_bytes(seal_bytes((HEADER + "\n".join(LILLE_ROWS) + "\n").encode(), lille_key,
                                 exam="bac", academie="lille", session=2005,
                                 rows=len(LILLE_ROWS)))
    assert cli(out, capsys, "ingest", lille, "--store", store) == 0
    publish_batch(store, "bac", "lille", lille_key, now=BEFORE - datetime.timedelta(hours=2))
    lille.unlink()
    # the provider's side: a key, the CSV, the sealed file
    key_file, csv = provider / "bac-paris.key", provider / "bac-paris.csv"
    csv.write_text(HEADER + "\n".join(_paris_rows()) + "\n", encoding="utf-8")
    assert cli(out, capsys, "keygen", "-o", key_file) == 0
    sealed = provider / "bac-paris.sealed"
    assert cli(out, capsys, "seal", csv, "--key", key_file, "--exam", "bac", "--academie",
               "paris", "--session", "2005", "-o", sealed) == 0
    # the operator's side: the official hour (public), then the sealed file
    assert cli(out, capsys, "schedule", "--store", store, "--exam", "bac", "--academie",
               "paris", "--at", HOUR.isoformat()) == 0
    before = lmdb_digest(store)
    assert cli(out, capsys, "ingest", sealed, "--store", store) == 0
    after = lmdb_digest(store)
    sealed.unlink()  # in transit: gone once staged
    return Embargo(root, store, read_key(key_file), key_file, csv, before, after, out)
