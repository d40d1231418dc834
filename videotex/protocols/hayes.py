"""The Hayes modem dialogue of a server line, sans-IO: result codes in, AT commands out.

The line driver (:mod:`videotex.channels.serial_line`) feeds what the modem sends with
:meth:`Hayes.receive_data`, calls :meth:`Hayes.tick` at :meth:`Hayes.next_deadline`, sends
:meth:`Hayes.data_to_send`, and acts on the returned events. Time is an argument
(monotonic seconds); nothing here sleeps, reads a port or owns a timer.

The cycle of a line::

    RESET ──OK to every init command──► IDLE ──RING──► ANSWERING ──CONNECT──► ONLINE
      ▲   (ATA sent, or auto-answer with S0>0)                                  │
      │                                                                         │
      ├──── NO CARRIER (carrier lost) / CallEnded ◄──────────────────────────────┤
      └──── HANGING_UP ◄── ESCAPING (guard, "+++", guard, ATH) or DTR dropped ◄──┘ hangup()

Every end of a call goes back to RESET: the init string is sent again (ATZ puts the modem
in a known state whatever happened). A command without an answer is sent again up to
``retries`` times; then the state is DEAD and the driver must re-open the device and call
:meth:`Hayes.start` again. While IDLE, a bare ``AT`` every ``keepalive`` seconds checks the
modem still answers. ``NMBR = ...`` lines (caller ID, between RINGs) are kept as the caller.

In ONLINE state the bytes are the caller's: they come back as :class:`Data`, except that
``CR LF NO CARRIER`` (what a modem sends when the carrier drops and it returns to command
mode) ends the call. A caller can type those bytes too: so the line is then hung up for
sure, as when we end a call (escape, ATH; or DTR, see :meth:`Hayes.hangup`), before the
init commands go out. Taken at its word, a forged NO CARRIER left the modem online and
the init commands reached the caller, who could answer them and fake a new call (RING,
a caller ID of their choice, CONNECT): unbilled, with another caller's identity.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_INIT",
    "AnswerFailed",
    "CallEnded",
    "CommandFailed",
    "Connected",
    "Data",
    "Event",
    "Hayes",
    "HayesError",
    "ModemState",
    "Ready",
    "ResultCode",
    "Ring",
    "Unresponsive",
    "parse_init",
]

#: Reset, then: no echo, verbose codes, codes on, extended codes, DCD follows the carrier,
#: DTR drop hangs up, no auto-answer (we answer RING with ATA).
DEFAULT_INIT = ("ATZ", "ATE0V1Q0X4&C1&D2S0=0")

_NO_CARRIER = b"\r\nNO CARRIER"


class HayesError(ValueError):
    """A modem setting that cannot work (names the setting)."""


class ModemState(enum.Enum):
    """Where the dialogue stands (§1 answering with a PC modem)."""

    #: Sending the init commands, each waiting for OK.
    RESET = "reset"
    #: Initialised, waiting for RING.
    IDLE = "idle"
    #: §1: ATA sent (or auto-answer), waiting for CONNECT.
    ANSWERING = "answering"
    #: §1: carrier up, data mode: bytes are the caller's.
    ONLINE = "online"
    #: Hanging up with the escape sequence: guard time, "+++", guard time, ATH.
    ESCAPING = "escaping"
    #: §1: ATH sent or DTR dropped, waiting for the modem to confirm.
    HANGING_UP = "hanging_up"
    #: The modem does not answer: re-open the device and start again.
    DEAD = "dead"


class ResultCode(enum.Enum):
    """V.250 verbose result codes (numeric forms accepted too)."""

    OK = "OK"
    CONNECT = "CONNECT"
    RING = "RING"
    NO_CARRIER = "NO CARRIER"
    ERROR = "ERROR"
    NO_DIALTONE = "NO DIALTONE"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"


_NUMERIC = {"0": ResultCode.OK, "1": ResultCode.CONNECT, "2": ResultCode.RING,
            "3": ResultCode.NO_CARRIER, "4": ResultCode.ERROR, "6": ResultCode.NO_DIALTONE,
            "7": ResultCode.BUSY, "8": ResultCode.NO_ANSWER}


# -- events -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """Every init command was answered: waiting for calls."""


@dataclass(frozen=True)
class Ring:
    """The phone rings; ``caller`` from caller ID when the modem gave it."""

    caller: str | None


@dataclass(frozen=True)
class Connected:
    """CONNECT: the call starts. ``speed`` is the line speed reported (1200 if none)."""

    speed: int
    caller: str | None
    text: str


@dataclass(frozen=True)
class AnswerFailed:
    """The modem could not take the call (NO CARRIER, BUSY, ... or no CONNECT in time)."""

    reason: str


@dataclass(frozen=True)
class Data:
    """Bytes from the caller (ONLINE only)."""

    data: bytes


@dataclass(frozen=True)
class CallEnded:
    """The call is over: ``carrier`` (lost), ``hangup`` (ours, confirmed) or ``timeout``."""

    reason: str


@dataclass(frozen=True)
class CommandFailed:
    """The modem answered ERROR to an init command; the next one is sent anyway."""

    command: str


@dataclass(frozen=True)
class Unresponsive:
    """No answer to ``command`` after every retry: the state is DEAD."""

    command: str
    attempts: int


Event = Ready | Ring | Connected | AnswerFailed | Data | CallEnded | CommandFailed | Unresponsive


def parse_init(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The ``init`` option: ``"ATZ;ATE0..."`` or a list → commands, each checked."""
    if value is None:
        return DEFAULT_INIT
    parts = value.split(";") if isinstance(value, str) else list(value)
    commands = tuple(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not commands or len(commands) != len([p for p in parts if str(p).strip()]):
        raise HayesError(f"init {value!r}: expected AT commands separated by ';'")
    for c in commands:
        if not c.upper().startswith("AT") or not c.isascii() or not c.isprintable():
            raise HayesError(f"init {value!r}: {c!r} is not an AT command")
    return commands


def _auto_answer(commands: Sequence[str]) -> bool:
    rings = None
    for c in commands:
        if c.upper().startswith("ATZ"):
            rings = None
        for m in re.finditer(r"S0\s*=\s*(\d+)", c, re.IGNORECASE):
            rings = int(m.group(1))
    return bool(rings)


class Hayes:
    """One modem's dialogue. See the module docstring for the cycle."""

    def __init__(self, init: Sequence[str] = DEFAULT_INIT, *, timeout: float = 2.0,
                 retries: int = 3, answer_timeout: float = 60.0, guard: float = 1.0,
                 keepalive: float | None = 60.0) -> None:
        if timeout <= 0 or answer_timeout <= 0 or guard <= 0:
            raise HayesError("modem timeouts and guard time must be positive")
        if retries < 1:
            raise HayesError(f"modem retries must be at least 1, not {retries}")
        self.init = tuple(init)
        if not self.init:
            raise HayesError("the modem init string is empty")
        self.timeout = timeout
        self.retries = retries
        self.answer_timeout = answer_timeout
        self.guard = guard
        self.keepalive = keepalive
        self.auto_answer = _auto_answer(self.init)
        self.state = ModemState.DEAD
        self.caller: str | None = None
        self._out = bytearray()
        self._line = bytearray()
        self._tail = b""
        self._step = 0
        self._command: str | None = None
        self._attempts = 0
        self._deadline: float | None = None

    # -- driver API -----------------------------------------------------------------

    def start(self, now: float) -> list[Event]:
        """(Re)initialise the modem: the first init command is queued."""
        self.state = ModemState.RESET
        self.caller = None
        self._out.clear()
        self._line.clear()
        self._step = 0
        self._send(self.init[0], now)
        return []

    def data_to_send(self) -> bytes:
        """AT commands (and the escape sequence) for the modem."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_deadline(self) -> float | None:
        return self._deadline

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Bytes from the modem (7-bit, framing already removed)."""
        if self.state is ModemState.ONLINE:
            return self._online(data, now)
        events: list[Event] = []
        for i, byte in enumerate(data):
            if byte in (0x0D, 0x0A):
                if self._line:
                    text = self._line.decode("ascii", "replace").strip()
                    self._line.clear()
                    if text:
                        events += self._result(text, now)
                    if self.state is ModemState.ONLINE:
                        # what follows CONNECT in the same read is the caller's
                        rest = data[i + 1:]
                        if rest[:1] == b"\n" and byte == 0x0D:
                            rest = rest[1:]
                        return events + self._online(rest, now)
            elif len(self._line) < 256:
                self._line.append(byte)
        return events

    def tick(self, now: float) -> list[Event]:
        """Call at :meth:`next_deadline`: retries, guard times, keepalive."""
        if self._deadline is None or now < self._deadline:
            return []
        self._deadline = None
        state = self.state
        if state is ModemState.ESCAPING:
            if self._command is None:
                self._command = "+++"
                self._out += b"+++"
                self._deadline = now + self.guard
            else:
                self._send("ATH", now)
                self.state = ModemState.HANGING_UP
            return []
        if state is ModemState.ANSWERING:
            self.start(now)
            return [AnswerFailed("no CONNECT in time")]
        if state is ModemState.HANGING_UP and self._attempts >= 1 and self._command is None:
            return self._restart(now, CallEnded("hangup"))
        if state is ModemState.IDLE and self._command is None:
            self._send("AT", now)  # keepalive
            return []
        if self._command is not None and state is not ModemState.ONLINE:
            if self._attempts >= self.retries:
                command, attempts = self._command, self._attempts
                self.state = ModemState.DEAD
                self._command = None
                return [Unresponsive(command, attempts)]
            self._resend(now)
        return []

    def hangup(self, now: float, *, dtr: bool = False) -> list[Event]:
        """End the call from our side. ``dtr=True``: the driver has just dropped DTR
        (with &D2 the modem hangs up and says NO CARRIER or OK); otherwise escape to
        command mode with "+++" between guard times, then ATH."""
        if self.state is ModemState.ESCAPING and not dtr:
            return []  # already on the way (after NO CARRIER in the data)
        if self.state not in (ModemState.ONLINE, ModemState.ESCAPING):
            return []
        self._command = None
        self._attempts = 0
        if dtr:
            self.state = ModemState.HANGING_UP
            self._attempts = 1
            self._deadline = now + self.timeout
        else:
            self.state = ModemState.ESCAPING
            self._deadline = now + self.guard
        return []

    def carrier_lost(self, now: float) -> list[Event]:
        """The driver saw DCD drop (a real modem in data mode): the call is over."""
        if self.state is not ModemState.ONLINE:
            return []
        return self._restart(now, CallEnded("carrier"))

    # -- internals -------------------------------------------------------------------

    def _send(self, command: str, now: float) -> None:
        self._command = command
        self._attempts = 0
        self._resend(now)

    def _resend(self, now: float) -> None:
        assert self._command is not None
        self._attempts += 1
        self._out += self._command.encode("ascii") + b"\r"
        self._deadline = now + self.timeout

    def _restart(self, now: float, event: Event) -> list[Event]:
        self.start(now)
        return [event]

    def _idle(self, now: float) -> None:
        self.state = ModemState.IDLE
        self._command = None
        self._deadline = None if self.keepalive is None else now + self.keepalive

    def _result(self, text: str, now: float) -> list[Event]:
        upper = text.upper()
        if upper.startswith("AT") or upper == "+++":
            return []  # our own command echoed (before E0 takes effect)
        if upper.startswith("NMBR"):
            _, _, number = text.partition("=")
            self.caller = number.strip() or None
            return []
        code, rest = _classify(upper)
        if code is None:
            return []  # informational text (DATE, TIME, NAME, a banner...)
        state = self.state
        if state is ModemState.RESET:
            if code in (ResultCode.OK, ResultCode.ERROR):
                failed: list[Event] = [CommandFailed(self.init[self._step])] if code is ResultCode.ERROR else []
                self._step += 1
                if self._step < len(self.init):
                    self._send(self.init[self._step], now)
                    return failed
                self._idle(now)
                return [*failed, Ready()]
            return []
        if state is ModemState.IDLE:
            if code is ResultCode.RING:
                if self.auto_answer:
                    self.state = ModemState.ANSWERING
                    self._command = None
                    self._deadline = now + self.answer_timeout
                else:
                    self._send("ATA", now)
                    self.state = ModemState.ANSWERING
                    self._deadline = now + self.answer_timeout
                return [Ring(self.caller)]
            if code is ResultCode.OK:
                self._idle(now)
            elif code is ResultCode.CONNECT:  # auto-answer we did not expect
                return self._connected(rest, now)
            return []
        if state is ModemState.ANSWERING:
            if code is ResultCode.CONNECT:
                return self._connected(rest, now)
            if code is ResultCode.RING:
                return []
            return self._restart(now, AnswerFailed(code.value))
        if state is ModemState.HANGING_UP:
            if code in (ResultCode.OK, ResultCode.NO_CARRIER):
                return self._restart(now, CallEnded("hangup"))
            return []
        return []

    def _connected(self, rest: str, now: float) -> list[Event]:
        self.state = ModemState.ONLINE
        self._command = None
        self._deadline = None
        self._tail = b""
        m = re.match(r"\s*(\d+)", rest)
        speed = int(m.group(1)) if m else 1200
        return [Connected(speed, self.caller, ("CONNECT " + rest.strip()).strip())]

    def _online(self, data: bytes, now: float) -> list[Event]:
        # the pattern may straddle two reads: look at the end of the previous one too
        seen = self._tail + data
        at = seen.find(_NO_CARRIER)
        if at < 0:
            self._tail = seen[-(len(_NO_CARRIER) - 1):]
            return [Data(data)] if data else []
        before = max(0, at - len(self._tail))
        events: list[Event] = [Data(data[:before])] if before else []
        # the modem's, or the caller's (see the module docstring): hang up for sure
        self.state = ModemState.ESCAPING
        self.caller = None
        self._command = None
        self._attempts = 0
        self._deadline = now + self.guard
        return [*events, CallEnded("carrier")]


def _classify(upper: str) -> tuple[ResultCode | None, str]:
    if upper in _NUMERIC:
        return _NUMERIC[upper], ""
    for code in ResultCode:
        if upper == code.value or (code is ResultCode.CONNECT and upper.startswith("CONNECT")):
            return code, upper[len(code.value):]
    return None, ""
