"""Serial framing of a Minitel line: 7 data bits, even parity, 1 stop bit (7E1, §1).

A real UART does 7E1 itself (``Parity.HARDWARE``); a Linux pty cannot (it silently keeps
8N1), so on ptys the port is opened 8N1 and the parity bit is made and checked here
(``Parity.SOFTWARE``): on output bit 7 carries the even-parity bit of the 7 data bits;
on input a byte whose 8 bits have odd weight is a parity error and becomes SUB (0x1A), as
the Minitel does; good bytes lose bit 7.

In hardware mode the port runs with ``INPCK | PARMRK``: the kernel marks a byte received
with a parity or framing error as ``FF 00 x`` and a real ``FF`` as ``FF FF``;
:class:`HardwareDecoder` turns the marks into SUB, across any split of the reads.

Sans-IO: bytes in, bytes out, no ports, no clocks. Both directions use
:meth:`bytes.translate` with 256-entry tables, so the cost per byte is negligible.
"""

from __future__ import annotations

import enum

__all__ = [
    "SUB",
    "HardwareDecoder",
    "LineCodec",
    "Parity",
    "SoftwareCodec",
    "add_parity",
    "check_parity",
    "parity_errors",
]

#: §1: a parity or framing error is shown and forwarded as SUB.
SUB = 0x1A


class Parity(enum.Enum):
    """Where the 7E1 parity bit is made and checked."""

    #: §1 7E1 done here: port opened 8N1, bit 7 carries the parity (ptys).
    SOFTWARE = "software"
    #: §1 7E1 done by the UART (CS7 PARENB), errors marked by the kernel (PARMRK).
    HARDWARE = "hardware"


def _even(byte: int) -> int:
    """The 7-bit value with bit 7 set when needed to make the weight even."""
    value = byte & 0x7F
    return value | (0x80 if bin(value).count("1") & 1 else 0)


_ADD = bytes(_even(b) for b in range(256))
_CHECK = bytes((b & 0x7F) if bin(b).count("1") % 2 == 0 else SUB for b in range(256))
#: SUB itself has an odd 7-bit weight, so on the wire it is always 0x9A.
_WIRE_SUB = _even(SUB)


def add_parity(data: bytes) -> bytes:
    """Bytes as they go on a 7E1 line made in software (bit 7 of the input is ignored)."""
    return data.translate(_ADD)


def check_parity(data: bytes) -> bytes:
    """7-bit bytes from a software 7E1 line; a byte with a parity error becomes SUB."""
    return data.translate(_CHECK)


def parity_errors(wire: bytes) -> int:
    """How many bytes of ``wire`` (as received) fail the even-parity check."""
    return wire.translate(_CHECK).count(SUB) - wire.count(_WIRE_SUB)


class LineCodec:
    """Identity framing (hardware 7E1 without error marks, or tests)."""

    parity = Parity.HARDWARE

    def encode(self, data: bytes) -> bytes:
        """Bytes for the line."""
        return data

    def decode(self, data: bytes) -> bytes:
        """Videotex bytes from what the line delivered."""
        return data

    #: Parity errors seen so far on input.
    errors: int = 0


class SoftwareCodec(LineCodec):
    """7E1 on an 8N1 port: parity added on output, checked and stripped on input."""

    parity = Parity.SOFTWARE

    def __init__(self) -> None:
        self.errors = 0

    def encode(self, data: bytes) -> bytes:
        return add_parity(data)

    def decode(self, data: bytes) -> bytes:
        out = check_parity(data)
        if SUB in out:
            self.errors += out.count(SUB) - data.count(_WIRE_SUB)
        return out


class HardwareDecoder(LineCodec):
    """7E1 done by the UART with ``PARMRK``: ``FF 00 x`` → SUB, ``FF FF`` → ``FF``.

    A mark split across two reads is kept until the rest arrives (at most two bytes).
    """

    parity = Parity.HARDWARE

    def __init__(self) -> None:
        self.errors = 0
        self._held = b""

    def decode(self, data: bytes) -> bytes:
        data = self._held + data
        self._held = b""
        if 0xFF not in data:
            return data
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            j = data.find(0xFF, i)
            if j < 0:
                out += data[i:]
                break
            out += data[i:j]
            if j + 1 >= n:
                self._held = data[j:]
                break
            if data[j + 1] == 0xFF:
                out.append(0xFF)
                i = j + 2
            elif data[j + 1] == 0x00:
                if j + 2 >= n:
                    self._held = data[j:]
                    break
                out.append(SUB)
                self.errors += 1
                i = j + 3
            else:  # a lone FF cannot come from PARMRK; keep it as data
                out.append(0xFF)
                i = j + 1
        return bytes(out)
