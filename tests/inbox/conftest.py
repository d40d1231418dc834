"""The drop box's fixtures (tests/helpers/dropbox.py) on a switchboard of the shared store."""

from __future__ import annotations

import pytest

from tests.helpers.dropbox import dropbox, fresh_store
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

__all__ = ["board", "dropbox", "fresh_store"]


@pytest.fixture
def board(service) -> Switchboard:  # type: ignore[no-untyped-def]
    return Switchboard(service, SystemClock())
