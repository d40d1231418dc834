"""The SFTP drop box on loopback: providers with their keys upload sealed files into
their own inbox; staging and its outcome are checked through the store and the inbox."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncssh
import pytest

from tests.helpers.dropbox import DropBoxServer, put, read_text, sealed
from tests.helpers.logs import logged
from videotex.inbox.sftp import InboxServer
from videotex.inbox.sftp import start as start_sftp
from videotex.inbox.sftp_inbox import DropBox, InboxRefusal, check_name
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.store.publish import staged_batches


async def test_sealed_upload_is_staged_and_accepted(dropbox: DropBoxServer) -> None:
    data = sealed("brevet", "lille")
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "brevet-lille.sealed", data)
        names = await sftp.listdir("/")
        assert "brevet-lille.sealed.accepted" in names
        report = await read_text(sftp, "/brevet-lille.sealed.accepted")
    assert "exam: brevet" in report and "academie: lille" in report and "rows: 1" in report
    staged = {(exam, aca): path for exam, aca, path in staged_batches(dropbox.store)}
    assert staged[("brevet", "lille")].read_bytes() == data
    assert not any(p.name.startswith(".part-") for p in (dropbox.inbox / "rectorat").iterdir())


async def test_garbage_is_rejected_with_the_reason(dropbox: DropBoxServer) -> None:
    truncated = sealed("brevet", "paris")[:-10]
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "garbage.sealed", b"this is not a sealed file")
        reason = await read_text(sftp, "garbage.sealed.rejected")
        assert "rejected garbage.sealed" in reason
        assert "reason: garbage.sealed: not a sealed results file (bad magic)" in reason
        assert str(dropbox.inbox) not in reason  # no server paths leak
        assert "garbage.sealed" not in await sftp.listdir()  # free for a corrected file
        await put(sftp, "paris.sealed", truncated)
        assert "truncated in chunk 0" in await read_text(sftp, "paris.sealed.rejected")
        # the corrected file under the same name is accepted; the old verdict goes
        await put(sftp, "garbage.sealed", sealed("brevet", "lille"))
        names = await sftp.listdir()
    assert "garbage.sealed.accepted" in names and "garbage.sealed.rejected" not in names
    # a published batch is refused, as videotex ingest refuses it
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "bac-lille.sealed", sealed("bac", "lille"))
        assert "already published" in await read_text(sftp, "bac-lille.sealed.rejected")


async def test_another_provider_cannot_see_it(dropbox: DropBoxServer) -> None:
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "secret.sealed", sealed("brevet", "lille"))
    async with dropbox.connect("autre") as conn, conn.start_sftp_client() as sftp:
        assert [n for n in await sftp.listdir("/") if n not in (".", "..")] == []
        for path in ("secret.sealed", "../rectorat/secret.sealed", "/rectorat/secret.sealed"):
            with pytest.raises(asyncssh.SFTPError):
                await read_text(sftp, path)


@pytest.mark.parametrize("path", ["../escape.sealed", "/../../etc/passwd",
                                  "sub/dir.sealed", "/etc/passwd", "..", ".hidden.sealed"])
async def test_path_traversal_refused(dropbox: DropBoxServer, path: str) -> None:
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await put(sftp, path, b"x")
        with pytest.raises(asyncssh.SFTPError):
            await sftp.stat(path)
    assert not (dropbox.inbox / "escape.sealed").exists()
    assert not (dropbox.inbox.parent / "escape.sealed").exists()


async def test_symlink_in_inbox_is_not_followed(dropbox: DropBoxServer, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("server secret")
    (dropbox.inbox / "rectorat" / "link.sealed").symlink_to(outside)
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPPermissionDenied, match="symlinks"):
            await read_text(sftp, "link.sealed")
        with pytest.raises(asyncssh.SFTPError):
            await sftp.symlink("/etc/passwd", "other.sealed")
        with pytest.raises(asyncssh.SFTPError):
            await put(sftp, "link.sealed", b"x")
    assert outside.read_text() == "server secret"


async def test_overwrite_of_accepted_file_refused(dropbox: DropBoxServer) -> None:
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "once.sealed", sealed("brevet", "lille"))
        assert "once.sealed.accepted" in await sftp.listdir()
        with pytest.raises(asyncssh.SFTPError, match="already uploaded"):
            await put(sftp, "once.sealed", b"replacement")
        for name in ("once.sealed.accepted", "notes.txt"):
            with pytest.raises(asyncssh.SFTPPermissionDenied, match=r"only NAME\.sealed"):
                await put(sftp, name, b"forged")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.remove("once.sealed")
        with pytest.raises(asyncssh.SFTPPermissionDenied):
            await sftp.rename("once.sealed.accepted", "x.sealed")


async def test_oversized_upload_refused(dropbox: DropBoxServer) -> None:
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPFailure, match="larger than the limit of 65536"):
            await put(sftp, "big.sealed", b"\0" * (64 * 1024 + 1))
        with pytest.raises(asyncssh.SFTPFailure, match="larger than the limit"):
            async with sftp.open("sparse.sealed", "wb") as f:
                await f.seek(1 << 40)
                await f.write(b"x")
        names = await sftp.listdir()
        assert "big.sealed" not in names and "big.sealed.rejected" not in names
        await put(sftp, "big.sealed", b"small now")  # the name is free again
    assert [p for p in (dropbox.inbox / "rectorat").iterdir() if p.name.startswith(".")] == []


async def test_password_login_refused(dropbox: DropBoxServer) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        async with dropbox.connect("rectorat", client_keys=None, password="rectorat"):
            pass


async def test_unknown_key_and_unknown_user_refused(dropbox: DropBoxServer) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        async with dropbox.connect("rectorat", key=stranger):
            pass
    with pytest.raises(asyncssh.PermissionDenied):
        async with dropbox.connect("nobody", key=dropbox.keys["rectorat"]):
            pass
    # a provider's key only opens its own account
    with pytest.raises(asyncssh.PermissionDenied):
        async with dropbox.connect("autre", key=dropbox.keys["rectorat"]):
            pass


async def test_no_shell_or_exec_on_the_sftp_port(dropbox: DropBoxServer) -> None:
    async with dropbox.connect("rectorat") as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run("ls")
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_session(asyncssh.SSHClientSession)
        with pytest.raises(asyncssh.ChannelOpenError, match="port forwarding"):
            await conn.open_connection("127.0.0.1", 22)


@pytest.mark.parametrize(("path", "name"), [("/", None), ("", None), (".", None),
                                            ("/a.sealed", "a.sealed"), ("./a.sealed", "a.sealed"),
                                            ("//a.sealed", "a.sealed")])
def test_check_name_accepts(path: str, name: str | None) -> None:
    assert check_name(path) == name


@pytest.mark.parametrize("path", ["../a", "a/../b", "a/b", "/tmp/x", ".x", "a b", "é",
                                  "a" * 129, "a\\b"])
def test_check_name_refuses(path: str) -> None:
    with pytest.raises(InboxRefusal):
        check_name(path)


async def test_bad_configuration_named(board: Switchboard, tmp_path: Path) -> None:
    base = {"inbox": str(tmp_path / "in"), "host_key": str(tmp_path / "k"),
            "store": str(tmp_path / "s")}
    cases = [({}, "needs accounts"),
             ({"accounts": {"p": "ssh-ed25519 notbase64"}}, "accounts.p: bad public key"),
             ({"accounts": {"p": str(tmp_path / "missing")}}, "cannot read authorized keys"),
             ({"accounts": {"../p": asyncssh.generate_private_key("ssh-ed25519")
                            .export_public_key().decode()}}, "names are letters")]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            await start_sftp(ListenerConfig("sftp", "127.0.0.1", 0,
                                            options={**base, **options}), board)


async def test_upload_cut_by_a_lost_connection_is_not_staged(dropbox: DropBoxServer) -> None:
    inbox = dropbox.inbox / "rectorat"
    with logged("videotex.sftp", "sftp upload aborted") as aborted:
        async with dropbox.connect("rectorat") as conn:
            sftp = await conn.start_sftp_client()
            f = await sftp.open("cut.sealed", "wb")
            await f.write(sealed("brevet", "lille"))
            assert any(p.name.startswith(".part-") for p in inbox.iterdir())
            conn.abort()  # no close of the handle: the line drops
        async with asyncio.timeout(5):  # the server notices the loss on its own schedule
            await aborted.wait()
    assert sorted(p.name for p in inbox.iterdir()) == []
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        await put(sftp, "cut.sealed", sealed("brevet", "lille"))  # the name is free
        assert "cut.sealed.accepted" in await sftp.listdir()


# -- every request asyncssh dispatches with a client path ---------------------------------

#: asyncssh.SFTPServer methods that take a client path (their default acts on it as given).
PATH_METHODS = sorted(
    name for name, member in vars(asyncssh.SFTPServer).items()
    if callable(member) and not name.startswith("_")
    and {"path", "oldpath", "newpath"} & set(inspect.signature(member).parameters))
#: Defaults that may stay: they touch no file and take no client path.
HARMLESS_DEFAULTS = {"exit", "lock", "unlock", "format_longname", "format_user",
                     "format_group", "convert_attrs",
                     "reverse_map_path"}  # only used by the default realpath/readlink


def test_every_sftp_server_method_is_the_inbox_s_own() -> None:
    """Regression: ``lsetstat``, ``statvfs``, ``open56`` (and ``fstatvfs``, ``fsync``)
    were asyncssh's defaults, acting on the client's path as given. A method asyncssh
    adds later fails here until it is looked at."""
    defaults = {name for name, member in vars(asyncssh.SFTPServer).items()
                if callable(member) and not name.startswith("_")
                and getattr(InboxServer, name) is member}
    assert defaults <= HARMLESS_DEFAULTS, sorted(defaults - HARMLESS_DEFAULTS)
    assert {"open", "open56", "setstat", "lsetstat", "statvfs", "map_path"} <= set(PATH_METHODS)


def _snapshot(*roots: Path) -> dict[str, tuple[object, ...]]:
    """Everything a request could change about the files under ``roots`` (not atime)."""
    out: dict[str, tuple[object, ...]] = {}
    for root in roots:
        for path in [root, *sorted(root.rglob("*"))]:
            st = path.lstat()
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            out[str(path)] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns,
                              st.st_nlink, content)
    return out


def _path_requests(sftp: asyncssh.SFTPClient, target: str, new: str, directory: str
                   ) -> dict[str, Callable[[], Awaitable[object]]]:
    """A client request for each path a server method takes (with SFTP v6, ``open`` and
    ``link`` are sent as v6 requests)."""
    attrs = asyncssh.SFTPAttrs(permissions=0o777, atime=0, mtime=0)
    call = functools.partial
    return {
        "open (read)": call(read_text, sftp, target),
        "open (write)": call(put, sftp, target, b"x"),
        "open (create)": call(put, sftp, new, b"x"),
        "stat": call(sftp.stat, target),
        "lstat": call(sftp.lstat, target),
        "setstat": call(sftp.setstat, target, attrs),
        "lsetstat": call(sftp.setstat, target, attrs, follow_symlinks=False),
        "truncate": call(sftp.truncate, target, 0),
        "statvfs": call(sftp.statvfs, target),
        "readlink": call(sftp.readlink, target),
        "remove": call(sftp.remove, target),
        "rename": call(sftp.rename, target, new),
        "posix_rename": call(sftp.posix_rename, target, new),
        "link": call(sftp.link, target, new),
        "link to": call(sftp.link, "/", target),
        "symlink": call(sftp.symlink, target, new),
        "mkdir": call(sftp.mkdir, new),
        "listdir": call(sftp.listdir, directory),
        "rmdir": call(sftp.rmdir, directory),
        "realpath": call(sftp.realpath, directory),
    }


@pytest.mark.parametrize("dropbox", [3, 6], indirect=True, ids=["sftp3", "sftp6"])
async def test_no_request_reaches_a_file_outside_the_inbox(
        dropbox: DropBoxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: ``lsetstat@openssh.com`` and ``statvfs@openssh.com`` ran asyncssh's
    defaults on the client's path: any provider key could chmod/chown/touch any file the
    server can reach (the host key went 0600 -> 0644) and probe any path; ``open56`` would
    have opened any file had the server offered SFTP v5/v6. Every request that carries a
    path is sent here with paths outside the inbox (absolute, relative to the server's
    working directory, plain names there) and must fail, leaving every file as it was."""
    outside = tmp_path / "outside"
    (outside / "empty").mkdir(parents=True)
    secret = outside / "secret.txt"
    secret.write_text("server file")
    secret.chmod(0o600)
    (outside / "link").symlink_to(secret)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "victim.txt").write_text("in the server's working directory")
    (cwd / "victim.txt").chmod(0o600)
    monkeypatch.chdir(cwd)
    host_key = tmp_path / "host_key"
    before = _snapshot(outside, cwd, host_key, dropbox.inbox)

    called: set[str] = set()

    def spy(name: str) -> None:
        original = getattr(InboxServer, name)

        def method(self: InboxServer, *args: object) -> object:
            called.add(name)
            return original(self, *args)

        monkeypatch.setattr(InboxServer, name, method)

    for name in PATH_METHODS:
        spy(name)

    # a plain name is a name in the inbox; the default methods took it in the server's cwd
    targets = [str(secret), str(host_key), "../outside/secret.txt", "victim.txt",
               str(outside / "link")]
    answered: list[str] = []
    async with dropbox.connect("rectorat") as conn, \
            conn.start_sftp_client(sftp_version=6) as sftp:
        for target in targets:
            new = str(outside / "new.sealed") if target.startswith("/") else "../new.sealed"
            directory = str(outside / "empty") if target.startswith("/") else "../outside"
            requests = _path_requests(sftp, target, new, directory)
            for what, request in requests.items():
                try:
                    await request()
                except asyncssh.SFTPError:
                    continue
                answered.append(f"{what} {target}")
        assert await sftp.realpath("victim.txt") == "/victim.txt"  # the inbox's name

    after = _snapshot(outside, cwd, host_key, dropbox.inbox)
    changed = sorted(path for path in before.keys() | after.keys()
                     if before.get(path) != after.get(path))
    assert not answered and not changed, f"answered OK: {answered}; changed: {changed}"
    not_sent = {"map_path", "reverse_map_path"}  # reached only through the defaults
    expected = set(PATH_METHODS) - not_sent
    assert called >= expected - {"open" if sftp.version >= 5 else "open56"}, sorted(
        expected - called)


async def test_handle_requests_on_inbox_files(dropbox: DropBoxServer) -> None:
    """fstatvfs and fsync on the inbox's own handles: a clear answer, not asyncssh's
    defaults (which call fileno() on the handle object)."""
    async with dropbox.connect("rectorat") as conn, conn.start_sftp_client() as sftp:
        async with sftp.open("kept.sealed", "wb") as f:
            await f.write(b"x")
            await f.fsync()
            with pytest.raises(asyncssh.SFTPOpUnsupported, match="not offered"):
                await f.statvfs()
        with pytest.raises(asyncssh.SFTPOpUnsupported, match="not offered"):
            await sftp.statvfs("/")
        async with sftp.open("kept.sealed.rejected", "rb") as f:
            await f.fsync()
            with pytest.raises(asyncssh.SFTPOpUnsupported, match="not offered"):
                await f.statvfs()
    assert os.path.exists(dropbox.inbox / "rectorat" / "kept.sealed.rejected")


# -- several workers share an inbox ----------------------------------------------------------


def _parts(inbox: Path) -> list[str]:
    return sorted(p.name for p in inbox.iterdir() if p.name.startswith(".part-"))


async def test_a_starting_worker_leaves_uploads_in_progress_alone(
        fresh_store: Path, tmp_path: Path) -> None:
    """Regression: with --workers N every worker runs the drop box, and a starting (or
    restarted) worker deleted every ``.part-*`` file of every inbox, uploads in progress
    on the other workers included; their close then failed (``os.link`` on a missing
    file). Only files no live process holds are removed now."""
    first = DropBox(tmp_path / "inbox", fresh_store, ["rectorat"], 1 << 20)
    inbox = first.inbox("rectorat")
    up = inbox.open_upload("live.sealed")
    inbox.write(up, 0, sealed("brevet", "lille"))
    cut = inbox.path / ".part-0123456789ab-cut.sealed"  # left by a worker that died
    cut.write_bytes(b"half an upload")
    second = DropBox(tmp_path / "inbox", fresh_store, ["rectorat"], 1 << 20)
    try:
        assert _parts(inbox.path) == [up.temp.name]
        assert await inbox.finish(up)  # the upload goes on, and is staged
        assert (inbox.path / "live.sealed.accepted").exists()
        assert _parts(inbox.path) == []
    finally:
        first.close()
        second.close()


_HOLDER = """
import sys
from videotex.inbox.sftp_inbox import DropBox
box = DropBox(sys.argv[1], sys.argv[2], ["rectorat"], 1 << 20)
inbox = box.inbox("rectorat")
up = inbox.open_upload("other-worker.sealed")
inbox.write(up, 0, b"being written")
print(up.temp, flush=True)
sys.stdin.read()
"""


def test_upload_of_a_live_worker_kept_of_a_killed_one_removed(
        fresh_store: Path, tmp_path: Path) -> None:
    """The same across processes: a worker writing an upload keeps its ``.part`` file
    through another worker's start; once that worker is killed (SIGKILL: no clean-up of
    its own) the next start removes the file."""
    root = tmp_path / "inbox"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(root), str(fresh_store)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None
        temp = Path(holder.stdout.readline().strip())
        assert temp.parent == root / "rectorat" and temp.exists()
        DropBox(root, fresh_store, ["rectorat"], 1 << 20).close()
        assert temp.exists()  # the other worker is still writing it
    finally:
        holder.kill()
        holder.wait()
    DropBox(root, fresh_store, ["rectorat"], 1 << 20).close()
    assert not temp.exists()
