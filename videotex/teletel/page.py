"""Pages, input fields and actions: the vocabulary of a Teletel service.

A :class:`Page` draws itself into a :class:`~videotex.codec.Frame` and answers function
keys with an :class:`Action`. It holds its own small state (field values, focus, list
offset) and knows nothing of transports, bytes or time sources: the session gives it a
:class:`Context`.

Standard key behaviour lives in the session, not in pages (see ``session.py``):
Correction erases the last character of the focused field, Annulation clears it,
Suite/Retour move between fields (and reach the page when there is nowhere to move, for
list paging), Répétition redraws, Guide shows the page's help, Sommaire goes to the
service's summary, Connexion/Fin says goodbye. A page overrides :meth:`Page.on_key` only
for what is its own (Envoi, paging, choices).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from videotex.codec import Frame, FunctionKey

from .facts import CallFacts

if TYPE_CHECKING:
    from .clock import Clock

__all__ = [
    "DIGITS",
    "LETTERS",
    "Action",
    "Beep",
    "Context",
    "Field",
    "Goto",
    "Hangup",
    "Later",
    "Page",
    "Redraw",
    "Stay",
]

#: Allowed characters of a field (upper- and lowercase letters, accents, space, hyphen,
#: apostrophe for names; digits for numbers).
DIGITS = frozenset("0123456789")
LETTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    "àâäéèêëîïôöùûüçÀÂÄÉÈÊËÎÏÔÖÙÛÜÇ -'"
)


@dataclass(frozen=True, slots=True)
class Field:
    """An input zone: where it is, how long, which characters it takes."""

    name: str
    row: int
    col: int
    length: int
    allowed: frozenset[str] = DIGITS
    filler: str = "."
    #: Shown uppercase as typed (the Minitel keyboard is uppercase by default).
    upper: bool = True

    def __post_init__(self) -> None:
        if not (1 <= self.row <= 24):
            raise ValueError(f"field {self.name!r}: row {self.row} outside 1–24")
        if self.col < 1 or self.col + self.length - 1 > 40 or self.length < 1:
            raise ValueError(
                f"field {self.name!r}: columns {self.col}–{self.col + self.length - 1} "
                "do not fit in 1–40"
            )

    def accepts(self, ch: str) -> bool:
        return ch in self.allowed


# --- actions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stay:
    """Stay on the page; send what changed."""


@dataclass(frozen=True, slots=True)
class Redraw:
    """Stay on the page and redraw the whole screen (Répétition)."""


@dataclass(frozen=True, slots=True)
class Beep:
    """Refuse the key with a beep; nothing else changes."""


@dataclass(frozen=True, slots=True)
class Goto:
    """Show another page."""

    page: Page


@dataclass(frozen=True, slots=True)
class Hangup:
    """Show ``page`` (a goodbye) if given, then end the call."""

    reason: str
    page: Page | None = None


@dataclass(frozen=True, slots=True)
class Later:
    """Apply ``action`` after ``delay`` seconds (throttling); keys wait meanwhile, except
    Connexion/Fin. The current page shows ``message`` in the meantime."""

    delay: float
    action: Stay | Redraw | Beep | Goto | Hangup
    message: str = ""


Action = Stay | Redraw | Beep | Goto | Hangup | Later


@dataclass
class Context:
    """What a page may use: the service, the clock, and facts about this call."""

    service: Any
    clock: Clock
    caller: str = ""
    channel: str = ""
    connected_at: float = 0.0
    #: What happened during this call (lookups, results found, replies), for pages,
    #: billing and metrics.
    facts: CallFacts = field(default_factory=CallFacts)
    #: The billing meter of this call, when billing is on (set by the billing hooks).
    meter: Any = None
    #: A warning for the status row (time limits), set by the session.
    warning: str = ""
    #: Who pays (for per-caller limits and offers), as the transport knows it.
    identity: str = ""

    def connected_seconds(self) -> float:
        return max(0.0, self.clock.monotonic() - self.connected_at)


class Page:
    """Base page. Subclasses set ``fields`` and ``title`` and override ``draw``/``on_key``."""

    #: Page name, for logs and tests.
    name: str = "page"
    #: Input fields, in Suite order.
    fields: tuple[Field, ...] = ()
    #: Lines of help shown by Guide (``None``: the service's general help).
    help: tuple[str, ...] | None = None
    #: The drawing depends on the time or on the outside world (a publication status):
    #: every clock tick draws the page again. Otherwise a tick redraws the status row only.
    live: bool = False

    def __init__(self) -> None:
        self.values: list[str] = ["" for _ in self.fields]
        self.focus = 0
        #: A one-line message shown by the page (error or hint), drawn by ``draw``.
        self.message = ""

    # -- state helpers used by the session ------------------------------------------------

    def value(self, name: str) -> str:
        for i, f in enumerate(self.fields):
            if f.name == name:
                return self.values[i]
        raise KeyError(f"page {self.name!r} has no field {name!r}")

    @property
    def focused(self) -> Field | None:
        return self.fields[self.focus] if self.fields else None

    def type_char(self, ch: str) -> bool:
        """Append ``ch`` to the focused field; False when refused (not allowed, full)."""
        f = self.focused
        if f is None:
            return False
        if f.upper:
            ch = ch.upper() if len(ch.upper()) == 1 else ch
        if not f.accepts(ch) or len(self.values[self.focus]) >= f.length:
            return False
        self.values[self.focus] += ch
        self.message = ""
        return True

    def erase_char(self) -> bool:
        if self.focused is None or not self.values[self.focus]:
            return False
        self.values[self.focus] = self.values[self.focus][:-1]
        return True

    def clear_field(self) -> bool:
        if self.focused is None:
            return False
        self.values[self.focus] = ""
        return True

    def clear_all(self) -> None:
        self.values = ["" for _ in self.fields]
        self.focus = 0

    def move_focus(self, step: int) -> bool:
        """Suite (+1) / Retour (-1) between fields; False at either end."""
        target = self.focus + step
        if not self.fields or not (0 <= target < len(self.fields)):
            return False
        self.focus = target
        return True

    # -- what subclasses provide ----------------------------------------------------------

    def draw(self, frame: Frame, ctx: Context) -> None:
        """Draw the page (not the status row, not the fields: the session adds them)."""

    def draw_key(self, ctx: Context) -> Hashable | None:
        """Everything :meth:`draw` depends on, when that is a few values; ``None`` (the
        default) when it is not. A page that gives a key is drawn once per key for all
        callers, and the session starts each frame from a copy of that drawing."""
        return None

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        """Answer a function key; ``None`` lets the session apply the standard behaviour."""
        return None

    def on_enter(self, ctx: Context) -> None:
        """Called when the page becomes current."""

    def wire(self, ctx: Context) -> bytes | None:
        """The page's own videotex, to send verbatim when it is shown whole; ``None`` (the
        default): the session encodes :meth:`draw` as usual.

        Bytes given here must leave *any* screen showing exactly what :meth:`draw` draws
        on a blank :class:`~videotex.codec.Frame`: rows 1–24 as drawn, row 0 blank (the
        session writes its status row there), the cursor hidden. The session then adds
        the fields and the status row as a diff. Pages made of ``.vdt`` files use this
        (:mod:`videotex.pagetree`): a page author's bytes go out as they were made."""
        return None

    # -- rendering of fields ----------------------------------------------------------

    def draw_fields(self, frame: Frame) -> None:
        for f, value in zip(self.fields, self.values, strict=True):
            shown = value + f.filler * (f.length - len(value))
            frame.text(f.row, f.col, shown)
        focused = self.focused
        if focused is None:
            frame.cursor = None
        else:
            used = len(self.values[self.focus])
            frame.cursor = (focused.row, focused.col + min(used, focused.length - 1))


#: A factory of pages, used by services to name their entry points.
PageFactory = Callable[[], Page]
