"""A minimal sans-IO telnet layer for the emulator's client side.

It accepts what a Minitel gateway asks for (the server echoes, suppress go-ahead,
binary both ways), refuses every other option, drops subnegotiations, and un-doubles
IAC in data. Outgoing data has 0xFF doubled. Nothing else: a Minitel has no terminal
type or window size to tell.
"""

from __future__ import annotations

__all__ = ["TelnetCodec"]

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
BINARY, ECHO, SGA = 0, 1, 3
_ACCEPT_WILL = {ECHO, SGA, BINARY}  # server will do these: we answer DO
_ACCEPT_DO = {BINARY, SGA}  # server asks us to do these: we answer WILL


class TelnetCodec:
    def __init__(self) -> None:
        self._state = "data"
        self._cmd = 0
        self._answered: set[tuple[int, int]] = set()
        self.replies = bytearray()

    def decode(self, data: bytes) -> bytes:
        """Telnet bytes in → videotex bytes out; answers go to :attr:`replies`."""
        out = bytearray()
        for b in data:
            st = self._state
            if st == "data":
                if b == IAC:
                    self._state = "iac"
                else:
                    out.append(b)
            elif st == "iac":
                if b == IAC:
                    out.append(IAC)
                    self._state = "data"
                elif b in (DO, DONT, WILL, WONT):
                    self._cmd = b
                    self._state = "opt"
                elif b == SB:
                    self._state = "sb"
                else:
                    self._state = "data"  # NOP, GA, AYT...: nothing to do
            elif st == "opt":
                self._answer(self._cmd, b)
                self._state = "data"
            elif st == "sb":
                if b == IAC:
                    self._state = "sb-iac"
            elif st == "sb-iac":
                self._state = "data" if b == SE else "sb"
        return bytes(out)

    def _answer(self, cmd: int, opt: int) -> None:
        if (cmd, opt) in self._answered:
            return  # already agreed or refused: answering again could loop
        self._answered.add((cmd, opt))
        if cmd == WILL:
            self.replies += bytes((IAC, DO if opt in _ACCEPT_WILL else DONT, opt))
        elif cmd == DO:
            self.replies += bytes((IAC, WILL if opt in _ACCEPT_DO else WONT, opt))
        # WONT / DONT need no answer once refused

    @staticmethod
    def encode(data: bytes) -> bytes:
        return data.replace(b"\xff", b"\xff\xff")
