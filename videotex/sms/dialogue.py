"""What the SMS service answers to one message, sans-IO: text in, a :class:`Reply` out.

Owns: the choice of answer. The lookup is the results service's own
(:meth:`pages.service.ResultsService.consult`: the same embargo, the same enumeration guard
as the Minitel and the phone, the sender's number as the identity); the words are
:mod:`videotex.sms.text`'s. Nothing here writes: the engine records the message, the
reply and a subscription in one transaction, then acknowledges the message.

Before publication an unknown number and an unpublished one get the same answer (the
batch of the number and its hour); an alert may be asked for any well-formed number, and
says nothing more.
"""

from __future__ import annotations

import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from videotex.store import batch_of_number
from videotex.teletel import CallFacts, Context

from . import text as words

__all__ = ["Reply", "SmsDialogue", "Subscribe", "check_keywords"]

#: What a configured word stands for: the built-in keyword of its kind.
_BUILTIN = {"result": "RESULTAT", "alert": "ALERTE", "stop": "STOP", "help": "AIDE"}


def _fold(word: str) -> str:
    """Case and accents ignored: "Prévenir" -> "PREVENIR"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word)
                   if not unicodedata.combining(c)).upper()


def check_keywords(table: object) -> dict[str, list[str]]:
    """``[smpp.keywords]``: ``kind = ["WORD", ...]`` for kind in result, alert, stop, help;
    a word is one run of letters (raises ValueError naming the kind and the word)."""
    if not isinstance(table, dict):
        raise ValueError("must be a table: result = [\"NOTE\"], alert = [...]")
    seen: dict[str, str] = {}
    for kind, ws in table.items():
        if kind not in _BUILTIN:
            raise ValueError(f"{kind}: unknown kind; known: {', '.join(_BUILTIN)}")
        if not isinstance(ws, list) or not all(isinstance(w, str) for w in ws):
            raise ValueError(f"{kind}: must be a list of words, not {ws!r}")
        for w in ws:
            if not w.isalpha():
                raise ValueError(f"{kind}: {w!r} is not one word of letters")
            other = seen.setdefault(_fold(w), kind)
            if other != kind:
                raise ValueError(f"{w!r} is given for both {other} and {kind}")
    return table


@dataclass(frozen=True, slots=True)
class Subscribe:
    """An alert to keep: the batch, the number and birth date, who to tell."""

    exam: str
    academie: str
    numero: str
    birth: date
    msisdn: str

    @property
    def key(self) -> bytes:
        return f"{self.exam}|{self.academie}|{self.numero}|{self.msisdn}".encode()


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to one message: ``kind`` (result, not-published, not-found, refused,
    alert, stop, help, error), its text, how long the guard wants it held back, whether it is
    charged (STOP and help are free), and what to record besides."""

    kind: str
    text: str
    delay: float = 0.0
    charged: bool = True
    subscribe: Subscribe | None = None
    #: STOP: forget this sender's waiting alerts (for this number only when set).
    stop: bool = False
    stop_numero: str | None = None
    lookups: int = 0
    result_found: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class SmsDialogue:
    """One per process: the results service, the clock, the price told in help texts."""

    def __init__(self, results: Any, clock: Any, *, price: Decimal | str | None = None,
                 keywords: dict[str, list[str]] | None = None,
                 max_senders: int = 100_000) -> None:
        self.results = results
        self.clock = clock
        #: Told in help and error replies (None: no price told).
        self.price = price
        #: More words for each kind of request ([smpp.keywords]): word -> built-in keyword.
        self._aliases = {_fold(w): _BUILTIN[kind] for kind, ws in (keywords or {}).items()
                         for w in ws}
        #: Failed lookups per sender (an SMS is a "call" of one message: the guard's
        #: per-call count is carried from one message to the next); bounded, oldest out.
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._max = max_senders

    def answer(self, msisdn: str, message: str) -> Reply:
        """The reply to ``message`` from ``msisdn``."""
        now_wall = self.clock.wall()
        if self._aliases:
            message = " ".join(self._aliases.get(_fold(w), w) for w in message.split())
        asked = words.parse_mo(message, today=now_wall.date())
        if isinstance(asked, words.MoError):
            return Reply("error", words.error_text(asked, self.price),
                         charged=asked.code != "empty")
        if asked.kind == "help":
            return Reply("help", words.help_text(self.price), charged=False)
        if asked.kind == "stop":
            return Reply("stop", words.stop_text(), charged=False, stop=True,
                         stop_numero=asked.numero)
        assert asked.numero is not None and asked.birth is not None
        batch = batch_of_number(asked.numero)
        if asked.kind == "alert" and batch is not None:
            status = self.results.batch_status(*batch, now_wall)
            if not status.published:
                sub = Subscribe(batch[0], batch[1], asked.numero, asked.birth, msisdn)
                return Reply("alert", words.alert_confirm_text(
                    batch[0], batch[1], status.scheduled_at, now_wall), subscribe=sub)
        return self._consult(msisdn, asked.numero, asked.birth)

    def _consult(self, msisdn: str, numero: str, birth: date) -> Reply:
        now = self.clock.monotonic()
        failures = self._recent_failures(msisdn, now)
        ctx = Context(service=self.results, clock=self.clock, caller=msisdn, channel="sms",
                      connected_at=now, identity=f"sms:{msisdn}",
                      facts=CallFacts(failures=failures))
        found = self.results.consult(ctx, numero, birth)
        facts = ctx.facts
        if facts.failures > failures:
            self._note_failure(msisdn, facts.failures, now)
        common = {"lookups": facts.lookups, "result_found": facts.result_found,
                  "delay": found.delay}
        if found.kind == "refused":
            return Reply("refused", words.refused_text(), **common)
        if found.kind == "result":
            return Reply("result", words.result_text(found.result), **common)
        if found.kind == "not-published":
            assert found.batch is not None
            exam, academie = found.batch
            return Reply("not-published", words.not_published_text(
                exam, academie, found.scheduled_at, self.clock.wall()), **common)
        return Reply("not-found", words.not_found_text(), **common)

    def _recent_failures(self, msisdn: str, now: float) -> int:
        seen = self._failures.get(msisdn)
        if seen is None:
            return 0
        count, at = seen
        window = self.results.guard.policy.window
        if now - at > window:  # the guard's window has passed: a fresh start
            del self._failures[msisdn]
            return 0
        return count

    def _note_failure(self, msisdn: str, count: int, now: float) -> None:
        self._failures[msisdn] = (count, now)
        self._failures.move_to_end(msisdn)
        while len(self._failures) > self._max:
            self._failures.popitem(last=False)
