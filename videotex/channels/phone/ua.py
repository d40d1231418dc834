"""The SIP user agent core of the phone line: transactions and dialogs, sans-IO.

Owns what RFC 3261 asks of a UAS that answers calls, and of the few requests it sends:

- server transactions (§17.2): a retransmitted request gets the last response again; a
  non-2xx final answer to an INVITE is retransmitted until its ACK (timers G, H);
- the 2xx of an INVITE is retransmitted until its ACK (§13.3.1.4), then the call is dropped
  with a BYE if none came in 64·T1;
- dialogs (§12): CANCEL (§9.2), BYE either way, re-INVITE in the dialog, INFO (DTMF), OPTIONS;
- client transactions (§17.1.2) for our BYE and REGISTER: retransmitted until a final answer
  or 64·T1 (then a made-up 408);
- refusals: a request it cannot read gets ``400`` with a ``Warning`` saying why when the
  Via, From, To, Call-ID and CSeq can still be found (else it is dropped); a Require it
  does not know ``420``; a body that is not SDP ``415``; an unknown dialog ``481``.

Time is an argument (``now``, monotonic seconds); :meth:`UserAgent.tick` fires the timers,
:meth:`UserAgent.next_deadline` says when. Datagrams to send pile up in ``outbox`` as
``(bytes, peer)``; a peer is ``(transport, host, port)``, transport ``"udp"`` or ``"tcp"``
(no retransmission on TCP). Responses always go back where the request came from
(symmetric signalling, what NAT needs; the top Via is stamped ``received``/``rport``).
Nothing here knows what a call is for: the phone listener decides (:mod:`.sip_listener`).
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from videotex.protocols.sip import (
    SipError,
    SipRequest,
    SipResponse,
    missing_headers,
    parse_cseq,
    parse_message,
    parse_name_addr,
    parse_via,
    response_for,
)

from .events import (
    Cancelled,
    Confirmed,
    Dropped,
    Ended,
    Event,
    Invite,
    Refused,
    Reinvite,
    Response,
)
from .salvage import salvage

__all__ = ["ALLOW", "T1", "T2", "Peer", "UserAgent"]

Peer = tuple[str, str, int]
T1, T2, T4 = 0.5, 4.0, 5.0
TIMER_64 = 64 * T1
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"
_KNOWN = {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "REGISTER", "PRACK", "UPDATE",
          "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER", "PUBLISH"}


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


@dataclass(eq=False)
class _ServerTx:
    key: tuple[str, ...]
    request: SipRequest
    peer: Peer
    call_id: str = ""
    to_tag: str = ""
    last: bytes = b""
    final: int = 0
    #: non-2xx final of an INVITE: retransmitted until the ACK (timer G), up to timer H.
    retry_at: float | None = None
    interval: float = T1
    #: When the transaction is forgotten (None: not before it has a final answer).
    forget_at: float | None = None
    due: float | None = None


@dataclass(eq=False)
class _Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    #: To of the INVITE (our side) and From (theirs), as received, without our tag.
    local_party: str
    remote_party: str
    remote_target: str
    route: list[str]
    peer: Peer
    remote_cseq: int
    local_cseq: int = 0
    #: early (no final answer yet), answered (2xx sent, no ACK), confirmed, ended
    state: str = "early"
    invite: _ServerTx | None = None
    #: The 2xx being retransmitted until its ACK (the INVITE's or a re-INVITE's).
    ok: bytes = b""
    ok_retry: float | None = None
    ok_interval: float = T1
    ok_give_up: float = 0.0
    due: float | None = None


@dataclass(eq=False)
class _ClientTx:
    key: tuple[str, str]
    data: bytes
    peer: Peer
    retry_at: float | None
    interval: float
    give_up: float
    done: bool = False
    due: float | None = None


_Owner = _ServerTx | _Dialog | _ClientTx


class UserAgent:
    """See the module docstring. ``local(peer) -> (host, port)`` gives the address this side
    has toward ``peer`` (for Contact and Via)."""

    def __init__(self, local: Callable[[Peer], tuple[str, int]], *,
                 server: str = "videotex") -> None:
        self.local = local
        self.server = server
        self.outbox: list[tuple[bytes, Peer]] = []
        #: Status answered to OPTIONS (the listener sets 503 while closing or unhealthy).
        self.options_status = 200
        self.dialogs: dict[str, _Dialog] = {}
        self._server: dict[tuple[str, ...], _ServerTx] = {}
        self._client: dict[tuple[str, str], _ClientTx] = {}
        self._timers: list[tuple[float, int, _Owner]] = []
        self._count = itertools.count()
        self._events: list[Event] = []

    @property
    def transactions(self) -> int:
        """Server and client transactions held (bounded by the timers)."""
        return len(self._server) + len(self._client)

    # -- input ------------------------------------------------------------------------------

    def receive(self, data: bytes, peer: Peer, now: float) -> list[Event]:
        """One datagram (or one message framed off a TCP stream) from ``peer``."""
        try:
            message = parse_message(data)
        except SipError as e:
            return self._unreadable(data, peer, str(e))
        return self.receive_message(message, peer, now)

    def receive_message(self, message: SipRequest | SipResponse, peer: Peer,
                        now: float) -> list[Event]:
        """A message already parsed (TCP framing parses as it frames)."""
        if isinstance(message, SipResponse):
            self._on_response(message)
        else:
            self._on_request(message, peer, now)
        events, self._events = self._events, []
        return events

    def _unreadable(self, data: bytes, peer: Peer, why: str) -> list[Event]:
        stub = salvage(data)
        if stub is None or stub.method == "ACK":
            return [Dropped(peer, why)]
        self._send(response_for(stub, 400, headers=self._warning(why), to_tag=new_tag(),
                                received=peer[1:]), peer)
        return [Refused(peer, 400, why, stub.header("Call-ID") or "")]

    def _warning(self, why: str) -> tuple[tuple[str, str], ...]:
        text = why.replace("\\", "/").replace('"', "'")[:200]
        return (("Warning", f'399 {self.server} "{text}"'), ("Server", self.server))

    def _refuse(self, request: SipRequest, peer: Peer, status: int, why: str) -> None:
        """An error answer outside any transaction (the request is unreadable as one)."""
        if request.method == "ACK":
            self._events.append(Dropped(peer, why))
            return
        self._send(response_for(request, status, headers=self._warning(why), to_tag=new_tag(),
                                received=peer[1:]), peer)
        self._events.append(Refused(peer, status, why, request.header("Call-ID") or ""))

    def _on_request(self, req: SipRequest, peer: Peer, now: float) -> None:
        missing = missing_headers(req)
        if missing:
            if "Via" in missing:
                self._events.append(Dropped(peer, f"{req.method} without Via"))
            else:
                self._refuse(req, peer, 400, f"missing header {', '.join(missing)}")
            return
        try:
            via = parse_via(req.header("Via") or "")
            number, method = parse_cseq(req.header("CSeq") or "")
            parse_name_addr(req.header("From") or "")
            to_tag = parse_name_addr(req.header("To") or "").tag or ""
        except SipError as e:
            self._refuse(req, peer, 400, str(e))
            return
        if method != req.method:
            self._refuse(req, peer, 400, f"CSeq method {method} is not {req.method}")
            return
        forwards = req.header("Max-Forwards")
        if forwards is not None and (not (forwards.isascii() and forwards.isdigit()) or len(forwards) > 3):
            self._refuse(req, peer, 400, f"Max-Forwards {forwards[:10]!r} is not a number")
            return
        key = self._key(req, via.branch, via.sent_by)
        if req.method == "ACK":
            self._on_ack(req, key, to_tag, now)
            return
        known = self._server.get(key)
        if known is not None:  # a retransmission: the same answer again
            if known.last:
                self.outbox.append((known.last, known.peer))
            return
        tx = _ServerTx(key, req, peer, req.header("Call-ID") or "")
        self._server[key] = tx
        if forwards == "0" and req.method != "OPTIONS":
            self._final(tx, 483, now, why="Max-Forwards reached 0")
            return
        handler = {"INVITE": self._on_invite, "CANCEL": self._on_cancel, "BYE": self._on_bye,
                   "OPTIONS": self._on_options, "INFO": self._on_info}.get(req.method)
        if handler is not None:
            handler(tx, to_tag, number, now)
        elif req.method in _KNOWN:
            self._final(tx, 405, now, (("Allow", ALLOW),), why=f"{req.method} is not served")
        else:
            self._final(tx, 501, now, (("Allow", ALLOW),), why=f"unknown method {req.method}")

    @staticmethod
    def _key(req: SipRequest, branch: str, sent_by: str) -> tuple[str, ...]:
        method = "INVITE" if req.method == "ACK" else req.method
        if branch.startswith("z9hG4bK"):
            return (branch, sent_by, method)
        # RFC 2543 peers: Call-ID, CSeq number, From tag and top Via identify the request
        number = (req.header("CSeq") or "").split(" ")[0]
        return ("2543", req.header("Call-ID") or "", number, req.header("From") or "",
                req.header("Via") or "", method)

    # -- requests ------------------------------------------------------------------------------

    def _on_invite(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        req = tx.request
        require = req.header("Require")
        if require:
            self._final(tx, 420, now, (("Unsupported", require),), why=f"Require: {require}")
            return
        kind = (req.header("Content-Type") or "application/sdp").split(";")[0].strip().lower()
        if req.body and kind != "application/sdp":
            self._final(tx, 415, now, (("Accept", "application/sdp"),),
                        why=f"body of type {kind}")
            return
        if to_tag:
            self._on_reinvite(tx, to_tag, number, now)
            return
        if tx.call_id in self.dialogs:  # same call, another branch: a merged request
            self._final(tx, 482, now, why="a call with this Call-ID is already here")
            return
        frm = req.header("From") or ""
        contact = req.all("Contact")
        try:
            if contact:
                parse_name_addr(contact[0])
        except SipError as e:
            self._final(tx, 400, now, why=str(e))
            return
        dialog = _Dialog(tx.call_id, new_tag(), parse_name_addr(frm).tag or "",
                         req.header("To") or "", frm,
                         _uri_text(contact[0] if contact else frm), req.all("Record-Route"),
                         tx.peer, number, invite=tx)
        tx.to_tag = dialog.local_tag
        self.dialogs[tx.call_id] = dialog
        self._respond(tx, 100)
        self._events.append(Invite(tx.call_id, req, tx.peer))

    def _on_reinvite(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        dialog = self._dialog_of(tx.request, to_tag)
        if dialog is None:
            self._final(tx, 481, now, why="no such call")
            return
        if number <= dialog.remote_cseq:
            self._final(tx, 500, now, (("Retry-After", "1"),), why="CSeq not above the last")
            return
        dialog.remote_cseq = number
        if dialog.state != "confirmed" or (dialog.invite is not None and not dialog.invite.final):
            self._final(tx, 491, now, why="a previous INVITE is not finished")
            return
        tx.to_tag = dialog.local_tag
        dialog.invite = tx
        self._events.append(Reinvite(tx.call_id, tx.request))

    def _on_ack(self, req: SipRequest, key: tuple[str, ...], to_tag: str, now: float) -> None:
        tx = self._server.get(key)
        if tx is not None and tx.final >= 300:  # ACK of our refusal: stop timer G
            tx.retry_at = None
            tx.forget_at = now + T4
            self._arm(tx)
            return
        dialog = self._dialog_of(req, to_tag)
        if dialog is None or not dialog.ok:
            return
        dialog.ok, dialog.ok_retry = b"", None
        self._arm(dialog)
        if dialog.state == "answered":
            dialog.state = "confirmed"
        self._events.append(Confirmed(dialog.call_id, req.body))

    def _on_cancel(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        invite = self._server.get((*tx.key[:-1], "INVITE"))
        if invite is None:
            self._final(tx, 481, now, why="no INVITE to cancel")
            return
        self._final(tx, 200, now)
        if invite.final:
            return  # answered already: the CANCEL changes nothing (RFC 3261 §9.2)
        self._final(invite, 487, now, report=False)
        dialog = self.dialogs.pop(invite.call_id, None)
        if dialog is not None:
            dialog.state = "ended"
        self._events.append(Cancelled(invite.call_id))

    def _on_bye(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        dialog = self._dialog_of(tx.request, to_tag)
        if dialog is None:
            self._final(tx, 481, now, why="no such call")
            return
        if number <= dialog.remote_cseq:
            self._final(tx, 500, now, why="CSeq not above the last")
            return
        self._final(tx, 200, now)
        if dialog.invite is not None and not dialog.invite.final:
            self._final(dialog.invite, 487, now, report=False)
        self.dialogs.pop(dialog.call_id, None)
        dialog.state = "ended"
        dialog.ok, dialog.ok_retry = b"", None
        self._arm(dialog)
        self._events.append(Ended(dialog.call_id, "bye"))

    def _on_options(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        self._final(tx, self.options_status, now,
                    (("Allow", ALLOW), ("Accept", "application/sdp")), report=False)

    def _on_info(self, tx: _ServerTx, to_tag: str, number: int, now: float) -> None:
        if self._dialog_of(tx.request, to_tag) is None:
            self._final(tx, 481, now, why="no such call")
        else:
            self._final(tx, 200, now)

    def _dialog_of(self, req: SipRequest, to_tag: str) -> _Dialog | None:
        dialog = self.dialogs.get(req.header("Call-ID") or "")
        if dialog is None or dialog.state == "ended" or to_tag != dialog.local_tag:
            return None
        try:
            from_tag = parse_name_addr(req.header("From") or "").tag or ""
        except SipError:
            return None
        return dialog if from_tag == dialog.remote_tag else None

    # -- answers -------------------------------------------------------------------------------

    def _send(self, message: SipRequest | SipResponse, peer: Peer) -> bytes:
        data = bytes(message)
        self.outbox.append((data, peer))
        return data

    def _contact(self, peer: Peer) -> str:
        host, port = self.local(peer)
        shown = f"[{host}]" if ":" in host else host
        return f"<sip:{shown}:{port}" + (";transport=tcp>" if peer[0] == "tcp" else ">")

    def _respond(self, tx: _ServerTx, status: int, headers: tuple[tuple[str, str], ...] = (),
                 body: bytes = b"", why: str = "") -> bytes:
        extra = (("Server", self.server), *headers)
        if why and status >= 300:
            extra = self._warning(why)[:1] + extra
        if tx.request.method == "INVITE" and 100 < status < 300:
            # RFC 3261 §12.1.1: a proxy that record-routed (a dispatcher) stays on the path
            extra += tuple(("Record-Route", r) for r in tx.request.all("Record-Route"))
            extra += (("Contact", self._contact(tx.peer)),)
        if body:
            extra += (("Content-Type", "application/sdp"),)
        if status > 100 and not tx.to_tag:
            tx.to_tag = new_tag()
        data = self._send(response_for(tx.request, status, to_tag=tx.to_tag or None,
                                       headers=extra, body=body, received=tx.peer[1:]),
                          tx.peer)
        tx.last = data
        return data

    def _final(self, tx: _ServerTx, status: int, now: float,
               headers: tuple[tuple[str, str], ...] = (), body: bytes = b"", why: str = "",
               report: bool = True) -> bytes:
        if tx.final:
            return tx.last
        tx.final = status
        data = self._respond(tx, status, headers, body, why)
        if report and status >= 400:
            self._events.append(Refused(tx.peer, status, why, tx.call_id))
        # timer J (non-INVITE) / H (INVITE refused) / the 2xx's retransmitted INVITEs
        tx.forget_at = now + TIMER_64
        if tx.request.method == "INVITE" and status >= 300 and tx.peer[0] == "udp":
            tx.retry_at = now + T1
        self._arm(tx)
        return data

    # -- call control (the listener's decisions) ------------------------------------------------

    def ring(self, call_id: str) -> None:
        """180 Ringing for a new call."""
        dialog = self.dialogs.get(call_id)
        if dialog is not None and dialog.invite is not None and not dialog.invite.final:
            self._respond(dialog.invite, 180)

    def answer(self, call_id: str, sdp: bytes, now: float) -> None:
        """200 OK with our SDP to the pending INVITE or re-INVITE of ``call_id``."""
        dialog = self.dialogs.get(call_id)
        if dialog is None or dialog.invite is None or dialog.invite.final:
            return
        dialog.ok = self._final(dialog.invite, 200, now, body=sdp)
        if dialog.state == "early":
            dialog.state = "answered"
        dialog.ok_give_up = now + TIMER_64
        dialog.ok_interval = T1
        dialog.ok_retry = now + T1 if dialog.peer[0] == "udp" else None
        self._arm(dialog)

    def reject(self, call_id: str, status: int, now: float, why: str = "",
               headers: tuple[tuple[str, str], ...] = ()) -> None:
        """A final refusal to the pending INVITE (new call) or re-INVITE of ``call_id``."""
        dialog = self.dialogs.get(call_id)
        if dialog is None or dialog.invite is None or dialog.invite.final:
            return
        self._final(dialog.invite, status, now, headers, why=why, report=False)
        if dialog.state == "early":
            self.dialogs.pop(call_id, None)
            dialog.state = "ended"

    def hangup(self, call_id: str, now: float) -> None:
        """End ``call_id`` from our side: BYE once answered, 480 before."""
        dialog = self.dialogs.get(call_id)
        if dialog is None:
            return
        if dialog.state == "early":
            self.reject(call_id, 480, now, "the line hung up")
            return
        self.dialogs.pop(call_id, None)
        dialog.state = "ended"
        dialog.ok, dialog.ok_retry = b"", None
        self._arm(dialog)
        dialog.local_cseq += 1
        host, port = self.local(dialog.peer)
        shown = f"[{host}]" if ":" in host else host
        via = f"SIP/2.0/{dialog.peer[0].upper()} {shown}:{port};branch={new_branch()};rport"
        headers = [("Via", via), ("Max-Forwards", "70")]
        headers += [("Route", r) for r in dialog.route]
        headers += [("From", f"{dialog.local_party};tag={dialog.local_tag}"),
                    ("To", dialog.remote_party), ("Call-ID", call_id),
                    ("CSeq", f"{dialog.local_cseq} BYE"), ("User-Agent", self.server)]
        self.request(SipRequest(tuple(headers), b"", "BYE", dialog.remote_target), dialog.peer,
                     now)

    def request(self, req: SipRequest, peer: Peer, now: float) -> tuple[str, str]:
        """Send ``req`` as a client transaction; its final answer comes as a
        :class:`Response` event with the returned key (or a made-up 408 after 64·T1)."""
        key = (parse_via(req.header("Via") or "").branch, req.method)
        udp = peer[0] == "udp"
        tx = _ClientTx(key, bytes(req), peer, now + T1 if udp else None, T1, now + TIMER_64)
        self._client[key] = tx
        self.outbox.append((tx.data, peer))
        self._arm(tx)
        return key

    def _on_response(self, response: SipResponse) -> None:
        try:
            branch = parse_via(response.header("Via") or "").branch
            _number, method = parse_cseq(response.header("CSeq") or "")
        except SipError:
            return
        tx = self._client.get((branch, method))
        if tx is None:
            return
        if response.status < 200:
            if tx.retry_at is not None:
                tx.interval = T2  # proceeding: retransmit at T2 (RFC 3261 §17.1.2.2)
            return
        tx.done = True
        del self._client[tx.key]
        self._arm(tx)
        self._events.append(Response(tx.key, response))

    # -- timers -------------------------------------------------------------------------------

    def _arm(self, owner: _Owner) -> None:
        """Keep one heap entry per owner, at its next deadline (stale entries are skipped)."""
        if isinstance(owner, _ServerTx):
            due = owner.retry_at if owner.retry_at is not None else owner.forget_at
        elif isinstance(owner, _Dialog):
            due = (min(owner.ok_retry or owner.ok_give_up, owner.ok_give_up)
                   if owner.ok else None)
        else:
            due = None if owner.done else min(owner.retry_at or owner.give_up, owner.give_up)
        if due is not None and due != owner.due:
            heapq.heappush(self._timers, (due, next(self._count), owner))
        owner.due = due

    def next_deadline(self) -> float | None:
        """When :meth:`tick` has something to do (None: nothing pending)."""
        while self._timers and self._timers[0][2].due != self._timers[0][0]:
            heapq.heappop(self._timers)  # stale
        return self._timers[0][0] if self._timers else None

    def tick(self, now: float) -> list[Event]:
        """Fire every timer due at ``now``."""
        while self._timers and self._timers[0][0] <= now:
            when, _, owner = heapq.heappop(self._timers)
            if owner.due != when:
                continue
            owner.due = None
            if isinstance(owner, _ServerTx):
                self._server_timer(owner, now)
            elif isinstance(owner, _Dialog):
                self._dialog_timer(owner, now)
            else:
                self._client_timer(owner, now)
            self._arm(owner)
        events, self._events = self._events, []
        return events

    def _server_timer(self, tx: _ServerTx, now: float) -> None:
        if tx.retry_at is not None:
            if tx.forget_at is not None and now < tx.forget_at:  # timer G
                self.outbox.append((tx.last, tx.peer))
                tx.interval = min(2 * tx.interval, T2)
                tx.retry_at = now + tx.interval
                return
            tx.retry_at = None  # timer H: no ACK came for our refusal
        if tx.forget_at is not None and now >= tx.forget_at:
            tx.forget_at = None
            if self._server.get(tx.key) is tx:
                del self._server[tx.key]

    def _dialog_timer(self, dialog: _Dialog, now: float) -> None:
        if now >= dialog.ok_give_up:  # no ACK for our 2xx: the call is dropped
            dialog.ok, dialog.ok_retry = b"", None
            if dialog.state != "ended":
                self.hangup(dialog.call_id, now)
                self._events.append(Ended(dialog.call_id, "no ACK"))
            return
        if dialog.ok_retry is not None and now >= dialog.ok_retry:
            self.outbox.append((dialog.ok, dialog.peer))
            dialog.ok_interval = min(2 * dialog.ok_interval, T2)
            dialog.ok_retry = now + dialog.ok_interval

    def _client_timer(self, tx: _ClientTx, now: float) -> None:
        if now >= tx.give_up:
            tx.done = True
            self._client.pop(tx.key, None)
            self._events.append(Response(tx.key, SipResponse((), b"", 408, "Request Timeout")))
            return
        if tx.retry_at is not None and now >= tx.retry_at:
            self.outbox.append((tx.data, tx.peer))
            tx.interval = min(2 * tx.interval, T2)
            tx.retry_at = now + tx.interval


def _uri_text(value: str) -> str:
    """The URI of a name-addr or addr-spec value, as written."""
    value = value.strip()
    lt = value.find("<")
    if lt >= 0:  # parse_name_addr checked it: only the spaces around it may be left
        return value[lt + 1 : value.find(">", lt)].strip()
    return value.split(";", 1)[0].strip()
