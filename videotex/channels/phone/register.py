"""Registration with a SIP trunk (RFC 3261 §10), so that a real number reaches the server.

Owns the REGISTER dialogue, sans-IO over :class:`~.ua.UserAgent` client transactions:
REGISTER, a 401/407 answered once per nonce with digest credentials
(:mod:`videotex.protocols.sipauth`), 423 answered with the registrar's Min-Expires, the
binding refreshed at 80 % of what the registrar granted, failures retried after 30 s doubling
to 10 min, and ``Expires: 0`` when the listener closes.

Invariants: one REGISTER in flight at a time; the same Call-ID and a rising CSeq for the whole
life of the binding; the password is only ever sent hashed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from videotex.protocols.sip import SipError, SipRequest, SipResponse, parse_name_addr
from videotex.protocols.sipauth import DigestError, authorization, parse_challenge

from .ua import Peer, UserAgent, new_branch, new_tag

__all__ = ["Registration"]

RETRY_FIRST, RETRY_MAX = 30.0, 600.0


class Registration:
    """See the module docstring. ``state``: idle, registering, registered, failed."""

    def __init__(self, ua: UserAgent, registrar: Peer, domain: str, user: str, password: str,
                 expires: int = 300, on_change: Callable[[Registration], None] | None = None
                 ) -> None:
        self.ua = ua
        self.registrar = registrar
        self.domain = domain
        self.user = user
        self._password = password
        self.expires = expires
        self.on_change = on_change
        self.state = "idle"
        self.granted = 0
        self.last_status = 0
        self.last_reason = ""
        self._call_id = f"{secrets.token_hex(8)}@videotex"
        self._tag = new_tag()
        self._cseq = 0
        self._pending: tuple[str, str] | None = None
        self._answered_nonce = ""
        self._next: float | None = None
        self._retry = RETRY_FIRST
        self._asking = expires

    def start(self, now: float) -> None:
        self._send(now, self.expires)

    def stop(self, now: float) -> None:
        """Remove the binding (best effort: the answer is not awaited)."""
        if self.state == "registered":
            self._send(now, 0)
        self.state = "idle"
        self._next = None

    def next_deadline(self) -> float | None:
        return self._next

    def tick(self, now: float) -> None:
        if self._next is not None and now >= self._next and self._pending is None:
            self._next = None
            self._send(now, self.expires)

    def owns(self, key: tuple[str, str]) -> bool:
        return key == self._pending

    def _send(self, now: float, expires: int, auth: tuple[str, str] | None = None) -> None:
        self._cseq += 1
        self._asking = expires
        host, port = self.ua.local(self.registrar)
        shown = f"[{host}]" if ":" in host else host
        aor = f"<sip:{self.user}@{self.domain}>"
        headers = [("Via", f"SIP/2.0/{self.registrar[0].upper()} {shown}:{port};"
                           f"branch={new_branch()};rport"),
                   ("Max-Forwards", "70"), ("From", f"{aor};tag={self._tag}"), ("To", aor),
                   ("Call-ID", self._call_id), ("CSeq", f"{self._cseq} REGISTER"),
                   ("Contact", f"<sip:{self.user}@{shown}:{port}>"), ("Expires", str(expires)),
                   ("User-Agent", self.ua.server)]
        if auth is not None:
            headers.append(auth)
        request = SipRequest(tuple(headers), b"", "REGISTER", f"sip:{self.domain}")
        if self.state != "registered" or expires == 0:
            self.state = "registering" if expires else self.state
        self._pending = self.ua.request(request, self.registrar, now)

    def on_response(self, response: SipResponse, now: float) -> None:
        self._pending = None
        self.last_status, self.last_reason = response.status, response.reason
        if self._asking == 0:
            return  # the answer to our unregistration
        if 200 <= response.status < 300:
            self.granted = self._granted(response)
            self.state = "registered"
            self._retry = RETRY_FIRST
            self._next = now + max(10.0, 0.8 * self.granted)
        elif response.status in (401, 407) and self._answer(response, now):
            return
        elif response.status == 423 and (response.header("Min-Expires") or "").isdigit():
            self.expires = int(response.header("Min-Expires") or self.expires)
            self._send(now, self.expires)
            return
        else:
            self.state = "failed"
            self._next = now + self._retry
            self._retry = min(RETRY_MAX, 2 * self._retry)
        if self.on_change is not None:
            self.on_change(self)

    def _answer(self, response: SipResponse, now: float) -> bool:
        """Answer a challenge once per nonce; False when it cannot be answered."""
        name = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        try:
            challenge = parse_challenge(response.header(name) or "")
        except DigestError as e:
            self.last_reason = f"{response.status}: {e}"
            return False
        if challenge.nonce == self._answered_nonce and not challenge.stale:
            self.last_reason = f"{response.status}: credentials refused"
            return False
        self._answered_nonce = challenge.nonce
        value = authorization(challenge, "REGISTER", f"sip:{self.domain}", self.user,
                              self._password, secrets.token_hex(8))
        header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        self._send(now, self.expires, (header, value))
        return True

    def _granted(self, response: SipResponse) -> int:
        for contact in response.all("Contact"):
            try:
                addr = parse_name_addr(contact)
            except SipError:
                continue
            if addr.uri.user == self.user and (addr.params.get("expires", "").isascii() and addr.params.get("expires", "").isdigit()):
                return int(addr.params["expires"])
        expires = response.header("Expires") or ""
        return int(expires) if (expires.isascii() and expires.isdigit()) and len(expires) < 9 else self.expires
