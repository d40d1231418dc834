"""The public SSH port on loopback: a real asyncssh server, the emulator or a bare
asyncssh client on the other end. Every test waits for screen text or protocol answers."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import asyncssh
import pytest
from asyncssh.packet import String, UInt32

from terminal_emu import Key
from terminal_emu.client import ConnectError, MinitelClient
from tests.helpers.callers import at_home, consult, send_form
from videotex.channels import ssh as ssh_module
from videotex.channels.ssh_host import hash_password, load_host_key, verify_password

from .conftest import ELODIE, PAUL_PARIS, port_of


def client_options() -> dict[str, object]:
    return {"known_hosts": None, "client_keys": None, "agent_path": None,
            "username": "someone"}


async def test_full_consultation_over_ssh(ssh_server) -> None:
    server = await ssh_server()
    t = await consult(f"ssh://anyone@127.0.0.1:{port_of(server)}", *ELODIE)
    await t.wait_for_text("Mention Très bien")
    assert t.shows("ADMIS")
    assert t.transport.fingerprint == server.fingerprint  # type: ignore[attr-defined]
    await t.press(Key.CONNEXION_FIN)
    await t.wait_for_text("AU REVOIR")
    await t.wait_closed()
    assert t.closed


async def test_not_yet_published_without_a_pty(ssh_server) -> None:
    server = await ssh_server()
    t = await consult(f"ssh://x@127.0.0.1:{port_of(server)}?pty=0", *PAUL_PARIS)
    await t.wait_for_text("PAS ENCORE PUBLIE")
    await t.close()


async def test_host_key_generated_once_with_mode_600_and_reused(ssh_server,
                                                                tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "host"
    first = await ssh_server(host_key=str(key_path))
    assert key_path.exists()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    first.close()
    second = await ssh_server(host_key=str(key_path))
    assert second.fingerprint == first.fingerprint
    async with asyncssh.connect("127.0.0.1", port_of(second), **client_options()) as conn:
        key = conn.get_server_host_key()
        assert key is not None and key.get_fingerprint() == first.fingerprint


def test_readable_host_key_refused(tmp_path: Path) -> None:
    path = tmp_path / "key"
    load_host_key(path)
    path.chmod(0o644)
    with pytest.raises(ValueError, match="readable by others"):
        load_host_key(path)


def test_garbage_host_key_named(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="not a usable SSH private key"):
        load_host_key(path)


async def test_exec_refused(ssh_server) -> None:
    server = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port_of(server), **client_options()) as conn:
        result = await conn.run("cat /etc/passwd")
        assert result.exit_status == 1
        assert "runs no commands" in str(result.stderr)
        assert not result.stdout  # nothing of the service, nothing of the machine


async def test_sftp_subsystem_refused_on_public_port(ssh_server) -> None:
    server = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port_of(server), **client_options()) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.start_sftp_client()


async def test_port_forwarding_refused(ssh_server) -> None:
    server = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port_of(server), **client_options()) as conn:
        with pytest.raises(asyncssh.ChannelOpenError, match="port forwarding is not offered"):
            await conn.open_connection("127.0.0.1", port_of(server))
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)


async def test_second_session_on_one_connection_refused(ssh_server) -> None:
    server = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port_of(server), **client_options()) as conn:
        chan, _ = await conn.create_session(asyncssh.SSHClientSession, encoding=None)
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_session(asyncssh.SSHClientSession, encoding=None)
        chan.close()


async def test_eof_from_the_caller_ends_the_call_and_closes_the_connection(
        ssh_server, board) -> None:
    """Regression: asyncssh answers a caller's EOF with its own, after which the channel
    ``is_closing()``; our close() took that for closed and sent no exit status and no
    CLOSE. The call ended but the channel and the TCP connection stayed open for good,
    outside the per-address limits (``ssh host </dev/null``, or any client that half-closes)."""
    server = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port_of(server), **client_options()) as conn:
        chan, _ = await conn.create_session(asyncssh.SSHClientSession, term_type="minitel",
                                            encoding=None)
        chan.write(b"123")
        chan.write_eof()
        await asyncio.wait_for(chan.wait_closed(), 5)
        assert chan.get_exit_status() == 0
        await asyncio.wait_for(conn.wait_closed(), 5)  # one session per connection
    assert not board.calls


async def test_private_port_with_password_users(ssh_server) -> None:
    server = await ssh_server(public=False, users={"guichet": hash_password("s3cret")})
    url = f"ssh://guichet@127.0.0.1:{port_of(server)}"
    t = await MinitelClient.connect(url + "?password=s3cret")
    await t.wait_for_text("RESULTATS DES EXAMENS")
    await t.close()
    with pytest.raises(ConnectError, match="cannot connect"):
        await MinitelClient.connect(url + "?password=wrong")
    with pytest.raises(ConnectError, match="cannot connect"):
        await MinitelClient.connect(f"ssh://intrus@127.0.0.1:{port_of(server)}")


def test_password_hash_round_trip() -> None:
    hashed = hash_password("minitel")
    assert verify_password("minitel", hashed)
    assert not verify_password("Minitel", hashed)
    assert not verify_password("minitel", "scrypt$garbage")
    assert not verify_password("minitel", "plain")


async def test_private_port_without_users_is_a_config_error(ssh_server) -> None:
    with pytest.raises(ValueError, match="no users"):
        await ssh_server(public=False)


class _Guesser(asyncssh.SSHClient):
    """Answers every password (or keyboard-interactive) prompt with the next guess."""

    def __init__(self, guesses: list[str]) -> None:
        self.guesses = list(guesses)
        self.asked = 0

    def _next(self) -> str | None:
        self.asked += 1
        return self.guesses.pop(0) if self.guesses else None

    def password_auth_requested(self) -> str | None:
        return self._next()

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(self, name: str, instructions: str, lang: str,
                                  prompts: list[tuple[str, bool]]) -> list[str] | None:
        guess = self._next()
        return None if guess is None else [guess]


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes the server ran scrypt against, one per password checked."""
    calls: list[str] = []

    def counting(password: str, hashed: str) -> bool:
        calls.append(hashed)
        return verify_password(password, hashed)

    monkeypatch.setattr(ssh_module, "verify_password", counting)
    return calls


@pytest.mark.parametrize("method", ["password", "keyboard-interactive"])
async def test_three_wrong_passwords_end_the_connection(ssh_server, verified: list[str],
                                                       method: str) -> None:
    """Regression: a connection could try passwords for as long as login_timeout (60 s)
    allowed (200 in 8.7 s in the review). After MAX_PASSWORD_TRIES failures the server
    disconnects; the right password sent next on the same connection gets nothing."""
    server = await ssh_server(public=False, users={"guichet": hash_password("s3cret")})
    guesser = _Guesser(["wrong1", "wrong2", "wrong3", "s3cret"])
    only = {"password_auth": False} if method == "keyboard-interactive" else \
        {"kbdint_auth": False}
    with pytest.raises(asyncssh.DisconnectError):
        conn, _ = await asyncssh.create_connection(
            lambda: guesser, "127.0.0.1", port_of(server), username="guichet",
            known_hosts=None, client_keys=None, agent_path=None, **only)
        conn.close()
    assert ssh_module.MAX_PASSWORD_TRIES == 3
    assert len(verified) == 3
    assert guesser.asked >= 3
    # a new connection starts a new count; the right password gets in
    t = await MinitelClient.connect(f"ssh://guichet:s3cret@127.0.0.1:{port_of(server)}")
    await t.wait_for_text("RESULTATS DES EXAMENS")
    await t.close()


async def test_unknown_user_costs_the_same_scrypt_as_a_known_one(
        ssh_server, verified: list[str]) -> None:
    """Regression: an unknown user name was answered without running scrypt (200
    attempts in 0.13 s against 8.7 s), so user names could be told apart by timing. Each
    password is now checked against a scrypt hash of the same parameters, a dummy one for
    unknown users and users without a password. Counted, not timed."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await ssh_server(public=False, users={
        "guichet": hash_password("s3cret"), "cle": key.export_public_key().decode()})
    for user in ("guichet", "intrus", "cle"):
        with pytest.raises(asyncssh.PermissionDenied):
            async with asyncssh.connect("127.0.0.1", port_of(server), username=user,
                                        password="wrong", known_hosts=None,
                                        client_keys=None, agent_path=None,
                                        kbdint_auth=False):
                pass
    assert len(verified) == 3
    params = {hashed.split("$")[0] for hashed in verified}
    assert params == {"scrypt"}
    assert {len(hashed) for hashed in verified} == {len(hash_password("x"))}
    assert verified[1] == verified[2] != verified[0]  # the dummy hash, not a user's


async def _session_without_start(conn: asyncssh.SSHClientConnection,
                                 then: str) -> asyncssh.SSHClientChannel[bytes]:
    """A session channel that never starts: CHANNEL_OPEN "session" and, per ``then``,
    nothing, a "pty-req", or a "subsystem" request the server refuses. asyncssh's
    ``create_session`` always ends with shell, exec or subsystem, so its channel is
    opened here one level down (``SSHClientChannel._open``, as ``create`` does)."""
    chan: asyncssh.SSHClientChannel[bytes] = asyncssh.SSHClientChannel(
        conn, asyncio.get_running_loop(), "strict", None, "strict", 2**21, 32768)
    await chan._open(b"session")
    chan._session = asyncssh.SSHClientSession()
    chan._session.connection_made(chan)
    if then == "pty-req":
        assert await chan._make_request(
            b"pty-req", String("minitel"), UInt32(40), UInt32(25), UInt32(0), UInt32(0),
            String(b"\x00"))
    elif then == "refused subsystem":
        assert not await chan._make_request(b"subsystem", String("sftp"))
    return chan


@pytest.mark.parametrize("then", ["no channel", "nothing", "pty-req", "refused subsystem"])
async def test_session_channel_never_started_is_closed_after_session_timeout(
        ssh_server, board, caplog: pytest.LogCaptureFixture, then: str) -> None:
    """Regression: session_timeout only closed connections that opened no session
    channel. One that opened it and then sent no shell/exec request (or only a pty-req,
    or a refused subsystem) stayed open for good, answering keepalives, never seen by
    board.handle and so outside the per-address gate: a cheap way to hold descriptors.
    The same bound now runs until the session has started. A caller who asked for a
    shell before it is served as usual."""
    timeout = 2.0
    caplog.set_level(logging.INFO, logger="videotex.ssh")
    server = await ssh_server(session_timeout=timeout)
    url = f"ssh://x@127.0.0.1:{port_of(server)}"
    caller = await MinitelClient.connect(url)  # its timer runs out first
    await caller.wait_for_text("RESULTATS DES EXAMENS")
    conn = await asyncssh.connect("127.0.0.1", port_of(server), **client_options())
    try:
        chan = None if then == "no channel" else await _session_without_start(conn, then)
        await asyncio.wait_for(conn.wait_closed(), timeout + 10)
    finally:
        conn.close()
    assert chan is None or chan.is_closing()
    closed = [r for r in caplog.records if r.name == "videotex.ssh"
              and r.getMessage().startswith("ssh session not started")]
    reason = "no session channel" if chan is None else "session channel without shell or exec"
    assert [(r.levelno, getattr(r, "reason", None)) for r in closed] == [(logging.INFO, reason)]
    assert len(board.calls) == 1  # the caller; that channel never reached board.handle
    # the caller's timer ran out before: still served
    await at_home(caller)
    await send_form(caller, *ELODIE)
    await caller.wait_for_text("Mention Très bien")
    await caller.close()
