"""One caller on a MiniPavi service: the gateway side of the protocol, sans-IO.

Driven like :class:`~videotex.teletel.Session` (``start``, ``receive_data`` with ``b""`` for a
hang-up, ``tick``/``next_deadline`` on the injected clock, ``data_to_send``, ``closed``,
``close_reason``, ``hangup``) plus the I/O the runtime performs for it: :meth:`effects` drains
:class:`HttpPost` (a request to POST; ``wait`` False for FIN, whose answer is ignored) and
:class:`Bridge` (connectToWs/connectToTln); the runtime answers with :meth:`deliver`,
:meth:`bridge_data` and :meth:`bridge_ended`, relays :meth:`bridge_outgoing`, and stops a
relay when :attr:`bridging` turns false. ``pushes`` holds the PushServiceMsg messages for
other calls (the runtime takes them and calls :meth:`push` on their targets).

Behaviour, per ``shared/reference/minipavi-protocol.md``: CNX at start; a POST per validated
key with the current content, context and fctn; input typed while a POST is in flight is
kept and handled after the answer (and after any chain of direct calls); answers applied in
§3's order (next, context, echo, COMMAND, then content and the fields); at most
:data:`MAX_DIRECT` calls in a row without the caller; Connexion/Fin and ``libCnx`` post FIN
and close with ``fin`` (or, on a session started on ``default_url`` and now elsewhere, post
FIN there and CNX to the default); an HTTP failure goes back to ``default_url`` or shows
ERR #09 and closes with ``error``; 600 s without a service call closes with ``inactivity``.

Invariants: at most one waiting POST at a time (:attr:`state` is ``WAITING`` exactly then);
once closed, nothing more is posted except the FIN already queued, and late answers are
ignored.
"""

from __future__ import annotations

import codecs
import enum
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from videotex.codec import FunctionKey
from videotex.protocols.minipavi import (
    CONTENT_TYPE,
    USER_AGENT,
    Command,
    DirectCall,
    ErrorCode,
    Fctn,
    GatewayError,
    PaviRequest,
    Reply,
    error_screen,
    parse_reply,
    request_json,
    split_url,
    text_to_ss2,
    unknown_command,
    valid_url,
)
from videotex.protocols.minipavi_input import (
    FCTN,
    Editor,
    KeyDecoder,
    Token,
    handle_read,
    make_editor,
    token_bytes,
)
from videotex.teletel.clock import Clock

__all__ = [
    "MAX_DIRECT",
    "Bridge",
    "CallState",
    "Effect",
    "GatewayFacts",
    "HttpPost",
    "HttpResult",
    "MiniPaviCall",
]

#: §3 calls made in a row without the caller (directcall, then DATAS and DIRECTCALLFAILED
#: answers, which the PHP gateway does not bound), before waiting for a key.
MAX_DIRECT = 5
#: §2 seconds without a service call before FIN.
INACTIVITY = 600.0
#: §5 a bridge ends after this long without a byte from the caller, or this long in all, or
#: when the remote sent fewer than ``BRIDGE_MIN_BYTES`` in its first ``BRIDGE_PROBE`` s.
BRIDGE_IDLE = 180.0
BRIDGE_MAX = 3600.0
BRIDGE_PROBE = 30.0
BRIDGE_MIN_BYTES = 200
#: Tokens kept while a POST is in flight; more is dropped (a flood, not a caller).
MAX_QUEUED = 4096

_ENQROM = b"\x1b\x39\x7b"  # §2 identification request
_ROW0 = b"\x1f\x40\x41"
_LOWER_ON = b"\x1b\x3a\x69\x45"  # PRO2 start lowercase (bridge ``case: lower``)
_LOWER_OFF = b"\x1b\x3a\x6a\x45"
_END_OF_RELAY = (b"***\x13\x46", b"\x13\x49")  # *** Sommaire, Connexion/Fin


@dataclass(frozen=True, slots=True)
class HttpPost:
    """POST ``body`` to ``url`` (headers :attr:`headers`); deliver the result to ``id``
    unless ``wait`` is false (FIN: fire and forget)."""

    id: int
    url: str
    body: bytes
    fctn: str
    wait: bool = True

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (("User-Agent", USER_AGENT), ("Content-Type", CONTENT_TYPE))


@dataclass(frozen=True, slots=True)
class Bridge:
    """Relay the caller to another Minitel server: ``kind`` ``ws`` or ``tln``; ``params``
    is the command's (``host``, ``path``, ``proto``, ``echo``, ``case``, ``key``), with a
    telnet ``startseq`` already unescaped to bytes (sent to the server first)."""

    id: int
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)


Effect = HttpPost | Bridge


@dataclass(frozen=True, slots=True)
class HttpResult:
    """What the runtime got for an :class:`HttpPost`: the body (any status), or ``None``
    with an error (``timeout`` after its three tries)."""

    body: bytes | None
    error: str = ""
    timeout: bool = False


@dataclass(slots=True)
class GatewayFacts:
    """What happened on the service side of one call (billing, metrics)."""

    posts: int = 0  #: requests made, FIN included
    errors: int = 0  #: error screens shown
    failures: int = 0  #: requests that failed (timeout, transport error, too large)
    bridges: int = 0  #: connectToWs/connectToTln relays started
    dropped_input: int = 0  #: input tokens dropped while a POST was in flight (flood)
    services: list[str] = field(default_factory=list)  #: the POST URLs, in order, no repeats


class CallState(enum.Enum):
    """Where the call is."""

    NEW = "new"  #: before :meth:`MiniPaviCall.start`
    WAITING = "waiting"  #: §1 a POST is in flight: input waits
    IDLE = "idle"  #: §4 the page is up; keys are edited locally or sent
    BRIDGE = "bridge"  #: §5 relaying to another server
    CLOSED = "closed"


@dataclass(slots=True)
class _Relay:
    id: int
    echo: bool
    started: float
    last_rx: float
    held: bytes  # the answer's content, shown after the relay
    received: int = 0
    tail: bytes = b""
    sep: bool = False


class MiniPaviCall:
    """One caller on a MiniPavi service (see the module docstring)."""

    def __init__(self, url: str | None, *, unique_id: str, remote_addr: str = "",
                 typesocket: str = "", clock: Clock, default_url: str | None = None,
                 bridge_keys: Collection[str] | None = None) -> None:
        """``default_url``: the session is "from default" (failures and Connexion/Fin
        elsewhere come back to it). ``bridge_keys``: when given, a bridge is allowed only to
        the host of the service that asks, or with one of these ``key``s (§5); ``None``
        leaves the decision to the runtime."""
        self.clock = clock
        self.bridge_keys = None if bridge_keys is None else frozenset(bridge_keys)
        self.unique_id = unique_id
        self.remote_addr = remote_addr
        self.typesocket = typesocket
        self.default_url = default_url or None
        self._url = url or default_url or ""
        self.versionminitel = "???"
        self.context = ""
        self.datas: dict[str, Any] | None = None
        self.echo = True
        self.facts = GatewayFacts()
        #: Whatever the owner of the call attaches (a teletel ``Context`` for billing).
        self.ctx: Any = None
        #: PushServiceMsg messages for other calls: (uniqueId, bytes); the runtime takes them.
        self.pushes: list[tuple[str, bytes]] = []
        self.closed = False
        self.close_reason = ""
        self.state = CallState.NEW
        self._decoder = KeyDecoder()
        self._queue: deque[tuple[Token, ...]] = deque()
        self._queued = 0
        self._editor: Editor | None = None  # active
        self._fields: Editor | None = None  # the last one: its content is sent (stale)
        self._direct = 0
        self._next_id = 0
        self._waiting: int | None = None
        self._relay: _Relay | None = None
        self._last_call = clock.monotonic()
        self._out = bytearray()
        self._bridge_out = bytearray()
        self._effects: list[Effect] = []

    # -- what the runtime reads ---------------------------------------------------------

    @property
    def url(self) -> str:
        """The current service URL (the next request goes there)."""
        return self._url

    @property
    def bridging(self) -> bool:
        """A relay is on; false again when it ended (the runtime then stops it)."""
        return self._relay is not None

    def content(self) -> tuple[str, ...]:
        """``PAVI.content`` of the next request (the last fields, stale once sent)."""
        return tuple(self._fields.content()) if self._fields is not None else ()

    def effects(self) -> list[Effect]:
        out, self._effects = self._effects, []
        return out

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def bridge_outgoing(self) -> bytes:
        """The caller's bytes for the remote server, drained."""
        out = bytes(self._bridge_out)
        self._bridge_out.clear()
        return out

    # -- driving ------------------------------------------------------------------------

    def start(self) -> None:
        """Ask the terminal who it is, then call the service with CNX (or show ERR #02)."""
        if self.state is not CallState.NEW or self.closed:
            return
        self._out += _ENQROM
        if not valid_url(self._url):
            self._error(GatewayError(ErrorCode.BAD_START_URL, detail=f"url:{self._url}"))
            self._close("error")
            return
        self._post(Fctn.CNX)

    def receive_data(self, data: bytes) -> None:
        """Bytes typed by the caller (any split); ``b""``: the caller hung up."""
        if self.closed:
            return
        if not data:
            self.hangup("hangup")
            return
        if self.state is CallState.BRIDGE:
            self._relay_in(data)
            return
        tokens = self._decoder.feed(data)
        if self._decoder.identification is not None:
            self.versionminitel = self._decoder.identification
        if not tokens:
            return
        if self.state is CallState.IDLE:
            self._read(tuple(tokens))
        elif self._queued + len(tokens) <= MAX_QUEUED:
            self._queue.append(tuple(tokens))
            self._queued += len(tokens)
        else:
            self.facts.dropped_input += len(tokens)

    def deliver(self, post_id: int, result: HttpResult) -> None:
        """The outcome of the :class:`HttpPost` ``post_id``."""
        if self.closed or post_id != self._waiting:
            return  # a FIN's, or one the call no longer waits for
        self._waiting = None
        self._last_call = self.clock.monotonic()
        if result.body is None or result.error or result.timeout:
            self.facts.failures += 1
            self._failed()
            return
        try:
            reply = parse_reply(result.body)
        except GatewayError as exc:
            self._error(exc)
            self._idle()
            return
        if reply is None:  # empty body: nothing happens
            self._idle()
            return
        self._apply(reply)

    def tick(self) -> None:
        """Time passed: inactivity, the limits of a relay."""
        if self.closed:
            return
        now = self.clock.monotonic()
        relay = self._relay
        if relay is not None:
            if (now >= relay.last_rx + BRIDGE_IDLE or now >= relay.started + BRIDGE_MAX
                    or (relay.received < BRIDGE_MIN_BYTES and now >= relay.started + BRIDGE_PROBE)):
                self._end_relay(failed=False)
        elif self.state is CallState.IDLE and now >= self._last_call + INACTIVITY:
            self._out += _ROW0 + text_to_ss2("Deconnexion pour inactivité...") + b"\x18"
            self._finish("inactivity")

    def next_deadline(self) -> float | None:
        """Monotonic time at which :meth:`tick` has something to do."""
        if self.closed:
            return None
        relay = self._relay
        if relay is not None:
            times = [relay.last_rx + BRIDGE_IDLE, relay.started + BRIDGE_MAX]
            if relay.received < BRIDGE_MIN_BYTES:
                times.append(relay.started + BRIDGE_PROBE)
            return min(times)
        if self.state is CallState.IDLE:
            return self._last_call + INACTIVITY
        return None  # waiting: the runtime's timeouts bound the request

    def hangup(self, reason: str) -> None:
        """End the call from here (caller gone, shutdown): FIN to the service, close."""
        if self.closed:
            return
        self._relay = None
        self._finish(reason)

    def push(self, message: bytes) -> None:
        """A PushServiceMsg for this caller: on row 0, then the cursor goes back (§5)."""
        if not self.closed:
            self._out += _ROW0 + message + b"\x18\x0a"

    # -- bridges ------------------------------------------------------------------------

    def bridge_data(self, data: bytes) -> None:
        """Bytes from the remote server, for the caller."""
        relay = self._relay
        if relay is None or self.closed:
            return
        relay.received += len(data)
        self._out += data

    def bridge_ended(self, failed: bool) -> None:
        """The runtime's relay is over: the server closed (``failed`` false) or could not be
        reached or refused the bridge (``failed`` true)."""
        if self._relay is not None and not self.closed:
            self._end_relay(failed=failed)

    def _relay_in(self, data: bytes) -> None:
        relay = self._relay
        assert relay is not None
        relay.last_rx = self.clock.monotonic()
        seen = relay.tail + data
        relay.tail = seen[-5:]
        if data == b"\x13":
            relay.sep = True  # some servers refuse a key split over two frames
        else:
            if relay.sep:
                data, relay.sep = b"\x13" + data, False
            data = data.replace(b"\r", b"")
            self._bridge_out += data
            if relay.echo:
                self._out += data
        if any(end in seen for end in _END_OF_RELAY):
            self._end_relay(failed=False)

    def _start_relay(self, kind: str, param: Mapping[str, Any], held: bytes) -> None:
        self._next_id += 1
        now = self.clock.monotonic()
        self._relay = _Relay(self._next_id, param.get("echo") == "on", now, now, held)
        params = dict(param)
        if kind == "tln":
            start = params.get("startseq")
            params["startseq"] = _unescape(start.strip()) if isinstance(start, str) else b""
        self._effects.append(Bridge(self._next_id, kind, params))
        self.facts.bridges += 1
        self.state = CallState.BRIDGE
        self._out += _LOWER_ON if param.get("case") == "lower" else _LOWER_OFF
        while self._queue:  # typed while the service answered: it goes to the server
            rest = self._queue.popleft()
            self._queued -= len(rest)
            self._relay_in(b"".join(token_bytes(t) for t in rest))
            if self._relay is None:
                break

    def _end_relay(self, *, failed: bool) -> None:
        relay, self._relay = self._relay, None
        assert relay is not None
        self._out += relay.held
        self._direct = 0
        self._post(Fctn.DIRECTCALLFAILED if failed else Fctn.DIRECTCALLENDED)

    # -- requests and answers -----------------------------------------------------------

    def _post(self, fctn: Fctn, *, wait: bool = True) -> None:
        post_url, params = split_url(self._url)
        request = PaviRequest(unique_id=self.unique_id, remote_addr=self.remote_addr,
                              typesocket=self.typesocket, versionminitel=self.versionminitel,
                              content=self.content(), datas=self.datas, context=self.context,
                              fctn=fctn)
        self._next_id += 1
        self._effects.append(HttpPost(self._next_id, post_url, request_json(request, params),
                                      str(fctn), wait))
        self.facts.posts += 1
        if not self.facts.services or self.facts.services[-1] != post_url:
            self.facts.services.append(post_url)
        self._last_call = self.clock.monotonic()
        if wait:
            self._waiting = self._next_id
            self.state = CallState.WAITING

    def _failed(self) -> None:
        default = self.default_url
        if default is not None and default not in self._url:
            self._url = default
            self._editor = None
            self._post(Fctn.CNX)
            return
        self._error(GatewayError(ErrorCode.UNAVAILABLE, detail=f"url:{self._url}"))
        self._close("error")

    def _apply(self, reply: Reply) -> None:
        """§3: next, context, echo, COMMAND, then content and the fields' drawing."""
        requested = self._url
        if reply.next:
            self._url = reply.next
        if reply.context:
            self.context = reply.context
        self.echo = reply.echo
        self._editor = None
        then: Fctn | None = None
        drawing = b""
        command = reply.command
        if command is not None:
            try:
                outcome = self._command(command, reply, requested)
            except GatewayError as exc:
                self._error(exc)
                self._idle()
                return
            if outcome == "relay":
                return
            if outcome == "fin":
                self._out += reply.content
                self._fin()
                return
            if isinstance(outcome, Fctn):
                then = outcome
            elif isinstance(outcome, bytes):
                drawing = outcome
        self._out += reply.content + drawing
        if then is None and reply.directcall is DirectCall.YES:
            then = Fctn.DIRECT
        elif then is None and reply.directcall is DirectCall.YES_CNX:
            then = Fctn.DIRECTCNX
        if then is not None and self._direct < MAX_DIRECT:
            self._direct += 1
            self._editor = None  # a command drawn with a direct call is not active
            self._post(then)
            return
        self._idle()

    def _command(self, command: Command, reply: Reply,
                 requested: str) -> bytes | Fctn | str | None:
        """Carry out a COMMAND: the fields' bytes, the fctn of a call to make at once,
        ``"relay"`` (a bridge started), ``"fin"`` (libCnx) or ``None``."""
        name, param = command.name, command.param
        editor = make_editor(command)
        if editor is not None:
            self._editor = self._fields = editor
            return editor.draw()
        if name == "libCnx":
            return "fin"
        if name == "PushServiceMsg":
            self._pushes(param)
        elif name in ("connectToWs", "connectToTln"):
            if not self._bridge_allowed(param, requested):
                return Fctn.DIRECTCALLENDED  # refused (PHP's false == 0)
            self._start_relay("ws" if name == "connectToWs" else "tln", param, reply.content)
            return "relay"
        elif name in ("connectToExt", "duplicateStream"):
            return Fctn.DIRECTCALLFAILED  # not offered by this gateway
        elif name in ("getScreen", "getScreenList"):
            self.datas = {"item": param.get("item"), "result": False}
            return Fctn.DATAS
        elif not command.known:
            raise unknown_command(command)
        return None  # BackgroundCall, setParam: accepted, ignored

    def _bridge_allowed(self, param: Mapping[str, Any], requested: str) -> bool:
        host = param.get("host")
        if not isinstance(host, str) or not host.strip():
            return False
        if self.bridge_keys is None:
            return True
        if _host_of(host.strip()) == _host_of(requested):
            return True  # the service bridges to its own host: no key needed
        key = param.get("key")
        return isinstance(key, str) and key in self.bridge_keys

    def _pushes(self, param: Mapping[str, Any]) -> None:
        ids, messages = param.get("uniqueids"), param.get("message")
        if isinstance(ids, str):
            ids = [ids]
        if isinstance(messages, str):
            messages = [messages]
        if not isinstance(ids, list) or not isinstance(messages, list):
            return  # malformed: ignored silently, as §5 allows
        for target, text in zip(ids, messages, strict=False):
            if isinstance(target, str | int) and isinstance(text, str):
                self.pushes.append((str(target), text_to_ss2(text)))

    # -- input ----------------------------------------------------------------------------

    def _idle(self) -> None:
        """The page is up: handle what was typed meanwhile, read by read."""
        self.state = CallState.IDLE
        while self._queue and self.state is CallState.IDLE and not self.closed:
            tokens = self._queue.popleft()
            self._queued -= len(tokens)
            self._read(tokens)

    def _read(self, tokens: tuple[Token, ...]) -> None:
        result = handle_read(self._editor, tokens, self.echo)
        self._out += result.output
        key = result.sent
        if key is None:
            return
        self._editor = None
        if result.rest:
            self._queue.appendleft(result.rest)
            self._queued += len(result.rest)
        if key is FunctionKey.CONNEXION_FIN:
            self._fin()
            return
        self._direct = 0
        self._post(FCTN[key])

    def _fin(self) -> None:
        """Connexion/Fin or libCnx: FIN, then back to the default service or close."""
        default = self.default_url
        if default is not None and default not in self._url:
            self._post(Fctn.FIN, wait=False)
            self._url = default
            self._direct = 0
            self._post(Fctn.CNX)
            return
        self._finish("fin")

    def _finish(self, reason: str) -> None:
        if self.state is not CallState.NEW and valid_url(self._url):
            self._post(Fctn.FIN, wait=False)
        self._close(reason)

    def _error(self, error: GatewayError) -> None:
        self.facts.errors += 1
        self._editor = None
        self._out += error_screen(error, self.unique_id)

    def _close(self, reason: str) -> None:
        self.closed = True
        self.close_reason = reason
        self.state = CallState.CLOSED
        self._waiting = None
        self._relay = None
        self._queue.clear()
        self._queued = 0


def _host_of(url: str) -> str:
    """The host as PHP's ``parse_url`` finds it (``ssl://h:1``, ``h:1`` and URLs alike)."""
    rest = url.split("://", 1)[1] if "://" in url else url
    hostport = rest.split("/", 1)[0].rpartition("@")[2]
    if hostport.startswith("["):
        return hostport.split("]", 1)[0] + "]"
    return hostport.split(":", 1)[0].lower()


def _unescape(text: str) -> bytes:
    """PHP's ``stripcslashes``: C escapes (``\\r``, ``\\x1b``, octal) to bytes."""
    try:
        return codecs.escape_decode(text.encode("latin-1", "replace"))[0]
    except ValueError:
        return text.encode("latin-1", "replace")
