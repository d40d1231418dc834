"""The known candidates and the small results store the service tests run on.

Bac Lille is published; bac Paris is sealed and staged but only comes out at 12:00 UTC
(the fake clock says 08:00; its key is kept in ``bac-paris.key`` beside the store, for
tests that publish it); brevet Lille has no schedule and nothing staged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from videotex.store import ingest, publish_batch, set_schedule
from videotex.store.exams import ACADEMY_CODES, EXAM_CODES
from videotex.store.sealed import generate_key, seal_bytes

NOW = datetime(2005, 7, 8, 8, 0, tzinfo=UTC)
LILLE = ACADEMY_CODES["lille"] + EXAM_CODES["bac"]
PARIS = ACADEMY_CODES["paris"] + EXAM_CODES["bac"]
PARIS_HOUR = datetime(2005, 7, 8, 12, 0, tzinfo=UTC)

HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"
LILLE_ROWS = [
    (f"{LILLE}0000001", "DUPONT", "Élodie", "1987-07-03", "S", "admis", "TB", "oui",
     "Lycée Faidherbe", "J12"),
    (f"{LILLE}0000002", "Dupont", "Jean-François", "1987-01-15", "ES", "admis", "", "oui",
     "Lycée Pasteur", "J12"),
    (f"{LILLE}0000003", "DUPONT", "Marie", "1986-12-01", "L", "ajourné", "", "oui",
     "Lycée Pasteur", "J13"),
    (f"{LILLE}0000004", "MARTIN", "Zoé", "1987-05-05", "S", "admis", "AB", "non",
     "Lycée Baggio", "J14"),
    (f"{LILLE}0000005", "LEFÈVRE", "François", "1987-02-02", "STG", "second groupe", "", "oui",
     "Lycée Baggio", "J14"),
]
PARIS_ROWS = [
    (f"{PARIS}0000001", "DURAND", "Paul", "1987-03-03", "S", "admis", "B", "oui",
     "Lycée Henri-IV", "J01"),
]


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    return (HEADER + "".join(",".join(r) + "\n" for r in rows)).encode()


def build_store(root: Path) -> Path:
    store = root / "store"
    for academie, rows, hour, publish in (
        ("lille", LILLE_ROWS, datetime(2005, 7, 8, 7, 0, tzinfo=UTC), True),
        ("paris", PARIS_ROWS, PARIS_HOUR, False),
    ):
        key = generate_key()
        (root / f"bac-{academie}.key").write_bytes(key)  # tests publishing later read it
        sealed = root / f"bac-{academie}.sealed"
        sealed.write_bytes(seal_bytes(_csv(rows), key, exam="bac", academie=academie,
                                      session=2005, rows=len(rows)))
        ingest(sealed, store)
        set_schedule(store, "bac", academie, hour)
        if publish:
            publish_batch(store, "bac", academie, key, now=NOW)
    return store


ELODIE = (LILLE_ROWS[0][0], "03071987")
MARIE_AJOURNEE = (LILLE_ROWS[2][0], "01121986")
PAUL_PARIS = (PARIS_ROWS[0][0], "03031987")
BIRTH_OF = {r[0]: date.fromisoformat(r[3]) for r in LILLE_ROWS + PARIS_ROWS}


SYNTHETIC_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND",
                   "DUBOIS")


def synthetic_birth(i: int) -> date:
    """The birth date of the ``i``-th candidate of :func:`synthetic_csv`."""
    return date(1987, 1 + i % 12, 1 + i % 28)


def synthetic_csv(prefix: str, n: int) -> bytes:
    """A batch of ``n`` candidates numbered ``prefix`` + 0000001 onwards (admis, ajourné,
    second groupe in turn), for tests and benchmarks that need many."""
    out = [HEADER]
    for i in range(1, n + 1):
        outcome = ("admis", "ajourné", "second groupe")[i % 3]
        out.append(f"{prefix}{i:07d},{SYNTHETIC_NAMES[i % 8]},Prénom{i},"
                   f"{synthetic_birth(i).isoformat()},S,{outcome},,oui,Lycée Voltaire,"
                   f"J{i % 90:02d}\n")
    return "".join(out).encode()


def build_synthetic_store(root: Path, lille: int, paris: int) -> tuple[Path, bytes]:
    """bac Lille published with ``lille`` candidates, bac Paris staged with ``paris`` (its
    hour in 2100); returns the store and bac Paris's key."""
    store = root / "store"
    keys = {}
    for prefix, academie, n in ((LILLE, "lille", lille), (PARIS, "paris", paris)):
        key = keys[academie] = generate_key()
        sealed = root / f"bac-{academie}.sealed"
        sealed.write_bytes(seal_bytes(synthetic_csv(prefix, n), key, exam="bac",
                                      academie=academie, session=2005, rows=n))
        ingest(sealed, store)
    publish_batch(store, "bac", "lille", keys["lille"], force=True)
    set_schedule(store, "bac", "paris", datetime(2100, 7, 8, 12, 0, tzinfo=UTC))
    return store, keys["paris"]
