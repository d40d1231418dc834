"""The per-caller session: a sans-IO state machine.

Bytes from the caller go in with :meth:`Session.receive_data`; time passes with
:meth:`Session.tick`; bytes for the caller come out of :meth:`Session.data_to_send`.
The session never reads a clock on its own initiative other than the injected one, never
sleeps and never does I/O.

Invariants:

- ``self._encoder`` knows exactly what the terminal shows once everything returned by
  ``data_to_send`` has been written; every screen change is sent as
  ``encoder.update(wanted)`` (the frame diff), except Répétition and the first page,
  which are drawn whole.
- A page that gives its own videotex (:meth:`Page.wire`) is sent as those bytes,
  verbatim, whenever it is shown whole (first page, Goto, Répétition, a goodbye page);
  the encoder is then told the screen shows the page's drawing
  (:meth:`Encoder.assume`) and the fields and status row follow as a diff.
- Once :attr:`closed` is set, no more input is processed and ``data_to_send`` only
  drains what was queued (the goodbye page).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol

from videotex.codec import (
    CharEvent,
    Encoder,
    Frame,
    FunctionKey,
    FunctionKeyEvent,
    KeyboardDecoder,
    ProtocolReplyEvent,
)

from .clock import Clock
from .facts import CallFacts
from .page import Action, Beep, Context, Goto, Hangup, Later, Page, Redraw, Stay
from .timers import Limits, Watch

__all__ = ["Service", "Session", "SessionConfig", "TerminalLink"]

_BEL = b"\x07"
#: §9 ENQROM: ask the terminal for its identification (maker, model, version).
_ENQROM = b"\x1b\x39\x7b"
#: ESC then PRO1, PRO2 or PRO3 (§9): a page's own bytes that hold one may have reset the
#: terminal or changed its routing, so the echo command is sent again after them.
_PROTOCOL = (b"\x1b\x39", b"\x1b\x3a", b"\x1b\x3b")


class TerminalLink(enum.Enum):
    """How the Minitel reaches us, which decides the echo command (§9 local echo)."""

    #: Through a modem or a network bridge: the Minitel is in the connected state and its
    #: screen ← keyboard link is the local echo.
    CONNECTED = "connected"
    #: On the DIN socket, local state: echo is the keyboard → modem loop-back.
    LOCAL = "local"

    @property
    def echo_off(self) -> bytes:
        if self is TerminalLink.CONNECTED:
            return b"\x1b\x3b\x60\x58\x51"  # PRO3 route off: screen <- keyboard
        return b"\x1b\x3b\x60\x5a\x51"  # PRO3 route off: modem <- keyboard


class Service(Protocol):
    """What a Teletel service gives the session engine."""

    def home(self, ctx: Context) -> Page: ...
    def summary(self, ctx: Context) -> Page: ...
    def help_page(self, page: Page, ctx: Context) -> Page: ...
    def goodbye(self, ctx: Context, reason: str) -> Page: ...
    def status_line(self, ctx: Context) -> str: ...
    def status_interval(self, ctx: Context) -> float: ...


#: Pages drawn once for every caller, by (page class, Page.draw_key): a home page is
#: drawn once, not at each of thousands of connections and keystrokes.
_DRAWN: dict[tuple[type, object], Frame] = {}
_DRAWN_MAX = 512

#: Status rows by their text: the same few texts (time connected, cost) come back in
#: thousands of calls.
_STATUS_ROWS: dict[str, tuple[Any, ...]] = {}
_STATUS_ROWS_MAX = 20_000
_SCRATCH = Frame()


def _status_row(text: str) -> tuple[Any, ...]:
    """Row 0 of a frame showing ``text`` as the status line (as :meth:`Session.compose`
    writes it), as the encoder's row tuple."""
    row = _STATUS_ROWS.get(text)
    if row is None:
        _SCRATCH.clear_row(0)
        _SCRATCH.text(0, 1, text)
        row = _SCRATCH.row(0)
        if len(_STATUS_ROWS) >= _STATUS_ROWS_MAX:
            _STATUS_ROWS.clear()
        _STATUS_ROWS[text] = row
    return row


@dataclass(frozen=True, slots=True)
class SessionConfig:
    link: TerminalLink = TerminalLink.CONNECTED
    #: Ask the terminal to identify itself at connection (harmless for non-Minitels).
    identify: bool = True
    #: Largest input kept from one read; the rest is dropped (oversized input).
    max_input: int = 4096
    #: Idle timeout, maximum call length and their warnings.
    limits: Limits = field(default_factory=Limits)
    #: Connexion/Fin leaves the service without a goodbye page, the session closing with
    #: reason ``"fin"``: a service reached from a kiosk returns the caller there.
    fin_leaves: bool = False


class Session:
    """One caller, from connection to goodbye."""

    def __init__(
        self,
        service: Service,
        clock: Clock,
        *,
        caller: str = "",
        channel: str = "",
        identity: str = "",
        config: SessionConfig | None = None,
        facts: CallFacts | None = None,
    ) -> None:
        self.config = config or SessionConfig()
        self.service = service
        self.clock = clock
        self.ctx = Context(
            service=service,
            clock=clock,
            caller=caller,
            channel=channel,
            connected_at=clock.monotonic(),
            facts=facts if facts is not None else CallFacts(),
            identity=identity or caller,
        )
        self._watch = Watch(self.config.limits, self.ctx.connected_at)
        self._later: tuple[float, Action] | None = None
        self._decoder = KeyboardDecoder()
        self._out = bytearray()
        self._encoder = Encoder()
        self._drawn = False
        self._next_status = 0.0
        self._meter_next = 0.0
        self.page: Page = service.home(self.ctx)
        self.closed = False
        self.close_reason = ""
        self.dropped_input = 0
        self._batching = False
        self._pending_show = False
        self._pending_full = False
        self._pending_new = False

    # -- driving ----------------------------------------------------------------------

    def start(self) -> None:
        """Draw the first page (call once, when the caller is connected)."""
        self._out += self.config.link.echo_off
        if self.config.identify:
            self._out += _ENQROM
        self.page.on_enter(self.ctx)
        self._show(full=True)

    def receive_data(self, data: bytes) -> None:
        """Bytes typed by the caller (any split). ``b""`` means the caller hung up."""
        if self.closed:
            return
        if not data:
            self._close("hangup")
            return
        self._watch.touch(self.clock.monotonic())
        if len(data) > self.config.max_input:
            self.dropped_input += len(data) - self.config.max_input
            data = data[: self.config.max_input]
        self._batch(self._decoder.feed(data))

    @property
    def input_pending(self) -> bool:
        """An incomplete key sequence waits for more input (or :meth:`flush_input`)."""
        return bool(self._decoder.pending)

    def flush_input(self) -> None:
        """Settle an ambiguous pending sequence (called by the driver's idle timer)."""
        self._batch(self._decoder.flush())

    def _batch(self, events: list[Any]) -> None:
        """Apply the events of one read, then send one screen update for all of them.

        A burst of keys (a modem bridge, a pasted number, a scripted caller) costs one
        frame diff, not one per key; a caller typing at 75 baud sees each key anyway."""
        self._pending_show = False
        self._pending_full = False
        self._pending_new = False
        self._batching = True
        try:
            for event in events:
                self._handle(event)
                if self.closed:
                    break
        finally:
            self._batching = False
        if self._pending_show and not self.closed:
            self._show(full=self._pending_full, new_page=self._pending_new)

    def tick(self) -> None:
        """Time passed: time limits, a delayed answer, the status row (cost, clock)."""
        if self.closed:
            return
        now = self.clock.monotonic()
        meter = self.ctx.meter
        reason, warning = self._watch.check(now, meter)
        if reason is not None:
            self.hangup(reason)
            return
        refresh = now >= self._next_status or warning != self.ctx.warning
        self.ctx.warning = warning
        if meter is not None and now >= self._meter_next:
            refresh = True
        if self._later is not None and now >= self._later[0]:
            _, action = self._later
            self._later = None
            self.page.message = ""
            self._apply(action)
            return
        if refresh:
            self._show(status_only=not self.page.live)

    def next_deadline(self) -> float | None:
        """Monotonic time at which :meth:`tick` has something to do."""
        if self.closed:
            return None
        now = self.clock.monotonic()
        times = [self._next_status]
        watch = self._watch.next_deadline(now, self.ctx.meter)
        if watch is not None:
            times.append(watch)
        if self.ctx.meter is not None:
            times.append(self._meter_next)
        if self._later is not None:
            times.append(self._later[0])
        return min(times)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def hangup(self, reason: str) -> None:
        """End the call from our side (server shutdown, idle timeout): say goodbye."""
        if self.closed:
            return
        self._apply(Hangup(reason, self.service.goodbye(self.ctx, reason)))

    # -- events -----------------------------------------------------------------------

    def _handle(self, event: object) -> None:
        if self._later is not None:  # an answer is on its way: only Connexion/Fin counts
            if isinstance(event, FunctionKeyEvent) and event.key is FunctionKey.CONNEXION_FIN:
                self._later = None
                self._apply(self._function_key(event.key))
            return
        if isinstance(event, CharEvent):
            self._apply(self._char(event.text))
        elif isinstance(event, FunctionKeyEvent):
            self._apply(self._function_key(event.key))
        elif isinstance(event, ProtocolReplyEvent):
            self.ctx.facts.reply(event)
        # cursor keys and anything else: ignored by a form-based service

    def _char(self, text: str) -> Action:
        ok = False
        for ch in text:
            ok = self.page.type_char(ch) or ok
        return Stay() if ok else Beep()

    def _function_key(self, key: FunctionKey) -> Action:
        page = self.page
        action = page.on_key(key, self.ctx)
        if action is not None:
            return action
        if key is FunctionKey.CORRECTION:
            return Stay() if page.erase_char() else Beep()
        if key is FunctionKey.ANNULATION:
            page.clear_field()
            return Stay()
        if key is FunctionKey.SUITE:
            return Stay() if page.move_focus(+1) else Beep()
        if key is FunctionKey.RETOUR:
            return Stay() if page.move_focus(-1) else Beep()
        if key is FunctionKey.REPETITION:
            return Redraw()
        if key is FunctionKey.GUIDE:
            return Goto(self.service.help_page(page, self.ctx))
        if key is FunctionKey.SOMMAIRE:
            return Goto(self.service.summary(self.ctx))
        if key is FunctionKey.CONNEXION_FIN:
            if self.config.fin_leaves:
                return Hangup("fin")
            return Hangup("caller", self.service.goodbye(self.ctx, "caller"))
        return Beep()  # Envoi on a page that does not take it

    def _apply(self, action: Action) -> None:
        if isinstance(action, Later):
            self._later = (self.clock.monotonic() + action.delay, action.action)
            self.page.message = action.message
            self._show()
            return
        if isinstance(action, Beep):
            self._out += _BEL
        elif isinstance(action, Stay):
            self._show()
        elif isinstance(action, Redraw):
            self._show(full=True)
        elif isinstance(action, Goto):
            self.page = action.page
            self.page.on_enter(self.ctx)
            self._show(new_page=True)
        elif isinstance(action, Hangup):
            if action.page is not None:
                self.page = action.page
                self._show(new_page=True)
            self._close(action.reason)

    def _close(self, reason: str) -> None:
        if self._batching and self._pending_show:
            self._batching = False
            self._show(full=self._pending_full, new_page=self._pending_new)
        self.closed = True
        self.close_reason = reason

    # -- screen -----------------------------------------------------------------------

    def compose(self) -> Frame:
        """The frame the caller should see now."""
        frame = self._drawing()
        self.page.draw_fields(frame)
        status = self.service.status_line(self.ctx)
        frame.text(0, 1, status[:36])
        return frame

    def _drawing(self) -> Frame:
        """The page as :meth:`Page.draw` draws it (no fields, no status row): a frame
        of this session's own."""
        key = self.page.draw_key(self.ctx)
        if key is None:
            frame = Frame()
            self.page.draw(frame, self.ctx)
            return frame
        shared = (type(self.page), key)
        drawn = _DRAWN.get(shared)
        if drawn is None:
            drawn = Frame()
            self.page.draw(drawn, self.ctx)
            if len(_DRAWN) >= _DRAWN_MAX:
                _DRAWN.clear()
            _DRAWN[shared] = drawn
        return drawn.copy()

    def _show(self, *, full: bool = False, status_only: bool = False,
              new_page: bool = False) -> None:
        """Send what changed on screen. ``full``: draw it whole; ``new_page``: another
        page became current (shown whole when it gives its own bytes, else as a diff)."""
        if self._batching:
            self._pending_show = True
            self._pending_full = self._pending_full or full
            self._pending_new = self._pending_new or new_page
            return
        now = self.clock.monotonic()
        _reason, self.ctx.warning = self._watch.check(now, self.ctx.meter)
        # A clock tick changes the status row only: start from the frame last shown
        # (the encoder keeps its rows) instead of drawing the whole page again.
        out = None
        if status_only and self._drawn and not full:
            out = self._encoder.update_row0(
                _status_row(self.service.status_line(self.ctx)[:36]))
        wire = None
        if out is None and (full or new_page or not self._drawn):
            wire = self.page.wire(self.ctx)
        if out is not None:
            self._out += out
        elif wire is not None:
            self._out += wire
            if any(p in wire for p in _PROTOCOL):
                self._out += self.config.link.echo_off
            self._encoder.assume(self._drawing())
            self._drawn = True
            self._out += self._encoder.update(self.compose())
        elif full or not self._drawn:
            self._out += self._encoder.frame(self.compose())
            self._drawn = True
        else:
            self._out += self._encoder.update(self.compose())
        self._next_status = now + self.service.status_interval(self.ctx)
        if self.ctx.meter is not None:
            self._meter_next = self.ctx.meter.next_change(now)

    @property
    def shown(self) -> Frame | None:
        """What the terminal shows once the queued bytes are written."""
        return self._encoder.shown if self._drawn else None
