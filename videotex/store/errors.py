"""Errors of the results store.

Every error carries what an operator needs to fix it: the file, the line, the
field, the exam and académie. The CLI prints ``str(error)`` and exits 1, so
messages are written for a person, never as a repr.
"""

from __future__ import annotations

__all__ = [
    "EarlyKeyError",
    "SealError",
    "StagingError",
    "StoreError",
    "TamperedError",
    "TruncatedError",
    "ValidationError",
    "WrongKeyError",
]


class StoreError(Exception):
    """Base of every error raised by :mod:`videotex.store` for bad input or state."""


class SealError(StoreError):
    """A sealed file is malformed, altered, truncated or does not match its key."""


class WrongKeyError(SealError):
    """The key's id does not match the sealed file's header: nothing was decrypted."""


class TamperedError(SealError):
    """A header or chunk fails authentication (altered, reordered or spliced)."""


class TruncatedError(SealError):
    """A sealed file ends before its final chunk."""


class StagingError(StoreError):
    """A sealed file cannot be staged (refused re-ingest, missing batch...)."""


class EarlyKeyError(StoreError):
    """A key was given before the batch's official publication hour."""


class ValidationError(StoreError):
    """A row of a results file is invalid; the whole batch is rejected.

    ``file``, ``line`` (1-based physical line of the CSV) and ``field`` name
    the place; ``reason`` says what is wrong with it.
    """

    def __init__(self, file: str, line: int, field: str, reason: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        super().__init__(f"{file}, line {line}, field {field!r}: {reason}")
