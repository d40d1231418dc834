"""Fixtures shared by several test folders: the results store of ``tests/helpers/results.py``
(built once per session), the service on it, and a fake clock at its morning."""

from __future__ import annotations

from pathlib import Path

import pytest

from pages import ResultsService, ServiceConfig
from tests.helpers.results import NOW, build_store
from videotex.store import ResultsStore
from videotex.teletel import FakeClock


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("results"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def service(store_dir: Path) -> ResultsService:
    return ResultsService(ResultsStore(store_dir), ServiceConfig())
