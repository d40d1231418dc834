"""Tariff plans: what a call costs, per access code and channel.

A plan follows the Teletel kiosque (domain reference): a connection charge, then time
charged in indivisible units of ``unit_price`` (0.113 € incl. tax, the "Unité Télécom"),
one unit every ``unit_price / price_per_minute × 60`` seconds (19.94 s at 0.34 €/min).
The unit that has started is due, like a meter pulse: a pulse at connection, then one at
each unit boundary. Money is Decimal, never binary floats.

A plan may instead (or also) sell consultations: ``per_consultation`` plans charge
``consultation_price`` for one view of a result and ``repurchase_price`` for
``repurchase_views`` more views of the same result.

Configuration (``[billing]`` in the server's TOML)::

    [billing.plans.kiosque]          # the default plan: a 3615 kiosque at 0.34 €/min
    price_per_minute = 0.34
    [billing.plans.web]
    per_consultation = true
    price_per_minute = 0
    [[billing.routes]]               # which plan for which access code and channel
    channel = "ws"                   # "*" or omitted: any
    plan = "web"
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["BUILTIN_PLANS", "DEFAULT_PLAN", "TariffBook", "TariffError", "TariffPlan"]


class TariffError(ValueError):
    """A tariff configuration mistake; the message names the plan and the field."""


@dataclass(frozen=True)
class TariffPlan:
    """One tariff: money in Decimal euros incl. tax, durations in seconds."""

    name: str = "kiosque"
    connection_charge: Decimal = Decimal("0.018")
    price_per_minute: Decimal = Decimal("0.34")
    unit_price: Decimal = Decimal("0.113")
    #: VAT included in the prices (France 2005: 19.6 %).
    vat_rate: Decimal = Decimal("0.196")
    #: Share of the revenue excluding tax paid to the service provider (2005: 145 M€ of
    #: 206 M€ went to providers, about 0.70).
    provider_share: Decimal = Decimal("0.70")
    #: Longest call (s) / largest amount (€); 0 means no cap. Warned ``warn_before_s`` ahead.
    cap_seconds: Decimal = Decimal(0)
    cap_amount: Decimal = Decimal(0)
    warn_before_s: Decimal = Decimal(60)
    per_consultation: bool = False
    #: Time is free and nothing is sold (a free kiosk service): the meter shows 0,00.
    free: bool = False
    consultation_price: Decimal = Decimal("3.00")
    repurchase_price: Decimal = Decimal("3.00")
    repurchase_views: int = 5
    #: Priced per message, not time (the SMS channel): ``message_price`` for each message a
    #: candidate sends, ``alert_price`` for each alert the SMSC accepts.
    per_message: bool = False
    message_price: Decimal = Decimal("0.35")
    alert_price: Decimal = Decimal("0.35")

    @property
    def warn_before(self) -> Decimal:
        """Alias of :attr:`warn_before_s` (the session's timers read this name)."""
        return self.warn_before_s

    @property
    def unit_seconds(self) -> Decimal | None:
        """Seconds per unit; None when time is free (per-consultation plans)."""
        if self.price_per_minute <= 0:
            return None
        return self.unit_price / self.price_per_minute * 60

    @property
    def unit_millis(self) -> Decimal | None:
        """Milliseconds per unit, exact (a Decimal quotient); None when time is free."""
        if self.price_per_minute <= 0:
            return None
        return self.unit_price * 60000 / self.price_per_minute

    def excluding_tax(self, amount: Decimal) -> Decimal:
        """Revenue excluding VAT: ``amount / (1 + vat_rate)``."""
        return amount / (1 + self.vat_rate)

    def provider_part(self, amount: Decimal) -> Decimal:
        """The provider's share of an amount incl. tax (a share of the amount excl. tax)."""
        return self.excluding_tax(amount) * self.provider_share


DEFAULT_PLAN = TariffPlan()

#: The kiosk tariffs a gateway's services may name without configuring them (1992 France
#: Télécom steps of the domain reference, in euros incl. tax; a configuration may redefine
#: any of them): 3613 at t2 (0.37 F a minute), 3614 at t32 (0.85 F), 3615 at t44 (2.23 F,
#: the default plan), 3617 selling consultations (time free, 3 € a result), and a free one.
BUILTIN_PLANS = {
    "3613": TariffPlan(name="3613", price_per_minute=Decimal("0.056")),
    "3614": TariffPlan(name="3614", price_per_minute=Decimal("0.13")),
    "3615": TariffPlan(name="3615"),
    "3617": TariffPlan(name="3617", per_consultation=True, price_per_minute=Decimal(0)),
    "gratuit": TariffPlan(name="gratuit", free=True, price_per_minute=Decimal(0),
                          connection_charge=Decimal(0)),
    #: The voice channel's per-minute tariff (Audiotel 08 36 68: 2.21 F a minute in 1992,
    #: 0.34 €), the meter running from answer to hang-up; routed to channel "voice" unless
    #: a [[billing.routes]] says otherwise.
    "audiotel": TariffPlan(name="audiotel", price_per_minute=Decimal("0.34")),
    #: The SMS channel: 0.35 € a message received (an SMS+ short code's usual step, on top
    #: of the sender's own SMS) and 0.35 € an alert sent; routed to channel "sms".
    "sms": TariffPlan(name="sms", per_message=True, price_per_minute=Decimal(0),
                      connection_charge=Decimal(0)),
}

_MONEY = {"connection_charge", "price_per_minute", "unit_price", "consultation_price",
          "repurchase_price", "cap_amount", "message_price", "alert_price"}
_RATIO = {"vat_rate", "provider_share"}
_SECONDS = {"cap_seconds", "warn_before_s"}
#: Older spellings still accepted in configuration files.
_ALIASES = {"warn_before": "warn_before_s"}


def _plan(name: str, table: dict[str, Any]) -> TariffPlan:
    where = f"[billing.plans.{name}]"
    known = {f.name for f in fields(TariffPlan)} - {"name"}
    values: dict[str, Any] = {"name": name}
    for key, raw in table.items():
        key = _ALIASES.get(key, key)
        if key not in known:
            raise TariffError(f"{where} {key}: unknown field; known: {', '.join(sorted(known))}")
        if key in ("per_consultation", "free", "per_message"):
            if not isinstance(raw, bool):
                raise TariffError(f"{where} {key}: must be true or false, not {raw!r}")
            values[key] = raw
            continue
        if key == "repurchase_views":
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
                raise TariffError(f"{where} {key}: must be a whole number >= 1, not {raw!r}")
            values[key] = raw
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TariffError(f"{where} {key}: must be a number, not {raw!r}")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise TariffError(f"{where} {key}: must be a number, not {raw!r}") from None
        if not value.is_finite() or value < 0:
            raise TariffError(f"{where} {key}: must be >= 0, not {raw!r}")
        if key in _RATIO and value >= 1:
            raise TariffError(f"{where} {key}: must be a fraction below 1, not {raw!r}")
        values[key] = value
    plan = TariffPlan(**values)
    if plan.price_per_minute > 0 and plan.unit_price <= 0:
        raise TariffError(f"{where} unit_price: must be > 0 when time is charged")
    if plan.price_per_minute <= 0 and not (plan.per_consultation or plan.free
                                           or plan.per_message):
        raise TariffError(f"{where} price_per_minute: must be > 0 unless per_consultation, "
                          "per_message or free")
    if plan.free and (plan.price_per_minute > 0 or plan.per_consultation
                      or plan.connection_charge > 0):
        raise TariffError(f"{where} free: a free plan charges nothing (price_per_minute, "
                          "connection_charge 0, not per_consultation)")
    return plan


@dataclass(frozen=True)
class _Route:
    access_code: str
    channel: str
    plan: str


class TariffBook:
    """Plans by name, and which plan applies to an access code and a channel."""

    def __init__(self, plans: dict[str, TariffPlan], routes: list[_Route],
                 default: str = "kiosque", checkpoint_every: float = 10.0) -> None:
        self.plans = plans
        self.routes = routes
        self.default = default
        #: Seconds between checkpoints of live calls (``[billing] checkpoint_every``).
        self.checkpoint_every = checkpoint_every

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> TariffBook:
        known = {"plans", "routes", "default", "checkpoint_every", "enabled", "ready_timeout"}
        for key in table:
            if key not in known:
                raise TariffError(f"[billing] {key}: unknown key; known: {', '.join(sorted(known))}")
        plans = {"kiosque": DEFAULT_PLAN, **BUILTIN_PLANS}
        raw_plans = table.get("plans", {})
        if not isinstance(raw_plans, dict):
            raise TariffError("[billing] plans: must be a table of plans")
        for name, body in raw_plans.items():
            if not isinstance(body, dict):
                raise TariffError(f"[billing.plans.{name}]: must be a table")
            plans[name] = _plan(name, body)
        default = table.get("default", "kiosque")
        if not isinstance(default, str) or default not in plans:
            raise TariffError(f"[billing] default: no plan named {default!r}")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise TariffError(f"[billing] enabled: must be true or false, not {enabled!r}")
        every = table.get("checkpoint_every", 10.0)
        if (isinstance(every, bool) or not isinstance(every, int | float)
                or not 0 < every <= 10):
            raise TariffError("[billing] checkpoint_every: must be a number of seconds "
                              f"above 0 and at most 10, not {every!r}")
        ready = table.get("ready_timeout", 10.0)
        if isinstance(ready, bool) or not isinstance(ready, int | float) or not ready > 0:
            raise TariffError("[billing] ready_timeout: must be a number of seconds above 0, "
                              f"not {ready!r}")
        raw_routes = table.get("routes", [])
        if not isinstance(raw_routes, list):
            raise TariffError("[billing] routes: must be an array of tables ([[billing.routes]])")
        routes = []
        for i, r in enumerate(raw_routes):
            where = f"[[billing.routes]] #{i + 1}"
            if not isinstance(r, dict) or "plan" not in r:
                raise TariffError(f"{where}: needs a plan")
            if not isinstance(r["plan"], str) or r["plan"] not in plans:
                raise TariffError(f"{where} plan: no plan named {r['plan']!r}")
            extra = set(r) - {"plan", "channel", "access_code"}
            if extra:
                raise TariffError(f"{where}: unknown key {sorted(extra)[0]}")
            routes.append(_Route(str(r.get("access_code", "*")), str(r.get("channel", "*")),
                                 r["plan"]))
        # the voice channel bills at its own tariff unless a route above says otherwise
        routes.append(_Route("*", "voice", "audiotel"))
        routes.append(_Route("*", "sms", "sms"))
        return cls(plans, routes, default, float(every))

    def plan_for(self, access_code: str, channel: str) -> TariffPlan:
        """The first route matching the access code and channel, else the default plan."""
        for r in self.routes:
            if r.access_code in ("*", access_code) and r.channel in ("*", channel):
                return self.plans[r.plan]
        return self.plans[self.default]
