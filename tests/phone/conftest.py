"""A phone server for the tests: the ``sip`` listener in this process on 127.0.0.1, the
results store of ``tests/helpers/results.py``, and billing into a real LMDB ledger in a temp
folder (the records are read back after the server has stopped)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from videotex.billing import BillingHooks, CallRecord, Ledger, TariffBook
from videotex.protocols.gate import GatePolicy
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import start_listener
from videotex.runtime.loop import ServerLoop
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

from .caller import TEST_JITTER, Phones

__all__ = ["PhoneServer", "free_rtp_range", "make_server", "pytest_asyncio_loop_factories"]


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Any]:
    """The phone (and voice) tests run on the server's loop, whose media clock runs between
    ready callbacks (``videotex.runtime.loop``): their calls go through it, not only the
    bench's."""
    return {"server_loop": ServerLoop}


def free_rtp_range(size: int = 40) -> str:
    """A block of even ports that were free a moment ago (tests may run side by side)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        base = min(s.getsockname()[1] & ~1, 65534 - size)
    return f"{base}-{base + size - 1}"


@dataclass
class PhoneServer:
    board: Switchboard
    listener: Any
    ledger_dir: Path
    hooks: BillingHooks

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.listener.port)

    async def phones(self, capacity: int = 1, local: str = "127.0.0.1",
                     jitter: int = TEST_JITTER) -> Phones:
        return await Phones(self.address, capacity=capacity, local=local,
                            jitter=jitter).open()

    async def stop(self) -> list[CallRecord]:
        """Stop as ``videotex serve`` does; return every record of the ledger."""
        self.listener.close()
        await self.board.shutdown(grace=3)
        await self.listener.wait_closed(timeout=5)
        await self.hooks.stop()
        self.hooks.ledger.close()
        ledger = Ledger(self.ledger_dir, readonly=True)
        try:
            return list(ledger.iter_records())
        finally:
            ledger.close()


MakeServer = Callable[..., Awaitable[PhoneServer]]


@pytest.fixture
async def make_server(service: Any, tmp_path: Path) -> AsyncIterator[MakeServer]:
    """``await make_server(gate=GatePolicy(...), kind="sip", **listener_options)``."""
    made: list[PhoneServer] = []

    async def make(gate: GatePolicy | None = None, kind: str = "sip",
                   **options: Any) -> PhoneServer:
        ledger_dir = tmp_path / f"ledger{len(made)}"
        ledger_dir.mkdir()
        hooks = BillingHooks(TariffBook.from_config({}), Ledger(ledger_dir), "3615 EXAMENS")
        await hooks.start()
        board = Switchboard(service, SystemClock(), hooks=[hooks], gate=gate,
                            health=hooks.health)
        opts = {"media_log": 0, **options}
        if kind == "sip":
            opts.setdefault("rtp_ports", free_rtp_range())
        listener = await start_listener(ListenerConfig(kind, "127.0.0.1", 0, options=opts),
                                        board)
        server = PhoneServer(board, listener, ledger_dir, hooks)
        made.append(server)
        return server

    yield make
    for server in made:
        if not server.listener.closing:
            await server.stop()
