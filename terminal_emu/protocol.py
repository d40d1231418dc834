"""PRO1/PRO2/PRO3 commands and the terminal's replies (§9), plus its routing table.

The emulator sits on the **modem** side by default: what :meth:`Protocol.pro` returns is
what goes back to the server. The routing table is modelled per receiving module as a set
of linked emitters plus an "enabled" bit, which is exactly what the status byte of
``1B 3B 63 <rx> <byte>`` reports (bit 3 socket, 2 modem, 1 keyboard, 0 screen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cells import BLANK, Cell
from .codes import PRO1, PRO2, PRO3, Module
from .screen import Screen

__all__ = ["MODELS", "Protocol", "TerminalModel"]


@dataclass(frozen=True)
class TerminalModel:
    """What ENQROM answers, and what the hardware supports (§9)."""

    name: str
    maker: int
    kind: int
    version: int
    speeds: frozenset[int] = field(default_factory=lambda: frozenset({0b010, 0b100, 0b110}))
    #: loads downloadable characters (``US 23``, ``ESC 28 20 42``): not the 1B (§12 v74)
    drcs: bool = False
    #: insert mode and ``CSI @`` (RTIC models): not the 1B (§12 vectors 72-73)
    insert: bool = False

    @property
    def enqrom(self) -> bytes:
        """The ``01 maker type version 04`` identification."""
        return bytes((0x01, self.maker, self.kind, self.version, 0x04))


#: §9 ENQROM examples: M1B "Cu<" (firmware F), Philips (RTIC) Minitel 2 "Bv9" (W).
MODELS: dict[str, TerminalModel] = {
    "1B": TerminalModel("1B", 0x43, 0x75, 0x3C),
    "2": TerminalModel("2", 0x42, 0x76, 0x39, frozenset({0b010, 0b100, 0b110, 0b111}),
                       drcs=True, insert=True),
}

_SPEED_1200 = 0b100


def _connected_routing() -> dict[int, set[int]]:
    """§9 connected defaults: screen <- modem, modem <- keyboard + socket, socket <- modem."""
    return {
        Module.SCREEN: {Module.MODEM},
        Module.KEYBOARD: set(),
        Module.MODEM: {Module.KEYBOARD, Module.SOCKET},
        Module.SOCKET: {Module.MODEM},
    }


class Protocol:
    """Terminal state driven by protocol sequences; replies are returned as bytes."""

    def __init__(self, screen: Screen, model: TerminalModel, link: str = "modem") -> None:
        self.screen = screen
        self.model = model
        self.link = link
        self.connected = True
        self.routing = _connected_routing()
        self.enabled = {m: True for m in Module}
        self.lowercase = False
        self.extended = False
        self.c0_keys = False
        self.pce = False
        self.mixte = False
        self.teleinfo = False
        self.speed = _SPEED_1200
        self.skip = 0
        self.unknown = 0

    # -- status bytes ------------------------------------------------------------

    def route_byte(self, rx: int) -> int:
        """``1 0 0 b3 b2 b1 b0`` for a receiving module (own bit = enabled)."""
        value = 0x40
        for m in self.routing[rx]:
            value |= 1 << m
        if self.enabled[Module(rx)]:
            value |= 1 << rx
        return value

    def operating_byte(self) -> int:
        """``1 0 0 ME PC RL F`` (§9)."""
        return (0x40 | (self.lowercase << 3) | (self.pce << 2)
                | (self.screen.roll << 1) | int(self.mixte))

    def keyboard_byte(self) -> int:
        """``1 0 0 0 C0 0 Eten`` (§9)."""
        return 0x40 | (self.c0_keys << 2) | int(self.extended)

    def speed_byte(self) -> int:
        """``1 E2E1E0 R2R1R0`` with equal send and receive speeds."""
        return 0x40 | (self.speed << 3) | self.speed

    def linked(self, rx: Module, tx: Module) -> bool:
        """Whether ``tx`` is routed to ``rx``."""
        return tx in self.routing[rx]

    # -- commands ------------------------------------------------------------------

    def pro(self, kind: int, args: list[int]) -> bytes:
        """Execute ``ESC 39/3A/3B args``; returns the reply (possibly empty)."""
        if self.teleinfo:
            return b""
        if kind == 0x39:
            return self._pro1(args[0])
        if kind == 0x3A:
            return self._pro2(args[0], args[1])
        return self._pro3(args[0], args[1], args[2])

    def _pro1(self, x: int) -> bytes:
        if x == PRO1.ENQROM:
            return self.model.enqrom
        if x == PRO1.STATUS_TERMINAL:
            return bytes((0x1B, 0x3A, 0x71, 0x5A if self.connected else 0x4A))
        if x == PRO1.STATUS_OPERATING:
            return bytes((0x1B, 0x3A, 0x73, self.operating_byte()))
        if x == PRO1.STATUS_SPEED:
            return bytes((0x1B, 0x3A, 0x75, self.speed_byte()))
        if x == PRO1.STATUS_PROTOCOL:
            return b"\x1b\x3a\x77\x43"
        if x == PRO1.RESET:
            self.reset()
            return b"\x13\x5e"
        if x == PRO1.DECONNEXION:
            self.set_connected(False)
            return b""
        if x == PRO1.CONNEXION:
            self.set_connected(True)
            return b""
        if x in (PRO1.RET1, PRO1.RET2, PRO1.OPPO):
            return b""
        self.unknown += 1
        return b""

    def _pro2(self, x: int, y: int) -> bytes:
        if x in (PRO2.START, PRO2.STOP):
            on = x == PRO2.START
            if y == 0x43:
                self.screen.roll = on
            elif y == 0x44:
                self.pce = on
            elif y == 0x45:
                self.lowercase = on
            else:
                self.unknown += 1
                return b""
            return bytes((0x1B, 0x3A, 0x73, self.operating_byte()))
        if x == PRO2.ROUTE_STATUS:
            rx = self._module(y)
            if rx is None:
                return b""
            return bytes((0x1B, 0x3B, 0x63, 0x58 + rx, self.route_byte(rx)))
        if x == PRO2.KEYBOARD_STATUS:
            return bytes((0x1B, 0x3B, 0x73, 0x59, self.keyboard_byte()))
        if x == PRO2.MIXTE and y in (0x7D, 0x7E):
            return self._mixte(y == 0x7D)
        if x == PRO2.TELEINFO and y == 0x7D:
            self.teleinfo = True
            return b"\x1b\x5b\x3f\x7a"
        if x == PRO2.PROG:
            return self._prog(y)
        if x == PRO2.TRANSPARENCY:
            self.skip = y & 0x7F
            return b"\x13\x57"
        if x in (PRO2.ACK_ON, PRO2.ACK_OFF):
            return b"\x1b\x3a\x77\x43"
        if x == PRO2.COPY:
            return b""  # the copy and its 13 5C notifications go to the socket
        self.unknown += 1
        return b""

    def _pro3(self, x: int, y: int, z: int) -> bytes:
        if x in (PRO3.ROUTE_ON, PRO3.ROUTE_OFF):
            rx, tx = self._module(y), self._module(z)
            if rx is None or tx is None:
                return b""
            if tx == rx:
                self.enabled[Module(rx)] = x == PRO3.ROUTE_ON
            elif x == PRO3.ROUTE_ON:
                self.routing[rx].add(tx)
            else:
                self.routing[rx].discard(tx)
            return bytes((0x1B, 0x3B, 0x63, 0x58 + rx, self.route_byte(rx)))
        if x in (PRO3.START, PRO3.STOP) and y == 0x59:
            on = x == PRO3.START
            if z == 0x41:
                self.extended = on
            elif z == 0x43:
                self.c0_keys = on
            else:
                self.unknown += 1
                return b""
            return bytes((0x1B, 0x3B, 0x73, 0x59, self.keyboard_byte()))
        self.unknown += 1
        return b""

    def _module(self, code: int) -> Module | None:
        if 0x50 <= code <= 0x53 or 0x58 <= code <= 0x5B:
            return Module(code & 0x03)
        self.unknown += 1
        return None

    def _prog(self, y: int) -> bytes:
        if self.link == "modem":
            return b""  # §9: ignored when it comes from the modem
        wanted = y & 0x07
        if wanted in self.model.speeds and (y >> 3) & 0x07 == wanted:
            self.speed = wanted
        return bytes((0x1B, 0x3A, 0x75, self.speed_byte()))

    def _mixte(self, on: bool) -> bytes:
        self.mixte = on
        self.screen.clear_for_mode()
        self.screen.roll = on
        self.lowercase = on
        self.extended = on
        return b"\x13\x70" if on else b"\x13\x71"

    def leave_teleinfo(self) -> bytes:
        """``CSI ? 7B``: back to Télétel, answered ``13 5E``."""
        if not self.teleinfo:
            return b""
        self.teleinfo = False
        return b"\x13\x5e"

    def set_connected(self, on: bool) -> None:
        """Connexion state: status row column 39 and the routing defaults (§1). A
        connection leaves empty black mosaics in row 00 columns 1-36, each one a
        background delimiter (§12 vector 67)."""
        self.connected = on
        self.routing = _connected_routing()
        if not on:
            # §9 local state: keyboard -> modem (looped back) -> screen; keyboard -> socket
            self.routing[Module.SCREEN] = {Module.MODEM, Module.SOCKET}
            self.routing[Module.SOCKET] = {Module.KEYBOARD}
        else:
            self.screen.cells[0][:36] = [BLANK] * 36
        self.screen.cells[0][38] = Cell(char="C" if on else "F", inverse=True)

    def reset(self) -> None:
        """PRO1 RESET: default routing, modes, attributes and keyboard (§9)."""
        self.routing = _connected_routing() if self.connected else self.routing
        self.enabled = {m: True for m in Module}
        self.lowercase = self.extended = self.c0_keys = self.pce = False
        self.mixte = False
        self.screen.reset()
