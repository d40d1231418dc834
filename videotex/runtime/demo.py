"""A small demo results store, built on first start so that ``make run`` just works.

The story it tells: results day, most batches are out; the bac of Paris, Créteil and
Versailles comes out later today and the BTS tomorrow morning, so every page of the
service (result, ajourné, not yet published) can be seen at once. The sealed files and
keys stay in ``DIR/files`` so an operator can publish the rest with ``videotex publish``.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from videotex.store import batch_of_number, ingest, publish_batch, set_schedule
from videotex.store.demo import write_demo_data
from videotex.store.sealed import read_key

__all__ = ["LATER_TODAY", "TOMORROW", "ensure_demo_store"]

#: Batches the demo keeps unpublished.
LATER_TODAY = {("bac", "paris"), ("bac", "creteil"), ("bac", "versailles")}
TOMORROW = {("bts", a) for a in ("paris", "creteil", "versailles", "lille", "lyon")}


def ensure_demo_store(store: Path, files: Path, now: datetime | None = None,
                      count: int = 20_000) -> list[str]:
    """Build the demo store if ``store`` has none; return lines worth printing."""
    if (store / "results.lmdb").exists():
        return _examples(files)
    now = now or datetime.now(UTC)
    write_demo_data(files, count=count, seed=2005, keep_csv=True)
    past = now - timedelta(hours=1)
    later = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    tomorrow = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    for sealed in sorted(files.glob("*.sealed")):
        header = ingest(sealed, store)
        batch = (header.exam, header.academie)
        if batch in LATER_TODAY:
            set_schedule(store, *batch, later)
        elif batch in TOMORROW:
            set_schedule(store, *batch, tomorrow)
        else:
            set_schedule(store, *batch, past)
            key = read_key(files / "keys" / f"{header.exam}-{header.academie}.key")
            publish_batch(store, *batch, key, now=now)
    examples = _pick_examples(files)
    (files / "examples.json").write_text(json.dumps(examples, ensure_ascii=False, indent=1))
    return _examples(files)


def _pick_examples(files: Path) -> dict[str, dict[str, str]]:
    wanted = {
        "admis avec mention": lambda r, b: r["resultat"].startswith("admis") and r["mention"],
        "ajourné": lambda r, b: r["resultat"].startswith("ajourn"),
        "second groupe": lambda r, b: r["resultat"] == "second groupe",
        "pas encore publié": lambda r, b: b in LATER_TODAY,
    }
    found: dict[str, dict[str, str]] = {}
    for path in sorted((files / "csv").glob("*.csv")):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                batch = batch_of_number(row["numero"])
                for label, test in wanted.items():
                    if label not in found and test(row, batch):
                        found[label] = {"numero": row["numero"], "naissance": row["naissance"],
                                        "nom": row["nom"], "prenom": row["prenom"]}
        if len(found) == len(wanted):
            break
    return found


def _examples(files: Path) -> list[str]:
    path = files / "examples.json"
    if not path.exists():
        return []
    lines = ["Demo candidates (number, then Suite, then birth date DDMMYYYY, then Envoi):"]
    for label, r in json.loads(path.read_text()).items():
        y, m, d = r["naissance"].split("-")
        lines.append(f"  {label:<20} {r['numero']}  {d}{m}{y}  ({r['prenom']} {r['nom']})")
    return lines
