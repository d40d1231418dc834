"""Videotex code values of the Minitel (Télétel, CEPT profile 2).

Owns every byte value the codec emits or recognises, as enums whose members
name the section of ``shared/reference/minitel-videotex.md`` they come from.
Invariant: values are 7-bit code values (the 8th bit on the wire is parity).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "C0",
    "C1",
    "ENQROM_MAKERS",
    "ENQROM_MODELS",
    "PRO1",
    "PRO2",
    "PRO3",
    "SIZE_CODES",
    "Color",
    "ModuleCode",
    "ReplyCode",
    "SepCode",
    "Size",
]


class C0(IntEnum):
    """C0 control set in Vidéotex mode."""

    NUL = 0x00  #: §3 ignored everywhere, even inside sequences
    SOH = 0x01  #: §9 starts the ENQROM reply
    EOT = 0x04  #: §9 ends the ENQROM reply
    BEL = 0x07  #: §3 beep
    BS = 0x08  #: §3 one cell left (wraps to previous row)
    HT = 0x09  #: §3 one cell right (wraps to next row)
    LF = 0x0A  #: §3 one row down; in row 00 returns to the saved position
    VT = 0x0B  #: §3 one row up
    FF = 0x0C  #: §2 clear rows 1-24, cursor r1c1, attributes reset
    CR = 0x0D  #: §3 column 1 of the same row
    SO = 0x0E  #: §3 select G1 (mosaics); cancels double size and inverse
    SI = 0x0F  #: §3 select G0; cancels separated mosaics
    CON = 0x11  #: §3 show the cursor
    REP = 0x12  #: §5 repeat the last displayed character (0x40+n)
    SEP = 0x13  #: §3 function keys and notifications
    COFF = 0x14  #: §3 hide the cursor
    SYN = 0x16  #: §3 acts like SS2 on the Minitel 1B
    CAN = 0x18  #: §3 fill to end of row with spaces
    SS2 = 0x19  #: §6 next byte from G2
    SUB = 0x1A  #: §3 error block
    ESC = 0x1B  #: §7 starts C1, CSI and protocol sequences
    SS3 = 0x1D  #: §3 ignored
    RS = 0x1E  #: §3 cursor r1c1 and attribute reset
    US = 0x1F  #: §4 absolute address, attribute reset


class Color(IntEnum):
    """Colour indexes in reference order (foreground ``ESC 40+i``, background ``ESC 50+i``)."""

    BLACK = 0  #: §7 grey 0 %
    RED = 1  #: §7 grey 50 %
    GREEN = 2  #: §7 grey 70 %
    YELLOW = 3  #: §7 grey 90 %
    BLUE = 4  #: §7 grey 40 %
    MAGENTA = 5  #: §7 grey 60 %
    CYAN = 6  #: §7 grey 80 %
    WHITE = 7  #: §7 grey 100 %


class Size(StrEnum):
    """Character size; values are the ``size`` strings of docs/cell-model.md."""

    NORMAL = "normal"  #: §7 ESC 4C
    TALL = "tall"  #: §7 ESC 4D double height
    WIDE = "wide"  #: §7 ESC 4E double width
    DOUBLE = "double"  #: §7 ESC 4F double size

    # The str hash (C level), consistent with ``Size.NORMAL == "normal"``; Enum's own hashes
    # the name in Python, which cells and stored screens pay on every dict lookup.
    __hash__ = str.__hash__

    @property
    def width(self) -> int:
        return 2 if self in (Size.WIDE, Size.DOUBLE) else 1

    @property
    def height(self) -> int:
        return 2 if self in (Size.TALL, Size.DOUBLE) else 1


class C1(IntEnum):
    """Second byte of ``ESC x`` attribute codes."""

    FG_BLACK = 0x40  #: §7 foreground colours 40-47 (parallel)
    FG_RED = 0x41  #: §7
    FG_GREEN = 0x42  #: §7
    FG_YELLOW = 0x43  #: §7
    FG_BLUE = 0x44  #: §7
    FG_MAGENTA = 0x45  #: §7
    FG_CYAN = 0x46  #: §7
    FG_WHITE = 0x47  #: §7
    BLINK = 0x48  #: §7 blink (parallel)
    STEADY = 0x49  #: §7 steady (parallel)
    NORMAL_SIZE = 0x4C  #: §7 normal size (parallel, G0 only)
    DOUBLE_HEIGHT = 0x4D  #: §7 double height
    DOUBLE_WIDTH = 0x4E  #: §7 double width
    DOUBLE_SIZE = 0x4F  #: §7 double size
    BG_BLACK = 0x50  #: §7 background colours 50-57 (serial in G0, immediate in G1)
    BG_RED = 0x51  #: §7
    BG_GREEN = 0x52  #: §7
    BG_YELLOW = 0x53  #: §7
    BG_BLUE = 0x54  #: §7
    BG_MAGENTA = 0x55  #: §7
    BG_CYAN = 0x56  #: §7
    BG_WHITE = 0x57  #: §7
    MASK = 0x58  #: §7 start masking (serial)
    LINING_OFF = 0x59  #: §7 stop lining (serial in G0; contiguous mosaics in G1)
    LINING_ON = 0x5A  #: §7 start lining (serial in G0; separated mosaics in G1)
    CSI = 0x5B  #: §4 ISO 6429 control sequence introducer
    NORMAL_POLARITY = 0x5C  #: §7 inverse off (parallel)
    INVERSE = 0x5D  #: §7 inverse on (parallel)
    UNMASK = 0x5F  #: §7 stop masking (serial)


SIZE_CODES: dict[Size, int] = {
    Size.NORMAL: C1.NORMAL_SIZE,
    Size.TALL: C1.DOUBLE_HEIGHT,
    Size.WIDE: C1.DOUBLE_WIDTH,
    Size.DOUBLE: C1.DOUBLE_SIZE,
}


class SepCode(IntEnum):
    """Second byte of ``SEP x`` (0x13 x): function keys and notifications."""

    ENVOI = 0x41  #: §8 Envoi
    RETOUR = 0x42  #: §8 Retour
    REPETITION = 0x43  #: §8 Répétition
    GUIDE = 0x44  #: §8 Guide
    ANNULATION = 0x45  #: §8 Annulation
    SOMMAIRE = 0x46  #: §8 Sommaire
    CORRECTION = 0x47  #: §8 Correction
    SUITE = 0x48  #: §8 Suite
    CONNEXION_FIN = 0x49  #: §8 Connexion/Fin (to the modem)
    PCE_START = 0x4A  #: §9 request to start error correction
    PCE_STOP = 0x4B  #: §9 request to stop error correction
    TURNAROUND_1 = 0x4C  #: §9 turnaround request
    TURNAROUND_2 = 0x4D  #: §9 turnaround request
    OPPOSED = 0x50  #: §9 opposed state set
    TURNAROUND_DONE = 0x51  #: §9 modem turnaround finished
    CONNECTION = 0x53  #: §1 §9 connected / disconnected
    PT_CHANGED = 0x54  #: §9 PT line changed
    MODE_CHANGED = 0x56  #: §9 mode changed
    TRANSPARENCY_ACK = 0x57  #: §9 transparency acknowledged
    SPEED_SWITCH = 0x58  #: §9 modem speed switch started
    LINE_TO_MODEM = 0x59  #: §1 §9 line switched to the modem, or connection failed
    SCREEN_COPY = 0x5C  #: §9 screen copy started / ended
    RESET_DONE = 0x5E  #: §9 reset done
    MIXTE_ON = 0x70  #: §9 §10 Mixte on
    MIXTE_OFF = 0x71  #: §9 §10 Mixte off


class PRO1(IntEnum):
    """Commands ``ESC 39 x``."""

    DISCONNECT = 0x67  #: §9 drop the line
    CONNECT = 0x68  #: §9 act as Connexion/Fin
    RET1 = 0x6C  #: §1 send at 1200, receive at 75
    RET2 = 0x6D  #: §1 reverse of RET1
    OPPO = 0x6F  #: §1 opposed mode
    STATUS_TERMINAL = 0x70  #: §9 terminal status request
    STATUS_OPERATION = 0x72  #: §9 operating status request
    STATUS_SPEED = 0x74  #: §9 speed status request
    STATUS_PROTOCOL = 0x76  #: §9 protocol status request
    ENQROM = 0x7B  #: §9 identification request
    RESET = 0x7F  #: §9 reset


class PRO2(IntEnum):
    """Commands and replies ``ESC 3A x y``."""

    MODE_TELEINFO = 0x31  #: §9 Télétel -> Téléinformatique (with 7D)
    MODE_MIXTE = 0x32  #: §9 Vidéotex <-> Mixte (with 7D / 7E)
    ROUTE_STATUS = 0x62  #: §9 routing status request
    ACK_OFF = 0x64  #: §9 acknowledgement suppression
    ACK_ON = 0x65  #: §9 acknowledgement broadcast
    TRANSPARENCY = 0x66  #: §9 protocol transparency
    START = 0x69  #: §9 start a function (roll 43, lowercase 45, PCE 44)
    STOP = 0x6A  #: §9 stop a function
    PROG = 0x6B  #: §9 socket speed
    REP_STATUS_TERMINAL = 0x71  #: §9 terminal status reply
    KEYBOARD_STATUS = 0x72  #: §9 keyboard status request (with 59)
    REP_STATUS_OPERATION = 0x73  #: §9 operating status reply
    REP_STATUS_SPEED = 0x75  #: §9 speed status reply
    REP_STATUS_PROTOCOL = 0x77  #: §9 protocol status reply
    SCREEN_COPY = 0x7C  #: §9 screen copy to the socket


class PRO3(IntEnum):
    """Commands and replies ``ESC 3B x y z``."""

    ROUTE_OFF = 0x60  #: §9 routing off
    ROUTE_ON = 0x61  #: §9 routing on
    REP_ROUTE_STATUS = 0x63  #: §9 routing status reply
    START = 0x69  #: §9 start a keyboard function (extended 41, C0 cursor keys 43)
    STOP = 0x6A  #: §9 stop a keyboard function
    REP_KEYBOARD_STATUS = 0x73  #: §9 keyboard status reply


class ReplyCode(IntEnum):
    """Second byte after ESC of protocol replies a terminal sends."""

    PRO2 = 0x3A  #: §9 ``ESC 3A x y``
    PRO3 = 0x3B  #: §9 ``ESC 3B x y z``


class ModuleCode(IntEnum):
    """Routing module codes (emitter / receiver)."""

    SCREEN_TX = 0x50  #: §9 screen, emitter
    KEYBOARD_TX = 0x51  #: §9 keyboard, emitter
    MODEM_TX = 0x52  #: §9 modem, emitter
    SOCKET_TX = 0x53  #: §9 socket, emitter
    SCREEN_RX = 0x58  #: §9 screen, receiver
    KEYBOARD_RX = 0x59  #: §9 keyboard, receiver
    MODEM_RX = 0x5A  #: §9 modem, receiver
    SOCKET_RX = 0x5B  #: §9 socket, receiver


#: §9 ENQROM maker byte -> maker name.
ENQROM_MAKERS: dict[str, str] = {
    "A": "Matra",
    "B": "Radiotechnique (RTIC / Philips)",
    "C": "Télic-Alcatel",
}

#: §9 ENQROM type byte -> model name.
ENQROM_MODELS: dict[str, str] = {
    "b": "Minitel 1",
    "c": "Minitel 1",
    "r": "Minitel 1",
    "s": "Minitel 1",
    "u": "Minitel 1B",
    "v": "Minitel 2",
    "w": "Minitel 10B",
    "y": "Minitel 5",
    "z": "Minitel 12",
}
