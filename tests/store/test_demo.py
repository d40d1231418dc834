from __future__ import annotations

import csv
import io
from collections import Counter

from videotex.store.csvfile import parse_results
from videotex.store.demo import DEFAULT_COUNT, batch_sizes, generate_batch


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_sizes_follow_the_domain_reference() -> None:
    sizes = batch_sizes(DEFAULT_COUNT)
    assert abs(sum(sizes.values()) - DEFAULT_COUNT) < 300
    per_exam: Counter[str] = Counter()
    per_academie: Counter[str] = Counter()
    for (exam, academie), n in sizes.items():
        per_exam[exam] += n
        per_academie[academie] += n
    assert abs(per_exam["bac"] + per_exam["bac-pro"] - 610_600) < 300
    assert abs(per_exam["cap"] + per_exam["bep"] + per_exam["bts"] - 900_000) < 300
    assert abs(per_exam["anticipes"] - 490_000) < 300
    assert per_academie.most_common(1)[0][0] == "versailles"
    smallest = {a for a, _ in per_academie.most_common()[-3:]}
    assert smallest == {"corse", "guyane", "guadeloupe"} or "limoges" in smallest or \
        smallest <= {"corse", "guyane", "limoges", "martinique", "guadeloupe"}
    assert min(batch_sizes(10).values()) == 1


def test_deterministic_for_a_seed() -> None:
    a = generate_batch("bac", "versailles", 300, 2005, seed=1)
    assert a == generate_batch("bac", "versailles", 300, 2005, seed=1)
    assert a != generate_batch("bac", "versailles", 300, 2005, seed=2)
    assert a != generate_batch("bac", "creteil", 300, 2005, seed=1)


def test_bac_rows_are_valid_and_realistic() -> None:
    text = generate_batch("bac", "versailles", 20_000, 2005, seed=3)
    parsed = parse_results(text, "demo.csv", "bac", "versailles", 2005)
    assert parsed.rows == 20_000
    rows = _rows(text)
    outcomes = Counter(r["resultat"] for r in rows)
    admitted = outcomes["admis"] / len(rows)
    assert 0.68 < admitted < 0.80  # first group; ~80 % after the second group
    assert 0.12 < outcomes["second groupe"] / len(rows) < 0.20
    with_mention = sum(1 for r in rows if r["mention"]) / outcomes["admis"]
    assert 0.33 < with_mention < 0.47
    assert 0.87 < sum(r["publication"] == "oui" for r in rows) / len(rows) < 0.93
    series = Counter(r["serie"] for r in rows)
    general = series["S"] + series["ES"] + series["L"]
    assert 0.47 < series["S"] / general < 0.55 and 0.13 < series["L"] / general < 0.21
    names = Counter((r["nom"], r["prenom"]) for r in rows)
    assert names.most_common(1)[0][1] > 1  # homonyms
    assert any(c in text for c in "éèçï") and any("-" in r["nom"] for r in rows)


def test_other_exams_validate() -> None:
    for exam in ("bac-pro", "anticipes", "brevet", "cap", "bep", "bts"):
        text = generate_batch(exam, "limoges", 500, 2005, seed=4)
        assert parse_results(text, "demo.csv", exam, "limoges", 2005).rows == 500
    text = generate_batch("brevet", "lille", 2000, 2006, seed=4)
    assert any(r["mention"] for r in _rows(text))  # mentions only from 2006
    assert not any(r["mention"] for r in _rows(generate_batch("brevet", "lille", 2000, 2005, 4)))
