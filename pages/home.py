"""Home page: the service, its price stated plainly, and the search form.

The key sequence is a contract (tests and outside checks rely on it): the candidate
number field is focused first; Suite moves to the birth-date field (8 digits,
DDMMYYYY); Envoi submits.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

from videotex.codec import Color, Frame, FunctionKey
from videotex.teletel import Action, Context, Field, Goto, Page, Stay

from .layout import band, keys, message

__all__ = ["HomePage", "parse_birth"]

NUMBER = Field("numero", row=10, col=15, length=10)
BIRTH = Field("naissance", row=13, col=15, length=8)


def parse_birth(text: str) -> date | None:
    """DDMMYYYY → date, or None when it is not a real date."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


class HomePage(Page):
    name = "home"
    fields = (NUMBER, BIRTH)
    help = (
        "Votre numéro de candidat (10 chiffres)",
        "figure sur votre convocation.",
        "Tapez-le, puis SUITE, puis votre date",
        "de naissance en 8 chiffres (JJMMAAAA),",
        "par exemple 03071987, puis ENVOI.",
        "",
        "Pas encore publié ? L'heure officielle",
        "vous est donnée : inutile d'attendre",
        "en ligne.",
        "",
        "SOMMAIRE : calendrier des publications",
        "et recherche par nom.",
    )

    def draw(self, frame: Frame, ctx: Context) -> None:
        svc = ctx.service
        band(frame, "RÉSULTATS DES EXAMENS", f"{svc.config.access_code}  session {svc.config.session}")
        tariff = svc.tariff_text(ctx)
        frame.text(5, 2, tariff[0][:38], fg=Color.WHITE)
        if len(tariff) > 1:
            frame.text(6, 2, tariff[1][:38], fg=Color.CYAN)
        frame.text(9, 2, "Votre numéro de candidat :", fg=Color.GREEN)
        frame.text(12, 2, "Votre date de naissance (JJMMAAAA) :", fg=Color.GREEN)
        col = frame.text(15, 2, "Puis ", fg=Color.CYAN)
        frame.text(15, col, "ENVOI", inverse=True)
        message(frame, self.message)
        keys(frame, 23, ("Champ suivant", "SUITE"), ("Aide", "GUIDE"))
        keys(frame, 24, ("Calendrier, nom", "SOMMAIRE"), ("Fin", "CNX/FIN"))

    def draw_key(self, ctx: Context) -> Hashable:
        cfg = ctx.service.config
        return (cfg.access_code, cfg.session, ctx.service.tariff_text(ctx), self.message)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.SOMMAIRE:
            return Goto(ctx.service.summary_menu(ctx))
        if key is not FunctionKey.ENVOI:
            return None
        numero, birth_text = self.values
        if len(numero) != NUMBER.length:
            self.focus = 0
            self.message = f"Numéro : {NUMBER.length} chiffres, voir convocation"
            return Stay()
        if not birth_text:
            self.focus = 1
            self.message = "Date de naissance : 8 chiffres"
            return Stay()
        birth = parse_birth(birth_text)
        if birth is None:
            self.focus = 1
            self.message = "Date invalide : JJMMAAAA, ex. 03071987"
            return Stay()
        action: Action = ctx.service.search_number(ctx, numero, birth, back=self)
        return action
