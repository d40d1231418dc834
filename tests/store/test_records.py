"""The Result class: lazy results from lookups behave like eagerly built ones."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import pickle
from pathlib import Path

import pytest

from videotex.store import Mention, Outcome, Result, ResultsStore, publish_batch
from videotex.store.records import FIELDS, decode_record, encode_record, lazy_result, result_to_json

from .helpers import KEY, NOW, number, row, stage

BIRTH = datetime.date(1987, 3, 4)
VALUE = encode_record("1987-03-04", 2005, "Lefèvre", "Jean-Pierre", "S", Outcome.ADMIS,
                      Mention.B, "Lycée Hoche", "J12", True)


def eager() -> Result:
    return Result("2610000001", "Lefèvre", "Jean-Pierre", BIRTH, "bac", "versailles", 2005, "S",
                  Outcome.ADMIS, Mention.B, "Lycée Hoche", "J12", True)


def test_lazy_result_decodes_every_field_with_its_type() -> None:
    lazy = lazy_result("2610000001", VALUE, BIRTH)
    assert lazy.resultat is Outcome.ADMIS
    assert lazy.mention is Mention.B
    assert (lazy.nom, lazy.prenom, lazy.serie) == ("Lefèvre", "Jean-Pierre", "S")
    assert (lazy.exam, lazy.academie, lazy.session) == ("bac", "versailles", 2005)
    assert (lazy.etablissement, lazy.jury, lazy.consent) == ("Lycée Hoche", "J12", True)
    assert lazy.naissance == BIRTH


def test_lazy_equals_eager_and_decoded_record() -> None:
    lazy = lazy_result("2610000001", VALUE, BIRTH)
    assert lazy == eager() == decode_record("2610000001", VALUE)
    assert hash(lazy_result("2610000001", VALUE, BIRTH)) == hash(eager())
    assert lazy != eager().replace(jury="J13")
    assert lazy != "2610000001"


def test_repr_names_every_field_like_a_dataclass() -> None:
    text = repr(lazy_result("2610000001", VALUE, BIRTH))
    assert text.startswith("Result(numero='2610000001', nom='Lefèvre', prenom='Jean-Pierre', "
                           "naissance=datetime.date(1987, 3, 4), exam='bac'")
    assert text == repr(eager())
    assert all(f"{name}=" in text for name in FIELDS)


def test_immutable() -> None:
    lazy = lazy_result("2610000001", VALUE, BIRTH)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.nom = "X"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del lazy.numero
    assert lazy.nom == "Lefèvre"
    with pytest.raises(AttributeError, match="no attribute 'note'"):
        lazy.note  # type: ignore[attr-defined]  # noqa: B018


def test_replace_pickle_copy_and_json() -> None:
    lazy = lazy_result("2610000001", VALUE, BIRTH)
    hidden = lazy.replace(mention=None)
    assert hidden.mention is None and hidden.nom == "Lefèvre" and lazy.mention is Mention.B
    with pytest.raises(TypeError, match="note"):
        lazy.replace(note=12)
    assert pickle.loads(pickle.dumps(lazy_result("2610000001", VALUE, BIRTH))) == eager()
    assert copy.deepcopy(lazy) == lazy and copy.copy(lazy) is lazy
    assert result_to_json(lazy_result("2610000001", VALUE, BIRTH)) == result_to_json(eager())
    assert result_to_json(lazy)["mention"] == "B"


def test_lookup_compares_birth_date_on_stored_bytes(tmp_path: Path) -> None:
    store_dir = stage(tmp_path, [row(serial=1), row(serial=2, naissance="1990-12-31")])
    publish_batch(store_dir, "bac", "versailles", KEY, NOW)
    store = ResultsStore(store_dir)
    me = store.lookup_number(number("bac", "versailles", 1), BIRTH)
    assert me is not None and me.nom == "Dupont" and me.naissance == BIRTH
    other = store.lookup_number(number("bac", "versailles", 2), datetime.date(1990, 12, 31))
    assert other is not None and other.naissance == datetime.date(1990, 12, 31)
    assert store.lookup_number(number("bac", "versailles", 2), BIRTH) is None
    # A datetime is not a birth date, even at midnight of the right day.
    assert store.lookup_number(number("bac", "versailles", 1),
                               datetime.datetime(1987, 3, 4)) is None
    store.close()
