"""Provider inboxes of the SFTP drop box: names, uploads in progress, staging.

Each provider account has one flat directory, ``<inbox root>/<account>``. What may be in
it, and the only names a provider can use:

* ``NAME.sealed``: an uploaded sealed file (letters, digits, ``.``, ``_``, ``-``; no
  leading dot, no directory). Once accepted it stays, and the name cannot be reused.
* ``NAME.sealed.accepted``: written by the server when the file was staged; it gives the
  exam, académie, session and row count read from the sealed header.
* ``NAME.sealed.rejected``: written when staging refused the file, with the reason; the
  rejected upload itself is removed so that a corrected file can use the same name.
* ``.part-*``: uploads in progress, and outcome files being written (hidden,
  unreachable through SFTP).

Every worker of ``videotex serve --workers N`` runs the drop box on the same inboxes.
The process writing a ``.part-*`` file holds an exclusive ``flock`` on it from its
creation until it is linked to its final name (or dropped) and closed; a starting worker
removes only the ``.part-*`` files whose lock it can take, i.e. those no live process
holds: the kernel releases a lock when its process dies, SIGKILL included, so what a
dead worker left goes, and an upload another worker is receiving stays, however slow.

Staging is :func:`videotex.store.ingest` (what ``videotex ingest`` does: framing
checked, no key needed, a published batch is refused), run in a one-thread executor so
that the event loop never waits on the disk and two stagings never race.
"""

from __future__ import annotations

import asyncio
import datetime
import fcntl
import logging
import os
import re
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from videotex.store import ingest
from videotex.store.errors import StoreError

__all__ = [
    "ACCEPTED",
    "REJECTED",
    "UPLOAD_SUFFIX",
    "DropBox",
    "Inbox",
    "InboxRefusal",
    "Upload",
    "check_name",
]

log = logging.getLogger("videotex.sftp")

UPLOAD_SUFFIX = ".sealed"
ACCEPTED = ".accepted"
REJECTED = ".rejected"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class InboxRefusal(Exception):
    """Something a provider asked for is refused; ``kind`` says how to tell them
    (``denied``, ``exists``, ``missing``, ``failure``, ``unsupported``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def check_name(path: str) -> str | None:
    """The file name a client path designates in its inbox, or None for the inbox itself.

    ``/x``, ``x`` and ``./x`` are the same file. Refused: ``..`` anywhere, any
    subdirectory (so absolute paths outside the inbox), names outside :data:`_NAME`."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InboxRefusal("denied", f"{path}: path traversal refused ('..')")
    if not parts:
        return None
    if len(parts) > 1:
        raise InboxRefusal("denied", f"{path}: refused, the inbox is one directory "
                           "without subdirectories")
    name = parts[0]
    if not _NAME.fullmatch(name):
        raise InboxRefusal("denied", f"{name!r}: refused file name (letters, digits, "
                           "'.', '_', '-'; no leading dot; at most 128 characters)")
    return name


@dataclass(eq=False)
class Upload:
    """A file being written: a hidden temp file until it is closed."""

    inbox: Inbox
    name: str
    temp: Path
    fd: int
    size: int = 0
    aborted: str = ""


@dataclass(eq=False)
class Inbox:
    """One provider's directory and the names being uploaded into it right now."""

    account: str
    path: Path
    dropbox: DropBox
    uploading: set[str] = field(default_factory=set)

    def file(self, name: str) -> Path:
        return self.path / name

    def listing(self) -> list[tuple[str, os.stat_result]]:
        """(name, lstat) of the visible regular files."""
        out = []
        with os.scandir(self.path) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode):
                    out.append((entry.name, st))
        return sorted(out)

    def open_upload(self, name: str) -> Upload:
        if not name.endswith(UPLOAD_SUFFIX):
            raise InboxRefusal("denied", f"{name}: only NAME{UPLOAD_SUFFIX} files can be "
                               "uploaded")
        if name in self.uploading:
            raise InboxRefusal("exists", f"{name}: an upload of this name is in progress")
        if os.path.lexists(self.file(name)):
            raise InboxRefusal("exists", f"{name}: already uploaded and accepted; upload "
                               "a new file under another name")
        temp, fd = _create_part(self.path, name)
        self.uploading.add(name)
        return Upload(self, name, temp, fd)

    def write(self, up: Upload, offset: int, data: bytes) -> None:
        if up.aborted:
            raise InboxRefusal("failure", up.aborted)
        limit = self.dropbox.max_upload
        if offset + len(data) > limit:
            self.abort(up, f"{up.name}: upload refused, larger than the limit of "
                       f"{limit} bytes")
            raise InboxRefusal("failure", up.aborted)
        os.pwrite(up.fd, data, offset)
        up.size = max(up.size, offset + len(data))

    def abort(self, up: Upload, why: str) -> None:
        """Drop an upload: its temp file goes, its name is free again."""
        if not up.aborted:
            up.aborted = why
            up.temp.unlink(missing_ok=True)
            os.close(up.fd)
            self.uploading.discard(up.name)
            log.warning("sftp upload aborted", extra={"account": self.account,
                                                      "file": up.name, "why": why})

    async def finish(self, up: Upload) -> bool:
        """Close an upload and stage it; True if accepted. The outcome file is written
        before this returns, so the provider sees it as soon as the close is answered."""
        if up.aborted:
            return False
        final = self.file(up.name)
        try:
            try:
                os.link(up.temp, final)  # never replaces a file of that name
            except FileExistsError:
                raise InboxRefusal("exists", f"{up.name}: already uploaded and "
                                   "accepted") from None
            finally:
                # unlinked before the close drops the lock (see the module docstring)
                up.temp.unlink(missing_ok=True)
                os.close(up.fd)
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(self.dropbox.executor, self._stage, up.name)
        finally:
            self.uploading.discard(up.name)
        return outcome

    def _stage(self, name: str) -> bool:
        """In the staging thread: ingest, then write the outcome file."""
        final = self.file(name)
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        try:
            header = ingest(final, self.dropbox.store)
        except StoreError as e:
            reason = str(e).replace(str(final), name)  # no server paths in the reply
            final.unlink(missing_ok=True)
            self.file(name + ACCEPTED).unlink(missing_ok=True)
            _write_atomic(self.file(name + REJECTED),
                          f"rejected {name}\nreason: {reason}\nat: {now}\n")
            log.warning("sftp upload rejected", extra={"account": self.account,
                                                       "file": name, "why": reason})
            return False
        self.file(name + REJECTED).unlink(missing_ok=True)
        _write_atomic(self.file(name + ACCEPTED),
                      f"accepted {name}\nexam: {header.exam}\nacademie: {header.academie}\n"
                      f"session: {header.session}\nrows: {header.rows}\n"
                      f"staged: {now}\n")
        log.info("sftp upload staged", extra={"account": self.account, "file": name,
                                              "exam": header.exam,
                                              "academie": header.academie,
                                              "rows": header.rows})
        return True


def _write_atomic(path: Path, text: str) -> None:
    temp, fd = _create_part(path.parent, path.name)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
        os.replace(temp, path)  # before the close drops the lock


def _create_part(directory: Path, name: str) -> tuple[Path, int]:
    """A new ``.part-<random>-NAME`` in ``directory``, open for writing and locked until
    closed (the lock tells starting workers it is not abandoned)."""
    for _ in range(3):
        temp = directory / f".part-{secrets.token_hex(6)}-{name}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink:
                return temp, fd
        except BlockingIOError:
            pass
        # A worker starting in the instant between our create and our lock took the
        # file for abandoned (it holds the lock, or has removed the file): a new name.
        os.close(fd)
    raise InboxRefusal("failure", f"{name}: could not create a temporary file; try again")


def _remove_if_abandoned(path: Path) -> bool:
    """Remove a ``.part-*`` file unless a live process holds its lock."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return False  # finished or removed meanwhile
    except OSError as e:
        log.warning("sftp: cannot check a leftover upload file",
                    extra={"file": str(path), "why": e.strerror})
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False  # not ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # being written by a live worker
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


class DropBox:
    """Every provider inbox of one SFTP listener, and where files are staged."""

    def __init__(self, root: str | os.PathLike[str], store: str | os.PathLike[str],
                 accounts: list[str], max_upload: int) -> None:
        if max_upload < 1:
            raise ValueError(f"sftp option max_upload must be a positive number of bytes, "
                             f"not {max_upload}")
        self.root = Path(root)
        self.store = Path(store)
        self.max_upload = max_upload
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="sftp-staging")
        self.inboxes: dict[str, Inbox] = {}
        for account in accounts:
            if not _ACCOUNT.fullmatch(account):
                raise ValueError(f"sftp account {account!r}: names are letters, digits, "
                                 "'_' and '-' (at most 32)")
            path = self.root / account
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.inboxes[account] = Inbox(account, path, self)
            for stale in path.glob(".part-*"):
                if _remove_if_abandoned(stale):  # left by a stopped or dead worker
                    log.info("sftp: removed an abandoned upload file",
                             extra={"account": account, "file": stale.name})

    def inbox(self, account: str) -> Inbox:
        return self.inboxes[account]

    def close(self) -> None:
        self.executor.shutdown(wait=True)
