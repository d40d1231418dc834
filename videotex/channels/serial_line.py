"""Minitels on serial lines: through a Hayes modem, or on the DIN socket (``--serial``).

One :class:`SerialLine` per device runs forever: open the device, serve calls, and when
the device goes away or the modem stops answering, close it and open it again after
``reopen`` seconds. It only moves bytes: the modem dialogue is :mod:`.hayes` (sans-IO),
the 7E1 framing is :mod:`.framing`, the device itself (opening it, framed writes, modem
lines) is :mod:`.serial_port`, the caller is served by ``board.handle``.

Options (``--serial DEVICE,key=value,...`` or ``[[listen]]`` keys):

``mode``      ``modem`` (default) or ``direct``
``baud``      port speed; direct mode: 4800/9600 are asked of the Minitel with PRO2 PROG
``init``      modem init commands separated by ``;`` (default ``ATZ;ATE0V1Q0X4&C1&D2S0=0``);
              with ``S0=n`` (n > 0) the modem answers by itself and we wait for CONNECT
``parity``    ``software`` (8N1 port, parity made here) or ``hardware`` (CS7 PARENB);
              default: software on a pty or when the device does not keep 7E1 settings
``at_timeout`` / ``retries`` / ``guard`` / ``keepalive`` / ``reopen`` / ``answer_timeout``
              the modem timings in seconds (see :class:`~.hayes.Hayes`)

Modem mode: the session starts at CONNECT (billing starts there) and ends on
``NO CARRIER`` after CR LF, on DCD dropping (polled when the device has modem lines; a
pty has none), or when the device goes away. We hang up by dropping DTR for ``dtr_time``
seconds when the device can, else with guard time, ``+++``, guard time, ``ATH``.

Direct mode: the session starts when the line opens (a Minitel in local state shows the
home page); after a call ends, the next byte from the Minitel starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import serial

from videotex.protocols.framing import Parity
from videotex.protocols.hayes import (
    CallEnded,
    CommandFailed,
    Connected,
    Data,
    Event,
    Hayes,
    HayesError,
    ModemState,
    Ready,
    Ring,
    Unresponsive,
    parse_init,
)
from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SessionConfig, TerminalLink

from .connection import Connection, Pacer
from .serial_port import Port, SerialLineError, Signal, open_port

__all__ = ["Port", "SerialConnection", "SerialLine", "SerialLineError", "open_port", "start"]

log = logging.getLogger("videotex.serial")

#: §9 PRO2 PROG speed bytes (socket speed) and the reply ``1B 3A 75 <byte>``.
SPEED_CODES = {1200: 0x64, 4800: 0x76, 9600: 0x7F}
_PROG = b"\x1b\x3a\x6b"
_SPEED_REPLY = b"\x1b\x3a\x75"


class SerialConnection(Connection):
    """The caller on a serial line, for the switchboard.

    In modem mode a pump task moves bytes from the port through the modem dialogue as
    they arrive, so that ``NO CARRIER`` (or DCD dropping) ends the call at once, even
    while a page is still being paced out: nothing more is written after it.
    ``identity`` is the caller ID when the modem gave one."""

    def __init__(self, port: Port, channel: str, *, modem: Hayes | None = None,
                 caller: str | None = None, clock: Any = None) -> None:
        self.port = port
        self.channel = channel
        self.peer = port.device
        self.caller = caller
        self.modem = modem
        #: The line is gone (carrier lost, device lost): reads give b"", writes are dropped.
        self.ended = False
        #: The device itself went away: the line must re-open it.
        self.lost = False
        #: The session hung up (Connexion/Fin, shutdown): the driver hangs the modem up.
        self.hung_up = False
        self._clock = clock or asyncio.get_running_loop().time
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._reading = False
        if modem is not None:
            self._pump = asyncio.ensure_future(self._run_pump())

    @property
    def identity(self) -> str:
        return self.caller or self.peer

    def unread(self, data: bytes) -> None:
        """Bytes that came with CONNECT: the caller's first input."""
        if data:
            self._queue.put_nowait(data)

    async def _run_pump(self) -> None:
        assert self.modem is not None
        while not self.ended:
            item = await self.port.inbox.get()
            if item is Signal.LOST:
                self.lost = True
                self._end()
            elif item is Signal.CARRIER:
                self.modem.carrier_lost(self._clock())
                self._end()
            else:
                assert isinstance(item, bytes)
                for event in self.modem.receive_data(item, self._clock()):
                    if isinstance(event, Data) and event.data:
                        self._queue.put_nowait(event.data)
                    elif isinstance(event, CallEnded):
                        self._end()

    def _end(self) -> None:
        self.ended = True
        self._queue.put_nowait(b"")

    def stop_pump(self) -> None:
        """The call is over: the line reads the port again."""
        if self._pump is not None:
            self._pump.cancel()

    async def read(self) -> bytes:
        if self.modem is None:  # direct mode: the port's bytes are the caller's
            if self.ended or self.hung_up:
                return b""
            self._reading = True
            try:
                item = await self.port.inbox.get()
            finally:
                self._reading = False
            if isinstance(item, bytes):
                return item
            if item is Signal.WAKE:  # close() while we waited: the call is over
                return b""
            self.ended = self.lost = True
            return b""
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # every later read sees the end too
        return data

    def write(self, data: bytes) -> None:
        if not self.ended and not self.hung_up:
            self.port.write(data)

    async def drain(self) -> None:
        await self.port.drain()

    def close(self) -> None:
        self.hung_up = True
        # A session waits in read() for the caller's next key (up to a status interval):
        # wake it, or a call we hung up (shutdown) stays on the line until the caller types.
        if self.modem is not None:
            self._queue.put_nowait(b"")
        elif self._reading:
            self.port.inbox.put_nowait(Signal.WAKE)


def _option(cfg: ListenerConfig, key: str, default: float, minimum: float = 0.0) -> float:
    value = cfg.options.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SerialLineError(f"serial {cfg.host}: {key} must be a number of seconds, "
                              f"not {value!r}") from None
    if number < minimum or (minimum == 0.0 and number <= 0):
        raise SerialLineError(f"serial {cfg.host}: {key} must be positive, not {value!r}")
    return number


class SerialLine:
    """A listener on one device (see the module docstring)."""

    def __init__(self, cfg: ListenerConfig, board: Switchboard) -> None:
        self.cfg = cfg
        self.board = board
        self.device = cfg.host
        options = cfg.options
        self.mode = str(options.get("mode", "modem"))
        if self.mode not in ("modem", "direct"):
            raise SerialLineError(f"serial {self.device}: mode must be modem or direct, "
                                  f"not {self.mode!r}")
        parity = options.get("parity")
        if parity is not None and parity not in ("software", "hardware"):
            raise SerialLineError(f"serial {self.device}: parity must be software or "
                                  f"hardware, not {parity!r}")
        self.parity = None if parity is None else Parity(parity)
        self.baud = cfg.baud or 1200
        if self.mode == "direct" and self.baud not in SPEED_CODES:
            raise SerialLineError(f"serial {self.device}: a Minitel socket runs at 1200, "
                                  f"4800 or 9600 baud, not {self.baud}")
        try:
            self.init = parse_init(options.get("init"))
        except HayesError as e:
            raise SerialLineError(f"serial {self.device}: {e}") from None
        self.at_timeout = _option(cfg, "at_timeout", 2.0)
        self.retries = int(_option(cfg, "retries", 3, 1))
        self.guard = _option(cfg, "guard", 1.0)
        self.keepalive = _option(cfg, "keepalive", 60.0)
        self.reopen = _option(cfg, "reopen", 2.0)
        self.answer_timeout = _option(cfg, "answer_timeout", 60.0)
        self.dtr_time = _option(cfg, "dtr_time", 1.0)
        self.speed_timeout = _option(cfg, "speed_timeout", 2.0)
        #: Direct mode: the speed the Minitel accepted (1200 until a PROG is confirmed).
        self.speed = 1200
        #: Modem state of the current device opening (tests and logs read it).
        self.modem: Hayes | None = None
        self.port: Port | None = None
        self.calls = 0
        self.opens = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Set at each state change worth waiting for (tests await it, never sleep).
        self.changed = asyncio.Condition()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def addresses(self) -> list[str]:
        return [f"serial://{self.device}?mode={self.mode}&baud={self.baud}"]

    def close(self) -> None:
        self._stop.set()

    async def wait_closed(self, timeout: float = 15.0) -> None:
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait for ``predicate(self)`` (tests, benches)."""
        async def until() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: predicate(self))
        await asyncio.wait_for(until(), timeout)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # -- the line's life -----------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = await open_port(self.device, self.baud, self.parity)
            except (OSError, serial.SerialException, SerialLineError) as e:
                log.warning("serial line cannot open", extra={"device": self.device,
                                                              "error": str(e)})
                await self._pause(self.reopen)
                continue
            self.port = port
            self.opens += 1
            log.info("serial line open", extra={"device": self.device, "mode": self.mode,
                                                "parity": port.codec.parity.value})
            try:
                if self.mode == "modem":
                    await self._modem(port)
                else:
                    await self._direct(port)
            finally:
                port.close()
                self.port = None
                await self._notify()
            if not self._stop.is_set():
                await self._pause(self.reopen)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _next(self, port: Port, timeout: float | None, *, stoppable: bool = True
                    ) -> bytes | Signal | None:
        """Next inbox item; ``None`` on timeout or (``stoppable``) when asked to stop."""
        if stoppable and self._stop.is_set():
            return None
        get = asyncio.ensure_future(port.inbox.get())
        waiters: set[asyncio.Future[Any]] = {get}
        if stoppable:
            waiters.add(asyncio.ensure_future(self._stop.wait()))
        done, _ = await asyncio.wait(waiters, timeout=timeout,
                                           return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters - {get}:
            waiter.cancel()
        if get in done:
            return get.result()
        get.cancel()
        return None

    # -- modem mode -------------------------------------------------------------------------

    async def _modem(self, port: Port) -> None:
        loop = asyncio.get_running_loop()
        modem = Hayes(self.init, timeout=self.at_timeout, retries=self.retries,
                      answer_timeout=self.answer_timeout, guard=self.guard,
                      keepalive=self.keepalive)
        self.modem = modem
        events: list[Event] = modem.start(loop.time())
        while True:
            port.write(modem.data_to_send())
            for i, event in enumerate(events):
                if isinstance(event, Connected):
                    # bytes after CONNECT in the same read are the caller's first input
                    first = b"".join(e.data for e in events[i + 1:] if isinstance(e, Data))
                    if not await self._modem_call(port, modem, event, first):
                        return
                    break
                if not await self._modem_event(port, modem, event):
                    return
            port.write(modem.data_to_send())
            await self._notify()
            hanging_up = modem.state in (ModemState.ESCAPING, ModemState.HANGING_UP)
            if self._stop.is_set() and not hanging_up:
                return
            deadline = modem.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            item = await self._next(port, timeout, stoppable=not hanging_up)
            if item is Signal.LOST:
                log.warning("serial device lost", extra={"device": self.device})
                return
            if isinstance(item, bytes):
                events = modem.receive_data(item, loop.time())
            else:
                events = modem.tick(loop.time())

    async def _modem_event(self, port: Port, modem: Hayes, event: Event) -> bool:
        """Act on one event; False when the device must be re-opened."""
        where = {"device": self.device}
        if isinstance(event, Ready):
            log.info("modem ready", extra={**where, "auto_answer": modem.auto_answer})
        elif isinstance(event, CommandFailed):
            log.warning("modem refused a command", extra={**where, "command": event.command})
        elif isinstance(event, Unresponsive):
            log.warning("modem not answering, re-opening the device",
                        extra={**where, "command": event.command, "attempts": event.attempts})
            return False
        elif isinstance(event, Ring):
            log.info("modem ring", extra={**where, "caller": event.caller})
        elif isinstance(event, CallEnded):
            log.info("modem call ended", extra={**where, "reason": event.reason})
        else:
            log.info("modem event", extra={**where, "event": repr(event)})
        return True

    async def _modem_call(self, port: Port, modem: Hayes, event: Connected,
                          first: bytes) -> bool:
        loop = asyncio.get_running_loop()
        log.info("modem connect", extra={"device": self.device, "text": event.text,
                                         "caller": event.caller})
        conn = SerialConnection(port, "modem", modem=modem, caller=event.caller,
                                clock=loop.time)
        conn.unread(first)
        self.calls += 1
        await self._notify()
        watch = (asyncio.ensure_future(self._watch_carrier(port, conn))
                 if port.has_modem_lines else None)
        speed = event.speed if event.speed in (1200, 2400, 4800, 9600) else 1200
        try:
            await self.board.handle(conn, pacer=Pacer(speed),
                                    config=SessionConfig(link=TerminalLink.CONNECTED))
        finally:
            conn.stop_pump()
            if watch is not None:
                watch.cancel()
        if conn.lost:
            return False
        if modem.state is ModemState.RESET:  # DCD dropped: init timings start now
            modem.start(loop.time())
        elif modem.state in (ModemState.ONLINE, ModemState.ESCAPING):
            # we end the call (Connexion/Fin, shutdown), or NO CARRIER came in the data,
            # which a caller can type: hang up for sure either way
            await port.drain()
            dtr = await port.drop_dtr(self.dtr_time)
            modem.hangup(loop.time(), dtr=dtr)
            log.info("modem hanging up", extra={"device": self.device,
                                                "how": "DTR" if dtr else "+++ ATH"})
        return True

    async def _watch_carrier(self, port: Port, conn: SerialConnection) -> None:
        while not conn.ended:
            if not port.carrier():
                port.inbox.put_nowait(Signal.CARRIER)  # to the pump, ahead of later bytes
                return
            await asyncio.sleep(0.2)  # DCD has no event on a tty: poll it

    # -- direct mode ------------------------------------------------------------------------

    async def _direct(self, port: Port) -> None:
        self.speed = 1200
        if self.baud != 1200:
            self.speed = await self._switch_speed(port, self.baud)
        await self._notify()
        while not self._stop.is_set():
            conn = SerialConnection(port, "serial")
            self.calls += 1
            await self._notify()
            await self.board.handle(conn, pacer=Pacer(self.speed),
                                    config=SessionConfig(link=TerminalLink.LOCAL))
            if conn.lost:
                return
            await self._notify()
            # the Minitel stays plugged in: its next key starts the next call
            item = await self._next(port, None)
            while item is Signal.WAKE:  # a key beat the wake-up to the last call's read
                item = await self._next(port, None)
            if item is None or item is Signal.LOST:
                return

    async def _switch_speed(self, port: Port, baud: int) -> int:
        """PRO2 PROG to the Minitel, our port to ``baud``, then its confirmation (§9)."""
        code = SPEED_CODES[baud]
        port.write(_PROG + bytes((code,)))
        await port.flush()
        port.set_baud(baud)
        reply = await self._speed_reply(port)
        if reply == code:
            log.info("serial speed switched", extra={"device": self.device, "baud": baud})
            return baud
        port.set_baud(1200)
        log.warning("Minitel refused the speed, staying at 1200 baud",
                    extra={"device": self.device, "asked": baud,
                           "reply": None if reply is None else f"{reply:02X}"})
        return 1200

    async def _speed_reply(self, port: Port) -> int | None:
        loop = asyncio.get_running_loop()
        end = loop.time() + self.speed_timeout
        seen = b""
        while (left := end - loop.time()) > 0:
            item = await self._next(port, left)
            if not isinstance(item, bytes):
                return None
            seen += item
            at = seen.find(_SPEED_REPLY)
            if at >= 0 and len(seen) > at + 3:
                return seen[at + 3]
        return None


async def start(cfg: ListenerConfig, board: Switchboard) -> SerialLine:
    """The ``serial`` listener starter: checks the options, then runs the line."""
    line = SerialLine(cfg, board)
    line.start()
    return line
