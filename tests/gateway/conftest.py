"""The gateway tests' MiniPavi service: a real aiohttp server on loopback speaking the
protocol (:mod:`tests.gateway.pavi_service`), playing §8's worked example unless a test
gives it another handler (``set_handler``); the gateway's HTTP client is closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.gateway.pavi_service import PaviService, hello_flow
from videotex.runtime.effects import close_http


@pytest.fixture
async def pavi() -> AsyncIterator[PaviService]:
    holder: dict[str, Any] = {}
    svc = PaviService(lambda req: holder["handler"](req))
    await svc.start()
    holder["handler"] = hello_flow(svc.url)
    svc.handler_holder = holder  # type: ignore[attr-defined]
    yield svc
    await svc.stop()
    await close_http()
