"""Sans-IO videotex codec: codes, character sets, frames, encoder, keyboard decoder.

No module here does I/O or imports asyncio: push bytes in, get events out; hand
it a ``Frame``, get bytes back.
"""

from __future__ import annotations

from .charset import g1_byte, g1_sextants, glyph_bytes, to_glyphs
from .codes import C0, C1, PRO1, PRO2, PRO3, Color, ModuleCode, SepCode, Size
from .encoder import Encoder, drawable, encode_frame, encode_update
from .frame import Cell, Frame
from .keyboard import (
    CharEvent,
    CursorKey,
    CursorKeyEvent,
    Event,
    FunctionKey,
    FunctionKeyEvent,
    KeyboardDecoder,
    ProtocolReplyEvent,
)

__all__ = [
    "C0",
    "C1",
    "PRO1",
    "PRO2",
    "PRO3",
    "Cell",
    "CharEvent",
    "Color",
    "CursorKey",
    "CursorKeyEvent",
    "Encoder",
    "Event",
    "Frame",
    "FunctionKey",
    "FunctionKeyEvent",
    "KeyboardDecoder",
    "ModuleCode",
    "ProtocolReplyEvent",
    "SepCode",
    "Size",
    "drawable",
    "encode_frame",
    "encode_update",
    "g1_byte",
    "g1_sextants",
    "glyph_bytes",
    "to_glyphs",
]
