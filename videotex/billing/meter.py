"""The meter of one call (sans-IO: time comes in as monotonic seconds).

Pulse metering. The duration is counted in whole milliseconds (rounded to the nearest);
units = ceil(duration / unit), at least one: the first unit starts at connection, and
a unit that has started is due. The unit's length is ``unit_price / price_per_minute ×
60 s`` (19.94 s at 0.34 €/min), compared exactly (Decimal), so that a record's units can
be recomputed from its ``duration_s`` alone. ``amount`` = connection charge + units ×
unit price + one-off charges (per-consultation purchases). A cap ends the call at the
last moment the amount (or the length) is still within it.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .tariff import TariffPlan

__all__ = ["CENT", "Meter", "units_for"]

CENT = Decimal("0.01")


def _ratio(plan: TariffPlan) -> tuple[int, int] | None:
    """Units per millisecond as an exact integer fraction ``(num, den)``."""
    if plan.price_per_minute <= 0:
        return None
    per_ms = Fraction(plan.price_per_minute) / (Fraction(plan.unit_price) * 60000)
    return per_ms.numerator, per_ms.denominator


def units_for(plan: TariffPlan, millis: int) -> int:
    """Units due for a call of ``millis`` milliseconds under ``plan`` (0 if time is free):
    ceil(millis / unit), at least one, in exact arithmetic."""
    ratio = _ratio(plan)
    if ratio is None:
        return 0
    return max(1, -(-millis * ratio[0] // ratio[1]))


class Meter:
    """What one call costs so far; the caller of each method supplies the time."""

    __slots__ = (
        "_ratio",
        "_unit_ms",
        "charges",
        "extras",
        "final_amount",
        "final_units",
        "plan",
        "started",
        "stopped",
    )

    def __init__(self, plan: TariffPlan, started_mono: float) -> None:
        self.plan = plan
        self.started = started_mono
        self.stopped: float | None = None
        #: One-off charges so far (euros incl. tax), and what they were for.
        self.extras = Decimal(0)
        self.charges: list[tuple[str, Decimal]] = []
        self.final_amount: Decimal | None = None
        self.final_units: int | None = None
        self._unit_ms = plan.unit_millis
        self._ratio = _ratio(plan)

    def millis(self, now_mono: float) -> int:
        """Metered duration in whole milliseconds (frozen once stopped)."""
        end = self.stopped if self.stopped is not None else now_mono
        return max(0, round((end - self.started) * 1000))

    def duration(self, now_mono: float) -> float:
        """Metered duration in seconds, to the millisecond."""
        return self.millis(now_mono) / 1000

    def units(self, now_mono: float) -> int:
        """Units due so far (0 on a plan where time is free)."""
        return self.units_in(self.millis(now_mono))

    def units_in(self, millis: int) -> int:
        """Units due for a metered duration of ``millis`` ms (what :meth:`units` gives
        when :meth:`millis` is ``millis``)."""
        if self._ratio is None:
            return 0
        num, den = self._ratio
        return max(1, -(-millis * num // den))

    def amount(self, now_mono: float) -> Decimal:
        """Amount due so far, incl. tax, in euros rounded to the cent."""
        return self.exact_amount(now_mono).quantize(CENT, ROUND_HALF_UP)

    def exact_amount(self, now_mono: float) -> Decimal:
        """Amount due so far, incl. tax, unrounded (millièmes with the default plan)."""
        plan = self.plan
        return plan.connection_charge + self.units(now_mono) * plan.unit_price + self.extras

    def next_change(self, now_mono: float) -> float:
        """Monotonic time at which the next unit falls (always later than ``now_mono``;
        ``inf`` when time is free or the meter is stopped)."""
        if self._unit_ms is None or self.stopped is not None:
            return math.inf
        k = self.units(now_mono)
        # the first whole millisecond past k units: units() becomes k + 1 there
        return self.started + (int(k * self._unit_ms) + 1) / 1000

    def charge(self, amount: Decimal, what: str = "") -> None:
        """Add a one-off charge (e.g. a consultation bought on a per-consultation plan)."""
        if not isinstance(amount, Decimal) or amount < 0 or not amount.is_finite():
            raise ValueError(f"a charge must be a Decimal amount >= 0, not {amount!r}")
        self.extras += amount
        self.charges.append((what, amount))

    def cap_end(self) -> float:
        """Monotonic time at which a cap ends the call (inf: no cap)."""
        end = math.inf
        plan = self.plan
        if plan.cap_seconds > 0:
            end = self.started + float(plan.cap_seconds)
        if plan.cap_amount > 0 and self._unit_ms is not None:
            room = plan.cap_amount - plan.connection_charge - self.extras
            units = max(0, int(room // plan.unit_price))  # units that fit under the cap
            # units() stays <= n up to n × unit ms; with less than one unit of room the
            # call ends at once (the first unit is due at connection)
            end = min(end, self.started + int(units * self._unit_ms) / 1000)
        return end

    def cap(self, now_mono: float) -> tuple[str, float]:
        """("none" | "warning" | "reached", seconds left until the cap)."""
        end = self.cap_end()
        if end == math.inf:
            return "none", math.inf
        left = end - now_mono
        if left <= 0:
            return "reached", 0.0
        if left <= float(self.plan.warn_before_s):
            return "warning", left
        return "none", left

    def stop(self, now_mono: float) -> None:
        """Stop the meter (the call has ended); later calls see the final figures."""
        if self.stopped is None:
            self.stopped = max(now_mono, self.started)
            self.final_units = self.units(now_mono)
            self.final_amount = self.amount(now_mono)
