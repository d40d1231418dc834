"""Telnet once the opening negotiation is over: a small sans-IO codec.

telnetlib3 runs the opening negotiation of every telnet call (WILL ECHO, WILL SGA,
WILL/DO BINARY, with its timers and client quirks). After that a Minitel call needs
three things of telnet: data bytes with IAC IAC for 0xFF, subnegotiations dropped,
and a polite answer to any option a client offers or asks for later (RFC 1143: no
answer to what is already agreed; a refusal for anything new; an acknowledgement when
the client turns an agreed option off). This codec does exactly that, holding a few
integers per call instead of telnetlib3's reader, writer and option tables (about
12 KiB per call, more than the whole rest of a call: see docs/scaling.md).

It starts from the state telnetlib3 left: the options agreed, those still awaited, and
an IAC sequence cut in the middle by a TCP segment boundary, as the
:class:`SubnegotiationFilter` that stands before telnetlib3 during the negotiation saw it
(its states are the codec's).
"""

from __future__ import annotations

__all__ = [
    "MAX_SUBNEGOTIATION",
    "SteadyTelnet",
    "SubnegotiationFilter",
    "SubnegotiationTooLong",
    "escape",
]

IAC, DONT, DO, WONT, WILL, SB, SE = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF0
BINARY = 0x00
CR = 0x0D

#: Longest subnegotiation tolerated before the call is dropped.
MAX_SUBNEGOTIATION = 512

# parser states
DATA, AFTER_IAC, OPTION, IN_SB, SB_IAC = range(5)


class SubnegotiationTooLong(ValueError):
    """A client sent a subnegotiation longer than :data:`MAX_SUBNEGOTIATION` bytes."""


def escape(data: bytes) -> bytes:
    """Data to the wire: 0xFF doubled."""
    return data.replace(b"\xff", b"\xff\xff") if 0xFF in data else data


def _mask(options: set[int] | None) -> int:
    return sum(1 << o for o in set(options or ()))


def _options(mask: int) -> set[int]:
    return {o for o in range(256) if mask >> o & 1}


class SteadyTelnet:
    # option sets as bit masks: four sets per call would weigh more than the codec
    __slots__ = ("_after_cr", "_asked_local", "_asked_remote", "_cmd", "_local", "_remote",
                 "_sb_len", "_state")

    def __init__(self, local: set[int], remote: set[int], *,
                 asked_local: set[int] | None = None, asked_remote: set[int] | None = None,
                 state: int = DATA, cmd: int = 0, sb_len: int = 0) -> None:
        self._local = _mask(local)
        self._remote = _mask(remote)
        self._asked_local = _mask(asked_local)
        self._asked_remote = _mask(asked_remote)
        self._state = state
        self._cmd = cmd
        self._sb_len = sb_len
        self._after_cr = False

    @property
    def local(self) -> set[int]:
        """Options enabled on our side (we WILL)."""
        return _options(self._local)

    @property
    def remote(self) -> set[int]:
        """Options enabled on the client's side (it WILL)."""
        return _options(self._remote)

    @property
    def asked_local(self) -> set[int]:
        """Options we offered (WILL) whose answer has not come yet."""
        return _options(self._asked_local)

    @property
    def asked_remote(self) -> set[int]:
        """Options we asked for (DO) whose answer has not come yet."""
        return _options(self._asked_remote)

    def receive(self, data: bytes) -> tuple[bytes, bytes]:
        """Bytes from the client → (videotex data, telnet replies to send back).

        Raises :class:`SubnegotiationTooLong` for an oversized subnegotiation."""
        binary = bool(self._remote & 1 << BINARY)
        if self._state == DATA and 0xFF not in data and (binary or
                                                         (CR not in data and not self._after_cr)):
            return data, b""
        out = bytearray()
        replies = bytearray()
        state = self._state
        nvt = not binary  # NVT: CR NUL means CR
        for b in data:
            if state == DATA:
                if b == IAC:
                    state = AFTER_IAC
                elif nvt and b == 0 and self._after_cr:
                    self._after_cr = False
                else:
                    self._after_cr = nvt and b == CR
                    out.append(b)
            elif state == AFTER_IAC:
                if b == IAC:
                    out.append(IAC)
                    state = DATA
                elif b == SB:
                    state, self._sb_len = IN_SB, 0
                elif b in (WILL, WONT, DO, DONT):
                    state, self._cmd = OPTION, b
                else:  # NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, SE out of place: nothing
                    state = DATA
            elif state == OPTION:
                replies += self._option(self._cmd, b)
                nvt = not self._remote & 1 << BINARY  # BINARY may have changed
                state = DATA
            else:  # IN_SB or SB_IAC: dropped, bounded
                self._sb_len += 1
                if self._sb_len > MAX_SUBNEGOTIATION:
                    self._state = state
                    raise SubnegotiationTooLong(
                        f"telnet subnegotiation over {MAX_SUBNEGOTIATION} bytes")
                if state == IN_SB:
                    state = SB_IAC if b == IAC else IN_SB
                else:
                    state = DATA if b == SE else IN_SB
        self._state = state
        return bytes(out), bytes(replies)

    def _option(self, cmd: int, opt: int) -> bytes:
        bit = 1 << opt
        if cmd in (WILL, WONT):  # about the client's side
            asked, enabled, refuse = self._asked_remote, self._remote, DONT
        else:  # DO, DONT: about ours
            asked, enabled, refuse = self._asked_local, self._local, WONT
        reply = b""
        if asked & bit:  # the answer to what we asked: agreed, or not
            asked &= ~bit
            if cmd in (WILL, DO):
                enabled |= bit
        elif cmd in (WILL, DO):  # offered or asked for: nothing new is agreed to
            if not enabled & bit:
                reply = bytes((IAC, refuse, opt))
        elif enabled & bit:  # turned off by the client: acknowledged
            enabled &= ~bit
            reply = bytes((IAC, refuse, opt))
        if cmd in (WILL, WONT):
            self._asked_remote, self._remote = asked, enabled
        else:
            self._asked_local, self._local = asked, enabled
        return reply


class SubnegotiationFilter:
    """Drops a client's ``IAC SB … IAC SE`` from the bytes of the opening negotiation
    and passes everything else on unchanged (to telnetlib3).

    We negotiate no option that has subnegotiations (ECHO, SGA, BINARY), so any is
    unsolicited; one longer than :data:`MAX_SUBNEGOTIATION` raises
    :class:`SubnegotiationTooLong`. ``state``, ``cmd`` and ``sb_len`` are where it
    stands, in :class:`SteadyTelnet`'s terms, so that the steady codec can start there."""

    __slots__ = ("cmd", "sb_len", "state")

    def __init__(self) -> None:
        self.state = DATA
        self.cmd = 0
        self.sb_len = 0

    def feed(self, data: bytes) -> bytes:
        """Bytes from the client → the same bytes, subnegotiations taken out."""
        state = self.state
        if state == DATA and IAC not in data:
            return data
        out = bytearray()
        for b in data:
            if state == DATA:
                if b == IAC:
                    state = AFTER_IAC
                else:
                    out.append(b)
            elif state == AFTER_IAC:
                if b == SB:
                    state, self.sb_len = IN_SB, 0
                else:
                    out += bytes((IAC, b))
                    if b in (WILL, WONT, DO, DONT):
                        state, self.cmd = OPTION, b
                    else:
                        state = DATA
            elif state == OPTION:
                out.append(b)
                state = DATA
            else:  # IN_SB, or SB_IAC: IAC may start the end; after IAC, SE ends it
                self.sb_len += 1
                if self.sb_len > MAX_SUBNEGOTIATION:
                    self.state = state
                    raise SubnegotiationTooLong(
                        f"telnet subnegotiation over {MAX_SUBNEGOTIATION} bytes")
                if state == IN_SB:
                    state = SB_IAC if b == IAC else IN_SB
                else:
                    state = DATA if b == SE else IN_SB
        self.state = state
        return bytes(out)
