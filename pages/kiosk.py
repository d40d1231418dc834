"""The kiosk: the Teletel home page where a caller types a service code and Envoi.

As on 3615, the page asks for the service's name; Guide lists the services with their
price; Connexion/Fin here ends the call. Choosing a service ends this page's session with
the reason ``enter:CODE``: :class:`videotex.gateway.call.GatewayCall` then runs that
service, and brings the caller back here when they press Connexion/Fin inside it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from videotex.codec import Color, Frame, FunctionKey
from videotex.teletel import DIGITS, LETTERS, Action, Context, Field, Goto, Hangup, Page, Stay

from .info import GoodbyePage, goodbye_lines
from .layout import band, keys, message, status_text

__all__ = ["KioskHome", "KioskService", "ServiceList"]

CODE = Field("service", row=12, col=8, length=16, allowed=LETTERS | DIGITS)
#: Services listed per page of the Guide.
PER_PAGE = 8


@dataclass(frozen=True)
class _KioskConfig:
    access_code: str


class KioskHome(Page):
    name = "kiosk"
    fields = (CODE,)

    def draw(self, frame: Frame, ctx: Context) -> None:
        directory = ctx.service.directory
        band(frame, directory.name, f"{directory.number}  accès aux services", bg=Color.BLUE)
        frame.text(6, 2, "Tapez le nom du service", fg=Color.WHITE)
        col = frame.text(7, 2, "puis ", fg=Color.WHITE)
        frame.text(7, col, "ENVOI", inverse=True)
        frame.text(10, 2, "Nom du service :", fg=Color.GREEN)
        frame.text(15, 2, "Chaque service a son tarif : la liste", fg=Color.CYAN)
        col = frame.text(16, 2, "des services et leurs prix avec ", fg=Color.CYAN)
        frame.text(16, col, "GUIDE", inverse=True)
        message(frame, self.message)
        keys(frame, 24, ("Liste", "GUIDE"), ("Fin", "CNX/FIN"))

    def draw_key(self, ctx: Context) -> Hashable:
        d = ctx.service.directory
        return (d.name, d.number, self.message)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.SOMMAIRE:
            return Goto(ctx.service.help_page(self, ctx))
        if key is not FunctionKey.ENVOI:
            return None
        typed = self.values[0]
        if not typed.strip():
            self.message = "Tapez le nom d'un service, ou GUIDE"
            return Stay()
        entry = ctx.service.directory.lookup(typed)
        if entry is None:
            self.message = f"Service {typed.strip()[:16]} inconnu"
            self.clear_all()
            return Stay()
        return Hangup(f"enter:{entry.code}")


class ServiceList(Page):
    """Guide at the kiosk: the services, their name and price; Suite/Retour page through."""

    name = "services"
    help = ("Tapez le nom d'un service de la",
            "liste à l'accueil, puis ENVOI.")

    def __init__(self, back: Page, offset: int = 0) -> None:
        super().__init__()
        self.back = back
        self.offset = offset

    def draw(self, frame: Frame, ctx: Context) -> None:
        directory = ctx.service.directory
        listing = directory.listing()
        band(frame, "LES SERVICES", f"{directory.number}  {len(listing)} services",
             bg=Color.GREEN)
        row = 5
        for entry in listing[self.offset : self.offset + PER_PAGE]:
            frame.text(row, 2, entry.code[:16], fg=Color.YELLOW)
            frame.text(row, 19, entry.name[:21], fg=Color.WHITE)
            if entry.price_text:
                frame.text(row + 1, 19, entry.price_text[:21], fg=Color.CYAN)
            row += 2
        more = self.offset + PER_PAGE < len(listing)
        pairs: list[tuple[str, str]] = [("Accueil", "RETOUR")]
        if more:
            pairs.append(("Suite", "SUITE"))
        keys(frame, 24, *pairs)

    def draw_key(self, ctx: Context) -> Hashable:
        d = ctx.service.directory
        return (d.number, tuple(d.entries), self.offset)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        count = len(ctx.service.directory.entries)
        if key is FunctionKey.SUITE and self.offset + PER_PAGE < count:
            return Goto(ServiceList(self.back, self.offset + PER_PAGE))
        if key is FunctionKey.RETOUR and self.offset > 0:
            return Goto(ServiceList(self.back, self.offset - PER_PAGE))
        if key in (FunctionKey.RETOUR, FunctionKey.ENVOI, FunctionKey.GUIDE,
                   FunctionKey.SOMMAIRE):
            return Goto(self.back)
        return None


class KioskService:
    """The kiosk's side of the session engine's Service protocol."""

    def __init__(self, directory: Any, status_interval: float = 60.0) -> None:
        self.directory = directory
        self.config = _KioskConfig(directory.number)
        self._interval = status_interval

    def home(self, ctx: Context) -> Page:
        return KioskHome()

    def summary(self, ctx: Context) -> Page:
        return KioskHome()

    def help_page(self, page: Page, ctx: Context) -> Page:
        back = page.back if isinstance(page, ServiceList) else page
        return ServiceList(back)

    def goodbye(self, ctx: Context, reason: str) -> Page:
        return GoodbyePage(goodbye_lines(ctx, reason))

    def status_line(self, ctx: Context) -> str:
        return status_text(self.directory.number, ctx)

    def status_interval(self, ctx: Context) -> float:
        return self._interval
