from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from videotex.store import (
    BatchStatus,
    EarlyKeyError,
    Outcome,
    ResultsStore,
    StagingError,
    ValidationError,
    WrongKeyError,
    ingest,
    publish_batch,
    set_schedule,
)
from videotex.store.lmdbstore import close_env
from videotex.store.publish import staged_path

from .helpers import KEY, NOW, OTHER_KEY, number, row, sealed, stage

BIRTH = datetime.date(1987, 3, 4)


@pytest.fixture
def store_dir(tmp_path: Path):
    yield tmp_path / "store"
    close_env(tmp_path / "store")


def _dump(store: Path) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
    """Every key and value of every database: the store's whole visible state."""
    from videotex.store.lmdbstore import open_env

    s = open_env(store)
    with s.env.begin() as txn:
        return [(name, list(txn.cursor(db=db)))
                for name, db in ((b"r", s.results), (b"n", s.names), (b"b", s.batches),
                                 (b"s", s.schedule))]


def _batch(tmp: Path) -> list[str]:
    return [
        row(serial=1, nom="Lefèvre", prenom="Amélie", mention="TB"),
        row(serial=2, nom="LEFEVRE", prenom="Jean-Pierre", naissance="1987-05-04"),
        row(serial=3, nom="Lefevre", prenom="Jean", resultat="ajourné"),
        row(serial=4, nom="Lefèvre", prenom="Zoé", publication="non"),
        row(serial=5, nom="Dupont", prenom="Marie", resultat="second groupe"),
        row(serial=6, nom="Lefèvre", prenom="Amélie", naissance="1988-01-01"),  # homonym
    ]


def test_nothing_visible_before_publication(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    store = ResultsStore(store_dir)
    assert store.lookup_number(number("bac", "versailles", 1), BIRTH) is None
    assert store.lookup_name("Lefèvre", "bac", "versailles") == []
    assert store.count_rows("bac", "versailles") == 0
    assert store.statuses(NOW) == []
    status = store.status("bac", "versailles", NOW)
    assert (status.published, status.rows, status.scheduled_at) == (False, None, None)
    staged = staged_path(store_dir, "bac", "versailles").read_bytes()
    assert b"Lef" not in staged and "Amélie".encode() not in staged


def test_publish_then_lookups(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    status = publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    assert (status.published, status.rows, status.session, status.published_at) == (
        True, 6, 2005, NOW)
    store = ResultsStore(store_dir)
    me = store.lookup_number(number("bac", "versailles", 1), BIRTH)
    assert me is not None
    assert (me.nom, me.prenom, me.exam, me.academie, me.session, me.serie) == (
        "Lefèvre", "Amélie", "bac", "versailles", 2005, "S")
    assert me.resultat is Outcome.ADMIS and me.mention is not None and me.mention.label == \
        "Très bien"
    # birth date mismatch -> nothing, even for an existing number
    assert store.lookup_number(number("bac", "versailles", 1), datetime.date(1987, 3, 5)) is None
    # an ajourné candidate sees their own result by number
    ajourne = store.lookup_number(number("bac", "versailles", 3), BIRTH)
    assert ajourne is not None and ajourne.resultat.label_fr == "AJOURNÉ"
    # a non-consenting candidate is found by number but never by name
    assert store.lookup_number(number("bac", "versailles", 4), BIRTH) is not None
    names = [(r.nom, r.prenom) for r in store.lookup_name("lefevre", "bac", "versailles")]
    assert names == [("Lefèvre", "Amélie"), ("Lefèvre", "Amélie"), ("Lefevre", "Jean"),
                     ("LEFEVRE", "Jean-Pierre")]
    found = store.lookup_name("LEFÈVRE", "bac", "versailles", prenom="amelie")
    assert {r.naissance for r in found} == {BIRTH, datetime.date(1988, 1, 1)}  # homonyms
    assert all(r.mention is None for r in found)  # mentions are not public by name
    jeans = store.lookup_name("Lefevre", "bac", "versailles", prenom="Jean")
    assert [r.prenom for r in jeans] == ["Jean", "Jean-Pierre"]
    assert store.lookup_name("lefevre", "bac", "versailles", limit=2)[1].prenom == "Amélie"
    assert store.lookup_name("Lefèvre", "bac", "creteil") == []
    assert store.lookup_name("  ", "bac", "versailles") == []
    assert store.lookup_number("26100000", BIRTH) is None
    assert store.lookup_number("２６１００００００１", BIRTH) is None
    with pytest.raises(ValueError, match="unknown académie 'atlantis'"):
        store.lookup_name("x", "bac", "atlantis")


def test_bad_row_rejects_batch_and_leaves_store_unchanged(tmp_path: Path,
                                                         store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    stage(tmp_path, [row("bac", "creteil", 1)], academie="creteil")
    set_schedule(store_dir, "bac", "creteil", NOW)
    before = _dump(store_dir)
    bad = [*_batch(tmp_path), row(serial=9, naissance="1987-13-01")]
    stage(tmp_path, bad, replace=True)
    with pytest.raises(ValidationError) as info:
        publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    assert (info.value.line, info.value.field) == (8, "naissance")
    assert "bac-versailles.sealed (bac-versailles.csv)" in str(info.value)
    with pytest.raises(WrongKeyError):
        publish_batch(store_dir, "bac", "creteil", OTHER_KEY, NOW)
    assert _dump(store_dir) == before


def test_republish_replaces_the_batch_atomically(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    stage(tmp_path, [row("bac", "creteil", 1, nom="Lefèvre")], academie="creteil")
    publish_batch(store_dir, "bac", "creteil", KEY, NOW)
    with pytest.raises(StagingError, match="already published"):
        stage(tmp_path, [row(serial=7, nom="Lefèvre", prenom="Noé")])
    stage(tmp_path, [row(serial=7, nom="Lefèvre", prenom="Noé")], replace=True)
    later = NOW + datetime.timedelta(hours=1)
    status = publish_batch(store_dir, "bac", "versailles", KEY, later)
    assert (status.rows, status.published_at) == (1, later)
    store = ResultsStore(store_dir)
    assert store.lookup_number(number("bac", "versailles", 1), BIRTH) is None
    assert [r.prenom for r in store.lookup_name("Lefevre", "bac", "versailles")] == ["Noé"]
    assert store.count_rows("bac", "versailles") == 1
    assert len(store.lookup_name("Lefevre", "bac", "creteil")) == 1  # other batch untouched


def test_schedule_refuses_early_key_unless_forced(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    hour = datetime.datetime(2005, 7, 7, 8, 0, tzinfo=datetime.UTC)
    set_schedule(store_dir, "bac", "versailles", hour)
    store = ResultsStore(store_dir)
    early = hour - datetime.timedelta(seconds=1)
    status = store.status("bac", "versailles", early)
    assert (status.scheduled_at, status.published, status.due) == (hour, False, False)
    with pytest.raises(EarlyKeyError, match=r"comes out at 2005-07-07 10:00:00 CEST.*0:00:01 "):
        publish_batch(store_dir, "bac", "versailles", KEY, early)
    assert store.count_rows("bac", "versailles") == 0
    assert publish_batch(store_dir, "bac", "versailles", KEY, hour).published
    assert [s.exam for s in store.statuses(hour)] == ["bac"]


def test_force_publishes_early(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    set_schedule(store_dir, "bac", "versailles", NOW)
    status = publish_batch(store_dir, "bac", "versailles", KEY,
                           NOW - datetime.timedelta(hours=2), force=True)
    assert status.published and status.scheduled_at == NOW


def test_schedule_validation(store_dir: Path) -> None:
    store_dir.mkdir()
    with pytest.raises(ValueError, match="aware"):
        set_schedule(store_dir, "bac", "versailles", datetime.datetime(2005, 7, 7, 10))
    with pytest.raises(ValueError, match="unknown exam 'licence'"):
        set_schedule(store_dir, "licence", "versailles", NOW)
    set_schedule(store_dir, "bac", "paris", NOW)
    set_schedule(store_dir, "bac", "paris", None)
    assert ResultsStore(store_dir).statuses(NOW) == []


def test_ingest_checks_and_replaces(tmp_path: Path, store_dir: Path) -> None:
    path = tmp_path / "x.sealed"
    data = sealed([row(serial=1)])
    path.write_bytes(data[:-3])
    with pytest.raises(Exception, match="truncated"):
        ingest(path, store_dir)
    assert not staged_path(store_dir, "bac", "versailles").exists()
    with pytest.raises(StagingError, match="cannot read"):
        ingest(tmp_path / "missing.sealed", store_dir)
    path.write_bytes(data)
    assert ingest(path, store_dir).rows == 1
    path.write_bytes(sealed([row(serial=1), row(serial=2)]))
    assert ingest(path, store_dir).rows == 2  # not yet published: replaced
    assert list((store_dir / "staged").iterdir()) == [staged_path(store_dir, "bac",
                                                                   "versailles")]
    with pytest.raises(StagingError, match="no staged file for bac paris"):
        publish_batch(store_dir, "bac", "paris", KEY, NOW)


def test_store_missing(tmp_path: Path) -> None:
    from videotex.store import StoreError

    with pytest.raises(StoreError, match="no such store directory"):
        ResultsStore(tmp_path / "nope").lookup_number("2610000001", BIRTH)


def test_store_moved_is_not_shared(tmp_path: Path, store_dir: Path) -> None:
    stage(tmp_path, _batch(tmp_path))
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    close_env(store_dir)
    shutil.copytree(store_dir, tmp_path / "copy")
    copy = ResultsStore(tmp_path / "copy")
    assert copy.count_rows("bac", "versailles") == 6
    copy.close()


def test_publish_all_stops_at_a_bad_batch(tmp_path: Path, store_dir: Path) -> None:
    from videotex.store import publish_all
    from videotex.store.sealed import write_key

    keys = tmp_path / "keys"
    keys.mkdir()
    stage(tmp_path, [row("bac", "paris", 1)], academie="paris", name="p.sealed")
    stage(tmp_path, [row("bac", "versailles", 1)], academie="versailles", name="v.sealed")
    write_key(keys / "bac-paris.key", KEY)
    with pytest.raises(StagingError, match=r"no key .*bac-versailles\.key"):
        publish_all(store_dir, keys, NOW, workers=1)
    assert ResultsStore(store_dir).statuses(NOW) == []  # checked before anything
    write_key(keys / "bac-versailles.key", OTHER_KEY)
    seen: list[BatchStatus] = []
    with pytest.raises(WrongKeyError):
        publish_all(store_dir, keys, NOW, workers=2, on_batch=seen.append)
    # paris (number prefix 191) comes before versailles (261) and stays published
    assert [(s.academie, s.rows) for s in seen] == [("paris", 1)]
    store = ResultsStore(store_dir)
    assert store.count_rows("bac", "paris") == 1 and store.count_rows("bac", "versailles") == 0
