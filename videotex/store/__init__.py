"""Sealed result files, publication at the official hour, the LMDB results store.

The server codes against :class:`ResultsStore` (lookups and batch status);
the CLI and the SFTP drop box use :func:`ingest`, :func:`publish_batch` and
:func:`set_schedule`. See ``docs/sealed-format.md`` and
``docs/results-format.md``.
"""

from __future__ import annotations

from .errors import (
    EarlyKeyError,
    SealError,
    StagingError,
    StoreError,
    TamperedError,
    TruncatedError,
    ValidationError,
    WrongKeyError,
)
from .exams import ACADEMIES, EXAMS, Mention, Outcome, batch_of_number, normalise_name
from .lmdbstore import BatchStatus, ResultsStore
from .publish import ingest, publish_all, publish_batch, set_schedule
from .records import Result

__all__ = [
    "ACADEMIES",
    "EXAMS",
    "BatchStatus",
    "EarlyKeyError",
    "Mention",
    "Outcome",
    "Result",
    "ResultsStore",
    "SealError",
    "StagingError",
    "StoreError",
    "TamperedError",
    "TruncatedError",
    "ValidationError",
    "WrongKeyError",
    "batch_of_number",
    "ingest",
    "normalise_name",
    "publish_all",
    "publish_batch",
    "set_schedule",
]
