"""Line numbers for the keys of a TOML document (``tomllib`` gives values, not lines).

:class:`TomlLines` scans the text once and records, for every key path it meets
(``("pages", "menu", "fields", 0, "row")``), the line where it is written: a key
assignment, a table header, an array-of-tables element, an element of an inline
array. :meth:`TomlLines.line_of` answers with the line of the longest recorded prefix
of a path, so a missing key is reported at its table's header.

It runs on text ``tomllib`` has accepted; on anything else it records what it can and
stops quietly, since a line number is a help, not a verdict (the loader's checks work
on ``tomllib``'s values).
"""

from __future__ import annotations

import bisect
import contextlib
import tomllib

__all__ = ["KeyPath", "TomlLines"]

#: A key path: table and key names, and indexes of array elements.
KeyPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SPACE = " \t"


class _Stop(Exception):
    """The text is not what a valid document would hold here: stop scanning."""


class TomlLines:
    """Where each key of a TOML text is written."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self._lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}  # array-of-tables path -> last index
        # Lines found so far stay; the rest answer with their table's line. ValueError: a
        # quoted key tomllib refuses (the scan went astray).
        with contextlib.suppress(_Stop, IndexError, ValueError):
            self._document()

    def line_of(self, *path: str | int) -> int:
        """The line of ``path``, else of its longest recorded prefix, else 1."""
        p: KeyPath = tuple(path)
        while p:
            line = self._lines.get(p)
            if line is not None:
                return line
            p = p[:-1]
        return 1

    # -- scanning --------------------------------------------------------------------

    def _line(self, pos: int) -> int:
        return bisect.bisect_right(self._starts, pos)

    def _record(self, path: KeyPath, pos: int) -> None:
        self._lines.setdefault(path, self._line(pos))

    def _peek(self, n: int = 1) -> str:
        return self._text[self._pos:self._pos + n]

    def _skip(self, newlines: bool) -> None:
        """Skip blanks and comments (and line ends when ``newlines``)."""
        text, n = self._text, len(self._text)
        while self._pos < n:
            ch = text[self._pos]
            if ch in _SPACE or (newlines and ch in "\r\n"):
                self._pos += 1
            elif ch == "#":
                end = text.find("\n", self._pos)
                self._pos = n if end < 0 else end
            else:
                return

    def _document(self) -> None:
        current: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if self._pos >= len(self._text):
                return
            start = self._pos
            if self._peek(2) == "[[":
                self._pos += 2
                path = self._resolve(self._key())
                self._expect("]]")
                index = self._arrays.get(path, -1) + 1
                self._arrays[path] = index
                current = (*path, index)
                self._record(path, start)
                self._record(current, start)
            elif self._peek() == "[":
                self._pos += 1
                current = self._resolve(self._key())
                self._expect("]")
                self._record(current, start)
            else:
                self._keyval(current)

    def _resolve(self, path: KeyPath) -> KeyPath:
        """A header path with the current element of each array of tables on the way
        (``[pages.menu.fields.extra]`` is inside the last ``[[pages.menu.fields]]``)."""
        out: KeyPath = ()
        for i, part in enumerate(path):
            out = (*out, part)
            index = self._arrays.get(out)
            if index is not None and i < len(path) - 1:
                out = (*out, index)
        return out

    def _expect(self, token: str) -> None:
        self._skip(newlines=False)
        if self._peek(len(token)) != token:
            raise _Stop
        self._pos += len(token)

    def _key(self) -> KeyPath:
        """A (dotted) key: bare, "basic" or 'literal' parts."""
        parts: list[str | int] = []
        while True:
            self._skip(newlines=False)
            ch = self._peek()
            if ch == '"':
                end = self._string_end(self._pos + 1, '"', escapes=True)
                parts.append(tomllib.loads("k = " + self._text[self._pos:end])["k"])
                self._pos = end
            elif ch == "'":
                end = self._string_end(self._pos + 1, "'", escapes=False)
                parts.append(self._text[self._pos + 1:end - 1])
                self._pos = end
            else:
                start = self._pos
                while self._pos < len(self._text) and self._text[self._pos] in _BARE:
                    self._pos += 1
                if self._pos == start:
                    raise _Stop
                parts.append(self._text[start:self._pos])
            self._skip(newlines=False)
            if self._peek() != ".":
                return tuple(parts)
            self._pos += 1

    def _string_end(self, pos: int, quote: str, escapes: bool) -> int:
        """Index after the closing quote of a one-line string whose body starts at ``pos``."""
        text = self._text
        while True:
            ch = text[pos]
            if ch == "\n":
                raise _Stop
            if escapes and ch == "\\":
                pos += 2
                continue
            pos += 1
            if ch == quote:
                return pos

    def _keyval(self, table: KeyPath) -> None:
        start = self._pos
        path = (*table, *self._key())
        self._expect("=")
        self._record(path, start)
        self._skip(newlines=False)
        self._value(path)

    def _value(self, path: KeyPath) -> None:
        text = self._text
        three = self._peek(3)
        if three in ('"""', "'''"):
            end = text.find(three, self._pos + 3)
            while three == '"""' and end > 0 and _escaped(text, end):
                end = text.find(three, end + 1)
            if end < 0:
                raise _Stop
            self._pos = end + 3
            while self._peek() == three[0] and self._pos < end + 5:
                self._pos += 1  # up to two quotes may end the string itself
            return
        ch = self._peek()
        if ch in "\"'":
            self._pos = self._string_end(self._pos + 1, ch, escapes=ch == '"')
        elif ch == "[":
            self._array(path)
        elif ch == "{":
            self._inline_table(path)
        else:  # number, date, boolean: up to the next separator
            while self._pos < len(text) and text[self._pos] not in ",]}#\r\n":
                self._pos += 1

    def _array(self, path: KeyPath) -> None:
        self._pos += 1
        index = 0
        while True:
            self._skip(newlines=True)
            if self._peek() == "]":
                self._pos += 1
                return
            self._record((*path, index), self._pos)
            self._value((*path, index))
            index += 1
            self._skip(newlines=True)
            if self._peek() == ",":
                self._pos += 1
            elif self._peek() != "]":
                raise _Stop

    def _inline_table(self, path: KeyPath) -> None:
        self._pos += 1
        while True:
            self._skip(newlines=True)
            if self._peek() == "}":
                self._pos += 1
                return
            self._keyval(path)
            self._skip(newlines=True)
            if self._peek() == ",":
                self._pos += 1
            elif self._peek() != "}":
                raise _Stop


def _escaped(text: str, pos: int) -> bool:
    """The quote at ``pos`` follows an odd number of backslashes."""
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1
