"""A candidate's result, and the two ways of not having one yet.

- :class:`ResultPage`: by number and birth date the candidate sees everything, ajourné and
  mention included; by name (``full=False``) the mention is never shown (marks and
  mentions are not public data, see the domain reference).
- :class:`NotPublishedPage`: the official hour for that exam and académie, so that nobody
  pays to wait blindly.
- :class:`NotFoundPage`: a clear message and help.

Retour goes back to the search that led here, with what was typed kept; Sommaire to the
home page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from videotex.codec import Color, Frame, FunctionKey, Size
from videotex.teletel import Action, Context, Goto, Page

from .layout import band, big, format_when, keys

__all__ = ["NotFoundPage", "NotPublishedPage", "PurchasePage", "RefusedPage", "ResultPage"]


class _Back(Page):
    """A page that Retour leaves for the page it came from."""

    def __init__(self, back: Page | None) -> None:
        super().__init__()
        self.back = back

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.RETOUR and self.back is not None:
            return Goto(self.back)
        return None


class ResultPage(_Back):
    name = "result"
    help = (
        "Ce résultat est celui transmis par",
        "le service des examens de l'académie.",
        "",
        "RETOUR : une autre recherche",
        "SOMMAIRE : page d'accueil",
    )

    def __init__(self, result: Any, *, full: bool, back: Page | None) -> None:
        super().__init__(back)
        self.result = result
        self.full = full

    def draw(self, frame: Frame, ctx: Context) -> None:
        r = self.result
        svc = ctx.service
        band(frame, f"RÉSULTAT {r.session}")
        rows = (
            ("Nom", r.nom),
            ("Prénom", r.prenom),
            ("Examen", svc.exam_short(r.exam)),
            ("Série", r.serie),
            ("Académie", svc.academie_name(r.academie)),
        )
        for i, (label, value) in enumerate(rows):
            frame.text(5 + i, 2, f"{label:<9}:", fg=Color.CYAN)
            frame.text(5 + i, 13, str(value)[:28], fg=Color.WHITE)
        outcome = r.resultat
        colour = Color.GREEN if outcome.admitted else Color.YELLOW
        big(frame, 12, outcome.label_fr, fg=colour)
        if self.full and r.mention is not None:
            frame.text(14, 2, f"Mention {r.mention.label}", fg=Color.WHITE, size=Size.TALL)
        where = ", ".join(x for x in (r.etablissement, f"jury {r.jury}" if r.jury else "") if x)
        if where:
            frame.text(17, 2, where[:38], fg=Color.CYAN)
        if not self.full:
            frame.text(20, 2, "Mention : avec votre numéro seulement", fg=Color.MAGENTA)
        keys(frame, 24, ("Autre recherche", "RETOUR"), ("Accueil", "SOMMAIRE"))


class NotPublishedPage(_Back):
    name = "not-published"
    live = True  # "today at 14:00" becomes a date at midnight
    help = (
        "Les résultats de chaque examen sont",
        "publiés à l'heure officielle fixée",
        "par l'académie, pas avant.",
        "",
        "Rappelez après l'heure indiquée :",
        "chaque minute en ligne est facturée.",
    )

    def __init__(self, exam: str, academie: str, scheduled_at: datetime | None,
                 *, back: Page | None) -> None:
        super().__init__(back)
        self.exam = exam
        self.academie = academie
        self.scheduled_at = scheduled_at

    def draw(self, frame: Frame, ctx: Context) -> None:
        svc = ctx.service
        band(frame, "PAS ENCORE PUBLIÉ", svc.exam_name(self.exam), bg=Color.MAGENTA)
        frame.text(5, 2, "Académie de " + svc.academie_name(self.academie))
        frame.text(7, 2, "Les résultats ne sont pas encore", fg=Color.WHITE)
        frame.text(8, 2, "publiés.", fg=Color.WHITE)
        if self.scheduled_at is not None:
            frame.text(10, 2, "Publication officielle :", fg=Color.CYAN)
            frame.text(12, 2, format_when(self.scheduled_at, ctx.clock.wall())[:38],
                       fg=Color.YELLOW, size=Size.TALL)
        else:
            frame.text(10, 2, "L'heure de publication n'est pas", fg=Color.CYAN)
            frame.text(11, 2, "encore fixée par l'académie.", fg=Color.CYAN)
        frame.text(15, 2, "Inutile de rester en ligne : chaque", fg=Color.GREEN)
        frame.text(16, 2, "minute est facturée. Rappelez après", fg=Color.GREEN)
        frame.text(17, 2, "l'heure indiquée.", fg=Color.GREEN)
        keys(frame, 23, ("Autre recherche", "RETOUR"))
        keys(frame, 24, ("Accueil", "SOMMAIRE"), ("Fin", "CNX/FIN"))


class NotFoundPage(_Back):
    name = "not-found"
    help = (
        "Aucun résultat ne correspond à ce",
        "numéro et cette date de naissance.",
        "",
        "Vérifiez le numéro de candidat sur",
        "votre convocation (10 chiffres) et",
        "la date de naissance (JJMMAAAA).",
        "",
        "RETOUR pour corriger votre saisie.",
    )

    def __init__(self, numero: str, birth_text: str, *, back: Page | None) -> None:
        super().__init__(back)
        self.numero = numero
        self.birth_text = birth_text

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "AUCUN RÉSULTAT", "", bg=Color.RED)
        frame.text(5, 2, "Aucun résultat publié pour :", fg=Color.WHITE)
        frame.text(7, 2, f"Numéro     {self.numero}", fg=Color.YELLOW)
        b = self.birth_text
        frame.text(8, 2, f"Né(e) le   {b[:2]}/{b[2:4]}/{b[4:]}", fg=Color.YELLOW)
        frame.text(10, 2, "Vérifiez votre numéro de candidat", fg=Color.CYAN)
        frame.text(11, 2, "(convocation) et votre date de", fg=Color.CYAN)
        frame.text(12, 2, "naissance.", fg=Color.CYAN)
        keys(frame, 22, ("Aide", "GUIDE"))
        keys(frame, 23, ("Corriger", "RETOUR"))
        keys(frame, 24, ("Accueil", "SOMMAIRE"), ("Fin", "CNX/FIN"))


class RefusedPage(_Back):
    """Too many failed lookups from this call or this address (enumeration guard)."""

    name = "refused"
    help = (
        "Trop de recherches sans résultat ont",
        "été faites depuis cet appel ou cette",
        "ligne. Vérifiez votre convocation et",
        "rappelez plus tard.",
    )

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "RECHERCHE REFUSÉE", "", bg=Color.RED)
        frame.text(5, 2, "Trop de recherches infructueuses", fg=Color.WHITE)
        frame.text(6, 2, "depuis cet appel ou cette ligne.", fg=Color.WHITE)
        frame.text(8, 2, "Vérifiez le numéro sur votre", fg=Color.CYAN)
        frame.text(9, 2, "convocation et rappelez plus tard.", fg=Color.CYAN)
        keys(frame, 24, ("Accueil", "SOMMAIRE"), ("Fin", "CNX/FIN"))


class PurchasePage(_Back):
    """Per-consultation channels: the price of this view, confirmed with Envoi."""

    name = "purchase"
    help = (
        "Sur ce service, chaque consultation",
        "d'un résultat est payante : le prix",
        "est affiché avant, et rien n'est",
        "facturé sans votre ENVOI.",
        "",
        "Un second achat du même résultat",
        "donne plusieurs consultations.",
    )

    def __init__(self, result: Any, quote: Any, *, back: Page | None) -> None:
        super().__init__(back)
        self.result = result
        self.quote = quote

    def draw(self, frame: Frame, ctx: Context) -> None:
        from .layout import format_eur

        band(frame, "CONSULTATION", "", bg=Color.MAGENTA)
        frame.text(5, 2, "Votre résultat est disponible.", fg=Color.WHITE)
        price = format_eur(self.quote.price)
        if self.quote.kind == "first":
            frame.text(7, 2, f"Une consultation : {price}", fg=Color.YELLOW)
        else:
            views = self.quote.views_after + 1
            frame.text(7, 2, f"{views} consultations : {price}", fg=Color.YELLOW)
        col = frame.text(10, 2, "Pour confirmer : ", fg=Color.CYAN)
        frame.text(10, col, "ENVOI", inverse=True)
        keys(frame, 24, ("Renoncer", "RETOUR"), ("Accueil", "SOMMAIRE"))

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.ENVOI:
            offers = ctx.facts.offers
            assert offers is not None  # a purchase page is shown only on such a channel
            price = offers.consume(ctx.identity, self.result.numero)
            if ctx.meter is not None and price:
                ctx.meter.charge(price, "consultation")
            return Goto(ResultPage(self.result, full=True, back=self.back))
        return super().on_key(key, ctx)
