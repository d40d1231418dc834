"""SSH listener: the service to any SSH client (``videotex serve --ssh HOST:PORT``).

What it owns: the host key (generated on first start, mode 0600, reused after), who may
log in, and the one thing a logged-in user gets: a session channel carrying the
videotex stream, raw bytes both ways (``encoding=None``, no line editor, no echo: the
service draws every character itself). With or without a PTY the caller gets the
service; the PTY's terminal type and size are ignored (a Minitel is 40x25 whatever the
client says), and so is a window change.

Nothing else is offered, and each refusal says so: an exec request, a subsystem (SFTP
included), port forwarding (local, remote, Unix sockets), agent and X11 forwarding. A
connection carries at most one service session; when it ends, the connection is closed.
A BREAK request is acknowledged and ignored: it is not a Minitel key, and mapping it to
Connexion/Fin would let a stray ``~B`` hang up a paying caller.

Listener options (``[[listen]]`` keys, ``cfg.options``):

``host_key``
    path of the private host key (default :data:`DEFAULT_HOST_KEY`).
``public``
    true (default): any user name, no password (``none`` authentication).
    false: only the users of ``users``.
``users``
    ``{name = "CREDENTIAL"}`` where CREDENTIAL is a password hash made by
    :func:`hash_password` (``scrypt$...``), a public key line (``ssh-ed25519 AAAA...``),
    or the path of an ``authorized_keys`` file. A connection gets
    :data:`MAX_PASSWORD_TRIES` password (or keyboard-interactive) attempts, then is
    disconnected; every attempt runs scrypt, against a dummy hash for a user name without
    a password, so the answer time does not tell which user names exist.
``banner``
    text shown by the client before login (OpenSSH prints it).
``session_timeout``
    seconds from the TCP connection to the start of its session (default 30): login,
    the session channel and its shell (or exec) request must all come within it, else
    the connection is closed. A session channel opened and left without a shell request
    (after a PTY request only, or a refused subsystem) is not a started session: it
    never reaches :meth:`Switchboard.handle`, so nothing else would limit it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

import asyncssh

from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard

from .connection import Connection, Pacer
from .ssh_host import (
    DEFAULT_HOST_KEY,
    SshListener,
    authorized_keys,
    hash_password,
    load_host_key,
    quiet_asyncssh,
    server_options,
    verify_password,
)

__all__ = ["MAX_PASSWORD_TRIES", "SshConnection", "start"]

log = logging.getLogger("videotex.ssh")

#: Input kept unread before the channel stops reading (SSH flow control takes over).
_MAX_BUFFERED = 16384
#: Password attempts per connection (either method); the last failure disconnects.
MAX_PASSWORD_TRIES = 3

REFUSED_EXEC = ("videotex: this server runs no commands; connect without one "
                "to reach the Minitel service\r\n")
REFUSED_FORWARDING = "port forwarding is not offered: this server only serves the Minitel service"


# -- the connection adapter ----------------------------------------------------------------


class SshConnection(Connection, asyncssh.SSHServerSession[bytes]):
    """One SSH session channel as a :class:`Connection` (the session handler itself,
    so a caller costs one object on top of asyncssh's own)."""

    channel = "ssh"

    def __init__(self, on_start: Callable[[SshConnection], Any]) -> None:
        self._on_start = on_start
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._buf = bytearray()
        self._eof = False
        self._reading_paused = False
        self._data_ready: asyncio.Event | None = None
        self._can_write: asyncio.Event | None = None
        self.peer = ""
        self.user = ""
        self.term_type: str | None = None
        self.task: asyncio.Task[None] | None = None
        self._exec_refused = False
        #: asyncssh accepted a shell or exec request (``session_started`` ran).
        self.started = False

    # asyncssh side
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan
        peer = chan.get_extra_info("peername")
        if isinstance(peer, tuple):
            host = f"[{peer[0]}]" if ":" in peer[0] else peer[0]
            self.peer = f"{host}:{peer[1]}"
        self.user = str(chan.get_extra_info("username") or "")

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Any) -> bool:
        self.term_type = term_type
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # Accepted, then answered with a message on stderr and exit status 1: a refused
        # request races its message (OpenSSH may exit on the failure before printing it).
        log.warning("ssh exec refused", extra={"peer": self.peer, "command": command[:80]})
        self._exec_refused = True
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning("ssh subsystem refused", extra={"peer": self.peer,
                                                     "subsystem": subsystem[:40]})
        self._tell(f"videotex: no {subsystem[:40]} on this port; it only serves the "
                   "Minitel service\r\n")
        return False

    def _tell(self, text: str) -> None:
        # stderr before the refusal: OpenSSH shows it, other clients drop it
        if self._chan is not None and not self._chan.is_closing():
            self._chan.write_stderr(text.encode())

    def break_received(self, msec: int) -> bool:
        return True  # acknowledged, ignored (see the module docstring)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        return None  # a Minitel screen does not resize

    def session_started(self) -> None:
        self.started = True
        if self._exec_refused:
            self._tell(REFUSED_EXEC)
            if self._chan is not None:
                self._chan.exit(1)
            return
        self.task = asyncio.ensure_future(self._on_start(self))

    def data_received(self, data: bytes, datatype: Any) -> None:
        if datatype is not None:
            return  # extended data is not caller input
        self._buf += data
        if self._data_ready is not None:
            self._data_ready.set()
        if len(self._buf) > _MAX_BUFFERED and self._chan is not None:
            self._reading_paused = True
            self._chan.pause_reading()

    def eof_received(self) -> bool:
        self._hung_up()
        return False  # asyncssh sends our EOF; close() then sends the exit status and CLOSE

    def connection_lost(self, exc: Exception | None) -> None:
        self._hung_up()
        if self._can_write is not None:
            self._can_write.set()
        if self._chan is not None:
            # one session per connection: the line is gone, so is the connection
            self._chan.get_connection().close()

    def _hung_up(self) -> None:
        self._eof = True
        if self._data_ready is not None:
            self._data_ready.set()

    def pause_writing(self) -> None:
        if self._can_write is None:
            self._can_write = asyncio.Event()
        self._can_write.clear()

    def resume_writing(self) -> None:
        if self._can_write is not None:
            self._can_write.set()

    # Connection side
    async def read(self) -> bytes:
        while not self._buf:
            if self._eof:
                return b""
            if self._data_ready is None:
                self._data_ready = asyncio.Event()
            self._data_ready.clear()
            await self._data_ready.wait()
        data = bytes(self._buf)
        self._buf.clear()
        if self._reading_paused and self._chan is not None:
            self._reading_paused = False
            self._chan.resume_reading()
        return data

    def write(self, data: bytes) -> None:
        if self._chan is not None and not self._chan.is_closing():
            self._chan.write(data)

    async def drain(self) -> None:
        # a caller who is gone is reported by the next read, as a hang-up
        if self._can_write is not None and not self._eof:
            await self._can_write.wait()

    def close(self) -> None:
        # Not guarded by is_closing(): that is also true once asyncssh has answered the
        # caller's EOF with ours, and such a half-closed channel still needs its exit
        # status and CLOSE (else it and its connection stay open). exit() does nothing
        # to a channel already closing or closed.
        if self._chan is not None:
            self._chan.exit(0)


# -- the server ----------------------------------------------------------------------


class _PublicServer(asyncssh.SSHServer):
    """Authentication and channel policy of the public SSH port."""

    def __init__(self, policy: _Policy) -> None:
        self._policy = policy
        self._conn: asyncssh.SSHServerConnection | None = None
        self._session: SshConnection | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._password_tries = 0

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._timer = asyncio.get_running_loop().call_later(
            self._policy.session_timeout, self._not_started)

    def _not_started(self) -> None:
        # A session channel alone is not enough: until its shell (or exec) request the
        # caller is not in board.handle, so not under the per-address gate either.
        if self._conn is None or (self._session is not None and self._session.started):
            return
        reason = ("no session channel" if self._session is None
                  else "session channel without shell or exec")
        timeout = self._policy.session_timeout
        log.info("ssh session not started within session_timeout, connection closed",
                 extra={"peer": str(self._conn.get_extra_info("peername")),
                        "reason": reason, "timeout": timeout})
        self._conn.disconnect(asyncssh.DISC_BY_APPLICATION,
                              f"session not started within {timeout:g} s ({reason})")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def begin_auth(self, username: str) -> bool:
        if self._policy.banner and self._conn is not None:
            self._conn.send_auth_banner(self._policy.banner)
        if self._policy.public:
            return False  # no authentication: everybody gets the service
        keys = self._policy.keys.get(username)
        if keys is not None and self._conn is not None:
            self._conn.set_authorized_keys(keys)
        return True

    def password_auth_supported(self) -> bool:
        return bool(self._policy.passwords)

    async def validate_password(self, username: str, password: str) -> bool:
        # Also reached by keyboard-interactive (asyncssh asks for the password that way).
        if self._password_tries >= MAX_PASSWORD_TRIES:
            return False  # sent before our disconnect arrived: not even checked
        self._password_tries += 1
        hashed = self._policy.passwords.get(username)
        # Unknown user names cost the same scrypt work, against a dummy hash: the answer
        # time must not tell which user names exist.
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, verify_password, password,
                                        hashed or self._policy.dummy_hash)
        ok = ok and hashed is not None
        if not ok and self._password_tries >= MAX_PASSWORD_TRIES and self._conn is not None:
            log.warning("ssh password attempts exhausted, disconnected",
                        extra={"peer": str(self._conn.get_extra_info("peername")),
                               "user": username[:32]})
            # after this failure is answered (asyncssh sends it when we return)
            loop.call_soon(self._conn.disconnect,
                           asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE,
                           f"too many authentication failures ({MAX_PASSWORD_TRIES})")
        return ok

    def public_key_auth_supported(self) -> bool:
        return bool(self._policy.keys)

    def session_requested(self) -> SshConnection | bool:
        if self._session is not None:
            return False  # one caller, one line
        self._session = SshConnection(self._policy.serve)
        return self._session

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        REFUSED_FORWARDING)

    def unix_connection_requested(self, dest_path: str) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        REFUSED_FORWARDING)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.warning("ssh remote forwarding refused", extra={"port": listen_port})
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        return False


class _Policy:
    """What the public port allows, read once from the listener options."""

    def __init__(self, cfg: ListenerConfig, serve: Callable[[SshConnection], Any]) -> None:
        options = cfg.options
        where = f"{cfg}"
        self.serve = serve
        self.public = options.get("public", True)
        if not isinstance(self.public, bool):
            raise ValueError(f"{where}: option public must be true or false, "
                             f"not {self.public!r}")
        self.banner = options.get("banner", "")
        if not isinstance(self.banner, str):
            raise ValueError(f"{where}: option banner must be text, not {self.banner!r}")
        if self.banner and not self.banner.endswith("\n"):
            self.banner += "\r\n"
        self.session_timeout = float(options.get("session_timeout", 30))
        self.passwords: dict[str, str] = {}
        self.keys: dict[str, asyncssh.SSHAuthorizedKeys] = {}
        users = options.get("users", {})
        if not isinstance(users, dict):
            raise ValueError(f"{where}: option users must be a table name = credential")
        if not self.public and not users:
            raise ValueError(f"{where}: public = false but no users: nobody could log in")
        for name, credential in users.items():
            at = f"{where}: users.{name}"
            if isinstance(credential, str) and credential.startswith("scrypt$"):
                self.passwords[name] = credential
            elif isinstance(credential, str | list):
                self.keys[name] = authorized_keys(credential, at)
            else:
                raise ValueError(f"{at}: expected a password hash, a public key or a path")
        # what a password for a user name without one is checked against (same cost)
        self.dummy_hash = hash_password(secrets.token_urlsafe(16)) if self.passwords else ""


async def start(cfg: ListenerConfig, board: Switchboard) -> SshListener:
    """Listener starter (``listeners.STARTERS["ssh"]``); options in the module docstring."""
    quiet_asyncssh()
    host_key = load_host_key(cfg.options.get("host_key", DEFAULT_HOST_KEY))
    pacer = Pacer(cfg.baud) if cfg.baud else None

    async def serve(conn: SshConnection) -> None:
        try:
            await board.handle(conn, pacer=pacer)
        finally:
            conn.close()

    policy = _Policy(cfg, serve)
    acceptor = await asyncssh.create_server(
        lambda: _PublicServer(policy), cfg.host, cfg.port,
        encoding=None, line_editor=False, allow_pty=True,
        **server_options(cfg, host_key),
    )
    return SshListener("ssh", acceptor, host_key.get_fingerprint())
