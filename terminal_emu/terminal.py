"""The :class:`Minitel`: screen, parser, protocol and keyboard wired as a real terminal.

It is powered on and connected (status row column 39 shows ``C``), on the modem side:
``feed`` takes what the server sends, ``take_output`` returns what the terminal sent back
(protocol replies, keys). The routing table decides what reaches the screen: when
screen <- modem is cut, server bytes are still parsed (so protocol sequences still work) but
drawn on a scratch screen nobody sees; when screen <- keyboard is linked (or in the local
state with the modem loop), typed keys are echoed on screen.
"""

from __future__ import annotations

from typing import IO

from .codes import Module
from .keyboard import Key, KeyboardState, encode_key, encode_text
from .protocol import MODELS, Protocol
from .screen import Screen
from .stream import Stream

__all__ = ["Minitel"]


class Minitel:
    """A Minitel 1B (or 2) terminal emulator. See the package docstring for the API."""

    def __init__(self, model: str = "1B", *, link: str = "modem") -> None:
        """``model`` is ``"1B"`` (default: the Minitel 1B as its ROM behaves, §12) or
        ``"2"`` (a Minitel 2: the same, plus downloadable characters and insert mode).
        ``link`` is the side the server talks to ("modem" or "socket": PRO2 PROG is only
        honoured from the socket).
        """
        if model not in MODELS:
            raise ValueError(f"unknown Minitel model {model!r}: expected one of {sorted(MODELS)}")
        if link not in ("modem", "socket"):
            raise ValueError(f"unknown link {link!r}: expected 'modem' or 'socket'")
        self.model = MODELS[model]
        features = {"insert": self.model.insert, "drcs": self.model.drcs}
        self.screen = Screen(**features)
        self.protocol = Protocol(self.screen, self.model, link)
        self.protocol.set_connected(True)
        self._stream = Stream(self.screen, self.protocol)
        self._stream.after_protocol = self._route
        self._echo = Stream(self.screen)
        self._scratch = Screen(**features)
        self._keyboard = KeyboardState()
        self._out = bytearray()

    # -- wire ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the server; any split, any content."""
        self._stream.feed(data)
        self._out += self._stream.output
        self._stream.output.clear()

    def take_output(self) -> bytes:
        """Bytes the terminal sent back since the last call."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def _route(self) -> None:
        p = self.protocol
        shown = p.linked(Module.SCREEN, Module.MODEM) and p.enabled[Module.SCREEN]
        target = self.screen if shown else self._scratch
        if self._stream.screen is not target:
            self._stream.set_screen(target)

    # -- keyboard -------------------------------------------------------------------

    def type(self, text: str) -> bytes:
        """Type ``text``; returns the bytes sent (also queued for :meth:`take_output`)."""
        return self._send(encode_text(text))

    def press(self, key: Key) -> bytes:
        """Press a non-text key; returns the bytes sent (empty if the mode sends nothing)."""
        p = self.protocol
        data = encode_key(key, extended=p.extended, c0=p.c0_keys, teleinfo=p.teleinfo,
                          state=self._keyboard)
        return self._send(data)

    def _send(self, data: bytes) -> bytes:
        p = self.protocol
        if not p.enabled[Module.KEYBOARD]:
            return b""
        self._out += data
        local_loop = (not p.connected and p.linked(Module.MODEM, Module.KEYBOARD)
                      and p.linked(Module.SCREEN, Module.MODEM))
        if p.linked(Module.SCREEN, Module.KEYBOARD) or local_loop:
            self._echo.feed(data)
        return data

    # -- state -------------------------------------------------------------------

    @property
    def cursor(self) -> tuple[int, int]:
        """(row, col): rows 0-24, columns 1-40."""
        return self.screen.row, self.screen.col

    @property
    def cursor_visible(self) -> bool:
        """CON / COFF state."""
        return self.screen.cursor_visible

    @property
    def errors(self) -> int:
        """Malformed or ignored sequences seen so far."""
        return self._stream.errors + self.protocol.unknown + self._stream.loader.ignored

    # -- renders ---------------------------------------------------------------

    def snapshot(self) -> dict[str, object]:
        """The JSON screen of docs/cell-model.md."""
        from .render.json import snapshot

        return snapshot(self.screen)

    def render_text(self) -> str:
        """25 lines of 40 characters joined by newlines."""
        from .render.text import render_text

        return render_text(self.screen)

    def render_ansi(self) -> str:
        """The screen with 24-bit ANSI colours, status row first."""
        from .render.ansi import render_ansi

        return render_ansi(self.screen)

    def render_png(self, path_or_file: str | IO[bytes], *, grey: bool = False,
                   scale: int = 2) -> None:
        """Write a PNG of the screen (blink drawn steady)."""
        from .render.png import render_png

        render_png(self.screen, path_or_file, grey=grey, scale=scale)
