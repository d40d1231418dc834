"""What every asyncssh listener of the server shares: the SSH caller channel
(:mod:`.ssh`) and the providers' SFTP inbox (:mod:`videotex.inbox.sftp`).

The host key (generated on first start, mode 0600, reused after; refused if others can
read it), password hashes (scrypt) and ``authorized_keys`` credentials, the asyncssh
options both listeners set, and the running listener object. Keeping these here lets the
inbox use them without depending on the caller transport.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import asyncssh

from videotex.runtime.config import ListenerConfig

__all__ = [
    "DEFAULT_HOST_KEY",
    "SshListener",
    "authorized_keys",
    "hash_password",
    "is_key_line",
    "load_host_key",
    "quiet_asyncssh",
    "server_options",
    "verify_password",
]

log = logging.getLogger("videotex.ssh")

#: Where the host key is kept unless the listener says otherwise.
DEFAULT_HOST_KEY = Path("var/ssh/ssh_host_ed25519_key")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}

# -- keys and credentials ----------------------------------------------------------------


def load_host_key(path: str | os.PathLike[str]) -> asyncssh.SSHKey:
    """The host key at ``path``; created (Ed25519, mode 0600) if there is none.

    An existing key readable by group or others is refused, as OpenSSH does."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh.generate_private_key("ssh-ed25519")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(key.export_private_key())
            log.info("generated SSH host key", extra={"path": str(path),
                                                      "fingerprint": key.get_fingerprint()})
            return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ValueError(f"{path}: SSH host key is readable by others (mode {mode:o}); "
                         f"chmod 600 {path}")
    try:
        return asyncssh.read_private_key(path)
    except (asyncssh.KeyImportError, ValueError) as e:
        raise ValueError(f"{path}: not a usable SSH private key: {e}") from None


def hash_password(password: str) -> str:
    """A ``scrypt$SALT$HASH`` string for the ``users`` table of a private listener."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + "$".join(base64.b64encode(x).decode() for x in (salt, digest))


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (False if malformed)."""
    kind, _, rest = hashed.partition("$")
    salt_b64, _, digest_b64 = rest.partition("$")
    if kind != "scrypt":
        return False
    try:
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT),
                               digest)


def is_key_line(text: str) -> bool:
    """Whether ``text`` looks like a public key line rather than a file path."""
    return text.lstrip().startswith(("ssh-", "ecdsa-", "sk-"))


def authorized_keys(value: str | list[str], where: str) -> asyncssh.SSHAuthorizedKeys:
    """Keys from a key line, a list of key lines, or an ``authorized_keys`` path."""
    try:
        if isinstance(value, list):
            if not all(isinstance(v, str) and is_key_line(v) for v in value):
                raise ValueError("a list must hold public key lines (ssh-ed25519 AAAA...)")
            return asyncssh.import_authorized_keys("\n".join(value) + "\n")
        if is_key_line(value):
            return asyncssh.import_authorized_keys(value + "\n")
        return asyncssh.read_authorized_keys(value)
    except OSError as e:
        raise ValueError(f"{where}: cannot read authorized keys {value!r}: "
                         f"{e.strerror}") from None
    except (asyncssh.KeyImportError, ValueError) as e:
        raise ValueError(f"{where}: bad public key: {e}") from None


class SshListener:
    """A running asyncssh server (``ssh`` or ``sftp`` kind)."""

    def __init__(self, kind: str, acceptor: asyncssh.SSHAcceptor,
                 fingerprint: str) -> None:
        self.kind = kind
        self.acceptor = acceptor
        #: SHA256 fingerprint of the host key, for the operator to publish.
        self.fingerprint = fingerprint

    def close(self) -> None:
        self.acceptor.close()

    async def wait_closed(self) -> None:
        await self.acceptor.wait_closed()

    def addresses(self) -> list[str]:
        out = []
        for host, port, *_ in self.acceptor.get_addresses():
            shown = f"[{host}]" if ":" in host else host
            out.append(f"{self.kind}://{shown}:{port}")
        return out


def quiet_asyncssh() -> None:
    """asyncssh logs about ten INFO lines per connection; ours say what matters. Its
    level is only raised when nobody has set one (``logging.getLogger("asyncssh")``)."""
    for name in ("asyncssh", "asyncssh.sftp"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def server_options(cfg: ListenerConfig, host_key: asyncssh.SSHKey) -> dict[str, Any]:
    """asyncssh options shared by the ``ssh`` and ``sftp`` listeners."""
    return {
        "server_host_keys": [host_key],
        "backlog": cfg.backlog,
        "reuse_port": bool(cfg.options.get("reuse_port")) or None,
        "agent_forwarding": False,
        "x11_forwarding": False,
        "allow_scp": False,
        "login_timeout": float(cfg.options.get("login_timeout", 60)),
        "keepalive_interval": float(cfg.options.get("keepalive_interval", 60)),
        "keepalive_count_max": 3,
    }
