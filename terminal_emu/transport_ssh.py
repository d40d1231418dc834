"""``ssh://USER@HOST:PORT``: the emulator as an SSH client (asyncssh).

The session asks for a PTY of terminal type ``minitel`` and 40x25 characters (the
server ignores both, but a PTY is what an interactive ``ssh`` would ask for) and moves
raw bytes (``encoding=None``): no translation of any kind.

Host keys: this is a test and demonstration tool, so it accepts whatever key the server
shows (``known_hosts=None``) and logs its SHA256 fingerprint on the ``terminal_emu.ssh``
logger (a warning, so it is printed by default) for a person to compare with the one
the operator publishes. Pass ``?known_hosts=PATH`` to check against a file instead.

URL options (query string): ``password=...`` (or ``ssh://USER:PASSWORD@...``),
``key=PATH`` (a private key for public-key login), ``pty=0`` (no PTY request),
``known_hosts=PATH``. Without ``key`` or a password, no client key is offered (the
public service needs none) and the local SSH agent is not consulted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncssh

from .client import ConnectError, Transport

__all__ = ["SshTransport", "open_ssh"]

log = logging.getLogger("terminal_emu.ssh")

#: Terminal type sent with the PTY request.
TERM_TYPE = "minitel"


class SshTransport(Transport, asyncssh.SSHClientSession[bytes]):
    """One SSH session channel carrying videotex bytes."""

    def __init__(self) -> None:
        self._conn: asyncssh.SSHClientConnection | None = None
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        #: SHA256 fingerprint of the server's host key.
        self.fingerprint = ""
        #: What the server wrote on stderr (its refusals say why there).
        self.stderr = bytearray()

    # asyncssh side
    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self._chan = chan

    def data_received(self, data: bytes, datatype: Any) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr += data
        elif data:
            self._queue.put_nowait(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._queue.put_nowait(b"")

    # Transport side
    async def read(self) -> bytes:
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # every later read sees the hang-up too
        return data

    def write(self, data: bytes) -> None:
        if data and self._chan is not None and not self._chan.is_closing():
            self._chan.write(data)

    @property
    def local_address(self) -> str:
        if self._conn is None:
            return ""
        sockname = self._conn.get_extra_info("sockname")
        if not isinstance(sockname, tuple):
            return ""
        host, port = sockname[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            await self._conn.wait_closed()


async def open_ssh(url: str, timeout: float) -> SshTransport:
    """Connect to ``ssh://USER@HOST:PORT`` and open the service session."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConnectError(f"{url}: no host in the URL")
    try:
        port = parts.port or 22
    except ValueError:
        raise ConnectError(f"{url}: the port is not a number") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"password", "key", "pty", "known_hosts"}
    if unknown:
        raise ConnectError(f"{url}: unknown option(s) {', '.join(sorted(unknown))} "
                           "(password, key, pty, known_hosts)")
    password = unquote(parts.password) if parts.password else query.get("password")
    options: dict[str, Any] = {
        "username": unquote(parts.username) if parts.username else "minitel",
        "known_hosts": query.get("known_hosts"),
        "client_keys": [query["key"]] if "key" in query else None,
        "agent_path": None,
        "password": password,
        "gss_host": None,
    }
    try:
        conn = await asyncio.wait_for(
            asyncssh.connect(parts.hostname, port, **options), timeout)
    except (OSError, TimeoutError, asyncssh.Error) as e:
        raise ConnectError(f"{url}: cannot connect: {e}") from None
    host_key = conn.get_server_host_key()
    fingerprint = host_key.get_fingerprint() if host_key is not None else "?"
    if options["known_hosts"] is None:
        log.warning("ssh %s:%s host key %s (not verified)", parts.hostname, port, fingerprint)
    pty = query.get("pty", "1") not in ("0", "no", "false")
    try:
        _chan, session = await asyncio.wait_for(conn.create_session(
            SshTransport, term_type=TERM_TYPE if pty else None,
            term_size=(40, 25) if pty else None, encoding=None), timeout)
    except (OSError, TimeoutError, asyncssh.Error) as e:
        conn.close()
        raise ConnectError(f"{url}: the server refused the session: {e}") from None
    assert isinstance(session, SshTransport)
    transport = session
    transport._conn = conn
    transport.fingerprint = fingerprint
    return transport
