"""The meter of one call (sans-IO: time comes in as monotonic seconds).

Pulse metering: a unit at connection, then one at every unit boundary, so the unit
that has started is due. ``amount`` = connection charge + units × unit price + one-off
charges (per-consultation purchases). Caps end the call at the boundary where the next
unit would pass the cap.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from .tariff import TariffPlan

__all__ = ["Meter"]

CENT = Decimal("0.01")


class Meter:
    __slots__ = (
        "_unit_s",
        "extras",
        "final_amount",
        "final_units",
        "plan",
        "started",
        "stopped",
    )

    def __init__(self, plan: TariffPlan, started: float) -> None:
        self.plan = plan
        self.started = started
        self.stopped: float | None = None
        self.extras = Decimal(0)
        self.final_amount: Decimal | None = None
        self.final_units: int | None = None
        unit = plan.unit_seconds
        self._unit_s = float(unit) if unit is not None else None

    def duration(self, now: float) -> float:
        end = self.stopped if self.stopped is not None else now
        return max(0.0, end - self.started)

    def units(self, now: float) -> int:
        if self._unit_s is None:
            return 0
        # a hair of tolerance so that a boundary computed in floats counts as reached
        return math.floor(self.duration(now) / self._unit_s + 1e-9) + 1

    def amount(self, now: float) -> Decimal:
        """Amount due so far, incl. tax, rounded to the cent."""
        raw = (self.plan.connection_charge + self.units(now) * self.plan.unit_price
               + self.extras)
        return raw.quantize(CENT, ROUND_HALF_UP)

    def next_change(self, now: float) -> float:
        """When the next unit falls (the status row shows the amount at each unit)."""
        if self._unit_s is None or self.stopped is not None:
            return math.inf
        return self.started + self.units(now) * self._unit_s

    def charge(self, amount: Decimal, what: str = "") -> None:
        self.extras += amount

    def cap_end(self) -> float:
        """Monotonic time at which a cap ends the call (inf: no cap)."""
        end = math.inf
        plan = self.plan
        if plan.cap_seconds > 0:
            end = self.started + float(plan.cap_seconds)
        if plan.cap_amount > 0 and self._unit_s is not None:
            room = plan.cap_amount - plan.connection_charge - self.extras
            units = max(0, int(room // plan.unit_price))  # units that fit under the cap
            end = min(end, self.started + units * self._unit_s)
        return end

    def cap(self, now: float) -> tuple[str, float]:
        """("none" | "warning" | "reached", seconds left)."""
        end = self.cap_end()
        if end == math.inf:
            return "none", math.inf
        left = end - now
        if left <= 0:
            return "reached", 0.0
        if left <= float(self.plan.warn_before):
            return "warning", left
        return "none", left

    def stop(self, now: float) -> None:
        if self.stopped is None:
            self.stopped = max(now, self.started)
            self.final_units = self.units(now)
            self.final_amount = self.amount(now)
