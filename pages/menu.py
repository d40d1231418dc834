"""Sommaire: the exams and their publication status, and the search by name.

Flow: :class:`SummaryMenu` (choose an exam) → :class:`AcademieList` (choose an académie,
Suite/Retour page through the list) → :class:`NameForm` (surname, optional first name)
→ :class:`HomonymList` (consenting candidates only, Suite/Retour paging) → result.

By name, only candidates who consented to publication appear, and only with the
outcomes that official public lists carry (admitted, or admissible to the second group);
the mention is never shown by name. A candidate sees everything with their number.
"""

from __future__ import annotations

from typing import Any

from videotex.codec import Color, Frame, FunctionKey
from videotex.teletel import LETTERS, Action, Beep, Context, Field, Goto, Page, Stay

from .layout import band, keys, message

__all__ = ["AcademieList", "HomonymList", "NameForm", "SummaryMenu"]

_CHOICE = Field("choix", row=21, col=30, length=2)


class _Choice(Page):
    """A numbered list with a choice field; Suite/Retour page through it."""

    fields = (_CHOICE,)
    per_page = 14
    first_row = 5

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0

    def items(self, ctx: Context) -> list[Any]:
        raise NotImplementedError

    def choose(self, item: Any, ctx: Context) -> Action:
        raise NotImplementedError

    def draw_item(self, frame: Frame, row: int, number: int, item: Any, ctx: Context) -> None:
        raise NotImplementedError

    def draw_list(self, frame: Frame, ctx: Context) -> None:
        items = self.items(ctx)
        shown = items[self.offset : self.offset + self.per_page]
        for i, item in enumerate(shown):
            self.draw_item(frame, self.first_row + i, self.offset + i + 1, item, ctx)
        frame.text(21, 2, "Tapez le numéro choisi :", fg=Color.GREEN)
        hints: list[tuple[str, str]] = []
        if self.offset + self.per_page < len(items):
            hints.append(("Suite", "SUITE"))
        if self.offset > 0:
            hints.append(("Précédents", "RETOUR"))
        hints.append(("puis", "ENVOI"))
        keys(frame, 22, *hints)
        message(frame, self.message, row=20)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        items = self.items(ctx)
        if key is FunctionKey.SUITE:
            if self.offset + self.per_page >= len(items):
                return Beep()
            self.offset += self.per_page
            return Stay()
        if key is FunctionKey.RETOUR:
            if self.offset == 0:
                return self.on_first_retour(ctx)
            self.offset = max(0, self.offset - self.per_page)
            return Stay()
        if key is FunctionKey.ENVOI:
            text = self.values[0]
            if not text:
                self.message = "Tapez un numéro de la liste"
                return Stay()
            index = int(text) - 1
            if not (0 <= index < len(items)):
                self.message = f"Choix {text} : entre 1 et {len(items)}"
                self.clear_field()
                return Stay()
            self.clear_field()
            return self.choose(items[index], ctx)
        return None

    def on_first_retour(self, ctx: Context) -> Action:
        return Beep()


class SummaryMenu(_Choice):
    name = "summary"
    live = True  # publication status per exam
    first_row = 6
    help = (
        "Pour chaque examen : publié, ou l'heure",
        "de la prochaine publication.",
        "",
        "Tapez le numéro d'un examen puis ENVOI",
        "pour chercher un candidat par son nom,",
        "académie par académie.",
        "",
        "Seuls les candidats qui ont accepté",
        "la publication figurent par nom.",
    )

    def items(self, ctx: Context) -> list[Any]:
        return list(ctx.service.exam_ids())

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "SOMMAIRE", "Examens et publications")
        frame.text(5, 2, "Publications, et recherche par nom :", fg=Color.CYAN)
        self.draw_list(frame, ctx)
        keys(frame, 24, ("Accueil", "RETOUR"), ("Fin", "CNX/FIN"))

    def draw_item(self, frame: Frame, row: int, number: int, item: Any, ctx: Context) -> None:
        svc = ctx.service
        frame.text(row, 2, f"{number}", fg=Color.YELLOW)
        frame.text(row, 5, svc.exam_short(item)[:16], fg=Color.WHITE)
        frame.text(row, 23, svc.exam_status_text(item, ctx.clock.wall())[:18], fg=Color.GREEN)

    def choose(self, item: Any, ctx: Context) -> Action:
        return Goto(AcademieList(item, back=self))

    def on_first_retour(self, ctx: Context) -> Action:
        return Goto(ctx.service.home(ctx))


class AcademieList(_Choice):
    name = "academies"
    live = True  # publication status per académie
    per_page = 15

    def __init__(self, exam: str, *, back: Page) -> None:
        super().__init__()
        self.exam = exam
        self.back = back

    def items(self, ctx: Context) -> list[Any]:
        return list(ctx.service.academie_ids())

    def draw(self, frame: Frame, ctx: Context) -> None:
        band(frame, "ACADÉMIE", ctx.service.exam_name(self.exam))
        self.draw_list(frame, ctx)
        keys(frame, 24, ("Examens", "SOMMAIRE"), ("Fin", "CNX/FIN"))

    def draw_item(self, frame: Frame, row: int, number: int, item: Any, ctx: Context) -> None:
        svc = ctx.service
        frame.text(row, 2, f"{number:>2}", fg=Color.YELLOW)
        frame.text(row, 5, svc.academie_name(item)[:17], fg=Color.WHITE)
        frame.text(row, 23, svc.batch_status_text(self.exam, item, ctx.clock.wall())[:17],
                   fg=Color.GREEN)

    def choose(self, item: Any, ctx: Context) -> Action:
        status = ctx.service.batch_status(self.exam, item, ctx.clock.wall())
        if not status.published:
            from .result import NotPublishedPage

            return Goto(NotPublishedPage(self.exam, item, status.scheduled_at, back=self))
        return Goto(NameForm(self.exam, item, back=self))

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.SOMMAIRE:
            return Goto(self.back)
        return super().on_key(key, ctx)

    def on_first_retour(self, ctx: Context) -> Action:
        return Goto(self.back)


class NameForm(Page):
    name = "name-form"
    fields = (
        Field("nom", row=9, col=3, length=24, allowed=LETTERS),
        Field("prenom", row=13, col=3, length=20, allowed=LETTERS),
    )
    help = (
        "Tapez le nom de famille (accents et",
        "majuscules indifférents), SUITE, le",
        "prénom si vous le connaissez, ENVOI.",
        "",
        "Seuls les candidats ayant accepté la",
        "publication de leur nom figurent.",
    )

    def __init__(self, exam: str, academie: str, *, back: Page) -> None:
        super().__init__()
        self.exam = exam
        self.academie = academie
        self.back = back

    def draw(self, frame: Frame, ctx: Context) -> None:
        svc = ctx.service
        band(frame, "RECHERCHE PAR NOM", f"{svc.exam_short(self.exam)} - {svc.academie_name(self.academie)}")
        frame.text(8, 2, "Nom :", fg=Color.GREEN)
        frame.text(12, 2, "Prénom (facultatif) :", fg=Color.GREEN)
        col = frame.text(16, 2, "Puis ", fg=Color.CYAN)
        frame.text(16, col, "ENVOI", inverse=True)
        message(frame, self.message)
        keys(frame, 23, ("Champ suivant", "SUITE"), ("Aide", "GUIDE"))
        keys(frame, 24, ("Académies", "RETOUR"), ("Accueil", "SOMMAIRE"))

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.RETOUR and self.focus == 0:
            return Goto(self.back)
        if key is not FunctionKey.ENVOI:
            return None
        nom = self.values[0].strip()
        if len(nom) < 2:
            self.focus = 0
            self.message = "Tapez au moins deux lettres du nom"
            return Stay()
        found = ctx.service.search_name(ctx, nom, self.values[1].strip() or None,
                                        self.exam, self.academie)
        if not found:
            self.message = "Aucun candidat publié sous ce nom"
            return Stay()
        return Goto(HomonymList(found, back=self))


class HomonymList(_Choice):
    name = "homonyms"
    per_page = 12

    def __init__(self, results: list[Any], *, back: Page) -> None:
        super().__init__()
        self.results = results
        self.back = back

    def items(self, ctx: Context) -> list[Any]:
        return self.results

    def draw(self, frame: Frame, ctx: Context) -> None:
        n = len(self.results)
        band(frame, "CANDIDATS", f"{n} candidat{'s' if n > 1 else ''} de ce nom")
        self.draw_list(frame, ctx)
        keys(frame, 24, ("Autre nom", "SOMMAIRE"), ("Fin", "CNX/FIN"))

    def draw_item(self, frame: Frame, row: int, number: int, item: Any, ctx: Context) -> None:
        frame.text(row, 2, f"{number:>2}", fg=Color.YELLOW)
        frame.text(row, 5, f"{item.nom} {item.prenom}"[:23], fg=Color.WHITE)
        frame.text(row, 29, item.serie[:11], fg=Color.CYAN)

    def choose(self, item: Any, ctx: Context) -> Action:
        from .result import ResultPage

        return Goto(ResultPage(item, full=False, back=self))

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        if key is FunctionKey.SOMMAIRE:
            return Goto(self.back)
        return super().on_key(key, ctx)

    def on_first_retour(self, ctx: Context) -> Action:
        return Goto(self.back)
