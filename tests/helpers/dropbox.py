"""The providers' SFTP drop box on loopback: its fixtures (``dropbox`` needs a ``board``
fixture), sealed files to upload, and client helpers. Used by tests/inbox and by the
OpenSSH client tests of tests/channels/ssh."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from tests.helpers.listeners import port_of
from tests.helpers.results import build_store
from videotex.inbox.sftp import SftpListener
from videotex.inbox.sftp import start as start_sftp
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.store.sealed import generate_key, seal_bytes

__all__ = ["DropBoxServer", "dropbox", "fresh_store", "put", "read_text", "sealed"]

CSV = ("numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"
       "{n}0000001,MARTIN,Léa,1990-04-04,,admis,,oui,Collège Jean Macé,J01\n")


def sealed(exam: str = "brevet", academie: str = "lille") -> bytes:
    from videotex.store.exams import ACADEMY_CODES, EXAM_CODES

    prefix = ACADEMY_CODES[academie] + EXAM_CODES[exam]
    return seal_bytes(CSV.format(n=prefix).encode(), generate_key(), exam=exam,
                      academie=academie, session=2005, rows=1)


@dataclass
class DropBoxServer:
    listener: SftpListener
    store: Path
    inbox: Path
    keys: dict[str, asyncssh.SSHKey]

    def connect(self, user: str, key: asyncssh.SSHKey | None = None,
                **kw: object) -> asyncssh.connection._ConnectionContextManager:
        options: dict[str, object] = {"known_hosts": None, "agent_path": None,
                                      "username": user,
                                      "client_keys": [key or self.keys[user]]}
        options.update(kw)
        return asyncssh.connect("127.0.0.1", port_of(self.listener), **options)


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("sftp-results"))


@pytest.fixture
async def dropbox(board: Switchboard, fresh_store: Path, tmp_path: Path,
                  request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[DropBoxServer]:
    """The drop box on loopback; ``indirect`` parametrization gives the highest SFTP
    version the server offers (3 as in production; 6 to reach ``open56``)."""
    version = getattr(request, "param", 3)
    if version != 3:
        monkeypatch.setattr(asyncssh, "create_server",
                            functools.partial(asyncssh.create_server, sftp_version=version))
    keys = {name: asyncssh.generate_private_key("ssh-ed25519") for name in ("rectorat", "autre")}
    options = {
        "accounts": {name: key.export_public_key().decode().strip()
                     for name, key in keys.items()},
        "inbox": str(tmp_path / "inbox"),
        "store": str(fresh_store),
        "max_upload": 64 * 1024,
        "host_key": str(tmp_path / "host_key"),
    }
    listener = await start_sftp(ListenerConfig("sftp", "127.0.0.1", 0, options=options),
                                board)
    yield DropBoxServer(listener, fresh_store, tmp_path / "inbox", keys)
    listener.close()
    await listener.wait_closed()


async def put(sftp: asyncssh.SFTPClient, name: str, data: bytes) -> None:
    async with sftp.open(name, "wb") as f:
        await f.write(data)


async def read_text(sftp: asyncssh.SFTPClient, name: str) -> str:
    async with sftp.open(name, "rb") as f:
        return (await f.read()).decode()
