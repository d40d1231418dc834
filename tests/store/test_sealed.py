from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.store.errors import SealError, TamperedError, TruncatedError, WrongKeyError
from videotex.store.sealed import (
    MAGIC,
    check_framing,
    generate_key,
    key_id,
    read_header,
    read_key,
    seal_bytes,
    unseal,
    write_key,
)

from .helpers import KEY, OTHER_KEY, csv_text, many_rows

PLAIN = csv_text(many_rows(200)).encode()


def _seal(plain: bytes = PLAIN, chunk_size: int = 1000) -> bytes:
    return seal_bytes(plain, KEY, exam="bac", academie="versailles", session=2005, rows=200,
                      source="results.csv", chunk_size=chunk_size)


def _header_len(data: bytes) -> int:
    (length,) = struct.unpack(">I", data[len(MAGIC) + 1:len(MAGIC) + 5])
    return len(MAGIC) + 5 + length


def _chunks(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each framed chunk."""
    pos = _header_len(data)
    out = []
    while pos < len(data):
        _flag, length = struct.unpack(">BI", data[pos:pos + 5])
        out.append((pos, pos + 5 + length))
        pos += 5 + length
    return out


def test_round_trip_and_header_readable_without_key() -> None:
    data = _seal()
    header = read_header(io.BytesIO(data))
    assert (header.exam, header.academie, header.session, header.rows) == (
        "bac", "versailles", 2005, 200)
    assert header.source == "results.csv" and header.key_id == key_id(KEY)
    assert PLAIN not in data and b"Nom1" not in data
    assert len(_chunks(data)) > 5
    assert unseal(io.BytesIO(data), KEY)[1] == PLAIN
    assert check_framing(io.BytesIO(data)).rows == 200


@settings(max_examples=30, deadline=None)
@given(plain=st.binary(max_size=3000), chunk=st.integers(1, 700))
def test_round_trip_any_content_and_chunk_size(plain: bytes, chunk: int) -> None:
    assert unseal(io.BytesIO(_seal(plain, chunk)), KEY)[1] == plain


def test_wrong_key_is_reported_before_decrypting() -> None:
    with pytest.raises(WrongKeyError, match="wrong key for bac versailles 2005"):
        unseal(io.BytesIO(_seal()), OTHER_KEY, "x.sealed")


def test_flipped_header_byte_is_detected() -> None:
    data = bytearray(_seal())
    at = data.index(b'"versailles"') + 3
    data[at] ^= 0x01  # still valid JSON and a plausible... "veqsailles" is not an académie
    with pytest.raises(TamperedError, match="header"):
        unseal(io.BytesIO(bytes(data)), KEY)
    data = bytearray(_seal())
    at = data.index(b'"session": 2005') + len(b'"session": 200')
    data[at] = ord("6")  # 2006: a valid header, but not the one the chunks were sealed with
    with pytest.raises(TamperedError, match="chunk 0 fails authentication"):
        unseal(io.BytesIO(bytes(data)), KEY)


def test_flipped_chunk_byte_is_detected() -> None:
    data = bytearray(_seal())
    start, end = _chunks(bytes(data))[3]
    data[(start + end) // 2] ^= 0x80
    with pytest.raises(TamperedError, match="chunk 3 fails authentication"):
        unseal(io.BytesIO(bytes(data)), KEY)


def test_reordered_chunks_are_detected() -> None:
    data = _seal()
    spans = _chunks(data)
    (a0, a1), (b0, b1) = spans[1], spans[2]
    swapped = data[:a0] + data[b0:b1] + data[a0:a1] + data[b1:]
    with pytest.raises(TamperedError, match="chunk 1 fails authentication"):
        unseal(io.BytesIO(swapped), KEY)


def test_truncation_is_detected() -> None:
    data = _seal()
    spans = _chunks(data)
    with pytest.raises(TruncatedError, match="without the final chunk"):
        unseal(io.BytesIO(data[:spans[-1][0]]), KEY)
    with pytest.raises(TruncatedError, match="truncated in chunk"):
        unseal(io.BytesIO(data[:-7]), KEY)
    with pytest.raises(TruncatedError):
        check_framing(io.BytesIO(data[:spans[2][0]]))
    with pytest.raises(TruncatedError, match="header"):
        read_header(io.BytesIO(data[:20]))


def test_dropping_final_flag_is_detected() -> None:
    # Turn the last chunk's flag into "more": the flag is authenticated.
    data = bytearray(_seal())
    spans = _chunks(bytes(data))
    data[spans[-1][0]] = 0
    with pytest.raises(TamperedError, match=f"chunk {len(spans) - 1} fails authentication"):
        unseal(io.BytesIO(bytes(data)), KEY)


def test_marking_an_early_chunk_final_is_detected() -> None:
    data = bytearray(_seal())
    start, end = _chunks(bytes(data))[1]
    data[start] = 1
    truncated = bytes(data[:end])  # a file that "ends" after a forged final chunk
    with pytest.raises(TamperedError, match="chunk 1 fails authentication"):
        unseal(io.BytesIO(truncated), KEY)


def test_extension_is_detected() -> None:
    data = _seal()
    with pytest.raises(TamperedError, match="after the final chunk"):
        unseal(io.BytesIO(data + b"\x00" * 30), KEY)
    other = _seal()  # splicing a chunk of another sealing of the same data
    start, end = _chunks(other)[0]
    with pytest.raises(TamperedError):
        unseal(io.BytesIO(data + other[start:end]), KEY)


def test_not_a_sealed_file() -> None:
    with pytest.raises(SealError, match="not a sealed results file"):
        read_header(io.BytesIO(b"numero,nom\n"))
    body = json.dumps({"exam": "bac"}).encode()
    with pytest.raises(TamperedError, match="header is unreadable"):
        read_header(io.BytesIO(MAGIC + b"\x01" + struct.pack(">I", len(body)) + body))


def test_key_files(tmp_path: Path) -> None:
    key = generate_key()
    assert len(key) == 16 and key != generate_key()
    path = tmp_path / "k.key"
    write_key(path, key)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert path.read_text() == key.hex() + "\n"
    assert read_key(path) == key
    (tmp_path / "bad.key").write_text("abcd\n")
    with pytest.raises(SealError, match=r"bad\.key: not a key file"):
        read_key(tmp_path / "bad.key")
    with pytest.raises(SealError, match="cannot read key file"):
        read_key(tmp_path / "missing.key")
