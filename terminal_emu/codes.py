"""Byte constants of the Minitel Vidéotex stream, named after the reference.

Every value cites the section of ``shared/reference/minitel-videotex.md`` that defines it.
The emulator only ever sees 7-bit codes (the 8th bit on the line is parity, §1).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["C0", "PRO1", "PRO2", "PRO3", "Attr", "Module"]


class C0(IntEnum):
    """C0 control set in Vidéotex mode (§3)."""

    NUL = 0x00  #: §3 ignored everywhere, even inside sequences
    ENQ = 0x05  #: §3 passed through the routing, no screen effect
    BEL = 0x07  #: §3 beep, cursor does not move
    BS = 0x08  #: §3 one cell left, wraps to the previous row
    HT = 0x09  #: §3 one cell right, wraps to the next row
    LF = 0x0A  #: §3 one row down; from row 00 returns to the saved position
    VT = 0x0B  #: §3 one row up
    FF = 0x0C  #: §2/§3 clear rows 1-24, cursor r1c1, attributes reset
    CR = 0x0D  #: §3 column 1
    SO = 0x0E  #: §3 select G1 (mosaics)
    SI = 0x0F  #: §3 select G0
    CON = 0x11  #: §3 cursor on
    REP = 0x12  #: §5 repeat the last displayed character
    SEP = 0x13  #: §3 SEP x, ignored by the screen
    COFF = 0x14  #: §3 cursor off
    SYN = 0x16  #: §3 acts exactly as SS2 on the 1B firmware
    CAN = 0x18  #: §3 fill to the end of the row with spaces
    SS2 = 0x19  #: §6 next byte from G2
    SUB = 0x1A  #: §3 error block
    ESC = 0x1B  #: §3/§7 escape sequences
    SS3 = 0x1D  #: §3 SS3 x ignored
    RS = 0x1E  #: §3 home r1c1 and attribute reset
    US = 0x1F  #: §4 absolute addressing


class Attr(IntEnum):
    """C1 attribute codes, the byte after ESC (§7)."""

    FG_BLACK = 0x40  #: §7 foreground colours 0x40-0x47 (parallel)
    FG_WHITE = 0x47  #: §7
    BLINK = 0x48  #: §7 parallel
    STEADY = 0x49  #: §7 parallel
    NORMAL_SIZE = 0x4C  #: §7 parallel, G0 only
    DOUBLE_HEIGHT = 0x4D  #: §7
    DOUBLE_WIDTH = 0x4E  #: §7
    DOUBLE_SIZE = 0x4F  #: §7
    BG_BLACK = 0x50  #: §7 background colours 0x50-0x57 (serial in G0)
    BG_WHITE = 0x57  #: §7
    MASK = 0x58  #: §7 start masking (serial)
    LINING_OFF = 0x59  #: §7 stop lining (serial in G0, immediate in G1)
    LINING_ON = 0x5A  #: §7 start lining
    CSI = 0x5B  #: §4 ISO 6429 control sequence introducer
    NORMAL_POLARITY = 0x5C  #: §7 parallel
    INVERSE = 0x5D  #: §7 parallel
    UNMASK = 0x5F  #: §7 stop masking (serial)
    PRO1 = 0x39  #: §9 protocol, one argument
    PRO2 = 0x3A  #: §9 protocol, two arguments
    PRO3 = 0x3B  #: §9 protocol, three arguments
    CURSOR_REQUEST = 0x61  #: §4 answered with US row col
    GLOBAL_MASK = 0x23  #: §7 ESC 23 20 58 / 5F
    TRANSPARENCY = 0x25  #: §3 screen transparency until ESC 25 40 or ESC 2F 3F
    G0_DESIGNATE = 0x28  #: CEPT T/TE 06-01: ESC 28 40 (standard) / ESC 28 20 42 (DRCS)
    G1_DESIGNATE = 0x29  #: CEPT T/TE 06-01: ESC 29 63 (standard) / ESC 29 20 43 (DRCS)


class Module(IntEnum):
    """Routing module bit numbers (§9); emitter code 0x50+n, receiver code 0x58+n."""

    SCREEN = 0  #: §9 emitter 50, receiver 58
    KEYBOARD = 1  #: §9 emitter 51, receiver 59
    MODEM = 2  #: §9 emitter 52, receiver 5A
    SOCKET = 3  #: §9 emitter 53, receiver 5B


class PRO1(IntEnum):
    """PRO1 commands, ``1B 39 x`` (§9)."""

    DECONNEXION = 0x67  #: §1/§9 drop the line
    CONNEXION = 0x68  #: §1/§9 act as the Connexion/Fin key
    RET1 = 0x6C  #: §1 modem turnaround
    RET2 = 0x6D  #: §1 modem turnaround back
    OPPO = 0x6F  #: §1 opposed state
    STATUS_TERMINAL = 0x70  #: §9 reply 1B 3A 71 x
    STATUS_OPERATING = 0x72  #: §9 reply 1B 3A 73 x
    STATUS_SPEED = 0x74  #: §9 reply 1B 3A 75 x
    STATUS_PROTOCOL = 0x76  #: §9 reply 1B 3A 77 x
    ENQROM = 0x7B  #: §9 reply 01 maker type version 04
    RESET = 0x7F  #: §9 reply 13 5E


class PRO2(IntEnum):
    """PRO2 commands, ``1B 3A x y`` (§9)."""

    TELEINFO = 0x31  #: §9/§10 1B 3A 31 7D, reply 1B 5B 3F 7A
    MIXTE = 0x32  #: §9/§10 7D on (reply 13 70), 7E off (reply 13 71)
    ROUTE_STATUS = 0x62  #: §9 reply 1B 3B 63 code byte
    ACK_OFF = 0x64  #: §9 acknowledgement suppression
    ACK_ON = 0x65  #: §9 acknowledgement broadcast
    TRANSPARENCY = 0x66  #: §9 next n bytes not interpreted, reply 13 57
    START = 0x69  #: §9 start a mode (roll 43, PCE 44, lowercase 45)
    STOP = 0x6A  #: §9 stop a mode
    PROG = 0x6B  #: §9 socket speed
    KEYBOARD_STATUS = 0x72  #: §9 1B 3A 72 59, reply 1B 3B 73 59 x
    COPY = 0x7C  #: §9 screen copy to the socket


class PRO3(IntEnum):
    """PRO3 commands, ``1B 3B x y z`` (§9)."""

    ROUTE_OFF = 0x60  #: §9 reply 1B 3B 63 rx status
    ROUTE_ON = 0x61  #: §9
    START = 0x69  #: §9 keyboard modes on (extended 41, C0 cursor keys 43)
    STOP = 0x6A  #: §9 keyboard modes off
