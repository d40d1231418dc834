"""Fixtures for the SSH and SFTP tests: the shared results store (see
``tests/helpers/results.py``), a switchboard on it, and real asyncssh servers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pages import ResultsService, ServiceConfig
from tests.helpers.listeners import port_of
from tests.helpers.results import ELODIE, NOW, PAUL_PARIS, build_store
from videotex.channels.ssh import start as start_ssh
from videotex.channels.ssh_host import SshListener
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.store import ResultsStore
from videotex.teletel import SystemClock

__all__ = ["ELODIE", "NOW", "PAUL_PARIS", "build_store", "port_of"]


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("ssh-results"))


@pytest.fixture
def board(store_dir: Path) -> Switchboard:
    service = ResultsService(ResultsStore(store_dir), ServiceConfig())
    return Switchboard(service, SystemClock())


@pytest.fixture
async def ssh_server(board: Switchboard, tmp_path: Path
                     ) -> AsyncIterator[Callable[..., Awaitable[SshListener]]]:
    """Start SSH listeners with options; all are closed at the end of the test."""
    started: list[SshListener] = []

    async def start(**options: Any) -> SshListener:
        options.setdefault("host_key", str(tmp_path / "ssh" / "host_key"))
        listener = await start_ssh(ListenerConfig("ssh", "127.0.0.1", 0, options=options),
                                   board)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.close()
    await board.shutdown(grace=2)
    for listener in started:
        await listener.wait_closed()
