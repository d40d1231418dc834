"""The cyclic garbage collector off for a test, as the server runs (``runtime/gcpolicy``):
what an ended call leaves in reference cycles stays visible to ``gc.get_objects()``.

Imports only the standard library and pytest: the telnetlib3 hand-over tests use it in
their small per-release venvs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

__all__ = ["collector_off"]


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
