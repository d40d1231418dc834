"""Fixtures for the service's screens: the results store of the service tests
(``store_dir``, ``service``, ``clock`` come from ``tests/conftest.py``)."""

from __future__ import annotations

from tests.helpers.results import NOW

__all__ = ["NOW"]
