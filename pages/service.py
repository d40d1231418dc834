"""The exam-results service: what the session engine asks of a Teletel service.

It owns the results store handle, the tariff text shown to callers, and the lookups
pages trigger; pages stay free of storage details. Publication statuses are cached for
a second: the summary pages ask for them many times per keypress, and results day
means thousands of callers asking the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from videotex.store import ACADEMIES, EXAMS, ResultsStore, batch_of_number
from videotex.teletel import Action, Context, Goto, Later, Page

from .guard import EnumerationGuard, GuardPolicy
from .home import HomePage
from .info import GENERAL_HELP, GoodbyePage, HelpPage, goodbye_lines
from .layout import format_eur, format_hour, format_when, status_text
from .menu import SummaryMenu
from .result import NotFoundPage, NotPublishedPage, PurchasePage, RefusedPage, ResultPage

__all__ = ["Consultation", "ResultsService", "ServiceConfig"]

_EXAM_SHORT = {
    "bac": "Bac général/tech",
    "bac-pro": "Bac pro",
    "anticipes": "Épr. anticipées",
    "brevet": "Brevet",
    "cap": "CAP",
    "bep": "BEP",
    "bts": "BTS",
}


@dataclass(frozen=True)
class Consultation:
    """What a lookup by number found (:meth:`ResultsService.consult`): ``kind`` is
    ``result``, ``not-published`` (``batch`` and its ``scheduled_at``, None when the hour is
    not fixed yet), ``not-found`` or ``refused``; ``delay``: seconds to wait before answering
    (the enumeration guard slowing a caller down)."""

    kind: str
    delay: float = 0.0
    result: Any = None
    batch: tuple[str, str] | None = None
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class ServiceConfig:
    access_code: str = "3615 EXAMENS"
    session: int = 2005
    #: Shown on the home page; the billing meter uses its own tariff plans.
    price_per_minute: float = 0.34
    connection_charge: float = 0.0
    #: Seconds between status-row refreshes while nothing else changes. With billing on,
    #: the row also changes at each unit (about every 20 s), which shows the cost and the
    #: time. Each refresh costs CPU for every caller: at 50,000 callers, 10 s took twice
    #: the CPU of 60 s (docs/scaling.md).
    status_interval: float = 60.0


class ResultsService:
    """The results service for one process (one store handle, shared by all sessions)."""

    def __init__(self, store: ResultsStore, config: ServiceConfig | None = None,
                 guard: GuardPolicy | None = None) -> None:
        self.store = store
        self.config = config or ServiceConfig()
        self.guard = EnumerationGuard(guard)
        self._status_cache: tuple[float, dict[tuple[str, str], Any]] | None = None

    # -- the session engine's interface ----------------------------------------------------

    def home(self, ctx: Context) -> Page:
        return HomePage()

    def summary(self, ctx: Context) -> Page:
        """Sommaire from any page but home: back to the home page."""
        return HomePage()

    def summary_menu(self, ctx: Context) -> Page:
        """Sommaire from the home page: the exams and their publication status."""
        return SummaryMenu()

    def help_page(self, page: Page, ctx: Context) -> Page:
        lines = page.help if page.help is not None else GENERAL_HELP
        if page.help is not None:
            lines = (*lines, "", *GENERAL_HELP[4:])
        return HelpPage(lines, back=page)

    def goodbye(self, ctx: Context, reason: str) -> Page:
        return GoodbyePage(goodbye_lines(ctx, reason))

    def status_line(self, ctx: Context) -> str:
        return status_text(self.config.access_code, ctx)

    def status_interval(self, ctx: Context) -> float:
        return self.config.status_interval

    # -- what pages ask ----------------------------------------------------------------

    def tariff_text(self, ctx: Context | None = None) -> tuple[str, ...]:
        """The price, stated plainly: the caller's own plan when billing is on."""
        plan = getattr(getattr(ctx, "meter", None), "plan", None)
        if plan is not None and plan.per_consultation and plan.price_per_minute <= 0:
            return (f"Consultation : {format_eur(plan.consultation_price)} le résultat",
                    f"puis {format_eur(plan.repurchase_price)} les "
                    f"{plan.repurchase_views} suivantes")
        per_minute = plan.price_per_minute if plan is not None else self.config.price_per_minute
        first = f"Prix : {format_eur(per_minute)} la minute"
        return (first, "facturé à la durée, résultat ou non")

    def consult(self, ctx: Context, numero: str, birth: date) -> Consultation:
        """A lookup by number and birth date, whatever the channel (Minitel, voice, SMS):
        the result, when it comes out, or not found; refused (and slowed down before)
        for callers who keep failing (enumeration). Before publication an unknown number
        and an unpublished one get the same answer: the number's batch (exam, académie)
        and its official hour, never a hint whether the number exists."""
        now = ctx.clock.monotonic()
        failures = ctx.facts.failures
        verdict = self.guard.before_lookup(ctx.identity, failures, now)
        if not verdict.allowed:
            return Consultation("refused")
        ctx.facts.lookups += 1
        result = self.store.lookup_number(numero, birth)
        if result is not None:
            ctx.facts.result_found = True
            return Consultation("result", verdict.delay, result=result)
        batch = batch_of_number(numero)
        if batch is not None:
            status = self.batch_status(*batch, ctx.clock.wall())
            if not status.published:
                return Consultation("not-published", verdict.delay, batch=batch,
                                    scheduled_at=status.scheduled_at)
        ctx.facts.failures = failures + 1
        self.guard.failed(ctx.identity, now)
        return Consultation("not-found", verdict.delay)

    def search_number(self, ctx: Context, numero: str, birth: date, *, back: Page) -> Action:
        """Envoi on the home page: :meth:`consult`, as a page."""
        found = self.consult(ctx, numero, birth)
        if found.kind == "refused":
            return Goto(RefusedPage(back=back))
        page = self._page(ctx, found, numero, birth, back)
        if found.delay > 0:
            return Later(found.delay, Goto(page), "Recherche en cours...")
        return Goto(page)

    def _page(self, ctx: Context, found: Consultation, numero: str, birth: date,
              back: Page) -> Page:
        if found.kind == "result":
            offers = ctx.facts.offers
            if offers is not None:  # a per-consultation channel: price first
                quote = offers.quote(ctx.identity, numero)
                if quote.price > 0:
                    return PurchasePage(found.result, quote, back=back)
                offers.consume(ctx.identity, numero)
            return ResultPage(found.result, full=True, back=back)
        if found.kind == "not-published":
            assert found.batch is not None
            return NotPublishedPage(*found.batch, found.scheduled_at, back=back)
        return NotFoundPage(numero, birth.strftime("%d%m%Y"), back=back)

    def search_name(self, ctx: Context, nom: str, prenom: str | None,
                    exam: str, academie: str) -> list[Any]:
        ctx.facts.lookups += 1
        found = self.store.lookup_name(nom, exam, academie, prenom=prenom, limit=200)
        public = [r for r in found if r.consent and (r.resultat.admitted
                  or r.resultat.name == "SECOND_GROUPE")]
        if public:
            ctx.facts.result_found = True
        return public

    def exam_ids(self) -> list[str]:
        return list(EXAMS)

    def academie_ids(self) -> list[str]:
        return list(ACADEMIES)

    def exam_name(self, exam: str) -> str:
        return str(EXAMS[exam])

    def exam_short(self, exam: str) -> str:
        return _EXAM_SHORT.get(exam, exam)

    def academie_name(self, academie: str) -> str:
        return str(ACADEMIES[academie])

    def _statuses(self, now: datetime) -> dict[tuple[str, str], Any]:
        mono = now.timestamp()
        if self._status_cache is None or abs(mono - self._status_cache[0]) >= 1.0:
            table = {(s.exam, s.academie): s for s in self.store.statuses(now)}
            self._status_cache = (mono, table)
        return self._status_cache[1]

    def batch_status(self, exam: str, academie: str, now: datetime) -> Any:
        status = self._statuses(now).get((exam, academie))
        if status is None:
            return self.store.status(exam, academie, now)
        return status

    def batch_status_text(self, exam: str, academie: str, now: datetime) -> str:
        status = self.batch_status(exam, academie, now)
        if status.published:
            return "publié"
        if status.scheduled_at is not None:
            return format_when(status.scheduled_at, now).replace("aujourd'hui à ", "à ")[:17]
        return "non fixé"

    def exam_status_text(self, exam: str, now: datetime) -> str:
        rows = [s for (e, _a), s in self._statuses(now).items() if e == exam]
        published = sum(1 for s in rows if s.published)
        if rows and published == len(rows):
            return "publié"
        pending = [s.scheduled_at for s in rows if not s.published and s.scheduled_at]
        if published:
            return f"{published}/{len(rows)} acad. publiées"
        if pending:
            first = min(pending)
            if first.astimezone().date() == now.astimezone().date():
                return f"dès {format_hour(first)}"
            return f"le {first.astimezone().day}/{first.astimezone().month} {format_hour(first)}"
        return "non programmé"
