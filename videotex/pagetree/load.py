"""``load_tree(folder)``: read ``tree.toml`` and its ``.vdt`` pages, check everything,
decode every page once.

The format is documented in ``docs/page-trees.md``. Every problem is collected, not
only the first: a :class:`PageTreeError` lists them all, each with the file and the
line (``tomllib`` gives no line numbers: :class:`.tomllines.TomlLines` finds them in
the text). Problems that do not stop a tree (a page no key leads to, a page writing
on the status row) become :attr:`PageTree.warnings`.

Nothing but :class:`PageTreeError` leaves :func:`load_tree` for a bad tree, whatever
the TOML holds (a Hypothesis test feeds it random documents). The pages are decoded
only when the TOML is sound, since that is the slow part (see :mod:`.render`).
"""

from __future__ import annotations

import hashlib
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videotex.codec import Color, Frame, FunctionKey
from videotex.codec.charset import is_glyph
from videotex.teletel import DIGITS, LETTERS, Field

from .model import (
    LINKABLE_KEYS,
    FieldLook,
    Messages,
    PageTree,
    PageTreeError,
    Problem,
    Rendering,
    TreePage,
)
from .optimize import Optimizer
from .render import CACHE_NAME, Pending, RenderCache, prepare
from .tomllines import KeyPath, TomlLines

__all__ = ["ALLOWED", "TREE_FILE", "field_look", "load_tree"]

#: The file of a tree's folder that describes it.
TREE_FILE = "tree.toml"

#: ``allowed`` values of a field and the characters they let through.
ALLOWED: Mapping[str, frozenset[str]] = {
    "digits": DIGITS,
    "letters": LETTERS,
    "any": LETTERS | DIGITS | frozenset(string.punctuation),
}

_TOP_KEYS = ("name", "first", "help", "goodbye", "message_row", "messages", "pages")
_PAGE_KEYS = ("vdt", "fields", "choices", "choice", "keys", "message_row")
_FIELD_KEYS = ("name", "row", "col", "length", "allowed", "chars", "required", "filler",
               "upper")
_MESSAGE_KEYS = ("wrong_choice", "required")
_FIN_NAMES = ("connexion", "fin", "connexion_fin", "connexionfin", "cnx_fin", "cnxfin")
_LINE = re.compile(r"line (\d+)")


def load_tree(folder: Path | str, *, cache: bool = True, optimize: bool = True) -> PageTree:
    """The tree described by ``folder/tree.toml``, its pages decoded and checked.

    ``cache``: keep each page's decisions in memory and in ``folder/.pagetree-cache.json``
    (by the page's SHA-256), so that loading again costs reading, not decoding.
    ``optimize``: make the optimizer's decisions before returning; with ``False``, return
    as soon as every page can be served (its original bytes) and leave the decisions
    the cache did not know to :attr:`PageTree.optimizer` (:mod:`.optimize`).
    Raises :class:`PageTreeError` naming the file and the line of each problem."""
    folder = Path(folder)
    source = folder / TREE_FILE
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise PageTreeError([Problem(source, 1, f"cannot read: {exc.strerror or exc}")]) \
            from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise PageTreeError([Problem(source, line, "not UTF-8 text")]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _LINE.search(str(exc))
        line = int(found.group(1)) if found else 1
        raise PageTreeError([Problem(source, line, f"not valid TOML: {exc}")]) from None
    store = RenderCache(folder / CACHE_NAME) if cache else None
    return _Loader(folder, source, TomlLines(text), store).build(doc, optimize)


@dataclass
class _Draft:
    """A page as read from the TOML, before its links are checked and its .vdt decoded."""

    name: str
    vdt: Path
    data: bytes
    fields: list[Field] = field(default_factory=list)
    required: set[str] = field(default_factory=set)
    keys: dict[FunctionKey, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    choice_field: int | None = None
    message_row: int = 24
    #: (path in the TOML, what links, target page)
    links: list[tuple[KeyPath, str, str]] = field(default_factory=list)


class _Loader:
    def __init__(self, folder: Path, source: Path, lines: TomlLines,
                 cache: RenderCache | None) -> None:
        self.folder = folder
        self.source = source
        self.lines = lines
        self.cache = cache
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    # -- reporting ---------------------------------------------------------------------

    def error(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.source, self.lines.line_of(*path), message))

    def warn(self, path: KeyPath, message: str) -> None:
        self.warnings.append(Problem(self.source, self.lines.line_of(*path), message))

    # -- typed reading -----------------------------------------------------------------

    def unknown(self, table: Mapping[str, Any], allowed: Iterable[str], path: KeyPath,
                where: str) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                self.error((*path, key), f"{where}: unknown key {key!r} "
                           f"(known: {', '.join(allowed)})")

    def table(self, value: object, path: KeyPath, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.error(path, f"{what} must be a table, not {_kind(value)}")
        return None

    def text(self, table: Mapping[str, Any], key: str, path: KeyPath, where: str, *,
             required: bool = False, limit: int = 0) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.error(path, f"{where}: missing {key!r}")
            return None
        if not isinstance(value, str) or not value:
            self.error((*path, key), f"{where}: {key!r} must be a non-empty string, "
                       f"not {_kind(value)}")
            return None
        if limit and len(value) > limit:
            self.error((*path, key), f"{where}: {key!r} is {len(value)} characters long, "
                       f"at most {limit} fit")
            return None
        return value

    def number(self, table: Mapping[str, Any], key: str, path: KeyPath, where: str, *,
               low: int, high: int, default: int | None = None) -> int | None:
        value = table.get(key, default)
        if value is None:
            self.error(path, f"{where}: missing {key!r}")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error((*path, key), f"{where}: {key!r} must be a whole number, "
                       f"not {_kind(value)}")
            return None
        if not low <= value <= high:
            screen = " (off screen)" if key in ("row", "col", "message_row") else ""
            self.error((*path, key), f"{where}: {key!r} is {value}, outside "
                       f"{low}–{high}{screen}")
            return None
        return value

    def flag(self, table: Mapping[str, Any], key: str, path: KeyPath, where: str,
             default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.error((*path, key), f"{where}: {key!r} must be true or false, "
                       f"not {_kind(value)}")
            return default
        return value

    # -- the document --------------------------------------------------------------------

    def build(self, doc: dict[str, Any], optimize: bool) -> PageTree:
        self.unknown(doc, _TOP_KEYS, (), TREE_FILE)
        name = self.text(doc, "name", (), TREE_FILE, required=True)
        first = self.text(doc, "first", (), TREE_FILE, required=True)
        help_page = self.text(doc, "help", (), TREE_FILE)
        goodbye = self.text(doc, "goodbye", (), TREE_FILE)
        message_row = self.number(doc, "message_row", (), TREE_FILE, low=1, high=24,
                                  default=24) or 24
        messages = self.messages(doc.get("messages", {}))
        pages = self.table(doc.get("pages", {}), ("pages",), "'pages'") or {}
        if not pages and not self.problems:
            self.error((), f"{TREE_FILE}: no pages (add a [pages.NAME] table)")
        drafts: dict[str, _Draft] = {}
        for page_name, raw in pages.items():
            draft = self.page(page_name, raw, message_row)
            if draft is not None:
                drafts[page_name] = draft
        for key, target in (("first", first), ("help", help_page), ("goodbye", goodbye)):
            if target is not None and target not in pages:
                self.error((key,), f"{key} page {target!r} is not a page of the tree"
                           f"{_known(pages)}")
        for draft in drafts.values():
            for path, what, target in draft.links:
                if target not in pages:
                    self.error(path, f"page {draft.name!r}: {what} leads to page "
                               f"{target!r}, which the tree does not have{_known(pages)}")
        if self.problems:
            raise PageTreeError(self.problems)
        assert name is not None and first is not None
        built, pending = self.render_all(drafts)
        self.reachability(drafts, [first, help_page, goodbye])
        optimizer = Optimizer(pending, self.cache) if pending else None
        if optimizer is not None and optimize:
            optimizer.run()  # writes the cache after the last decision
            optimizer = None
        elif optimizer is None and self.cache is not None:
            self.cache.save()
        if self.cache is not None and self.cache.note:
            self.warnings.append(Problem(self.folder / CACHE_NAME, 1, self.cache.note))
        return PageTree(name=name, first=first, pages=built, source=self.source,
                        help=help_page, goodbye=goodbye, messages=messages,
                        warnings=tuple(self.warnings), optimizer=optimizer)

    def messages(self, value: object) -> Messages:
        table = self.table(value, ("messages",), "'messages'")
        if table is None:
            return Messages()
        self.unknown(table, _MESSAGE_KEYS, ("messages",), "[messages]")
        given = {k: self.text(table, k, ("messages",), "[messages]", limit=39)
                 for k in _MESSAGE_KEYS}
        return Messages(**{k: v for k, v in given.items() if v is not None})

    def page(self, name: str, value: object, message_row: int) -> _Draft | None:
        path: KeyPath = ("pages", name)
        where = f"page {name!r}"
        table = self.table(value, path, where)
        if table is None:
            return None
        self.unknown(table, _PAGE_KEYS, path, where)
        vdt = self.text(table, "vdt", path, where, required=True)
        data = self.read_vdt(vdt, (*path, "vdt"), where) if vdt is not None else None
        row = self.number(table, "message_row", path, where, low=1, high=24,
                          default=message_row)
        draft = _Draft(name, self.folder / (vdt or ""), data or b"",
                       message_row=row or message_row)
        self.fields(draft, table.get("fields", []), path, where)
        self.keys(draft, table.get("keys", {}), path, where)
        self.choices(draft, table, path, where)
        if draft.fields and FunctionKey.ENVOI not in draft.keys and not draft.choices:
            self.warn(path, f"{where} has fields but neither choices nor an envoi link: "
                      "Envoi is refused there")
        return draft if data is not None else None

    def read_vdt(self, vdt: str, path: KeyPath, where: str) -> bytes | None:
        file = self.folder / vdt
        try:
            return file.read_bytes()
        except FileNotFoundError:
            self.error(path, f"{where}: page file {str(file)!r} does not exist")
        except OSError as exc:
            self.error(path, f"{where}: page file {str(file)!r} is not readable: "
                       f"{exc.strerror or exc}")
        return None

    def fields(self, draft: _Draft, value: object, path: KeyPath, where: str) -> None:
        fpath: KeyPath = (*path, "fields")
        if not isinstance(value, list):
            self.error(fpath, f"{where}: 'fields' must be an array of tables "
                       f"([[pages.{draft.name}.fields]]), not {_kind(value)}")
            return
        for i, raw in enumerate(value):
            one = self.field(raw, (*fpath, i), f"{where}, field {i + 1}")
            if one is None:
                continue
            f, required = one
            self.place(draft, f, (*fpath, i))
            draft.fields.append(f)
            if required:
                draft.required.add(f.name)

    def field(self, value: object, path: KeyPath, where: str) -> tuple[Field, bool] | None:
        table = self.table(value, path, where)
        if table is None:
            return None
        self.unknown(table, _FIELD_KEYS, path, where)
        name = self.text(table, "name", path, where, required=True)
        if name is not None:
            where = f"{where} ({name!r})"
        row = self.number(table, "row", path, where, low=1, high=24)
        col = self.number(table, "col", path, where, low=1, high=40)
        length = self.number(table, "length", path, where, low=1, high=40)
        allowed = self.allowed(table, path, where)
        filler = table.get("filler", ".")
        if not isinstance(filler, str) or len(filler) != 1 or not is_glyph(filler):
            self.error((*path, "filler"), f"{where}: 'filler' must be one character a "
                       f"Minitel shows, not {filler!r}")
            filler = "."
        upper = self.flag(table, "upper", path, where, True)
        required = self.flag(table, "required", path, where, False)
        if None in (name, row, col, length, allowed):
            return None
        assert name is not None and row and col and length and allowed is not None
        if col + length - 1 > 40:
            self.error((*path, "length"), f"{where}: columns {col}–{col + length - 1} "
                       "run off screen (the last column is 40)")
            return None
        return Field(name, row, col, length, allowed, filler, upper), required

    def allowed(self, table: Mapping[str, Any], path: KeyPath,
                where: str) -> frozenset[str] | None:
        if "allowed" in table and "chars" in table:
            self.error((*path, "chars"), f"{where}: give 'allowed' or 'chars', not both")
            return None
        if "chars" in table:
            chars = self.text(table, "chars", path, where)
            return frozenset(chars) if chars is not None else None
        kind = table.get("allowed", "any")
        if kind not in ALLOWED:
            self.error((*path, "allowed"), f"{where}: 'allowed' is {kind!r}: one of "
                       f"{', '.join(ALLOWED)} (or list the characters with 'chars')")
            return None
        return ALLOWED[kind]

    def place(self, draft: _Draft, f: Field, path: KeyPath) -> None:
        for other in draft.fields:
            if other.name == f.name:
                self.error((*path, "name"), f"page {draft.name!r}: two fields are called "
                           f"{f.name!r}")
            elif other.row == f.row and f.col <= other.col + other.length - 1 \
                    and other.col <= f.col + f.length - 1:
                self.error(path, f"page {draft.name!r}: field {f.name!r} (row {f.row}, "
                           f"columns {f.col}–{f.col + f.length - 1}) overlaps field "
                           f"{other.name!r} (columns {other.col}–"
                           f"{other.col + other.length - 1})")

    def keys(self, draft: _Draft, value: object, path: KeyPath, where: str) -> None:
        kpath: KeyPath = (*path, "keys")
        table = self.table(value, kpath, f"{where}: 'keys'")
        for key, target in (table or {}).items():
            norm = _key_name(key)
            if norm in _FIN_NAMES:
                self.error((*kpath, key), f"{where}: Connexion/Fin always ends the call "
                           "(goodbye page), it cannot lead to a page")
            elif norm not in LINKABLE_KEYS:
                self.error((*kpath, key), f"{where}: unknown key name {key!r} (keys: "
                           f"{', '.join(LINKABLE_KEYS)})")
            elif not isinstance(target, str) or not target:
                self.error((*kpath, key), f"{where}: key {key!r} must name a page, "
                           f"not {_kind(target)}")
            elif LINKABLE_KEYS[norm] in draft.keys:
                self.error((*kpath, key), f"{where}: key {key!r} is linked twice")
            else:
                draft.keys[LINKABLE_KEYS[norm]] = target
                draft.links.append(((*kpath, key), f"key {key!r}", target))

    def choices(self, draft: _Draft, table: Mapping[str, Any], path: KeyPath,
                where: str) -> None:
        cpath: KeyPath = (*path, "choices")
        choices = self.table(table.get("choices", {}), cpath, f"{where}: 'choices'")
        if not choices:
            if "choice" in table:
                self.error((*path, "choice"), f"{where}: 'choice' names a field but the "
                           "page has no choices")
            return
        f = self.choice_field(draft, table, path, where)
        if f is None:
            return
        for typed, target in choices.items():
            key = typed.upper() if f.upper else typed
            if not isinstance(target, str) or not target:
                self.error((*cpath, typed), f"{where}: choice {typed!r} must name a page, "
                           f"not {_kind(target)}")
            elif not key or len(key) > f.length or any(not f.accepts(ch) for ch in key):
                self.error((*cpath, typed), f"{where}: choice {typed!r} cannot be typed in "
                           f"field {f.name!r} ({f.length} characters, "
                           f"{_allowed_name(f.allowed)})")
            elif key in draft.choices:
                self.error((*cpath, typed), f"{where}: choice {typed!r} is listed twice")
            else:
                draft.choices[key] = target
                draft.links.append(((*cpath, typed), f"choice {typed!r}", target))

    def choice_field(self, draft: _Draft, table: Mapping[str, Any], path: KeyPath,
                     where: str) -> Field | None:
        if not draft.fields:
            if "fields" not in table:  # a broken field was reported already
                self.error((*path, "choices"), f"{where} has choices but no field to type "
                           f"them in (add a [[pages.{draft.name}.fields]])")
            return None
        wanted = self.text(table, "choice", path, where)
        if wanted is None:
            draft.choice_field = 0
            return draft.fields[0]
        for i, f in enumerate(draft.fields):
            if f.name == wanted:
                draft.choice_field = i
                return f
        self.error((*path, "choice"), f"{where}: 'choice' names field {wanted!r}, which "
                   f"the page does not have")
        return None

    # -- after the checks ----------------------------------------------------------------

    def render_all(self, drafts: Mapping[str, _Draft]) -> tuple[dict[str, TreePage],
                                                                list[Pending]]:
        """The pages, each servable, and the optimizer's decisions still to make."""
        done: dict[str, Rendering] = {}
        pages: dict[str, TreePage] = {}
        pending: list[Pending] = []
        for name, d in drafts.items():
            digest = hashlib.sha256(d.data).hexdigest()
            rendering = done.get(digest)
            if rendering is None:
                try:
                    rendering, wait = prepare(d.data, self.cache)
                except ValueError as exc:
                    self.error(("pages", name, "vdt"), f"page {name!r}: page file "
                               f"{str(d.vdt)!r} cannot be decoded: {exc}")
                    continue
                done[digest] = rendering
                if wait is not None:
                    pending.append(wait)
            self.notes(name, d, rendering)
            pages[name] = TreePage(
                name=name, vdt=d.vdt, rendering=rendering, fields=tuple(d.fields),
                required=frozenset(d.required), keys=dict(d.keys), choices=dict(d.choices),
                choice_field=d.choice_field, message_row=d.message_row,
                line=self.lines.line_of("pages", name),
                looks=tuple(field_look(rendering.frame, f) for f in d.fields))
        if self.problems:
            raise PageTreeError(self.problems)
        return pages, pending

    def notes(self, name: str, d: _Draft, rendering: Rendering) -> None:
        for i, f in enumerate(d.fields):
            if not on_plain_ground(rendering.frame, f, field_look(rendering.frame, f)):
                self.warn(("pages", name, "fields", i), f"page {name!r}: field {f.name!r} "
                          f"(row {f.row}, columns {f.col}–{f.col + f.length - 1}) covers "
                          f"what {d.vdt.name} draws there: what is typed may change the "
                          "rest of the row; leave those cells blank in the page")
        path: KeyPath = ("pages", name, "vdt")
        if rendering.writes_row0:
            self.warn(path, f"page {name!r}: {d.vdt.name} writes on row 0, the status row: "
                      "it is cleared and the service's status line shown there instead")
        if rendering.commands:
            shown = ", ".join(rendering.commands[:3])
            self.warn(path, f"page {name!r}: {d.vdt.name} sends terminal commands "
                      f"({shown}): sent as they are, then the echo is set off again")

    def reachability(self, drafts: Mapping[str, _Draft], roots: list[str | None]) -> None:
        seen: set[str] = set()
        todo = [r for r in roots if r is not None]
        while todo:
            name = todo.pop()
            if name in seen or name not in drafts:
                continue
            seen.add(name)
            todo.extend(target for _path, _what, target in drafts[name].links)
        first = roots[0]
        for name in drafts:
            if name not in seen:
                self.warn(("pages", name), f"page {name!r} cannot be reached: no key or "
                          f"choice leads to it from the first page {first!r}")


#: Zone backgrounds light enough to want dark letters (Minitel grey levels 70-100 %).
_LIGHT = frozenset((Color.GREEN, Color.CYAN, Color.YELLOW, Color.WHITE))


def field_look(frame: Frame, f: Field) -> FieldLook:
    """How characters typed in ``f`` show on the page ``frame``: in the zone opened by
    the cell before the field (a delimiter, a mosaic, or a character inside the zone)."""
    if f.col == 1:
        return FieldLook()
    before = frame.cell(f.row, f.col - 1)
    underline = before.underline and before.kind == "char"
    fg = Color.BLACK if before.bg in _LIGHT else Color.WHITE
    return FieldLook(int(fg), before.bg, underline, before.masked)


def on_plain_ground(frame: Frame, f: Field, look: FieldLook) -> bool:
    """The page leaves the field's cells blank, in one zone (the field's look): typing
    there changes nothing else on the row."""
    for c in range(f.col, f.col + f.length):
        cell = frame.cell(f.row, c)
        blank = cell.char == " " if cell.kind == "char" else cell.sextants == 0
        if (not blank or cell.size != "normal" or cell.bg != look.bg
                or cell.masked != look.masked
                or (cell.kind == "char" and cell.underline != look.underline)):
            return False
    return True


def _key_name(key: str) -> str:
    """``Répétition``, ``REPETITION``, ``répétition`` -> ``repetition``."""
    plain = unicodedata.normalize("NFKD", key.strip().lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[\s/-]+", "_", plain)


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "an array", dict: "a table"}
    if isinstance(value, str) and not value:
        return "an empty string"
    return names.get(type(value), f"a {type(value).__name__}")


def _known(pages: Mapping[str, Any]) -> str:
    names = sorted(pages)
    if not names:
        return ""
    more = f", ... ({len(names)} pages)" if len(names) > 8 else ""
    return f" (pages: {', '.join(names[:8])}{more})"


def _allowed_name(allowed: frozenset[str]) -> str:
    for name, chars in ALLOWED.items():
        if allowed == chars:
            return name
    return "only " + "".join(sorted(allowed))
