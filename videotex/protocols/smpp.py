"""SMPP 3.4, the ESME side of a transceiver bind, sans-IO: bytes in, events out.

Owns: framing (``command_length``), the bind state, sequence numbers, the **window** of
``submit_sm`` awaiting their response, ``enquire_link`` keep-alive, response timeouts, and
what a bad PDU from the SMSC gets back. The PDU bodies are those of the library
``aiosmpplib`` (``aiosmpplib.protocol``: pure dataclasses that encode and decode, no I/O); its
``ESME`` class (sockets, its own queue broker) is not used: our outbox is LMDB and an MO is
acknowledged only once it is durably recorded, which its fixed receive loop cannot wait for.

Usage (h11 shape): :meth:`SmppClient.start` queues the bind; feed what the socket reads to
:meth:`receive_data` and act on the events; write :meth:`data_to_send`; call :meth:`tick`
now and then (keep-alive, timeouts). ``b""`` is the end of the connection.

Invariants: at most ``window`` submits are unanswered; every request from the SMSC gets
exactly one response (``deliver_sm`` only when the caller says :meth:`respond`, since the
message must be on disk first); a PDU that cannot be parsed gets ``generic_nack`` (or a
``deliver_sm_resp`` with an error status when its header was sound) and the link stays up;
a framing error (absurd length) or a missing response breaks the link (:class:`LinkFailed`):
the caller closes and binds again, and resubmits what was in the window.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from aiosmpplib.protocol import (
    BindTransceiver,
    DeliverSm,
    EnquireLink,
    SubmitSm,
    Unbind,
)
from aiosmpplib.state import (
    OptionalParam,
    PduHeader,
    PhoneNumber,
    SmppCommand,
    SmppCommandStatus,
)

__all__ = [
    "MESSAGE_KEY_TAG",
    "MO_ID_TAG",
    "BindRefused",
    "Bound",
    "Command",
    "LinkFailed",
    "LocalProtocolError",
    "MessageIn",
    "ReceiptIn",
    "SmppClient",
    "State",
    "Status",
    "SubmitRefused",
    "Submitted",
    "Unbound",
]

#: Vendor-specific TLV (SMPP 3.4 §5.3.2: 0x1400-0x3FFF) carrying our idempotency key on
#: submit_sm: an SMSC that knows it answers a resubmission with the first message id.
MESSAGE_KEY_TAG = 0x1501
#: Vendor-specific TLV an SMSC may put on deliver_sm: its id for the MO (redeliveries keep it).
MO_ID_TAG = 0x1502
_RECEIPTED_MESSAGE_ID = 0x001E
_MESSAGE_STATE = 0x0427
#: Longest PDU accepted (a message_payload of 64 KiB and its header); longer is framing loss.
MAX_PDU = 70_000
_HEADER = struct.Struct("!IIII")


class Command(IntEnum):
    """command_id values we meet (SMPP 3.4 §5.1.2.1)."""

    GENERIC_NACK = 0x80000000  #: §4.3
    BIND_TRANSCEIVER = 0x00000009  #: §4.1.5
    BIND_TRANSCEIVER_RESP = 0x80000009  #: §4.1.6
    SUBMIT_SM = 0x00000004  #: §4.4.1
    SUBMIT_SM_RESP = 0x80000004  #: §4.4.2
    DELIVER_SM = 0x00000005  #: §4.6.1
    DELIVER_SM_RESP = 0x80000005  #: §4.6.2
    UNBIND = 0x00000006  #: §4.2.1
    UNBIND_RESP = 0x80000006  #: §4.2.2
    ENQUIRE_LINK = 0x00000015  #: §4.11.1
    ENQUIRE_LINK_RESP = 0x80000015  #: §4.11.2


class Status(IntEnum):
    """command_status values we send or act on (SMPP 3.4 §5.1.3)."""

    OK = 0x00  #: ESME_ROK
    INVALID_LENGTH = 0x02  #: ESME_RINVCMDLEN
    INVALID_COMMAND = 0x03  #: ESME_RINVCMDID
    INVALID_BIND_STATE = 0x04  #: ESME_RINVBNDSTS
    SYSTEM_ERROR = 0x08  #: ESME_RSYSERR
    QUEUE_FULL = 0x14  #: ESME_RMSGQFUL: try later
    THROTTLED = 0x58  #: ESME_RTHROTTLED: slow down, try later
    TEMPORARY_APP_ERROR = 0x64  #: ESME_RX_T_APPN: the SMSC should deliver again later
    PERMANENT_APP_ERROR = 0x65  #: ESME_RX_P_APPN: do not deliver again


#: Statuses after which the same submit may succeed later.
TRANSIENT = frozenset({Status.QUEUE_FULL, Status.THROTTLED, Status.SYSTEM_ERROR,
                       Status.TEMPORARY_APP_ERROR})


class State(Enum):
    CLOSED = "closed"
    BINDING = "binding"
    BOUND = "bound"
    UNBINDING = "unbinding"


class LocalProtocolError(RuntimeError):
    """We asked for something the protocol state does not allow (a bug of the caller)."""


# -- events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bound:
    system_id: str


@dataclass(frozen=True, slots=True)
class BindRefused:
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class MessageIn:
    """A mobile-originated message (deliver_sm, not a receipt): answer it with
    :meth:`SmppClient.respond` once it is recorded. ``part`` is (reference, total, index)
    for a part of a concatenated message."""

    seq: int
    source: str
    destination: str
    text: str
    data_coding: int
    smsc_id: str | None
    part: tuple[int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class ReceiptIn:
    """A delivery receipt (deliver_sm with esm_class 0x04): answer it with :meth:`respond`
    once it is recorded. ``state``: DELIVRD, UNDELIV, EXPIRED, REJECTD..."""

    seq: int
    message_id: str
    state: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class Submitted:
    seq: int
    key: str
    message_id: str


@dataclass(frozen=True, slots=True)
class SubmitRefused:
    """The SMSC refused a submit; ``transient``: the same submit may pass later (throttled,
    queue full): keep it and slow down."""

    seq: int
    key: str
    status: int
    transient: bool


@dataclass(frozen=True, slots=True)
class LinkFailed:
    """The link cannot go on (framing lost, no response in time, bind refused): close it.
    The keys of unanswered submits are in ``unanswered``: submit them again after the
    next bind."""

    reason: str
    unanswered: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unbound:
    """The SMSC asked to unbind (answered) or answered ours: close the connection."""

    unanswered: tuple[str, ...] = ()


Event = Bound | BindRefused | MessageIn | ReceiptIn | Submitted | SubmitRefused | LinkFailed | Unbound

_RECEIPT_FIELD = {"id", "stat", "err"}


def _receipt_fields(text: str) -> dict[str, str]:
    """The ``name:value`` fields of a receipt's text (SMPP 3.4 appendix B)."""
    out: dict[str, str] = {}
    for word in text.split():
        name, sep, value = word.partition(":")
        if sep and name.lower() in _RECEIPT_FIELD and name.lower() not in out:
            out[name.lower()] = value
    return out


class SmppClient:
    """One ESME transceiver session over one connection (make a new one per connection)."""

    def __init__(self, system_id: str, password: str, system_type: str = "", *,
                 window: int = 10, enquire_every: float = 30.0,
                 response_timeout: float = 10.0) -> None:
        if not 1 <= window <= 10_000:
            raise ValueError(f"SMPP window must be between 1 and 10000, not {window}")
        if len(system_id) > 15 or len(password) > 8 or len(system_type) > 12:
            raise ValueError("SMPP bind: system_id takes at most 15 characters, password 8, "
                             "system_type 12 (SMPP 3.4 §4.1.1)")
        self.system_id, self.password, self.system_type = system_id, password, system_type
        self.window = window
        self.enquire_every = enquire_every
        self.response_timeout = response_timeout
        self.state = State.CLOSED
        self.smsc_id = ""
        self._out = bytearray()
        self._in = bytearray()
        self._seq = 0
        #: seq -> (key, sent at) of unanswered submits; seq -> (command, sent at) of the rest.
        self.inflight: dict[int, tuple[str, float]] = {}
        self._requests: dict[int, tuple[int, float]] = {}
        self._last_heard = 0.0
        self._enquire_at = 0.0
        #: Counters for metrics and tests.
        self.malformed = 0
        self.nacks_received = 0

    # -- what the caller asks -------------------------------------------------------------

    @property
    def free(self) -> int:
        """Submits that may be sent now (0 unless bound)."""
        return self.window - len(self.inflight) if self.state is State.BOUND else 0

    def start(self, now: float) -> None:
        """The connection is up: queue the bind."""
        if self.state is not State.CLOSED:
            raise LocalProtocolError(f"SMPP start: already {self.state.value}")
        self.state = State.BINDING
        self._last_heard = now
        self._request(BindTransceiver(system_id=self.system_id, password=self.password,
                                      system_type=self.system_type), now)

    def submit(self, key: str, source: str, destination: str, message: bytes, *,
               data_coding: int, esm_class: int = 0, registered_delivery: int = 1,
               now: float) -> int:
        """Queue one submit_sm (one part: ``message`` already encoded, its UDH included
        when ``esm_class`` has 0x40) carrying ``key``; returns its sequence number."""
        if self.free <= 0:
            raise LocalProtocolError(f"SMPP submit {key}: no room ({self.state.value}, "
                                     f"{len(self.inflight)}/{self.window} unanswered)")
        sm = SubmitSm(short_message="-", source=PhoneNumber(source),
                      destination=PhoneNumber(destination), esm_class=esm_class,
                      registered_delivery=registered_delivery,
                      encoding="ucs2" if data_coding == 8 else None,
                      optional_params=[OptionalParam(MESSAGE_KEY_TAG, key)])
        if data_coding not in (0, 8):
            raise ValueError(f"SMPP submit {key}: data_coding {data_coding} not supported "
                             "(0 GSM, 8 UCS-2)")
        sm.set_encoded_message(message)
        seq = self._next_seq()
        sm.sequence_num = seq
        self._out += sm.pdu()
        self.inflight[seq] = (key, now)
        return seq

    def respond(self, seq: int, status: int = Status.OK) -> None:
        """Answer the deliver_sm ``seq`` (an MO or a receipt, once recorded)."""
        self._out += _HEADER.pack(17, Command.DELIVER_SM_RESP, status, seq) + b"\0"

    def unbind(self, now: float) -> None:
        if self.state is State.BOUND:
            self.state = State.UNBINDING
            self._request(Unbind(), now)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def tick(self, now: float) -> list[Event]:
        """Keep-alive and timeouts: an enquire_link when the link has been quiet for
        ``enquire_every`` s; :class:`LinkFailed` when a response is overdue."""
        if self.state is State.CLOSED:
            return []
        oldest = min((t for _, t in self.inflight.values()), default=now)
        oldest = min([oldest, *(t for _, t in self._requests.values())])
        if now - oldest > self.response_timeout:
            return [self._fail(f"no response from the SMSC in {self.response_timeout:g} s")]
        if (self.state is State.BOUND and now - self._last_heard >= self.enquire_every
                and now >= self._enquire_at):
            self._enquire_at = now + self.enquire_every
            self._request(EnquireLink(), now)
        return []

    # -- what the SMSC says ---------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        if not data:
            if self.state is State.CLOSED:
                return []
            return [self._fail("the SMSC closed the connection")]
        self._in += data
        events: list[Event] = []
        buf = self._in
        while len(buf) >= 16 and self.state is not State.CLOSED:
            length, command, status, seq = _HEADER.unpack_from(buf)
            if not 16 <= length <= MAX_PDU:
                events.append(self._fail(f"framing lost: a PDU of {length} bytes "
                                         f"(command 0x{command:08x})"))
                break
            if len(buf) < length:
                break
            pdu = bytes(buf[:length])
            del buf[:length]
            self._last_heard = now
            events.extend(self._pdu(pdu, command, status, seq, now))
        return events

    # -- inside ---------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = self._seq % 0x7FFFFFFF + 1
        return self._seq

    def _request(self, message: Any, now: float) -> None:
        seq = self._next_seq()
        message.sequence_num = seq
        self._out += message.pdu()
        self._requests[seq] = (int(message.smpp_command), now)

    def _fail(self, reason: str) -> LinkFailed:
        keys = tuple(k for k, _ in self.inflight.values())
        self.state = State.CLOSED
        self.inflight.clear()
        self._requests.clear()
        return LinkFailed(reason, keys)

    def _nack(self, seq: int, status: int) -> None:
        self.malformed += 1
        self._out += _HEADER.pack(16, Command.GENERIC_NACK, status, seq)

    def _pdu(self, pdu: bytes, command: int, status: int, seq: int, now: float) -> list[Event]:
        if command == Command.DELIVER_SM:
            if self.state is not State.BOUND:
                self.respond(seq, Status.INVALID_BIND_STATE)
                return []
            return self._deliver(pdu, seq)
        if command == Command.ENQUIRE_LINK:
            self._out += _HEADER.pack(16, Command.ENQUIRE_LINK_RESP, Status.OK, seq)
            return []
        if command == Command.UNBIND:
            self._out += _HEADER.pack(16, Command.UNBIND_RESP, Status.OK, seq)
            keys = tuple(k for k, _ in self.inflight.values())
            self.state = State.CLOSED
            self.inflight.clear()
            return [Unbound(keys)]
        if command == Command.SUBMIT_SM_RESP:
            return self._submit_resp(pdu, status, seq)
        if command == Command.GENERIC_NACK:
            self.nacks_received += 1
            if seq in self.inflight:  # the SMSC could not read our submit
                key, _ = self.inflight.pop(seq)
                return [SubmitRefused(seq, key, status, status in TRANSIENT)]
            self._requests.pop(seq, None)
            return []
        if command & 0x80000000:
            return self._response(pdu, command, status, seq)
        self._nack(seq, Status.INVALID_COMMAND)  # a request we do not serve
        return []

    def _response(self, pdu: bytes, command: int, status: int, seq: int) -> list[Event]:
        sent = self._requests.pop(seq, None)
        if sent is None or sent[0] | 0x80000000 != command:
            self.malformed += 1  # a response to nothing we asked: ignore it
            return []
        if command == Command.BIND_TRANSCEIVER_RESP:
            if status != Status.OK:
                name = _status_name(status)
                self.state = State.CLOSED
                return [BindRefused(status, f"the SMSC refused the bind: {name}")]
            self.state = State.BOUND
            self.smsc_id = pdu[16:].split(b"\0", 1)[0].decode("ascii", "replace")
            return [Bound(self.smsc_id)]
        if command == Command.UNBIND_RESP:
            keys = tuple(k for k, _ in self.inflight.values())
            self.state = State.CLOSED
            self.inflight.clear()
            return [Unbound(keys)]
        return []  # enquire_link_resp: the link is alive (noted in receive_data)

    def _submit_resp(self, pdu: bytes, status: int, seq: int) -> list[Event]:
        sent = self.inflight.pop(seq, None)
        if sent is None:
            self.malformed += 1
            return []
        key = sent[0]
        if status != Status.OK:
            return [SubmitRefused(seq, key, status, status in TRANSIENT)]
        message_id = pdu[16:].split(b"\0", 1)[0].decode("ascii", "replace")
        return [Submitted(seq, key, message_id)]

    def _deliver(self, pdu: bytes, seq: int) -> list[Event]:
        # an empty short_message (a receipt in TLVs only, an empty MO) is valid SMPP, but
        # the library refuses it: parse it with one placeholder octet, then drop that
        body, empty = _placeholder(pdu)
        header = PduHeader(len(body), SmppCommand.DELIVER_SM, SmppCommandStatus.ESME_ROK, seq)
        try:
            sm: Any = DeliverSm.from_pdu(body, header, "gsm0338")
        except (ValueError, LookupError, IndexError, struct.error, UnicodeError, TypeError):
            self.malformed += 1
            # the header was sound: refuse this message for good (a retry would fail alike)
            self.respond(seq, Status.PERMANENT_APP_ERROR)
            return []
        params = {p.tag: p.value for p in sm.optional_params or ()}
        text = "" if empty else sm.short_message or sm.message_payload
        if sm.esm_class & 0x3C == 0x04:  # an SMSC delivery receipt (§5.2.12)
            fields = _receipt_fields(text)
            message_id = str(params.get(_RECEIPTED_MESSAGE_ID) or fields.get("id", ""))
            state = fields.get("stat", "")
            if not state and _MESSAGE_STATE in params:
                state = _STATES.get(int(params[_MESSAGE_STATE]), "UNKNOWN")
            return [ReceiptIn(seq, message_id.rstrip("\0"), state, fields.get("err", ""))]
        part = None
        if 0x020C in params:  # sar_msg_ref_num, or the UDH the library turned into it
            part = (int(params[0x020C]), int(params.get(0x020E, 1)), int(params.get(0x020F, 1)))
        smsc_id = params.get(MO_ID_TAG)
        return [MessageIn(seq, sm.source.number, sm.destination.number, text,
                          _DATA_CODING.get(sm.encoding, 0),
                          str(smsc_id) if smsc_id else None, part)]


def _placeholder(pdu: bytes) -> tuple[bytes, bool]:
    """``pdu`` with one space in its short_message when it has none and no
    message_payload TLV (else as it is); and whether that was done."""

    def cstring(at: int) -> int:
        return pdu.index(b"\0", at) + 1

    try:
        at = cstring(16)  # service_type
        at = cstring(at + 2)  # source ton, npi, address
        at = cstring(at + 2)  # destination ton, npi, address
        at = cstring(at + 3)  # esm_class, protocol_id, priority_flag, schedule time
        at = cstring(at)  # validity period
    except ValueError:
        return pdu, False
    at += 4  # registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
    if at >= len(pdu) or pdu[at] != 0:  # sm_length
        return pdu, False
    rest = pdu[at + 1:]
    i = 0
    while i + 4 <= len(rest):
        tag, length = struct.unpack_from("!HH", rest, i)
        if tag == 0x0424:  # message_payload carries the text
            return pdu, False
        i += 4 + length
    body = pdu[:at] + b"\x01 " + rest
    return struct.pack("!I", len(body)) + body[4:], True


_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV",
           6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}
_DATA_CODING = {None: 0, "ascii": 1, "latin_1": 3, "ucs2": 8}


def _status_name(status: int) -> str:
    try:
        return f"{SmppCommandStatus(status).name} (0x{status:02x})"
    except ValueError:
        return f"status 0x{status:08x}"
