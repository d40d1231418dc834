"""Any input gives a result or the store's own documented error, never another exception."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.store.csvfile import parse_results
from videotex.store.errors import SealError, ValidationError
from videotex.store.sealed import unseal

from .helpers import HEADER, KEY, row, sealed

_GOOD = sealed([row(serial=1), row(serial=2)], chunk_size=64)
_CELLS = st.text(alphabet=st.sampled_from('ab,"é\n\r\t 0123456789-'), max_size=12)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_any_bytes_as_csv(data: bytes) -> None:
    try:
        parse_results(data, "f.csv", "bac", "versailles", 2005)
    except ValidationError as exc:
        assert exc.file == "f.csv" and exc.line >= 1 and exc.field


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(_CELLS, min_size=0, max_size=12))
def test_csv_like_rows(cells: list[str]) -> None:
    text = HEADER + "\n" + row(serial=1) + "\n" + ",".join(cells) + "\n"
    try:
        parse_results(text, "f.csv", "bac", "versailles", 2005)
    except ValidationError as exc:
        assert exc.line >= 2


@settings(max_examples=200, deadline=None)
@given(at=st.integers(0, len(_GOOD) - 1), value=st.integers(0, 255),
       cut=st.integers(0, len(_GOOD)))
def test_any_damage_to_a_sealed_file(at: int, value: int, cut: int) -> None:
    damaged = bytearray(_GOOD)
    damaged[at] = value
    for data in (bytes(damaged), _GOOD[:cut]):
        try:
            _header, plain = unseal(io.BytesIO(data), KEY)
        except SealError:
            continue
        assert data == _GOOD  # only the untouched file decrypts
        assert plain.startswith(HEADER.encode())
