"""``PageTreeService``: a Teletel service made of a :class:`PageTree`'s pages.

It gives the session engine what the :class:`videotex.teletel.session.Service`
protocol asks, and one :class:`TreeView` (a :class:`~videotex.teletel.Page`) per page
shown. A view draws the page's decoded screen and gives the session the page's own
bytes (:meth:`TreeView.wire`), so a page goes out as its author made it (or as the
smaller re-encoding the optimizer chose: at load time, or page by page afterwards for a
tree loaded with ``optimize=False``, the author's bytes until then; each view reads the
page's current choice once per sending); the session adds the fields and the status
row as a diff.

Keys, in order (docs/page-trees.md):

- Envoi: required fields first, then the typed choice (wrong: the tree's message),
  then the page's ``envoi`` link; else the session's standard (a beep).
- Suite/Retour move between fields; where there is nowhere to move, they follow the
  page's link; Retour on a page reached by Guide goes back to the page Guide was
  pressed on.
- Correction/Annulation erase; with nothing to erase, they follow the page's link.
- Guide: the page's ``guide`` link, else the tree's ``help`` page, else a standard help
  page; on a page reached by Guide, Guide goes back.
- Sommaire: the page's link, else the tree's first page. Répétition: the page's link,
  else the page again, whole. Connexion/Fin: the session's standard (goodbye).
"""

from __future__ import annotations

from collections.abc import Hashable

from pages.info import goodbye_lines
from pages.layout import status_text
from videotex.codec import Color, Frame, FunctionKey, Size
from videotex.codec.frame import ROWS
from videotex.teletel import Action, Context, Goto, Page, Redraw, Stay

from .model import FieldLook, PageTree, TreePage

__all__ = ["PageTreeService", "StandardGoodbye", "StandardHelp", "TreeView"]

_PLAIN = FieldLook()
_HELP = (
    ("ENVOI", "valider"),
    ("SUITE", "champ ou page suivante"),
    ("RETOUR", "champ ou page précédente"),
    ("CORRECTION", "effacer un caractère"),
    ("ANNULATION", "effacer le champ"),
    ("REPETITION", "réafficher la page"),
    ("SOMMAIRE", "début du service"),
    ("CNX/FIN", "terminer l'appel"),
)


class PageTreeService:
    """The service of one tree, shared by all its calls (it keeps no per-call state)."""

    def __init__(self, tree: PageTree, access_code: str = "", *,
                 status_interval: float = 60.0) -> None:
        """``access_code``: shown on the status row (default ``3615 NAME``, the tree's
        name); ``status_interval``: seconds between status-row refreshes."""
        self.tree = tree
        self.access_code = access_code or f"3615 {tree.name.upper()}"
        self._status_interval = status_interval

    def open(self, name: str, back: Page | None = None) -> TreeView:
        """A fresh view of page ``name`` (``back``: where Retour and Guide return)."""
        return TreeView(self, self.tree.page(name), back)

    # -- the session engine's interface ----------------------------------------------------

    def home(self, ctx: Context) -> Page:
        return self.open(self.tree.first)

    def summary(self, ctx: Context) -> Page:
        return self.open(self.tree.first)

    def help_page(self, page: Page, ctx: Context) -> Page:
        if self.tree.help is not None:
            return self.open(self.tree.help, back=page)
        return StandardHelp(self.access_code, back=page)

    def goodbye(self, ctx: Context, reason: str) -> Page:
        if self.tree.goodbye is not None:
            return self.open(self.tree.goodbye)
        return StandardGoodbye(self.access_code, goodbye_lines(ctx, reason))

    def status_line(self, ctx: Context) -> str:
        return status_text(self.access_code, ctx)

    def status_interval(self, ctx: Context) -> float:
        return self._status_interval


class TreeView(Page):
    """One caller's view of a tree page: its field values, focus and message."""

    def __init__(self, service: PageTreeService, spec: TreePage,
                 back: Page | None = None) -> None:
        self.fields = spec.fields
        super().__init__()
        self.name = spec.name
        self.spec = spec
        self.service = service
        #: Where Retour and Guide return on a page reached by Guide.
        self.back = back

    def draw(self, frame: Frame, ctx: Context) -> None:
        _blit(frame, self.spec.rendering.frame)
        if self.message:
            frame.text(self.spec.message_row, 1, f" {self.message[:39]}".ljust(40),
                       fg=Color.YELLOW)

    def draw_fields(self, frame: Frame) -> None:
        """The fields in the page's own colours where they sit (:class:`FieldLook`)."""
        super().draw_fields(frame)  # the values, and the cursor
        for f, value, look in zip(self.fields, self.values, self.spec.looks, strict=True):
            if look != _PLAIN:
                shown = value + f.filler * (f.length - len(value))
                frame.text(f.row, f.col, shown, fg=look.fg, bg=look.bg,
                           underline=look.underline, masked=look.masked)

    def draw_key(self, ctx: Context) -> Hashable | None:
        return (self.spec, self.message)  # the spec hashes by identity

    def wire(self, ctx: Context) -> bytes | None:
        # the page's bytes draw the page without a message: with one, encode the drawing
        return None if self.message else self.spec.rendering.wire

    def on_enter(self, ctx: Context) -> None:
        self.message = ""

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        target = self.spec.keys.get(key)
        if key is FunctionKey.ENVOI:
            return self._envoi(target)
        if key in (FunctionKey.SUITE, FunctionKey.RETOUR):
            if self.move_focus(+1 if key is FunctionKey.SUITE else -1):
                return Stay()
            if target is not None:
                return self._go(target)
            if key is FunctionKey.RETOUR and self.back is not None:
                return Goto(self.back)
            return None
        if key in (FunctionKey.CORRECTION, FunctionKey.ANNULATION):
            has_text = self.focused is not None and bool(self.values[self.focus])
            return self._go(target) if target is not None and not has_text else None
        if key is FunctionKey.GUIDE:
            if target is not None:
                return self._go(target, back=self.back or self)
            return Goto(self.back) if self.back is not None else None
        if key is FunctionKey.REPETITION and target is None:
            self.message = ""
            return Redraw()
        return self._go(target) if target is not None else None

    def _envoi(self, target: str | None) -> Action | None:
        spec = self.spec
        for i, f in enumerate(self.fields):
            if f.name in spec.required and not self.values[i]:
                self.focus = i
                self.message = self.service.tree.messages.required
                return Stay()
        index = spec.choice_field
        if spec.choices and index is not None:
            typed = self.values[index]
            chosen = spec.choices.get(typed)
            if chosen is not None:
                self.values[index] = ""
                return self._go(chosen)
            if not typed and target is not None:
                return self._go(target)
            self.values[index] = ""
            self.focus = index
            self.message = self.service.tree.messages.wrong_choice
            return Stay()
        return self._go(target) if target is not None else None

    def _go(self, name: str, back: Page | None = None) -> Action:
        return Goto(self.service.open(name, back))


def _blit(frame: Frame, page: Frame) -> None:
    """Rows 1–24 of ``page`` into ``frame`` (row 0 is the session's status row)."""
    for r in range(1, ROWS):
        frame._rows[r] = list(page._rows[r])  # cells are immutable: a row copy will do


def _band(frame: Frame, title: str, subtitle: str) -> None:
    for row in (1, 2, 3):
        frame.fill(row, 1, 40, bg=Color.BLUE)
    frame.text(2, 2, title, fg=Color.YELLOW, bg=Color.BLUE, size=Size.TALL)
    frame.text(3, 2, subtitle[:38], bg=Color.BLUE)


class StandardHelp(Page):
    """Guide on a tree without a help page: the keys. Retour, Guide or Envoi go back."""

    name = "help"

    def __init__(self, access_code: str, *, back: Page) -> None:
        super().__init__()
        self.access_code = access_code
        self.back = back

    def draw(self, frame: Frame, ctx: Context) -> None:
        _band(frame, "AIDE", self.access_code)
        for i, (key, what) in enumerate(_HELP):
            frame.text(6 + 2 * i, 2, key, inverse=True)
            frame.text(6 + 2 * i, 14, what, fg=Color.CYAN)
        frame.text(24, 2, "Pour revenir : ", fg=Color.CYAN)
        frame.text(24, 17, "RETOUR", inverse=True)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key in (FunctionKey.RETOUR, FunctionKey.GUIDE, FunctionKey.ENVOI):
            return Goto(self.back)
        return None


class StandardGoodbye(Page):
    """The end of a call on a tree without a goodbye page."""

    name = "goodbye"

    def __init__(self, access_code: str, lines: tuple[str, ...]) -> None:
        super().__init__()
        self.access_code = access_code
        self.lines = lines

    def draw(self, frame: Frame, ctx: Context) -> None:
        _band(frame, "AU REVOIR", self.access_code)
        for i, line in enumerate(self.lines[:10]):
            frame.text(6 + i, 2, line[:38])
