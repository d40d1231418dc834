"""Guide (help) and the goodbye page."""

from __future__ import annotations

from videotex.codec import Color, Frame, FunctionKey
from videotex.teletel import Action, Context, Goto, Page

from .layout import band, keys

__all__ = ["GoodbyePage", "HelpPage", "goodbye_lines"]

GENERAL_HELP = (
    "3615 EXAMENS donne les résultats du",
    "bac, du brevet, des CAP, BEP, BTS et",
    "des épreuves anticipées.",
    "",
    "ENVOI      valider",
    "SUITE      champ ou page suivante",
    "RETOUR     champ ou page précédente",
    "CORRECTION effacer un caractère",
    "ANNULATION effacer le champ",
    "REPETITION réafficher la page",
    "SOMMAIRE   calendrier, accueil",
    "CNX/FIN    terminer l'appel",
)


def goodbye_lines(ctx: Context, reason: str) -> tuple[str, ...]:
    """What a goodbye page says: the call's length, why it ended when we ended it, thanks
    (every service of the server says goodbye alike)."""
    seconds = int(ctx.connected_seconds())
    lines = [f"Durée de l'appel : {seconds // 60} min {seconds % 60:02d} s"]
    if reason == "shutdown":
        lines += ["", "Le service redémarre : merci de", "rappeler dans un instant."]
    elif reason == "idle":
        lines += ["", "Appel terminé faute d'activité."]
    lines += ["", "Merci de votre appel."]
    return tuple(lines)


class HelpPage(Page):
    """Guide: the current page's help, then the keys. Any of Retour, Guide, Envoi goes back."""

    name = "help"

    def __init__(self, lines: tuple[str, ...], *, back: Page) -> None:
        super().__init__()
        self.lines = lines
        self.back = back

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "AIDE", ctx.service.config.access_code, bg=Color.GREEN)
        row = 5
        for line in self.lines[:17]:
            frame.text(row, 2, line[:38], fg=Color.WHITE)
            row += 1
        keys(frame, 24, ("Revenir", "RETOUR"), ("Accueil", "SOMMAIRE"))

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key in (FunctionKey.RETOUR, FunctionKey.GUIDE, FunctionKey.ENVOI):
            return Goto(self.back)
        return None


class GoodbyePage(Page):
    name = "goodbye"

    def __init__(self, lines: tuple[str, ...]) -> None:
        super().__init__()
        self.lines = lines

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "AU REVOIR", ctx.service.config.access_code)
        for i, line in enumerate(self.lines[:10]):
            frame.text(6 + i, 2, line[:38], fg=Color.WHITE)
