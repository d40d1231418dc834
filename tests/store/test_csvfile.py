from __future__ import annotations

import datetime

import pytest

from videotex.store.csvfile import parse_results
from videotex.store.errors import ValidationError
from videotex.store.records import decode_record

from .helpers import HEADER, csv_text, row

TODAY = datetime.date(2005, 7, 1)


def parse(rows: list[str], exam: str = "bac", academie: str = "versailles",
          session: int = 2005, header: str = HEADER):
    text = header + "\n" + "".join(r + "\n" for r in rows)
    return parse_results(text.encode(), "results.csv", exam, academie, session, TODAY)


def fails(rows: list[str], line: int, field: str, match: str, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse(rows, **kw)
    err = info.value
    assert (err.file, err.line, err.field) == ("results.csv", line, field), str(err)
    assert match in err.reason, err.reason
    assert str(err).startswith(f"results.csv, line {line}, field {field!r}: ")
    return err


def test_valid_rows_are_encoded_sorted_with_consenting_names_only() -> None:
    parsed = parse([row(serial=3, nom="Lefèvre", mention="TB"),
                    row(serial=1, resultat="Ajourné", publication="non"),
                    row(serial=2, resultat="second groupe", serie="hotellerie")])
    assert parsed.rows == 3
    assert [k for k, _ in parsed.records] == [b"2610000001", b"2610000002", b"2610000003"]
    assert [k.split(b"\x1f")[0] for k, _ in parsed.names] == [b"261DUPONT", b"261LEFEVRE"]
    third = decode_record("2610000003", parsed.records[2][1])
    assert third.nom == "Lefèvre" and third.mention is not None and third.mention.value == "TB"
    assert decode_record("2610000002", parsed.records[1][1]).serie == "Hôtellerie"


def test_columns_in_any_order_and_optional_columns() -> None:
    header = "publication,mention,resultat,serie,naissance,prenom,nom,numero"
    parsed = parse(["oui,,admis,L,1987-01-02,Zoé,Ménard,2610000001"], header=header)
    result = decode_record("2610000001", parsed.records[0][1])
    assert (result.prenom, result.etablissement, result.jury) == ("Zoé", "", "")


def test_header_errors() -> None:
    fails([], 1, "naissance", "required column is missing",
          header="numero,nom,prenom,serie,resultat,mention,publication")
    fails([], 1, "note", "unknown column", header=HEADER + ",note")
    fails([], 1, "nom", "appears twice", header=HEADER + ",nom")
    with pytest.raises(ValidationError, match="empty file"):
        parse_results(b"", "empty.csv", "bac", "versailles", 2005)


@pytest.mark.parametrize(("kwargs", "field", "match"), [
    ({"nom": ""}, "nom", "is empty"),
    ({"prenom": "x" * 81}, "prenom", "longer than 80"),
    ({"naissance": "04/03/1987"}, "naissance", "not an ISO date"),
    ({"naissance": "1987-02-30"}, "naissance", "not an ISO date"),
    ({"naissance": "2006-01-01"}, "naissance", "not plausible"),
    ({"naissance": "1920-01-01"}, "naissance", "not plausible"),
    ({"serie": "Z"}, "serie", "not a bac série"),
    ({"resultat": "recalé"}, "resultat", "not a known result"),
    ({"resultat": "notes"}, "resultat", "not a result of bac"),
    ({"mention": "excellent"}, "mention", "not empty, AB, B or TB"),
    ({"resultat": "ajourné", "mention": "AB"}, "mention", "needs resultat admis"),
    ({"resultat": "admis apres second groupe", "mention": "B"}, "mention", "needs resultat"),
    ({"publication": "peut-être"}, "publication", "not oui or non"),
    ({"jury": "J\t1"}, "jury", "control character"),
])
def test_bad_field_names_line_and_field(kwargs: dict, field: str, match: str) -> None:
    fails([row(serial=1), row(serial=2, **kwargs)], 3, field, match)


def test_numero_must_match_the_batch() -> None:
    bad = row(serial=2).replace("2610000002", "2620000002")  # bac-pro's code
    fails([row(serial=1), bad], 3, "numero", "does not start with 261 (bac, versailles)")
    fails([row(serial=1).replace("2610000001", "261000001")], 2, "numero", "10-digit")


def test_duplicate_numero_names_both_lines() -> None:
    err = fails([row(serial=1), row(serial=2), row(serial=1, nom="Autre")], 4, "numero",
                "already appears on line 2")
    assert "2610000001" in err.reason


def test_wrong_column_count_and_csv_errors() -> None:
    fails([row(serial=1), "2610000002,Dupont"], 3, "(row)", "expected 10 columns, found 2")
    with pytest.raises(ValidationError, match="line 2, field '\\(encoding\\)'"):
        parse_results(HEADER.encode() + b"\n\xff\xfe\n", "bad.csv", "bac", "versailles", 2005)


def test_exam_rules() -> None:
    fails([row("bac-pro", serial=1, serie="Commerce", resultat="second groupe")], 2,
          "resultat", "not a result of bac-pro", exam="bac-pro")
    fails([row("brevet", serial=1, serie="Collège", mention="AB", naissance="1990-01-01")],
          2, "mention", "brevet 2005 has no mentions", exam="brevet")
    ok = parse([row("brevet", serial=1, serie="Collège", mention="AB", naissance="1991-01-01")],
               exam="brevet", session=2006)
    assert ok.rows == 1
    notes = parse([row("anticipes", serial=1, serie="ES", resultat="notes")], exam="anticipes")
    assert notes.rows == 1
    fails([row("cap", serial=1, serie="")], 2, "serie", "non-empty", exam="cap")


def test_blank_lines_and_quoted_fields() -> None:
    text = csv_text([row(serial=1), "", '2610000002,"Le Gall",Loïc,1987-01-01,S,admis,,oui,'
                     '"Lycée Jean-Moulin, Brest",J1'])
    parsed = parse_results(text, "q.csv", "bac", "versailles", 2005, TODAY)
    assert parsed.rows == 2
    assert decode_record("2610000002", parsed.records[1][1]).etablissement == \
        "Lycée Jean-Moulin, Brest"
