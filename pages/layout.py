"""Shared drawing for the results pages: a title band, key hints, a message row.

Pages are drawn with the codec's :class:`~videotex.codec.Frame` API only. The look follows
1990s Teletel results pages: a coloured band with a double-height title, plain text,
function keys written in inverse video, row 24 for key hints.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from videotex.codec import Color, Frame, Size

__all__ = [
    "PARIS",
    "band",
    "big",
    "format_eur",
    "format_hour",
    "format_when",
    "keys",
    "message",
    "status_text",
]

PARIS = ZoneInfo("Europe/Paris")
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
    "août", "septembre", "octobre", "novembre", "décembre",
)


def band(frame: Frame, title: str, subtitle: str = "", *, bg: Color = Color.BLUE) -> None:
    """A coloured band with a double-height title on rows 1–2, and a subtitle on row 3
    when there is one (without, the band is two rows: a third, empty, one costs a caller on
    a 1200-baud line about 40 ms for nothing)."""
    for row in (1, 2, 3) if subtitle else (1, 2):
        frame.fill(row, 1, 40, bg=bg)
    frame.text(2, 2, title[:38], fg=Color.YELLOW, bg=bg, size=Size.TALL)
    if subtitle:
        frame.text(3, 2, subtitle[:38], fg=Color.WHITE, bg=bg)


def keys(frame: Frame, row: int, *pairs: tuple[str, str]) -> None:
    """Key hints on one row: ``what`` then the key name in inverse video."""
    col = 1
    for what, key in pairs:
        if what:
            col = frame.text(row, col, what + " ", fg=Color.CYAN)
        col = frame.text(row, col, key, inverse=True)
        col += 1
        if col > 40:
            break


def big(frame: Frame, row: int, text: str, *, fg: Color = Color.WHITE) -> None:
    """A headline from column 2: double size when it fits (19 letters), else double height."""
    size = Size.DOUBLE if len(text) <= 19 else Size.TALL
    frame.text(row, 2, text[:38], fg=fg, size=size)


def message(frame: Frame, text: str, *, row: int = 21, fg: Color = Color.YELLOW) -> None:
    if text:
        frame.text(row, 2, text[:38], fg=fg)


def status_text(access_code: str, ctx: Any) -> str:
    """Row 0 of every service: the access code, the time connected and, when billed, the
    cost so far; a time-limit warning instead when one is due."""
    if ctx.warning:
        return f" {ctx.warning}"
    seconds = int(ctx.connected_seconds())
    line = f" {access_code}  {seconds // 60:02d}:{seconds % 60:02d}"
    if ctx.meter is not None:
        line += "  " + format_eur(ctx.meter.amount(ctx.clock.monotonic()))
    return line


def format_eur(amount: float | Decimal) -> str:
    """French money: ``0,34 €`` (a Minitel shows ``0,34 EUR``: it has no € glyph)."""
    return f"{amount:.2f}".replace(".", ",") + " €"


def format_hour(when: datetime) -> str:
    local = when.astimezone(PARIS)
    return f"{local.hour}h{local.minute:02d}"


def format_when(when: datetime, now: datetime | None = None) -> str:
    """``vendredi 8 juillet à 10h00``; ``aujourd'hui à 10h00`` when on the same day."""
    local = when.astimezone(PARIS)
    hour = format_hour(when)
    if now is not None and now.astimezone(PARIS).date() == local.date():
        return f"aujourd'hui à {hour}"
    day = _DAYS[local.weekday()]
    return f"{day} {local.day} {_MONTHS[local.month - 1]} à {hour}"
