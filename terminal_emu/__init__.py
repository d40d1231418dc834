"""An independent Minitel 1B / 2 terminal emulator, written from the byte-level reference.

It imports nothing from ``videotex``: it is the other end of the wire.

>>> from terminal_emu import Minitel, Key
>>> m = Minitel()
>>> m.feed(b"\\x0cHELLO")
>>> m.render_text().splitlines()[1][:5]
'HELLO'
"""

from __future__ import annotations

from .disasm import disassemble
from .keyboard import Key
from .terminal import Minitel

__all__ = ["Key", "Minitel", "disassemble"]
