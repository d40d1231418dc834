"""The end-to-end fuzz's rig as a fixture (tests/abuse/rig.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.abuse.rig import Rig


@pytest.fixture
async def rig(service: Any, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = Rig(service, tmp_path / "ssh" / "host_key")
    try:
        await rig.start()
        yield rig
    finally:
        await rig.stop()
        rig.close()
