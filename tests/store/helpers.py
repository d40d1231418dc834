"""Shared helpers for the store tests: build CSVs, seal them, stage them."""

from __future__ import annotations

import datetime
from pathlib import Path

from videotex.store.exams import batch_prefix
from videotex.store.publish import ingest
from videotex.store.sealed import seal_bytes

HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury"
KEY = bytes(range(16))
OTHER_KEY = bytes(range(1, 17))
NOW = datetime.datetime(2005, 7, 7, 10, 0, tzinfo=datetime.UTC)


def number(exam: str, academie: str, serial: int) -> str:
    return f"{batch_prefix(exam, academie)}{serial:07d}"


def row(exam: str = "bac", academie: str = "versailles", serial: int = 1, nom: str = "Dupont",
        prenom: str = "Marie", naissance: str = "1987-03-04", serie: str = "S",
        resultat: str = "admis", mention: str = "", publication: str = "oui",
        etablissement: str = "Lycée Hoche", jury: str = "J12") -> str:
    return ",".join((number(exam, academie, serial), nom, prenom, naissance, serie, resultat,
                     mention, publication, etablissement, jury))


def csv_text(rows: list[str]) -> str:
    return HEADER + "\n" + "".join(r + "\n" for r in rows)


def many_rows(n: int, exam: str = "bac", academie: str = "versailles") -> list[str]:
    return [row(exam, academie, i + 1, nom=f"Nom{i % 97}", prenom=f"Prénom{i}")
            for i in range(n)]


def sealed(rows: list[str], exam: str = "bac", academie: str = "versailles",
           key: bytes = KEY, session: int = 2005, chunk_size: int = 1 << 20) -> bytes:
    return seal_bytes(csv_text(rows).encode(), key, exam=exam, academie=academie,
                      session=session, rows=len(rows), source=f"{exam}-{academie}.csv",
                      chunk_size=chunk_size)


def stage(tmp: Path, rows: list[str], exam: str = "bac", academie: str = "versailles",
          key: bytes = KEY, replace: bool = False, name: str = "in.sealed") -> Path:
    store = tmp / "store"
    path = tmp / name
    path.write_bytes(sealed(rows, exam, academie, key))
    ingest(path, store, replace=replace)
    return store
