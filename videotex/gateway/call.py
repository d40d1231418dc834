"""One caller at a Teletel gateway: the kiosk, then the services they visit.

A :class:`GatewayCall` looks to the switchboard, :func:`~videotex.runtime.interact.interact`
and the billing hooks like a :class:`~videotex.teletel.Session` (bytes and time in, bytes
out), and runs one *part* at a time: the kiosk (a session of
:class:`pages.kiosk.KioskService`), a page service (the exam results, a page tree: a
session of that service) or a MiniPavi service (a
:class:`~videotex.gateway.minipavi_call.MiniPaviCall`, whose HTTP requests and bridges
the runtime performs: :meth:`effects`). Sans-IO like the parts it runs.

Invariants:

- one part is current; when it closes, its last bytes are kept, then either the caller
  goes on (the kiosk chose a service: reason ``enter:CODE``; Connexion/Fin inside a
  service reached from the kiosk: reason ``fin``, back to the kiosk) or the call ends
  with the part's reason;
- every change of part tells :attr:`part_listeners` (billing closes the part's record
  and opens the next one at the new service's tariff), after the new part is current;
- the longest call (``Limits.max_session``) counts from the call's start across parts;
- a service that fails (reason ``error``: a MiniPavi service down or answering nonsense)
  leaves its error screen up until the caller presses a key or ``ERROR_PAUSE`` seconds
  pass, then the kiosk comes back; without a kiosk the call ends.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

from videotex.teletel import Clock, Context, Session, SessionConfig

from .directory import Directory, ServiceEntry

__all__ = ["GatewayCall", "typesocket_of"]

#: MiniPavi's ``typesocket`` by our channel (§2 of the protocol reference): a caller on a
#: phone line or a modem is ``AST`` (its caller number as remote address), WebSocket is
#: ``WS``, every TCP byte stream ``TELN``.
_TYPESOCKET = {"ws": "WS", "phone": "AST", "audiosocket": "AST", "serial": "AST",
               "modem": "AST"}

#: Seconds a service's error screen stays before the kiosk comes back (or any key).
ERROR_PAUSE = 10.0

#: PINs of the live MiniPavi parts of this process (unique among live sessions, §2).
_PINS: set[int] = set()


def _is_key(data: bytes) -> bool:
    """``data`` holds a key the caller pressed: a character or a function key (SEP), not
    only a terminal's protocol reply (SOH ... EOT identification, ESC sequences)."""
    plain = bytearray()
    skip_to_eot = False
    i = 0
    while i < len(data):
        b = data[i]
        if skip_to_eot:
            skip_to_eot = b != 0x04
        elif b == 0x01:
            skip_to_eot = True
        elif b == 0x1B:
            i += 2  # an ESC and its next bytes: a protocol reply, not a key
        else:
            plain.append(b)
        i += 1
    return any(b >= 0x20 or b == 0x13 for b in plain)


def typesocket_of(channel: str) -> str:
    return _TYPESOCKET.get(channel, "TELN")


def _new_pin() -> int:
    for _ in range(100):
        pin = 2000 + secrets.randbelow(8000)
        if pin not in _PINS:
            _PINS.add(pin)
            return pin
    raise RuntimeError("no free MiniPavi PIN: 8,000 MiniPavi sessions live in this process")


class GatewayCall:
    """See the module docstring. ``start``: the code of the service to go straight to
    (a listener's ``service``, ``serve --minipavi``); ``kiosk``: whether Connexion/Fin in a
    service returns to the kiosk (else it ends the call)."""

    def __init__(self, directory: Directory, clock: Clock, *, caller: str = "",
                 channel: str = "", identity: str = "", config: SessionConfig | None = None,
                 start: str | None = None, kiosk: bool = True) -> None:
        self.directory = directory
        self.clock = clock
        self.caller = caller
        self.channel = channel
        self.identity = identity or caller
        self.config = config or SessionConfig()
        self.kiosk = kiosk
        self.started = clock.monotonic()
        self.closed = False
        self.close_reason = ""
        #: The service of the current part (None: the kiosk).
        self.entry: ServiceEntry | None = None
        #: Parts so far (1 for the first); billing names records after it.
        self.part = 0
        self.part_listeners: list[Callable[[GatewayCall], None]] = []
        self._out = bytearray()
        #: Effects of parts already over (a FIN posted as the caller left a service).
        self._effects: list[tuple[Any, Any]] = []
        self._pin: int | None = None
        #: MiniPavi's ``uniqueId`` of this call once it has visited a MiniPavi service
        #: (PushServiceMsg finds the call by it).
        self.unique_id: str | None = None
        #: After a service's error, the kiosk comes back at this time or at a key.
        self._paused_until: float | None = None
        first = directory.lookup(start) if start else None
        if start and first is None:
            raise ValueError(f"no service {start!r} in the directory "
                             f"(known: {', '.join(directory.entries) or 'none'})")
        self.engine: Any = self._open(first)

    # -- the parts ---------------------------------------------------------------------

    @property
    def ctx(self) -> Context:
        """The current part's context (its facts, its meter)."""
        ctx: Context = self.engine.ctx
        return ctx

    @property
    def access_code(self) -> str:
        """What billing records the current part as (``3615 EXAMENS``; ``3615``: kiosk)."""
        return self.directory.access_code(self.entry)

    @property
    def plan_name(self) -> str | None:
        """The tariff plan of the current part (None: billing's routes decide)."""
        return self.directory.plan if self.entry is None else self.entry.plan

    def _limits_left(self) -> SessionConfig:
        limits = self.config.limits
        if limits.max_session is not None:
            used = self.clock.monotonic() - self.started
            limits = dataclasses.replace(limits, max_session=max(1.0, limits.max_session - used))
        return dataclasses.replace(self.config, limits=limits,
                                   fin_leaves=self.kiosk or self.config.fin_leaves)

    def _open(self, entry: ServiceEntry | None) -> Any:
        self.entry = entry
        self.part += 1
        if entry is None:
            from pages.kiosk import KioskService

            return Session(KioskService(self.directory), self.clock, caller=self.caller,
                           channel=self.channel, identity=self.identity,
                           config=dataclasses.replace(self._limits_left(), fin_leaves=False))
        if entry.kind in ("results", "pages"):
            return Session(entry.target, self.clock, caller=self.caller, channel=self.channel,
                           identity=self.identity, config=self._limits_left())
        return self._minipavi(entry)

    def _minipavi(self, entry: ServiceEntry) -> Any:
        from .minipavi_call import MiniPaviCall

        if self._pin is None:
            self._pin = _new_pin()
        unique_id = f"{int(self.clock.wall().timestamp()):010d}{self._pin:04d}"
        self.unique_id = unique_id
        remote = self.identity
        engine = MiniPaviCall(str(entry.target), unique_id=unique_id, remote_addr=remote,
                              typesocket=typesocket_of(self.channel), clock=self.clock)
        engine.ctx = Context(service=entry, clock=self.clock, caller=self.caller,
                             channel=self.channel, connected_at=self.clock.monotonic(),
                             identity=self.identity)
        return engine

    def _switch(self, entry: ServiceEntry | None) -> None:
        """The current part is over; the caller goes on to ``entry`` (None: the kiosk)."""
        self._out += self.engine.data_to_send()
        self._keep_effects()
        self.engine = self._open(entry)
        for listener in self.part_listeners:
            listener(self)
        self.engine.start()

    def _settle(self) -> None:
        """After any input to the current part: go on to the next part, or end."""
        while not self.closed and self.engine.closed:
            reason = self.engine.close_reason or "hangup"
            if reason.startswith("enter:"):
                self._switch(self.directory.lookup(reason[6:]))
            elif reason == "fin" and self.kiosk and self.entry is not None:
                self._switch(None)
            elif reason == "error" and self.kiosk and self.entry is not None:
                # the service failed (its error screen is drawn): the caller reads it,
                # then any key, or ERROR_PAUSE seconds, brings the kiosk back
                if self._paused_until is None:
                    self._paused_until = self.clock.monotonic() + ERROR_PAUSE
                return
            else:
                self._out += self.engine.data_to_send()
                self._keep_effects()
                self.closed = True
                self.close_reason = "caller" if reason == "fin" else reason
                if self._pin is not None:
                    _PINS.discard(self._pin)
                    self._pin = None

    # -- the session interface -----------------------------------------------------------

    def _resume(self) -> None:
        """The end of the pause after a service's error: back to the kiosk."""
        self._paused_until = None
        self._switch(None)
        self._settle()

    def start(self) -> None:
        self.engine.start()
        self._settle()

    def receive_data(self, data: bytes) -> None:
        if self.closed:
            return
        if self._paused_until is not None:
            if not data:  # hung up while reading the error
                self._out += self.engine.data_to_send()
                self._keep_effects()
                self.closed, self.close_reason = True, "hangup"
                return
            if _is_key(data):  # not a terminal's reply (its identification, asked at start)
                self._resume()
            return
        self.engine.receive_data(data)
        self._settle()

    @property
    def input_pending(self) -> bool:
        return bool(getattr(self.engine, "input_pending", False))

    def flush_input(self) -> None:
        flush = getattr(self.engine, "flush_input", None)
        if flush is not None and not self.closed:
            flush()
            self._settle()

    def tick(self) -> None:
        if self.closed:
            return
        if self._paused_until is not None:
            if self.clock.monotonic() >= self._paused_until:
                self._resume()
            return
        self.engine.tick()
        self._settle()

    def next_deadline(self) -> float | None:
        if self.closed:
            return None
        if self._paused_until is not None:
            return self._paused_until
        deadline: float | None = self.engine.next_deadline()
        return deadline

    def data_to_send(self) -> bytes:
        if self._out:
            out = bytes(self._out) + self.engine.data_to_send()
            self._out.clear()
            return out
        data: bytes = self.engine.data_to_send()
        return data

    def hangup(self, reason: str) -> None:
        if self.closed:
            return
        if self._paused_until is not None:
            self._paused_until = None
            self._switch(None)  # the kiosk says goodbye
        self.engine.hangup(reason)
        self._settle()
        if not self.closed:  # a part that cannot end at once (never: parts close on hangup)
            self.closed, self.close_reason = True, reason

    def push(self, message: bytes) -> bool:
        """A PushServiceMsg for this call (from another call's service): shown on row 0
        when the caller is in a MiniPavi service, else dropped (False)."""
        push = getattr(self.engine, "push", None)
        if push is None or self.closed:
            return False
        push(message)
        return True

    def pushes(self) -> list[tuple[str, bytes]]:
        """PushServiceMsg messages the current part's service sent to other calls."""
        pending = getattr(self.engine, "pushes", None)
        if not pending:
            return []
        out = list(pending)
        pending.clear()
        return out

    def _keep_effects(self) -> None:
        effects = getattr(self.engine, "effects", None)
        if effects is not None:
            self._effects += [(self.engine, e) for e in effects()]

    def effects(self) -> list[tuple[Any, Any]]:
        """What the runtime is to do (MiniPavi's HTTP requests and bridges), drained: pairs
        of (the part that asked, the effect); results go back to that part, even when the
        caller has left it (the FIN of a service the caller left)."""
        self._keep_effects()
        out, self._effects = self._effects, []
        return out

    @property
    def shown(self) -> Any:
        return getattr(self.engine, "shown", None)
