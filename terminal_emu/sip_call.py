"""One outgoing SIP call over UDP, sans-IO: the emulator's user agent client (RFC 3261).

Owns the call's transactions and dialog: INVITE with the SDP offer, retransmitted on timer
A (T1, doubling) until a response and abandoned on timer B (64·T1) (§17.1.1.2); ACK of the
final response (in the INVITE transaction for 3xx-6xx, §17.1.1.3; a new one in the
dialog for 2xx, §13.2.2.4, sent again for every retransmitted 200); CANCEL (§9.1) or BYE
(§15.1.1), retransmitted on timer E up to T2 and abandoned on timer F (§17.1.2.2). As a
UAS inside the call it answers BYE with 200 and ends, OPTIONS, INVITE and UPDATE with 200
and the same SDP as the offer (the emulator never changes its media), INFO with 200,
anything else with 501, requests of other calls with 481.

The URL's host is treated as the outbound proxy: every request goes to ``peer``; responses
go back where their request came from. Time is whatever clock the caller passes as
``now`` (seconds); nothing here reads a clock, sleeps or does I/O.

Invariants: :meth:`UacCall.receive` returns events for any bytes and never raises (garbage
and strays come back as :class:`Ignored`); once :attr:`UacCall.state` is TERMINATED it
stays so; every datagram to send is in :attr:`UacCall.outbox` as (bytes, address).
"""

from __future__ import annotations

import enum
import math
import secrets
from dataclasses import dataclass, field

from .sip import (
    Request,
    Response,
    SipError,
    branch_of,
    build_request,
    build_response,
    cseq_of,
    new_branch,
    new_tag,
    param_of,
    parse,
    uri_of,
)

__all__ = [
    "ALLOW",
    "Answered",
    "CallConfig",
    "CallEvent",
    "CallState",
    "Ended",
    "Ignored",
    "Progress",
    "Rejected",
    "RemoteHangUp",
    "Reoffer",
    "TimedOut",
    "UacCall",
    "hostport",
]

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
Address = tuple[str, int]


class CallState(enum.Enum):
    IDLE = "idle"  #: nothing sent yet
    CALLING = "calling"  #: §17.1.1.2: INVITE sent, no response yet (timer A retransmits)
    PROCEEDING = "proceeding"  #: §17.1.1.2: a provisional response came
    ESTABLISHED = "established"  #: §12: 2xx acknowledged, the dialog exists
    TERMINATING = "terminating"  #: §15, §9: BYE or CANCEL sent, waiting for the end
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class Progress:
    """A provisional response to the INVITE: 100 Trying, 180 Ringing, 183 Session Progress."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Answered:
    """The call was answered (2xx, already acknowledged); ``sdp`` is the answer."""

    status: int
    reason: str
    sdp: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    """A final 3xx-6xx to the INVITE (acknowledged): the call failed or was cancelled."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class TimedOut:
    """No final response to ``method`` before its timer (B or F) ran out."""

    method: str


@dataclass(frozen=True, slots=True)
class RemoteHangUp:
    """The far end sent BYE (answered 200)."""


@dataclass(frozen=True, slots=True)
class Ended:
    """Our BYE got its final response ``status``."""

    status: int


@dataclass(frozen=True, slots=True)
class Reoffer:
    """An in-dialog INVITE or UPDATE with an offer (answered 200 with the same SDP)."""

    method: str
    sdp: bytes


@dataclass(frozen=True, slots=True)
class Ignored:
    """A datagram that was not for this call or not SIP; ``reason`` says which."""

    reason: str


CallEvent = Progress | Answered | Rejected | TimedOut | RemoteHangUp | Ended | Reoffer | Ignored


@dataclass(frozen=True, slots=True)
class CallConfig:
    """Who calls whom, from where. ``caller`` ``"anonymous"`` hides the number (RFC 3323)."""

    number: str  #: the called number (user part of the Request-URI)
    peer: Address  #: where every request goes (the server, or an outbound proxy)
    local: Address  #: our SIP socket, for Via and Contact
    caller: str
    sdp: bytes  #: the offer, also the answer to any later offer
    pai: str | None = None  #: P-Asserted-Identity number, if any
    user_agent: str = "terminal-emu"
    t1: float = 0.5  #: §17.1.1.1: RTT estimate
    t2: float = 4.0  #: §17.1.2.2: longest retransmit interval of non-INVITE requests


def _uri_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def hostport(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"{_uri_host(host)}:{port}"


@dataclass(slots=True)
class _ClientTx:
    """A client transaction: what to resend, when, and when to give up."""

    method: str
    branch: str
    data: bytes
    interval: float
    next_at: float
    deadline: float
    done: bool = False


@dataclass(slots=True)
class UacCall:
    """The call (see the module docstring). ``start(now)``, then feed :meth:`receive` and
    :meth:`on_timer` at :attr:`next_timer`; send what :attr:`outbox` holds."""

    config: CallConfig
    call_id: str = ""
    local_tag: str = field(default_factory=new_tag)
    state: CallState = CallState.IDLE
    remote_tag: str | None = None
    remote_target: str = ""
    request_uri: str = ""
    route_set: list[str] = field(default_factory=list)
    outbox: list[tuple[bytes, Address]] = field(default_factory=list)
    _txs: dict[str, _ClientTx] = field(default_factory=dict)
    _invite: Request | None = None
    _ack: bytes | None = None
    _cseq: int = 1
    _cancel_wanted: bool = False

    def __post_init__(self) -> None:
        host, port = self.config.peer
        self.call_id = self.call_id or f"{secrets.token_hex(10)}@{self.config.local[0]}"
        self.remote_target = f"sip:{self.config.number}@{hostport(host, port)}"
        self.request_uri = self.remote_target

    # -- addresses and headers -----------------------------------------------------

    @property
    def from_header(self) -> str:
        caller = self.config.caller
        if caller.lower() == "anonymous":
            return f'"Anonymous" <sip:anonymous@anonymous.invalid>;tag={self.local_tag}'
        return f"<sip:{caller}@{_uri_host(self.config.local[0])}>;tag={self.local_tag}"

    @property
    def contact(self) -> str:
        user = "" if self.config.caller.lower() == "anonymous" else f"{self.config.caller}@"
        return f"<sip:{user}{hostport(*self.config.local)}>"

    def _to(self) -> str:
        tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        return f"<{self.request_uri}>{tag}"

    def _common(self, branch: str, cseq: int, method: str, to: str) -> list[tuple[str, str]]:
        return [
            ("Via", f"SIP/2.0/UDP {hostport(*self.config.local)};rport;branch={branch}"),
            ("Max-Forwards", "70"),
            ("From", self.from_header),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            *(("Route", r) for r in self.route_set),
        ]

    # -- time -----------------------------------------------------------------------

    @property
    def next_timer(self) -> float | None:
        """When :meth:`on_timer` must next be called, or None."""
        times = [min(t.next_at, t.deadline) for t in self._txs.values() if not t.done]
        finite = [t for t in times if math.isfinite(t)]
        return min(finite) if finite else None

    def on_timer(self, now: float) -> list[CallEvent]:
        """Retransmit what is due; give up on what has waited too long."""
        events: list[CallEvent] = []
        for tx in list(self._txs.values()):
            if tx.done:
                continue
            if now >= tx.deadline:
                tx.done = True
                events += self._timed_out(tx)
            elif now >= tx.next_at:
                self.outbox.append((tx.data, self.config.peer))
                tx.interval = tx.interval * 2 if tx.method == "INVITE" else min(
                    tx.interval * 2, self.config.t2)
                tx.next_at = now + tx.interval
        return events

    def _timed_out(self, tx: _ClientTx) -> list[CallEvent]:
        if tx.method == "CANCEL" and self.state is not CallState.TERMINATING:
            return []
        self._end()
        return [TimedOut(tx.method)]

    def _end(self) -> None:
        self.state = CallState.TERMINATED
        for tx in self._txs.values():
            tx.done = True

    def _client_tx(self, request: Request, now: float, *, retransmit: bool = True) -> None:
        t1 = self.config.t1
        data = request.encode()
        branch = branch_of(request) or ""
        self._txs[f"{branch} {request.method}"] = _ClientTx(
            request.method, branch, data, t1, now + t1 if retransmit else math.inf,
            now + 64 * t1)
        self.outbox.append((data, self.config.peer))

    # -- our requests -----------------------------------------------------------------

    def start(self, now: float) -> None:
        """Send the INVITE."""
        if self.state is not CallState.IDLE:
            raise RuntimeError(f"start: the call is already {self.state.value}")
        headers = self._common(new_branch(), self._cseq, "INVITE", self._to())
        headers += [("Contact", self.contact), ("Allow", ALLOW),
                    ("User-Agent", self.config.user_agent)]
        if self.config.pai:
            headers.append(("P-Asserted-Identity",
                            f"<sip:{self.config.pai}@{hostport(*self.config.peer)}>"))
        headers.append(("Content-Type", "application/sdp"))
        self._invite = build_request("INVITE", self.request_uri, headers, self.config.sdp)
        self.state = CallState.CALLING
        self._client_tx(self._invite, now)

    def hang_up(self, now: float) -> None:
        """BYE an answered call, CANCEL a ringing one (after its first provisional response,
        §9.1: a call still CALLING is cancelled when that comes, or BYEd if answered)."""
        if self.state is CallState.IDLE:
            self.state = CallState.TERMINATED
        elif self.state is CallState.CALLING:
            self._cancel_wanted = True
        elif self.state is CallState.PROCEEDING:
            self._send_cancel(now)
        elif self.state is CallState.ESTABLISHED:
            self._send_bye(now)

    def _send_bye(self, now: float) -> None:
        self._cseq += 1
        headers = self._common(new_branch(), self._cseq, "BYE", self._to())
        headers.append(("User-Agent", self.config.user_agent))
        self.state = CallState.TERMINATING
        self._client_tx(build_request("BYE", self.remote_target, headers), now)

    def _send_cancel(self, now: float) -> None:
        assert self._invite is not None
        keep = ("via", "from", "to", "call-id", "route")
        headers = [(n, v) for n, v in self._invite.headers if n.lower() in keep]
        headers += [("CSeq", f"{self._cseq} CANCEL"), ("Max-Forwards", "70")]
        self.state = CallState.TERMINATING
        invite = self._txs.get(f"{branch_of(self._invite)} INVITE")
        if invite is not None:  # §9.1: the INVITE ends 64·T1 after the CANCEL at the latest
            invite.deadline = now + 64 * self.config.t1
        self._client_tx(build_request("CANCEL", self.request_uri, headers), now)

    # -- what comes in ----------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> list[CallEvent]:
        """A datagram from ``source``: the events it causes (see the module docstring)."""
        try:
            message = parse(data)
        except SipError as e:
            return [Ignored(f"not SIP: {e}")]
        if isinstance(message, Response):
            return self._on_response(message, now)
        return self._on_request(message, source)

    def _on_response(self, msg: Response, now: float) -> list[CallEvent]:
        cseq, branch = cseq_of(msg), branch_of(msg)
        if cseq is None or branch is None or msg.header("call-id") != self.call_id:
            return [Ignored(f"{msg.status} {msg.reason}: not a response of this call")]
        tx = self._txs.get(f"{branch} {cseq[1]}")
        if tx is None:
            return [Ignored(f"{msg.status} {msg.reason}: to no request of ours")]
        if tx.method == "INVITE":
            return self._invite_response(msg, tx, now)
        if msg.status < 200:
            tx.interval = self.config.t2
            return []
        if tx.done:
            return []
        tx.done = True
        if tx.method == "BYE":
            self._end()
            return [Ended(msg.status)]
        return []  # CANCEL answered: the INVITE's 487 ends the call

    def _invite_response(self, msg: Response, tx: _ClientTx, now: float) -> list[CallEvent]:
        if msg.status < 200:
            if self.state is CallState.CALLING:
                self.state = CallState.PROCEEDING
                tx.next_at = tx.deadline = math.inf  # §17.1.1.2: no more retransmission
                if self._cancel_wanted:
                    self._send_cancel(now)
                    return []
            if self.state is CallState.PROCEEDING:
                return [Progress(msg.status, msg.reason)]
            return []
        if self._ack is not None:  # a retransmitted final response: ACK it again
            self.outbox.append((self._ack, self.config.peer))
            return []
        tx.done = True
        if msg.status >= 300:
            self._ack = self._non2xx_ack(msg)
            self.outbox.append((self._ack, self.config.peer))
            self._end()
            return [Rejected(msg.status, msg.reason)]
        self._dialog_from(msg)
        self._ack = self._2xx_ack()
        self.outbox.append((self._ack, self.config.peer))
        if self.state is CallState.TERMINATED:  # answered after timer B: end it, once
            self._cseq += 1
            bye = self._common(new_branch(), self._cseq, "BYE", self._to())
            self.outbox.append((build_request("BYE", self.remote_target, bye).encode(),
                                self.config.peer))
            return []
        if self._cancel_wanted or self.state is CallState.TERMINATING:
            self._send_bye(now)  # the 200 crossed our CANCEL: end the call it made
            return []
        self.state = CallState.ESTABLISHED
        return [Answered(msg.status, msg.reason, msg.body)]

    def _dialog_from(self, msg: Response) -> None:
        to = msg.header("to") or ""
        self.remote_tag = param_of(to, "tag")
        contact = msg.header("contact")
        if contact:
            self.remote_target = uri_of(_split_commas(contact)[0])
        routes = [r for value in msg.headers_named("record-route") for r in _split_commas(value)]
        self.route_set = routes[::-1]

    def _2xx_ack(self) -> bytes:
        headers = self._common(new_branch(), self._cseq, "ACK", self._to())
        return build_request("ACK", self.remote_target, headers).encode()

    def _non2xx_ack(self, msg: Response) -> bytes:
        assert self._invite is not None
        headers = [(n, v) for n, v in self._invite.headers
                   if n.lower() in ("via", "from", "call-id", "route")]
        headers += [("To", msg.header("to") or self._to()), ("CSeq", f"{self._cseq} ACK"),
                    ("Max-Forwards", "70")]
        return build_request("ACK", self.request_uri, headers).encode()

    def _on_request(self, req: Request, source: Address) -> list[CallEvent]:
        needed = ("via", "from", "to", "call-id")
        if any(req.header(h) is None for h in needed) or cseq_of(req) is None:
            return [Ignored(f"{req.method}: a header is missing (Via, From, To, Call-ID, CSeq)")]
        if req.method == "ACK":
            return []  # acknowledges our 200 to a re-INVITE
        if req.header("call-id") != self.call_id:
            if req.method == "OPTIONS":
                self._respond(req, source, 200, "OK", to_tag=new_tag())
                return []
            self._respond(req, source, 481, "Call/Transaction Does Not Exist")
            return [Ignored(f"{req.method}: for another call")]
        if req.method == "BYE":
            self._respond(req, source, 200, "OK")
            was = self.state
            self._end()
            return [] if was is CallState.TERMINATED else [RemoteHangUp()]
        if req.method in ("INVITE", "UPDATE", "OPTIONS"):
            if req.method != "OPTIONS" and self.state is not CallState.ESTABLISHED:
                self._respond(req, source, 481, "Call/Transaction Does Not Exist")
                return []
            self._respond(req, source, 200, "OK", sdp=True)
            return [Reoffer(req.method, req.body)] if req.body and req.method != "OPTIONS" \
                else []
        if req.method == "INFO":
            self._respond(req, source, 200, "OK")
            return []
        if req.method == "CANCEL":
            self._respond(req, source, 481, "Call/Transaction Does Not Exist")
            return []
        self._respond(req, source, 501, "Not Implemented")
        return []

    def _respond(self, req: Request, source: Address, status: int, reason: str, *,
                 to_tag: str | None = None, sdp: bool = False) -> None:
        extra = [("Allow", ALLOW), ("User-Agent", self.config.user_agent)]
        if sdp:
            extra += [("Contact", self.contact), ("Content-Type", "application/sdp")]
        response = build_response(req, status, reason, to_tag=to_tag, extra=extra,
                                  body=self.config.sdp if sdp else b"")
        self.outbox.append((response.encode(), source))


def _split_commas(value: str) -> list[str]:
    """A header value listing several name-addrs, split on the commas outside ``<>``/quotes."""
    out, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        elif ch == "," and not quoted and depth <= 0:
            out.append(value[start:i].strip())
            start = i + 1
    out.append(value[start:].strip())
    return [v for v in out if v]
