"""Interoperability with the OpenSSH clients (skipped where they are not installed):
``sftp`` in batch mode against the drop box, ``ssh`` with exec against the public port."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncssh
import pytest

from tests.helpers.dropbox import DropBoxServer, dropbox, fresh_store, sealed  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("sftp") is None or shutil.which("ssh") is None,
                                reason="OpenSSH clients not installed")

NO_CHECK = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]


async def run(*argv: str, stdin: bytes = b"") -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def test_openssh_sftp_put_get_and_refusals(dropbox: DropBoxServer,  # noqa: F811
                                                 tmp_path: Path) -> None:
    key_file = tmp_path / "id"
    key_file.write_bytes(dropbox.keys["rectorat"].export_private_key())
    key_file.chmod(0o600)
    local = tmp_path / "brevet-lille.sealed"
    local.write_bytes(sealed("brevet", "lille"))
    batch = tmp_path / "batch"
    batch.write_text(f"put {local}\nls -l\nget brevet-lille.sealed.accepted {tmp_path}/ok\n"
                     "-put /etc/hostname ../../escape.sealed\n-mkdir sub\n-rm brevet-lille.sealed\n")
    port = dropbox.listener.addresses()[0].rpartition(":")[2]
    code, out = await run("sftp", "-i", str(key_file), "-P", port, *NO_CHECK,
                          "-b", str(batch), "rectorat@127.0.0.1")
    assert code == 0, out
    assert "brevet-lille.sealed.accepted" in out
    assert "exam: brevet" in (tmp_path / "ok").read_text()
    assert "denied" in out.lower()
    assert not (dropbox.inbox.parent / "escape.sealed").exists()


async def test_openssh_exec_refused_with_a_message(ssh_server) -> None:
    server = await ssh_server()
    port = server.addresses()[0].rpartition(":")[2]
    code, out = await run("ssh", "-p", port, *NO_CHECK, "anyone@127.0.0.1", "id")
    assert code != 0
    assert "runs no commands" in out


async def test_openssh_interactive_session_gets_the_home_page(ssh_server) -> None:
    server = await ssh_server(banner="3615 EXAMENS")
    port = server.addresses()[0].rpartition(":")[2]
    proc = await asyncio.create_subprocess_exec(
        "ssh", "-tt", "-p", port, "-o", "LogLevel=INFO", *NO_CHECK, "anyone@127.0.0.1",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stdin is not None
    seen = b""
    async with asyncio.timeout(15):
        while b"RESULTATS" not in seen:
            chunk = await proc.stdout.read(4096)
            assert chunk, f"ssh ended before the home page: {seen!r}"
            seen += chunk
    proc.stdin.write(b"\x13\x49")  # Connexion/Fin
    await proc.stdin.drain()
    _out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err  # the server sent exit-status 0 at goodbye
    assert b"3615 EXAMENS" in err  # the banner, printed by OpenSSH at LogLevel INFO


async def test_banner_reaches_an_asyncssh_client(ssh_server) -> None:
    server = await ssh_server(banner="Bienvenue sur 3615 EXAMENS")
    banners: list[str] = []

    class Client(asyncssh.SSHClient):
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg)

    port = int(server.addresses()[0].rpartition(":")[2])
    conn, _ = await asyncssh.create_connection(Client, "127.0.0.1", port, known_hosts=None,
                                               client_keys=None, agent_path=None)
    conn.close()
    await conn.wait_closed()
    assert banners == ["Bienvenue sur 3615 EXAMENS\r\n"]
