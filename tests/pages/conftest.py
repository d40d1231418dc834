"""Fixtures for the service's screens: the results store of the service tests."""

from __future__ import annotations

from tests.server.conftest import NOW, clock, service, store_dir

__all__ = ["NOW", "clock", "service", "store_dir"]
