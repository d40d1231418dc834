"""The page tree as loaded: pages made of ``.vdt`` files, their fields and links.

A :class:`PageTree` is a plain value built once by :func:`videotex.pagetree.load_tree`
and shared, read-only, by every call of the service: nothing here changes after
loading but the optimizer's choices (below). Its invariants, checked by the loader:

- every link (a key, a typed choice, the first, help and goodbye pages) names a page of
  the tree;
- fields fit on rows 1–24, columns 1–40, and do not overlap on a page;
- each page's :class:`Rendering` holds the screen its ``.vdt`` draws (decoded once by the
  emulator) and the bytes that draw it from any screen (:attr:`Rendering.wire`).

The one change after loading: a tree loaded with ``optimize=False`` has the optimizer's
decisions put in place page by page (:meth:`Rendering.settle`, run by
:attr:`PageTree.optimizer`), each as one value; until then a page sends its original
bytes, which draw the same screen.

Pages and renderings compare by identity (``eq=False``): a page is the same page only
when it is the same object, which lets the session cache its drawing by it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from videotex.codec import Frame, FunctionKey
from videotex.teletel import Field


class Decisions(Protocol):
    """What a tree holds of the optimizer still at work (:class:`.optimize.Optimizer`;
    named here, not imported, so the model depends on nothing of the pipeline)."""

    @property
    def done(self) -> bool: ...

    def step(self) -> bool: ...

    def run(self) -> None: ...

__all__ = [
    "LINKABLE_KEYS",
    "Choice",
    "Decisions",
    "FieldLook",
    "Messages",
    "PageTree",
    "PageTreeError",
    "Problem",
    "Rendering",
    "TreePage",
]

#: Function keys a page may link to another page, by their name in ``tree.toml``.
#: Connexion/Fin is not one of them: it always ends the call (the session's own rule).
LINKABLE_KEYS: Mapping[str, FunctionKey] = {
    "envoi": FunctionKey.ENVOI,
    "retour": FunctionKey.RETOUR,
    "suite": FunctionKey.SUITE,
    "sommaire": FunctionKey.SOMMAIRE,
    "guide": FunctionKey.GUIDE,
    "repetition": FunctionKey.REPETITION,
    "annulation": FunctionKey.ANNULATION,
    "correction": FunctionKey.CORRECTION,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a warning) in a tree, where a person fixes it."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PageTreeError(ValueError):
    """A tree that cannot be served; :attr:`problems` says every reason, each with the
    file and the line (``str()`` gives them one a line)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Messages:
    """The lines a page shows when a caller's answer is refused (at most 39 characters)."""

    #: Envoi with a typed choice the page does not list.
    wrong_choice: str = "Choix incorrect : recommencez"
    #: Envoi with a required field left empty.
    required: str = "Complétez ce champ puis ENVOI"


@dataclass(frozen=True, slots=True)
class Choice:
    """The bytes sent for a page and why: one value, replaced whole (never edited) when
    the optimizer decides, so that whoever reads :attr:`Rendering.choice` once holds a
    consistent set."""

    #: What is sent: the optimizer's re-encoding when it is smaller and shows the same
    #: screen, else the original.
    body: bytes
    #: The body is the re-encoding.
    reencoded: bool
    #: Why (the optimizer's verdict, or that it has not decided yet).
    reason: str
    #: :attr:`body` framed so that it draws the page from any screen, as
    #: :meth:`videotex.teletel.Page.wire` requires (see :mod:`videotex.pagetree.render`).
    wire: bytes
    #: The optimizer has decided (``False``: the original, waiting for its verdict).
    decided: bool = True


@dataclass(frozen=True, eq=False, slots=True)
class Rendering:
    """What a ``.vdt`` shows and the bytes the service sends for it.

    Everything but :attr:`choice` is fixed at loading. A tree loaded with
    ``optimize=False`` starts with every undecided page sending its original bytes
    (always a correct choice: they draw the page), and :meth:`settle` puts the
    optimizer's decision in place once, as one value: a reader sees the original or
    the decision, never half of one. :attr:`body`, :attr:`wire`... read the current
    choice each; read :attr:`choice` once for values that belong together."""

    #: The file's bytes.
    original: bytes
    #: The screen they draw on a fresh Minitel 1B (row 0 as the page left it, the
    #: terminal's own row-0 indicators blank; the cursor where it shows, if it shows).
    #: Never changed after loading; the same whatever the choice.
    frame: Frame
    #: The page writes on row 0, where the session's status line goes instead.
    writes_row0: bool
    #: The bytes sent and why (see :class:`Choice`).
    choice: Choice
    #: The original sends terminal commands (PRO1/PRO2/PRO3), as their first bytes.
    commands: tuple[str, ...] = ()

    @property
    def body(self) -> bytes:
        """What is sent (:attr:`Choice.body`)."""
        return self.choice.body

    @property
    def reencoded(self) -> bool:
        """The body is the re-encoding (:attr:`Choice.reencoded`)."""
        return self.choice.reencoded

    @property
    def reason(self) -> str:
        """Why (:attr:`Choice.reason`)."""
        return self.choice.reason

    @property
    def wire(self) -> bytes:
        """The body framed to draw from any screen (:attr:`Choice.wire`)."""
        return self.choice.wire

    @property
    def decided(self) -> bool:
        """The optimizer has decided (:attr:`Choice.decided`)."""
        return self.choice.decided

    def settle(self, choice: Choice) -> None:
        """Put the optimizer's decision in place of the original (once)."""
        if self.choice.decided:
            raise ValueError("this page's bytes are decided already")
        if not choice.decided:
            raise ValueError("settle() takes a decision")
        object.__setattr__(self, "choice", choice)  # one reference: atomic for readers


@dataclass(frozen=True, slots=True)
class FieldLook:
    """How a field's characters look: as characters typed there on the page would,
    taking the zone the page opened before the field (background, lining, masking: a
    Minitel keeps them for the characters that follow a delimiter or a mosaic), so
    that no delimiter has to be written over the page; dark letters on light zones."""

    fg: int = 7
    bg: int = 0
    underline: bool = False
    masked: bool = False


@dataclass(frozen=True, eq=False, slots=True)
class TreePage:
    """One page of the tree."""

    name: str
    #: The ``.vdt`` file, as found.
    vdt: Path
    rendering: Rendering
    #: Input fields, in Suite order.
    fields: tuple[Field, ...] = ()
    #: Names of the fields Envoi wants filled.
    required: frozenset[str] = frozenset()
    #: Where function keys lead (page names).
    keys: Mapping[FunctionKey, str] = field(default_factory=dict)
    #: Typed choices (as typed, uppercase when the field shows uppercase) -> page names.
    choices: Mapping[str, str] = field(default_factory=dict)
    #: Index in :attr:`fields` of the field choices are typed in (when there are choices).
    choice_field: int | None = None
    #: Row where a refusal message is shown.
    message_row: int = 24
    #: Line of the page's table in ``tree.toml``.
    line: int = 1
    #: How each field looks, in :attr:`fields` order.
    looks: tuple[FieldLook, ...] = ()


@dataclass(frozen=True, eq=False, slots=True)
class PageTree:
    """A whole service made of pages."""

    #: The service's name (status row: ``3615 NAME``).
    name: str
    #: The first page, also where Sommaire leads unless a page says otherwise.
    first: str
    pages: Mapping[str, TreePage]
    #: The ``tree.toml`` file it was loaded from.
    source: Path
    #: The page Guide shows from pages without their own Guide link (``None``: a
    #: standard help page).
    help: str | None = None
    #: The page shown when the call ends (``None``: a standard goodbye page).
    goodbye: str | None = None
    messages: Messages = field(default_factory=Messages)
    #: What deserves a look but does not stop the tree (unreachable pages, row 0...).
    warnings: tuple[Problem, ...] = ()
    #: The optimizer's decisions still to make (``load_tree(optimize=False)``): one
    #: :meth:`~.optimize.Optimizer.step` at a time; ``None`` when every page is decided.
    optimizer: Decisions | None = None

    def page(self, name: str) -> TreePage:
        """The page called ``name`` (``KeyError`` if none: the loader checked links)."""
        return self.pages[name]
