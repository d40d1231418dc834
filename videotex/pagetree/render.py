"""A ``.vdt`` page made ready to send: decoded once, the smaller right bytes chosen,
framed so that they draw the page from any screen; decisions cached.

Two steps, never at call time. :func:`prepare` decodes a page (its bytes emulated once on
a Minitel 1B: about 1.5 ms) into a rendering that serves the original bytes; :func:`settle`
runs the optimizer on it (:func:`videotex.cli.page.decide_shown`: re-encode, emulate the
re-encoding, and both on a Minitel 2 when the models may differ: about 3 ms more) and
puts the decision in place as one value (:meth:`Rendering.settle`). :func:`render` does
both. Decisions are kept by the SHA-256 of the page's bytes, in memory for the process
and in a JSON file next to ``tree.toml`` (:data:`CACHE_NAME`), a page the cache knows
is decided at once. The file also records a fingerprint of the code that made the
decisions (emulator, codec, optimizer, this module): when that code changes, the file is
ignored and written again.

Framing (:func:`frame_wire`). A page's bytes were made for a fresh Minitel; a caller's
Minitel shows the previous page, the status row and perhaps a cursor. So the body
goes out between:

- before: ``US 40 41 CAN LF`` (row 0 cleared: FF never clears it, and the page was
  decoded on a blank row 0), ``FF`` unless the body starts with one, ``COFF`` (a fresh
  Minitel hides its cursor);
- after: ``US 40 41 CAN LF`` again when the page wrote on row 0 or left its cursor
  there (row 0 is the status row: the session writes its status line there, so what
  the page wrote would otherwise stay beside it), ``COFF`` when the page showed its
  cursor (the session shows it where a field wants it).

The screen is then the page's rows 1–24 with row 0 blank and the cursor hidden, as
:meth:`videotex.teletel.Page.wire` promises.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videotex.cli.page import OptimizeResult, decide_shown, decode
from videotex.cli.pagescreen import Shown
from videotex.codec import Frame, Size
from videotex.codec.frame import BLANK_SPACE, COLS, ROWS, Cell

from .model import Choice, Rendering

__all__ = ["CACHE_NAME", "Pending", "RenderCache", "clear_memory", "code_fingerprint",
           "frame_wire", "prepare", "render", "settle"]

#: The decisions file written next to ``tree.toml``.
CACHE_NAME = ".pagetree-cache.json"
_FORMAT = 1
_CLEAR_ROW0 = b"\x1f\x40\x41\x18\x0a"  # US r0c1, CAN (spaces to column 40), LF back
_FF, _COFF = b"\x0c", b"\x14"
_COMMAND = re.compile(rb"\x1b[\x39\x3a\x3b][\x20-\x7f]{0,3}")
#: Decisions kept in memory, by SHA-256 of the page's bytes (cleared when full).
_MEMORY: dict[str, _Decoded] = {}
_MEMORY_MAX = 4096
_FINGERPRINT: str | None = None


@dataclass(frozen=True, slots=True)
class _Decoded:
    """What decoding and optimizing a page found (what the cache keeps)."""

    frame: Frame
    body: bytes
    reencoded: bool
    reason: str


def frame_wire(body: bytes, frame: Frame) -> tuple[bytes, bool]:
    """``body`` framed to draw ``frame`` from any screen (module docstring), and whether
    the page writes on row 0."""
    writes_row0 = any(c != BLANK_SPACE for c in frame.row(0))
    before = _CLEAR_ROW0 + (b"" if body[:1] == _FF else _FF) + _COFF
    after = b""
    if writes_row0 or (frame.cursor is not None and frame.cursor[0] == 0):
        after += _CLEAR_ROW0
    if frame.cursor is not None:
        after += _COFF
    return before + body + after, writes_row0


def _commands(data: bytes) -> tuple[str, ...]:
    return tuple(m.group().hex(" ").upper() for m in _COMMAND.finditer(data))


@dataclass(frozen=True, slots=True)
class Pending:
    """A page decoded and servable with its original bytes, waiting for the optimizer:
    what :func:`settle` needs to decide without emulating the page again."""

    digest: str
    data: bytes
    shown: Shown
    rendering: Rendering


def prepare(data: bytes, cache: RenderCache | None = None) -> tuple[Rendering, Pending | None]:
    """The rendering of a page's bytes, ready to serve (``ValueError`` when they cannot
    be decoded): decided when the cache knows the page, else sending the original and
    with the :class:`Pending` decision to :func:`settle`."""
    digest = hashlib.sha256(data).hexdigest()
    decoded = cache.get(digest) if cache is not None else None
    if decoded is not None:
        return _rendering(data, decoded.frame, _choice(data, decoded)), None
    frame, shown = decode(data)
    wire, _ = frame_wire(data, frame)
    waiting = Choice(data, False, "the original bytes (the optimizer has not decided yet)",
                     wire, decided=False)
    rendering = _rendering(data, frame, waiting)
    return rendering, Pending(digest, data, shown, rendering)


def settle(pending: Pending, cache: RenderCache | None = None) -> None:
    """Decide a pending page (:func:`videotex.cli.page.decide_shown`), remember the
    decision in ``cache`` and put it in place."""
    data = pending.data
    try:
        result = decide_shown(data, pending.shown)
    except ValueError as exc:
        result = OptimizeResult(data, False, f"cannot be re-encoded: {exc}")
    if result.optimized and len(result.data) < len(data):
        decoded = _Decoded(pending.rendering.frame, result.data, True, result.reason)
    else:
        reason = result.reason
        if result.optimized:  # the same screen in as many bytes: the author's bytes win
            reason = f"re-encoding is no smaller ({reason})"
        decoded = _Decoded(pending.rendering.frame, data, False, reason)
    if cache is not None:
        cache.put(pending.digest, decoded)
    pending.rendering.settle(_choice(data, decoded))


def render(data: bytes, cache: RenderCache | None = None) -> Rendering:
    """The rendering of a page's bytes, decided (``ValueError`` when they cannot be
    decoded)."""
    rendering, pending = prepare(data, cache)
    if pending is not None:
        settle(pending, cache)
    return rendering


def _choice(data: bytes, decoded: _Decoded) -> Choice:
    body = decoded.body if decoded.reencoded else data
    return Choice(body, decoded.reencoded, decoded.reason, frame_wire(body, decoded.frame)[0])


def _rendering(data: bytes, frame: Frame, choice: Choice) -> Rendering:
    return Rendering(original=data, frame=frame, writes_row0=frame_wire(b"", frame)[1],
                     choice=choice, commands=_commands(data))


# --- the cache -------------------------------------------------------------------------


def code_fingerprint() -> str:
    """SHA-256 of the code whose decisions the cache keeps (computed once a process)."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import terminal_emu
        import videotex.codec

        h = hashlib.sha256()
        roots = [Path(terminal_emu.__file__).parent, Path(videotex.codec.__file__).parent]
        files = [p for root in roots for p in sorted(root.rglob("*.py"))]
        files += sorted((Path(__file__).parents[1] / "cli").glob("page*.py"))
        files.append(Path(__file__))
        for path in files:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        _FINGERPRINT = h.hexdigest()
    return _FINGERPRINT


class RenderCache:
    """Decisions by page hash: the process's memory, then the file ``path`` (if any).

    :meth:`save` writes the file with the entries this load used, only when that
    changes it; :attr:`note` says why a file was ignored or not written."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.note = ""
        self._file: dict[str, Any] = {}
        self._used: dict[str, Any] = {}
        self._dirty = False
        if path is not None:
            self._file = self._read(path)

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self.note = f"cache {path.name} ignored: {exc}"
            return {}
        if (not isinstance(doc, dict) or doc.get("format") != _FORMAT
                or doc.get("code") != code_fingerprint() or not isinstance(doc.get("pages"), dict)):
            return {}  # made by other code: decide again
        return doc["pages"]

    def get(self, digest: str) -> _Decoded | None:
        hit = _MEMORY.get(digest)
        entry = self._file.get(digest)
        if hit is None and entry is not None:
            try:
                hit = _from_json(entry)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                self.note = f"cache {CACHE_NAME} entry {digest[:12]} ignored: {exc}"
                return None
            _remember(digest, hit)
        if hit is not None:
            self._used[digest] = entry if entry is not None else _to_json(hit)
            self._dirty = self._dirty or entry is None
        return hit

    def put(self, digest: str, decoded: _Decoded) -> None:
        _remember(digest, decoded)
        self._used[digest] = _to_json(decoded)
        self._dirty = True

    def save(self) -> None:
        """Write the file when it would change (new decisions, or pages gone)."""
        if self.path is None or not (self._dirty or set(self._file) != set(self._used)):
            return
        doc = {"format": _FORMAT, "code": code_fingerprint(), "pages": self._used}
        # one temporary name per process and cache: two loads of a folder may save at once
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.{id(self):x}.tmp")
        try:
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            self.note = f"cache {self.path} not written: {exc.strerror or exc}"
            tmp.unlink(missing_ok=True)


def _remember(digest: str, decoded: _Decoded) -> None:
    if len(_MEMORY) >= _MEMORY_MAX:
        _MEMORY.clear()
    _MEMORY[digest] = decoded


def clear_memory() -> None:
    """Forget the decisions kept in memory (benchmarks, tests)."""
    _MEMORY.clear()


def _cell_json(c: Cell) -> list[Any]:
    return [c.kind, c.char, c.sextants, c.separated, c.fg, c.bg, c.blink, c.inverse,
            c.underline, c.masked, c.size.value, c.part[0], c.part[1]]


def _cell(v: list[Any]) -> Cell:
    kind, char, sextants, separated, fg, bg, blink, inverse, underline, masked = v[:10]
    if kind not in ("char", "mosaic") or not (char is None or isinstance(char, str)):
        raise ValueError(f"bad cell {v!r}")
    return Cell(kind=kind, char=char, sextants=int(sextants), separated=bool(separated),
                fg=int(fg), bg=int(bg), blink=bool(blink), inverse=bool(inverse),
                underline=bool(underline), masked=bool(masked), size=Size(v[10]),
                part=(int(v[11]), int(v[12])))


def _to_json(d: _Decoded) -> dict[str, Any]:
    """A frame as a palette of its distinct cells and rows of runs of indexes: small,
    and quick to read back (one Cell per distinct cell, not per cell)."""
    palette: dict[Cell, int] = {}
    rows = []
    for row in d.frame.cells:  # runs: [cell index, count, cell index, count...]
        runs: list[int] = []
        for c in row:
            i = palette.setdefault(c, len(palette))
            if runs and runs[-2] == i:
                runs[-1] += 1
            else:
                runs += (i, 1)
        rows.append(runs)
    return {
        "cells": [_cell_json(c) for c in palette],
        "rows": rows,
        "cursor": list(d.frame.cursor) if d.frame.cursor is not None else None,
        "body": base64.b64encode(d.body).decode("ascii") if d.reencoded else None,
        "reason": d.reason,
    }


def _from_json(entry: dict[str, Any]) -> _Decoded:
    palette = [_cell(v) for v in entry["cells"]]
    rows = []
    for runs in entry["rows"]:
        row: list[Cell] = []
        for k in range(0, len(runs), 2):
            row += [palette[runs[k]]] * runs[k + 1]
        rows.append(row)
    if len(rows) != ROWS or any(len(r) != COLS for r in rows):
        raise ValueError("frame is not 25 rows of 40 cells")
    frame = Frame()
    frame._rows = rows
    cursor = entry["cursor"]
    frame.cursor = (int(cursor[0]), int(cursor[1])) if cursor is not None else None
    body = entry["body"]
    reencoded = body is not None
    return _Decoded(frame, base64.b64decode(body) if reencoded else b"", reencoded,
                    str(entry["reason"]))
