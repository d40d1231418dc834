"""Incremental parser of the Vidéotex byte stream (pyte style): it only parses and
dispatches events to a :class:`~terminal_emu.screen.Screen` and a
:class:`~terminal_emu.protocol.Protocol`.

The parser is a generator fed one byte at a time, so input may be split anywhere. Rules
implemented here (reference §3, §4, §6, §9):

* NUL is dropped before parsing, so it is ignored even inside sequences;
* a C0 byte other than NUL inside ESC, US, REP, SS2, SEP or CSI aborts that sequence and
  is then executed ("after an error");
* SYN acts exactly as SS2; in G1 the SS2 is ignored and the next byte is a mosaic;
* ``PRO2 66 n`` makes the next n bytes uninterpreted;
* ``US 23`` loads downloadable characters on a model that has them (Minitel 2); on a 1B
  it is an invalid US whose two bytes are dropped (§12 vector 74).

Every abort, unknown sequence or out-of-range argument increments :attr:`Stream.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from .codes import C0
from .drcs import DrcsLoader
from .protocol import Protocol
from .screen import Screen

__all__ = ["Stream"]

_Parser = Generator[None, int, None]
_Sub = Generator[None, int, int | None]

_ACCENTS = frozenset((0x41, 0x42, 0x43, 0x48, 0x4B))
_SS2 = (C0.SS2, C0.SYN)


class Stream:
    """Feed bytes with :meth:`feed`; replies to the sender accumulate in :attr:`output`."""

    def __init__(self, screen: Screen, protocol: Protocol | None = None) -> None:
        self.screen = screen
        self.protocol = protocol
        self.output = bytearray()
        self.errors = 0
        self.loader = DrcsLoader(screen.drcs)
        #: called after each protocol sequence (the terminal re-reads its routing)
        self.after_protocol: Callable[[], None] | None = None
        self._controls: dict[int, Callable[[], None]] = {}
        self._bind()
        self._parser = self._run()
        next(self._parser)

    def _bind(self) -> None:
        s = self.screen
        self._controls = {
            C0.BEL: s.bell, C0.BS: s.backspace, C0.HT: s.tab, C0.LF: s.linefeed,
            C0.VT: s.vtab, C0.FF: s.form_feed, C0.CR: s.carriage_return,
            C0.SO: s.shift_out, C0.SI: s.shift_in, C0.CON: s.cursor_on,
            C0.COFF: s.cursor_off, C0.CAN: s.cancel, C0.SUB: s.error_block, C0.RS: s.home,
        }

    def set_screen(self, screen: Screen) -> None:
        """Dispatch display events to another screen (routing screen <- modem cut)."""
        self.screen = screen
        self.loader = DrcsLoader(screen.drcs)
        self._bind()

    def feed(self, data: bytes) -> None:
        """Parse ``data``; any bytes are accepted."""
        send = self._parser.send
        protocol = self.protocol
        for byte in data:
            byte &= 0x7F  # the 8th bit on the line is parity (§1)
            if protocol is not None and protocol.skip:
                protocol.skip -= 1
                continue
            if byte:
                send(byte)

    # -- the state machine -------------------------------------------------------

    def _run(self) -> _Parser:
        byte = yield
        while True:
            redo: int | None = None
            if byte >= 0x20:
                self.screen.draw(byte)
            else:
                redo = yield from self._control(byte)
            byte = redo if redo is not None else (yield)

    def _abort(self, byte: int) -> int:
        self.errors += 1
        return byte

    def _control(self, byte: int) -> _Sub:
        if byte == C0.ESC:
            return (yield from self._escape())
        if byte == C0.US:
            return (yield from self._us())
        if byte in _SS2:
            return (yield from self._ss2())
        if byte == C0.REP:
            n = yield
            if n < 0x20:
                return self._abort(n)
            if n >= 0x40:
                self.screen.repeat(n - 0x40)
            else:
                self.errors += 1
            return None
        if byte in (C0.SEP, C0.SS3):
            x = yield
            return self._abort(x) if x < 0x20 else None
        handler = self._controls.get(byte)
        if handler is not None:
            handler()
        return None

    def _escape(self) -> _Sub:
        b = yield
        if b < 0x20:
            return self._abort(b)
        if b == 0x5B:
            return (yield from self._csi())
        if 0x39 <= b <= 0x3B:
            args: list[int] = []
            for _ in range(b - 0x38):
                x = yield
                # the byte count of PRO2 66 (transparency) may be any value 1-127
                if x < 0x20 and args != [0x66]:
                    return self._abort(x)
                args.append(x)
            if self.protocol is not None:
                self.output += self.protocol.pro(b, args)
                if self.after_protocol is not None:
                    self.after_protocol()
            return None
        if 0x40 <= b <= 0x5F:
            self.screen.attribute(b)
        elif b == 0x61:
            self.output += self.screen.cursor_report()
        elif b == 0x23:
            return (yield from self._global_mask())
        elif b == 0x25:
            return (yield from self._transparency())
        elif b in (0x28, 0x29):
            return (yield from self._designate(b == 0x29))
        elif b in (0x35, 0x36, 0x37, 0x2F):
            x = yield
            return self._abort(x) if x < 0x20 else None
        else:
            self.errors += 1  # unknown ESC x pairs are swallowed (§3)
        return None

    def _global_mask(self) -> _Sub:
        x = yield
        if x < 0x20:
            return self._abort(x)
        y = yield
        if y < 0x20:
            return self._abort(y)
        if x == 0x20 and y in (0x58, 0x5F):
            self.screen.global_mask(y == 0x58)
        else:
            self.errors += 1
        return None

    def _transparency(self) -> _Sub:
        """ESC 25 ... until ESC 25 40 or ESC 2F 3F: nothing is displayed (§3)."""
        state = 0
        while True:
            x = yield
            if state == 0:
                state = 1 if x == C0.ESC else 0
            elif state == 1:
                state = {0x25: 2, 0x2F: 3}.get(x, 1 if x == C0.ESC else 0)
            elif (state == 2 and x == 0x40) or (state == 3 and x == 0x3F):
                return None
            else:
                state = 1 if x == C0.ESC else 0

    def _designate(self, g1: bool) -> _Sub:
        x = yield
        if x < 0x20:
            return self._abort(x)
        if x == 0x20:
            y = yield
            if y < 0x20:
                return self._abort(y)
            self.screen.designate(g1, drcs=True)
        elif x in (0x40, 0x63):
            self.screen.designate(g1, drcs=False)
        else:
            self.errors += 1
        return None

    def _csi(self) -> _Sub:
        params: list[int | None] = []
        current: int | None = None
        private = False
        while True:
            x = yield
            if x < 0x20:
                return self._abort(x)
            if 0x30 <= x <= 0x39:
                current = min((current or 0) * 10 + x - 0x30, 9999)
            elif x == 0x3B:
                if len(params) < 16:
                    params.append(current)
                current = None
            elif x == 0x3F:
                private = True
            elif 0x40 <= x <= 0x7E:
                params.append(current)
                if private and x == 0x7B and self.protocol is not None:
                    self.output += self.protocol.leave_teleinfo()
                elif not self.screen.csi(params, private, x):
                    self.errors += 1
                return None
            else:
                self.errors += 1
                return None

    def _us(self) -> _Sub:
        x = yield
        if x < 0x20:
            return self._abort(x)
        if x == 0x23 and self.screen.has_drcs:
            return (yield from self._drcs())
        y = yield
        if y < 0x20:
            return self._abort(y)
        if 0x40 <= x <= 0x58 and 0x41 <= y <= 0x68:
            self.screen.address(x - 0x40, y - 0x40)
        elif 0x30 <= x <= 0x32 and 0x30 <= y <= 0x39 and (x - 0x30) * 10 + y - 0x30 <= 24:
            # the alternate form; US 30 30 is row 00, column 1 (§12 vector 65)
            self.screen.address((x - 0x30) * 10 + y - 0x30, 1)
        else:
            self.errors += 1  # both bytes consumed, nothing else happens (§4)
        return None

    def _ss2(self) -> _Sub:
        x = yield
        if x < 0x20:
            return x if x in _SS2 else self._abort(x)
        if self.screen.pen.g1:
            return x  # SS2 ignored in G1: x is an ordinary mosaic byte
        if x in _ACCENTS:
            y = yield
            if y < 0x20:
                # an accent key pressed again before the letter: keep the last one
                return y if y in _SS2 else self._abort(y)
            self.screen.draw_accented(x, y)
        else:
            self.screen.draw_g2(x)
        return None

    def _drcs(self) -> _Sub:
        loader = self.loader
        x = yield
        if x < 0x20:
            return self._abort(x)
        if x == 0x20:
            while True:
                y = yield
                if y < 0x20:
                    return self._abort(y)
                if loader.header(y):
                    return None
        loader.start(x)
        y = yield
        if y < 0x20:
            return self._abort(y)
        if y != 0x30:  # "US 23 c 30" opens the load; tolerate a missing 30
            loader.data(y)
        while True:
            y = yield
            if y < 0x20:
                loader.finish()
                return y
            loader.data(y)
