"""Downloadable characters (DRCS), the CEPT T/TE 06-01 form a Minitel 2 accepts.

Supported encoding (the one miedit writes, checked on ``miedit-minitel-wants-you.vdt``):

* ``US 23 20 20 20 42 49`` - header: the following loads go to G'0 (``42``) or G'1
  (``43``); the final byte (``49``) gives the 8x10 matrix.
* ``US 23 <c> 30`` - start loading at character ``c`` (0x21-0x7F). Then each character is
  14 pattern bytes 0x40-0x7F carrying 6 bits each (84 bits, the first 80 are 10 rows of 8
  pixels, most significant first), closed by ``30``; the next character follows.
* Any C0 byte ends the load and is executed.
* Use: ``ESC 28 20 42`` selects the downloaded set as G0 (``ESC 28 40`` returns to the
  standard set), ``ESC 29 20 43`` as G1 (``ESC 29 63``). US, RS and FF select the standard
  sets again (page authors re-designate after every US).

Not supported: the CEPT compression bytes 0x20-0x2F inside pattern data (counted and
ignored) and colour DRCS.
"""

from __future__ import annotations

__all__ = ["GLYPH_ROWS", "DrcsLoader", "DrcsStore"]

GLYPH_ROWS = 10


class DrcsStore:
    """Downloaded glyphs: ``(set, code) -> 10 rows of 8 bits``; set 1 = G'0, 2 = G'1."""

    def __init__(self) -> None:
        self.glyphs: dict[tuple[int, int], tuple[int, ...]] = {}

    def has(self, which: int, code: int) -> bool:
        """Whether ``code`` has been downloaded into set ``which``."""
        return (which, code) in self.glyphs

    def glyph(self, which: int, code: int) -> tuple[int, ...] | None:
        """The 10 pixel rows of a downloaded character, or None."""
        return self.glyphs.get((which, code))


class DrcsLoader:
    """Accumulates pattern bytes for one character at a time."""

    def __init__(self, store: DrcsStore) -> None:
        self.store = store
        self.target = 1
        self.code = 0x21
        self._bits = 0
        self._count = 0
        self.ignored = 0

    def header(self, byte: int) -> bool:
        """Feed a header byte after ``US 23 20``; returns True when the header is done."""
        if byte == 0x42:
            self.target = 1
        elif byte == 0x43:
            self.target = 2
        return byte >= 0x44

    def start(self, code: int) -> None:
        """Begin loading at ``code``."""
        self.code = code
        self._bits = self._count = 0

    def data(self, byte: int) -> None:
        """Feed a pattern byte (0x40-0x7F), the end-of-character byte 0x30, or other."""
        if byte == 0x30:
            self.finish()
            self.code += 1
        elif byte >= 0x40:
            if self._count < 84:
                self._bits = (self._bits << 6) | (byte & 0x3F)
                self._count += 6
        else:
            self.ignored += 1

    def finish(self) -> None:
        """Store the character being loaded (missing bits are blank)."""
        if self._count and 0x20 <= self.code <= 0x7F:
            bits = self._bits << (84 - self._count)
            rows = tuple((bits >> (84 - 8 * (i + 1))) & 0xFF for i in range(GLYPH_ROWS))
            self.store.glyphs[(self.target, self.code)] = rows
        self._bits = self._count = 0
