"""The store's subcommands: JSON output, messages and exit statuses."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from videotex.cli.store import register
from videotex.store.lmdbstore import close_env

from .helpers import csv_text, number, row


def run(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="videotex")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    status: int = args.handler(args)
    return status


@pytest.fixture
def sealed_batch(tmp_path: Path):
    """A key, a CSV sealed for bac versailles, and a store path."""
    key = tmp_path / "k.key"
    assert run("keygen", "-o", key) == 0
    csv = tmp_path / "results.csv"
    csv.write_text(csv_text([
        row(serial=1, nom="Lefèvre", prenom="Amélie", mention="AB"),
        row(serial=2, nom="Lefevre", prenom="Jean", resultat="ajourné"),
        row(serial=3, nom="Lefèvre", prenom="Zoé", publication="non"),
    ]), encoding="utf-8")
    out = tmp_path / "bac-versailles.sealed"
    assert run("seal", csv, "--key", key, "--exam", "bac", "--academie", "versailles",
               "--session", "2005", "-o", out) == 0
    store = tmp_path / "store"
    yield key, out, store
    close_env(store)


def lookup_json(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> list[dict]:
    capsys.readouterr()
    assert run("lookup", *argv) == 0
    result: list[dict] = json.loads(capsys.readouterr().out)
    return result


def test_keygen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "k.key"
    assert run("keygen", "-o", key) == 0
    assert os.stat(key).st_mode & 0o777 == 0o600 and len(key.read_text().strip()) == 32
    assert run("keygen", "-o", key) == 1
    assert "exists; use --force" in capsys.readouterr().err
    assert run("keygen", "-o", key, "--force") == 0


def test_full_cycle(sealed_batch, capsys: pytest.CaptureFixture[str]) -> None:
    key, sealed, store = sealed_batch
    assert run("ingest", sealed, "--store", store) == 0
    assert "bac versailles session 2005, 3 results" in capsys.readouterr().out
    assert run("schedule", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--at", "2099-07-07T10:00") == 0
    assert "comes out at 2099-07-07T10:00:00+02:00" in capsys.readouterr().out
    # Before publication: nothing, not even in store-info beyond "staged".
    args = ("--store", store, "--number", number("bac", "versailles", 1), "--birth",
            "1987-03-04")
    assert lookup_json(capsys, *args) == []
    assert lookup_json(capsys, "--store", store, "--name", "Lefevre", "--exam", "bac",
                       "--academie", "versailles") == []
    assert run("store-info", "--store", store) == 0
    info = capsys.readouterr().out
    assert "staged" in info and "Lef" not in info and " 3 " not in info
    # An early key is refused, the store stays empty.
    assert run("publish", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--key", key) == 1
    assert "comes out at 2099-07-07 10:00:00 CEST" in capsys.readouterr().err
    assert lookup_json(capsys, *args) == []
    assert run("publish", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--key", key, "--force") == 0
    assert "published bac versailles: 3 results" in capsys.readouterr().out
    [me] = lookup_json(capsys, *args)
    assert me == {
        "numero": "2610000001", "nom": "Lefèvre", "prenom": "Amélie",
        "naissance": "1987-03-04", "exam": "bac", "academie": "versailles", "session": 2005,
        "serie": "S", "resultat": "admis", "resultat_label": "ADMIS", "mention": "AB",
        "mention_label": "Assez bien", "etablissement": "Lycée Hoche", "jury": "J12"}
    names = lookup_json(capsys, "--store", store, "--name", "LEFÈVRE", "--exam", "bac",
                        "--academie", "versailles")
    assert [(r["prenom"], r["resultat_label"], r["mention"]) for r in names] == [
        ("Amélie", "ADMIS", None), ("Jean", "AJOURNÉ", None)]
    first = lookup_json(capsys, "--store", store, "--name", "lefevre", "--first", "JEAN",
                        "--exam", "bac", "--academie", "versailles")
    assert [r["numero"] for r in first] == ["2610000002"]
    assert lookup_json(capsys, "--store", store, "--number", "2610000001", "--birth",
                       "1990-01-01") == []
    assert run("store-info", "--store", store) == 0
    assert "published        3 results" in capsys.readouterr().out
    assert run("schedule", "--store", store, "--list") == 0
    listed = json.loads(capsys.readouterr().out)
    assert (listed["exam"], listed["published"]) == ("bac", True)
    assert run("ingest", sealed, "--store", store) == 0  # same file again: nothing to do
    capsys.readouterr()
    assert run("seal", sealed.with_name("results.csv"), "--key", key, "--exam", "bac",
               "--academie", "versailles", "--session", "2005", "-o", sealed) == 0
    assert run("ingest", sealed, "--store", store) == 1  # published: needs --replace
    assert "already published" in capsys.readouterr().err
    assert run("ingest", sealed, "--store", store, "--replace") == 0
    assert run("store-info", "--store", store) == 0
    assert "correction staged" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "store" / "results.lmdb").mkdir(parents=True)
    store = tmp_path / "store"
    assert run("lookup", "--store", store, "--number", "2610000001") == 2
    assert "--number needs --birth" in capsys.readouterr().err
    assert run("lookup", "--store", store, "--name", "x") == 2
    assert run("lookup", "--store", store) == 2
    assert run("publish", "--store", store, "--all") == 2
    assert run("publish", "--store", store) == 2
    assert run("schedule", "--store", store, "--exam", "bac") == 2
    with pytest.raises(SystemExit) as info:
        run("lookup", "--store", store, "--number", "1", "--birth", "07/03/1987")
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        run("publish", "--store", store, "--exam", "licence")
    assert "invalid choice: 'licence'" in capsys.readouterr().err


def test_failures_exit_1_without_traceback(sealed_batch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    key, sealed, store = sealed_batch
    assert run("lookup", "--store", tmp_path / "nope", "--number", "1", "--birth",
               "2000-01-01") == 1
    assert "not a results store" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text([row(serial=1), row(serial=2, publication="maybe")]))
    assert run("seal", bad, "--key", key, "--exam", "bac", "--academie", "versailles",
               "--session", "2005", "-o", tmp_path / "bad.sealed") == 1
    err = capsys.readouterr().err
    assert "bad.csv, line 3, field 'publication'" in err and "Traceback" not in err
    assert not (tmp_path / "bad.sealed").exists()
    truncated = tmp_path / "t.sealed"
    truncated.write_bytes(sealed.read_bytes()[:-5])
    assert run("ingest", truncated, "--store", store) == 1
    assert "truncated" in capsys.readouterr().err
    other = tmp_path / "other.key"
    run("keygen", "-o", other)
    assert run("ingest", sealed, "--store", store) == 0
    assert run("publish", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--key", other) == 1
    assert "wrong key for bac versailles 2005" in capsys.readouterr().err
    assert run("publish", "--store", store, "--exam", "bac", "--academie", "paris",
               "--key", key) == 1
    assert "no staged file for bac paris" in capsys.readouterr().err


def test_demo_data_and_publish_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    store = tmp_path / "store"
    assert run("demo-data", "--out", out, "--count", "2000", "--seed", "7", "--keep-csv") == 0
    sealed = sorted(out.glob("*.sealed"))
    assert len(sealed) == 7 * 30 and (out / "keys" / "bac-versailles.key").exists()
    assert (out / "csv" / "bac-versailles.csv").exists()
    assert run("ingest", *sealed, "--store", store) == 0
    assert run("publish", "--store", store, "--all", "--keys", out / "keys") == 0
    published = capsys.readouterr().out
    assert published.count("published ") == 210
    assert run("store-info", "--store", store) == 0
    total = capsys.readouterr().out.splitlines()[-1]
    assert total.startswith("total: ") and "published results" in total
    close_env(store)


def test_publish_wait_publishes_at_the_hour(sealed_batch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    key, sealed, store = sealed_batch
    assert run("ingest", sealed, "--store", store) == 0
    # An hour already past: --wait prepares, then publishes at once.
    assert run("schedule", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--at", "2005-07-07T10:00+02:00") == 0
    assert run("publish", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--key", key, "--wait") == 0
    out = capsys.readouterr()
    assert "publishing at 2005-07-07T10:00:00+02:00" in out.err
    assert "published bac versailles: 3 results" in out.out


def test_real_entry_point(sealed_batch) -> None:
    """``python -m videotex.cli``: JSON on stdout, status 0 even when nothing is found."""
    import subprocess
    import sys

    key, sealed, store = sealed_batch
    root = Path(__file__).resolve().parents[2]

    def cli(*argv: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "videotex.cli", *map(str, argv)],
                              capture_output=True, text=True, cwd=root, check=False)

    assert cli("ingest", sealed, "--store", store).returncode == 0
    assert cli("publish", "--store", store, "--exam", "bac", "--academie", "versailles",
               "--key", key).returncode == 0
    found = cli("lookup", "--store", store, "--number", "2610000002", "--birth", "1987-03-04")
    assert found.returncode == 0
    assert json.loads(found.stdout)[0]["resultat_label"] == "AJOURNÉ"
    none = cli("lookup", "--store", store, "--number", "2610000009", "--birth", "1987-03-04")
    assert (none.returncode, json.loads(none.stdout)) == (0, [])
    bad = cli("lookup", "--store", store, "--number", "2610000002", "--birth", "demain")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    early = cli("publish", "--store", store, "--exam", "bac", "--academie", "paris",
                "--key", key)
    assert early.returncode == 1 and "Traceback" not in early.stderr
