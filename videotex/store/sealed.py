"""The sealed file format (``docs/sealed-format.md``): AES-128-GCM in chunks.

Layout::

    b"VTXSEAL" + version (1 byte) + header length (u32 BE) + header (UTF-8 JSON)
    then per chunk: flag (1 byte: 0 more, 1 final) + length (u32 BE) + ciphertext+tag

The header holds exam, académie, session, row count, chunk size, the nonce
prefix (8 random bytes, hex), the key id and the source file name. Every
chunk's associated data is ``header bytes (everything before the first chunk)
+ flag + chunk index (u32 BE)``; its nonce is ``prefix + index``. So an
altered header or chunk, a reordered, dropped or spliced chunk, a missing
final chunk or bytes after it are all detected before any row is used. The
key id (first 8 bytes of HMAC-SHA256(key, "videotex key id")) reports a wrong
key before decrypting. The header is readable without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import SealError, TamperedError, TruncatedError, WrongKeyError
from .exams import check_batch

__all__ = [
    "CHUNK_SIZE",
    "MAGIC",
    "VERSION",
    "SealedHeader",
    "check_framing",
    "generate_key",
    "key_id",
    "read_header",
    "read_key",
    "seal_bytes",
    "unseal",
    "write_key",
]

MAGIC = b"VTXSEAL"
VERSION = 1
CHUNK_SIZE = 1 << 20
KEY_BYTES = 16
_FRAME = struct.Struct(">BI")
_INDEX = struct.Struct(">I")
_MAX_HEADER = 64 * 1024
#: A session is a four-digit year: the CSV checks of birth dates (session - 80 to
#: session - 10) need a year that ``datetime.date`` can hold.
MIN_SESSION, MAX_SESSION = 1000, 9999
_TAG = 16


def generate_key() -> bytes:
    """A fresh random 128-bit key."""
    return secrets.token_bytes(KEY_BYTES)


def key_id(key: bytes) -> str:
    """The public identifier of a key, recorded in headers (hex, 8 bytes)."""
    return hmac.new(key, b"videotex key id", hashlib.sha256).hexdigest()[:16]


def write_key(path: str | os.PathLike[str], key: bytes) -> None:
    """Write a key file: hex text and a newline, mode 0600 from creation."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    os.chmod(path, 0o600)


def read_key(path: str | os.PathLike[str]) -> bytes:
    """Read a key file; raise :class:`SealError` naming the file if it is not one."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SealError(f"{path}: cannot read key file: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise SealError(f"{path}: not a key file (expected 32 hex digits, a 128-bit key)")
    return key


@dataclass(frozen=True)
class SealedHeader:
    """The authenticated, readable-without-key header of a sealed file."""

    exam: str
    academie: str
    session: int
    rows: int
    chunk_size: int
    nonce_prefix: bytes
    key_id: str
    source: str
    #: the exact header bytes (magic to end of JSON): associated data of every chunk
    raw: bytes

    @property
    def batch(self) -> tuple[str, str]:
        return self.exam, self.academie


def _encode_header(fields: dict[str, Any]) -> bytes:
    body = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
    return MAGIC + bytes([VERSION]) + struct.pack(">I", len(body)) + body


def seal_bytes(plaintext: bytes, key: bytes, *, exam: str, academie: str, session: int,
               rows: int, source: str = "", chunk_size: int = CHUNK_SIZE) -> bytes:
    """Encrypt a (validated) results file; the caller vouches for ``rows``."""
    check_batch(exam, academie)
    if len(key) != KEY_BYTES:
        raise SealError(f"a key is {KEY_BYTES} bytes, got {len(key)}")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    prefix = secrets.token_bytes(8)
    header = _encode_header({
        "exam": exam, "academie": academie, "session": session, "rows": rows,
        "chunk_size": chunk_size, "nonce_prefix": prefix.hex(), "key_id": key_id(key),
        "source": source,
    })
    aes = AESGCM(key)
    out = [header]
    count = max(1, -(-len(plaintext) // chunk_size))
    for index in range(count):
        flag = 1 if index == count - 1 else 0
        packed = _INDEX.pack(index)
        chunk = aes.encrypt(prefix + packed, plaintext[index * chunk_size:(index + 1) * chunk_size],
                            header + bytes([flag]) + packed)
        out.append(_FRAME.pack(flag, len(chunk)))
        out.append(chunk)
    return b"".join(out)


def _read_exact(f: BinaryIO, n: int, name: str, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise TruncatedError(f"{name}: truncated in {what} (expected {n} bytes, got {len(data)})")
    return data


def read_header(f: BinaryIO, name: str = "sealed file") -> SealedHeader:
    """Read and check the header at the start of ``f`` (no key needed)."""
    start = f.read(len(MAGIC) + 5)
    if start[: len(MAGIC)] != MAGIC:
        raise SealError(f"{name}: not a sealed results file (bad magic)")
    if len(start) < len(MAGIC) + 5:
        raise TruncatedError(f"{name}: truncated in header")
    if start[len(MAGIC)] != VERSION:
        raise SealError(f"{name}: unsupported sealed format version {start[len(MAGIC)]}")
    (length,) = struct.unpack(">I", start[len(MAGIC) + 1:])
    if length > _MAX_HEADER:
        raise SealError(f"{name}: header length {length} is implausible (altered header?)")
    body = _read_exact(f, length, name, "header")
    try:
        fields = json.loads(body)
        header = SealedHeader(
            exam=str(fields["exam"]), academie=str(fields["academie"]),
            session=int(fields["session"]), rows=int(fields["rows"]),
            chunk_size=int(fields["chunk_size"]),
            nonce_prefix=bytes.fromhex(fields["nonce_prefix"]), key_id=str(fields["key_id"]),
            source=str(fields.get("source", "")), raw=start + body,
        )
        check_batch(header.exam, header.academie)
    # Infinity or 1e999 in a number field (OverflowError from int()), JSON nested
    # thousands deep (RecursionError): all are a provider's bytes, refused like the rest
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        raise TamperedError(f"{name}: header is unreadable or altered ({exc})") from None
    if (len(header.nonce_prefix) != 8 or header.chunk_size <= 0 or header.rows < 0
            or not MIN_SESSION <= header.session <= MAX_SESSION):
        raise TamperedError(f"{name}: header fields are out of range (altered header?)")
    return header


def _frames(f: BinaryIO, header: SealedHeader, name: str) -> Iterator[tuple[int, int, bytes]]:
    """(index, flag, ciphertext) of each chunk; checks framing (no key needed)."""
    index = 0
    limit = header.chunk_size + _TAG
    while True:
        head = f.read(_FRAME.size)
        if not head:
            raise TruncatedError(f"{name}: truncated: ends after chunk {index - 1} "
                                 "without the final chunk")
        if len(head) < _FRAME.size:
            raise TruncatedError(f"{name}: truncated in the frame of chunk {index}")
        flag, length = _FRAME.unpack(head)
        if flag not in (0, 1) or length > limit or length < _TAG:
            raise TamperedError(f"{name}: chunk {index} frame is altered "
                                f"(flag {flag}, length {length})")
        yield index, flag, _read_exact(f, length, name, f"chunk {index}")
        if flag == 1:
            if f.read(1):
                raise TamperedError(f"{name}: data after the final chunk (extended file)")
            return
        index += 1


def check_framing(f: BinaryIO, name: str = "sealed file") -> SealedHeader:
    """Read a whole sealed file without the key: header and chunk framing."""
    header = read_header(f, name)
    for _ in _frames(f, header, name):
        pass
    return header


def unseal(f: BinaryIO, key: bytes, name: str = "sealed file") -> tuple[SealedHeader, bytes]:
    """Decrypt a sealed file; every chunk is authenticated before returning."""
    header = read_header(f, name)
    if key_id(key) != header.key_id:
        raise WrongKeyError(f"{name}: wrong key for {header.exam} {header.academie} "
                            f"{header.session} (key id {key_id(key)}, file wants "
                            f"{header.key_id})")
    aes = AESGCM(key)
    parts = []
    for index, flag, chunk in _frames(f, header, name):
        packed = _INDEX.pack(index)
        try:
            parts.append(aes.decrypt(header.nonce_prefix + packed, chunk,
                                     header.raw + bytes([flag]) + packed))
        except InvalidTag:
            raise TamperedError(f"{name}: chunk {index} fails authentication (header or "
                                "chunk altered, chunks reordered or spliced)") from None
    return header, b"".join(parts)
