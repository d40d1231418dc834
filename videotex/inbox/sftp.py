"""SFTP drop box for result providers (``videotex serve --sftp HOST:PORT``).

Named provider accounts log in with a public key only (no password, no keyboard
interactive, no ``none``); each sees ``/`` = its own inbox and nothing else. A sealed
file uploaded there is staged on close, as ``videotex ingest`` would, and the outcome
appears next to it (``NAME.sealed.accepted`` or ``NAME.sealed.rejected``): see
:mod:`videotex.inbox.sftp_inbox` for the rules of the inbox.

Refused, each with an SFTP error whose message says why: ``..`` and subdirectories,
names that are not plain (leading dot, odd characters), symlinks, uploads of names not
ending in ``.sealed``, reusing the name of an accepted file, uploads larger than
``max_upload`` (the write fails and the partial file is dropped), removing or renaming
files, directories and links, file system statistics (``statvfs``), SFTP v5/v6 opens.
The SFTP port offers no shell, no exec, no forwarding.

Every :class:`asyncssh.SFTPServer` method that takes a client path is overridden here:
each goes through :meth:`InboxServer._name` or refuses outright. asyncssh's defaults act
on the path as given (no chroot), so one left in place reaches the whole file system;
:meth:`InboxServer.map_path`, which those defaults go through, refuses as a last line.
``tests/inbox/test_sftp.py::test_every_sftp_server_method_is_the_inbox_s_own`` fails when
asyncssh adds a method this class does not override.

Listener options (``[[listen]]`` keys, ``cfg.options``):

``accounts`` (required)
    ``{provider = KEYS}``; KEYS is a public key line (``ssh-ed25519 AAAA... comment``),
    a list of them, or the path of an ``authorized_keys`` file.
``inbox``
    root of the inboxes (default ``var/inbox``); one directory per account.
``store``
    where files are staged (default: the store the server serves).
``max_upload``
    largest upload in bytes (default 512 MiB).
``host_key``
    as for the ``ssh`` listener (the same file may serve both).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NoReturn

import asyncssh
from asyncssh import FXF_WRITE, SFTPAttrs, SFTPName

from videotex.channels.ssh_host import (
    DEFAULT_HOST_KEY,
    SshListener,
    authorized_keys,
    load_host_key,
    quiet_asyncssh,
    server_options,
)
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard

from .sftp_inbox import DropBox, Inbox, InboxRefusal, Upload, check_name

__all__ = ["DEFAULT_INBOX", "DEFAULT_MAX_UPLOAD", "InboxServer", "SftpListener", "start"]

log = logging.getLogger("videotex.sftp")

DEFAULT_INBOX = Path("var/inbox")
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024

_ERRORS: dict[str, Callable[[str], asyncssh.SFTPError]] = {
    "denied": asyncssh.SFTPPermissionDenied,
    "exists": asyncssh.SFTPFileAlreadyExists,
    "missing": asyncssh.SFTPNoSuchFile,
    "failure": asyncssh.SFTPFailure,
    "unsupported": asyncssh.SFTPOpUnsupported,
}


def _refuse(kind: str, message: str) -> NoReturn:
    raise _ERRORS[kind](message)


class _Download:
    def __init__(self, fd: int) -> None:
        self.fd = fd


class InboxServer(asyncssh.SFTPServer):
    """One provider's SFTP session: a flat, virtual view of its inbox."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], dropbox: DropBox) -> None:
        super().__init__(chan)
        self.inbox: Inbox = dropbox.inbox(str(chan.get_extra_info("username")))

    def _name(self, path: bytes) -> str | None:
        try:
            return check_name(path.decode("utf-8"))
        except UnicodeDecodeError:
            _refuse("denied", f"{path!r}: file names must be UTF-8")
        except InboxRefusal as e:
            _refuse(e.kind, str(e))

    def _file(self, path: bytes) -> tuple[str, os.stat_result]:
        name = self._name(path)
        if name is None:
            _refuse("failure", "/ is the inbox directory, not a file")
        try:
            st = os.lstat(self.inbox.file(name))
        except FileNotFoundError:
            _refuse("missing", f"{name}: no such file in your inbox")
        if not os.path.isfile(self.inbox.file(name)) or os.path.islink(self.inbox.file(name)):
            _refuse("denied", f"{name}: not a plain file (symlinks are refused)")
        return name, st

    # -- names and listings ------------------------------------------------------

    def realpath(self, path: bytes) -> bytes:
        name = self._name(path)
        return b"/" if name is None else b"/" + name.encode()

    def stat(self, path: bytes) -> os.stat_result:
        if self._name(path) is None:
            return os.stat(self.inbox.path)
        return self._file(path)[1]

    lstat = stat

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        if self._name(path) is not None:
            _refuse("failure", f"{path.decode(errors='replace')}: not a directory")
        here = SFTPAttrs.from_local(os.stat(self.inbox.path))
        for dot in (b".", b".."):
            yield SFTPName(dot, attrs=here)
        for name, st in self.inbox.listing():
            yield SFTPName(name.encode(), attrs=SFTPAttrs.from_local(st))

    # -- files -----------------------------------------------------------------

    def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        if pflags & FXF_WRITE:
            name = self._name(path)
            if name is None:
                _refuse("failure", "/ is the inbox directory, not a file")
            try:
                return self.inbox.open_upload(name)
            except InboxRefusal as e:
                _refuse(e.kind, str(e))
        name, _ = self._file(path)
        try:
            fd = os.open(self.inbox.file(name), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            _refuse("denied", f"{name}: cannot be read")
        return _Download(fd)

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        if not isinstance(file_obj, _Download):
            _refuse("denied", "this file was opened for upload, not for reading")
        return os.pread(file_obj.fd, size, offset)

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        if not isinstance(file_obj, Upload):
            _refuse("denied", "this file was opened for reading, not for upload")
        try:
            self.inbox.write(file_obj, offset, data)
        except InboxRefusal as e:
            _refuse(e.kind, str(e))
        return len(data)

    async def close(self, file_obj: object) -> None:
        if isinstance(file_obj, _Download):
            os.close(file_obj.fd)
            return
        assert isinstance(file_obj, Upload)
        if self.channel.is_closing():
            # the session is being torn down: a cut upload is not a finished one
            self.inbox.abort(file_obj, f"{file_obj.name}: connection lost during upload")
            return
        try:
            await self.inbox.finish(file_obj)
        except InboxRefusal as e:
            _refuse(e.kind, str(e))

    def fstat(self, file_obj: object) -> os.stat_result:
        fd = file_obj.fd if isinstance(file_obj, _Download | Upload) else -1
        return os.fstat(fd)

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        self._file(path)  # times and modes are the server's; accepted and ignored

    lsetstat = setstat  # lsetstat@openssh.com: the inbox has no links to set

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        return None

    def fsync(self, file_obj: object) -> None:
        if isinstance(file_obj, Upload) and not file_obj.aborted:
            os.fsync(file_obj.fd)

    # -- everything else is refused ----------------------------------------------

    def map_path(self, path: bytes) -> NoReturn:
        # Only asyncssh's default methods map client paths to local ones, and every
        # method that takes a path is overridden above or below; one added by a later
        # asyncssh must not reach the file system through the default mapping.
        _refuse("unsupported", "this request is not offered on the drop box")

    def open56(self, path: bytes, desired_access: int, flags: int,
               attrs: SFTPAttrs) -> NoReturn:
        _refuse("unsupported", "the drop box speaks SFTP version 3; SFTP v5/v6 opens are "
                "not offered")

    def statvfs(self, path: bytes) -> NoReturn:
        self._name(path)
        _refuse("unsupported", "file system statistics are not offered on the drop box")

    def fstatvfs(self, file_obj: object) -> NoReturn:
        _refuse("unsupported", "file system statistics are not offered on the drop box")

    def remove(self, path: bytes) -> NoReturn:
        _refuse("denied", "files in the inbox are kept as the record of what was sent; "
                "nothing can be removed")

    def rename(self, oldpath: bytes, newpath: bytes) -> NoReturn:
        _refuse("denied", "files cannot be renamed; upload under the final NAME.sealed")

    posix_rename = rename

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> NoReturn:
        _refuse("denied", "the inbox is one directory; no subdirectories")

    def rmdir(self, path: bytes) -> NoReturn:
        _refuse("denied", "the inbox is one directory; nothing to remove")

    def symlink(self, oldpath: bytes, newpath: bytes) -> NoReturn:
        _refuse("denied", "links are refused in the inbox")

    def link(self, oldpath: bytes, newpath: bytes) -> NoReturn:
        _refuse("denied", "links are refused in the inbox")

    def readlink(self, path: bytes) -> NoReturn:
        _refuse("denied", "there are no links in the inbox")


class _ProviderServer(asyncssh.SSHServer):
    """Public-key login for known accounts only."""

    def __init__(self, keys: dict[str, asyncssh.SSHAuthorizedKeys]) -> None:
        self._keys = keys
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        keys = self._keys.get(username)
        if keys is not None and self._conn is not None:
            self._conn.set_authorized_keys(keys)
        return True  # unknown users go through the motions and fail

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def connection_requested(self, *args: Any) -> bool:
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                                        "port forwarding is not offered on the drop box")


class SftpListener(SshListener):
    def __init__(self, acceptor: asyncssh.SSHAcceptor, fingerprint: str,
                 dropbox: DropBox) -> None:
        super().__init__("sftp", acceptor, fingerprint)
        self.dropbox = dropbox

    async def wait_closed(self) -> None:
        await super().wait_closed()
        self.dropbox.close()


def _accounts(cfg: ListenerConfig) -> dict[str, asyncssh.SSHAuthorizedKeys]:
    accounts = cfg.options.get("accounts")
    if not isinstance(accounts, dict) or not accounts:
        raise ValueError(f"{cfg}: the sftp listener needs accounts = {{provider = "
                         "\"ssh-ed25519 AAAA...\"} in its [[listen]] entry (a key, a list "
                         "of keys or an authorized_keys path per provider)")
    return {name: authorized_keys(value, f"{cfg}: accounts.{name}")
            for name, value in accounts.items()}


async def start(cfg: ListenerConfig, board: Switchboard) -> SftpListener:
    """Listener starter (``listeners.STARTERS["sftp"]``); options in the module docstring."""
    keys = _accounts(cfg)
    quiet_asyncssh()
    store = cfg.options.get("store") or board.service.store.path
    max_upload = cfg.options.get("max_upload", DEFAULT_MAX_UPLOAD)
    if isinstance(max_upload, bool) or not isinstance(max_upload, int):
        raise ValueError(f"{cfg}: max_upload must be a number of bytes, not {max_upload!r}")
    dropbox = DropBox(cfg.options.get("inbox", DEFAULT_INBOX), store, list(keys), max_upload)
    host_key = load_host_key(cfg.options.get("host_key", DEFAULT_HOST_KEY))
    acceptor = await asyncssh.create_server(
        lambda: _ProviderServer(keys), cfg.host, cfg.port,
        sftp_factory=lambda chan: InboxServer(chan, dropbox),
        allow_pty=False, **server_options(cfg, host_key),
    )
    return SftpListener(acceptor, host_key.get_fingerprint(), dropbox)
