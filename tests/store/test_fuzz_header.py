"""Sealed-file headers under hostile input: a provider's bytes give a header or a
SealError naming the file, never another exception.

Regressions (found while writing bench/bench_fuzz.py): ``Infinity`` or ``1e999`` in a
number field raised OverflowError, JSON nested thousands deep raised RecursionError, and
a session that is not a four-digit year was staged, then broke publication with the
ValueError of ``datetime.date`` when the rows' birth dates were checked."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.store.errors import SealError, TamperedError
from videotex.store.sealed import MAGIC, VERSION, check_framing, read_header

from .helpers import KEY, row, sealed

FIELDS: dict[str, Any] = {
    "exam": "bac", "academie": "versailles", "session": 2005, "rows": 1, "chunk_size": 64,
    "nonce_prefix": "00" * 8, "key_id": "0" * 16, "source": "bac.csv",
}


def framed(body: bytes) -> bytes:
    return MAGIC + bytes([VERSION]) + struct.pack(">I", len(body)) + body


def header_of(**changes: Any) -> bytes:
    return framed(json.dumps({**FIELDS, **changes}).encode())


@pytest.mark.parametrize("body", [
    json.dumps(FIELDS).replace('"session": 2005', '"session": Infinity').encode(),
    json.dumps(FIELDS).replace('"rows": 1', '"rows": 1e999').encode(),
    json.dumps(FIELDS).replace('"chunk_size": 64', '"chunk_size": -Infinity').encode(),
    b"[" * 60_000,
    b'{"exam": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}",
], ids=["infinity", "1e999", "-infinity", "deep-list", "deep-object"])
def test_unreadable_header_is_a_tampered_error(body: bytes) -> None:
    with pytest.raises(TamperedError, match=r"fuzz\.sealed: header is unreadable"):
        read_header(io.BytesIO(framed(body)), "fuzz.sealed")


@pytest.mark.parametrize("session", [0, 5, 999, 10_000, 20_000, -2005, True])
def test_session_must_be_a_four_digit_year(session: object) -> None:
    with pytest.raises(TamperedError, match=r"fuzz\.sealed: header fields are out of range"):
        read_header(io.BytesIO(header_of(session=session)), "fuzz.sealed")


def test_a_file_sealed_with_an_impossible_session_is_not_staged() -> None:
    data = sealed([row()], key=KEY, session=20_000)  # seal_bytes takes the provider's word
    with pytest.raises(TamperedError, match="out of range"):
        check_framing(io.BytesIO(data), "in.sealed")
    assert read_header(io.BytesIO(sealed([row()], session=2005))).session == 2005


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["bac", "versailles", "00" * 8, "1" * 5000]),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)), _VALUES, max_size=8),
       st.integers(0, 40), st.binary(max_size=16))
def test_any_header_fields_give_a_header_or_a_seal_error(
        changes: dict[str, Any], depth: int, tail: bytes) -> None:
    fields = {**FIELDS, **changes}
    body = json.dumps(fields, allow_nan=True).encode()
    if depth:
        body = b'{"x": ' * depth + body + b"}" * depth
    for data in (framed(body), framed(body) + tail, framed(body)[: 12 + len(tail)]):
        try:
            header = read_header(io.BytesIO(data), "fuzz.sealed")
        except SealError as exc:
            assert str(exc).startswith("fuzz.sealed: ")
            continue
        assert 1000 <= header.session <= 9999
        assert header.rows >= 0 and header.chunk_size > 0 and len(header.nonce_prefix) == 8
        assert header.raw == data[: len(header.raw)]
