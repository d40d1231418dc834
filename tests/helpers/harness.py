"""Drive a sans-IO session with the emulator as the caller's Minitel, no network.

Every byte the session sends is fed to an independent :class:`terminal_emu.Minitel`;
every key the Minitel sends goes back into the session; terminal replies (ENQROM...)
flow back too. Tests read what a person would see: the emulator's screen.
"""

from __future__ import annotations

from typing import Any

from terminal_emu import Key, Minitel
from videotex.teletel import Session, SessionConfig

__all__ = ["Caller"]


class Caller:
    def __init__(self, service: Any, clock: Any, *, model: str = "1B",
                 config: SessionConfig | None = None, session: Any = None) -> None:
        """``session``: an engine built already (a gateway call), instead of a
        :class:`Session` of ``service``."""
        self.minitel = Minitel(model)
        self.session = session if session is not None else Session(
            service, clock, caller="test", channel="test", config=config)
        self.sent = 0  # bytes the session sent in all
        self.last = b""  # bytes of the last exchange
        self.session.start()
        self.pump()

    def pump(self) -> None:
        self.last = b""
        for _ in range(10):  # terminal replies may prompt more output
            out = self.session.data_to_send()
            if not out:
                return
            self.last += out
            self.sent += len(out)
            self.minitel.feed(out)
            back = self.minitel.take_output()
            if back:
                self.session.receive_data(back)

    def type(self, text: str) -> None:
        self.minitel.type(text)
        self.session.receive_data(self.minitel.take_output())
        self.pump()

    def press(self, key: Key) -> None:
        self.minitel.press(key)
        self.session.receive_data(self.minitel.take_output())
        self.pump()

    def send_raw(self, data: bytes) -> None:
        self.session.receive_data(data)
        self.pump()

    @property
    def text(self) -> str:
        return self.minitel.render_text()

    def shows(self, words: str) -> bool:
        """``words`` is on screen, in normal or double width (each letter twice)."""
        text = self.text
        return words in text or "".join(ch * 2 for ch in words) in text

    def row(self, n: int) -> str:
        return self.text.splitlines()[n]

    def search(self, numero: str, birth: str) -> None:
        """The documented key sequence: number, Suite, birth date, Envoi."""
        self.type(numero)
        self.press(Key.SUITE)
        self.type(birth)
        self.press(Key.ENVOI)
