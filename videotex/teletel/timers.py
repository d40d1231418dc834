"""Time limits of a call: idle timeout, maximum length, tariff caps, with warnings.

Sans-IO: the session asks :meth:`Watch.check` what the time means now (end the call?
which warning on the status row?) and :meth:`Watch.next_deadline` when to ask again.
Durations are monotonic, so wall-clock jumps change nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Limits", "Watch"]


@dataclass(frozen=True, slots=True)
class Limits:
    #: Hang up after this long without a key (seconds); None: never.
    idle_timeout: float | None = 180.0
    #: Warn on the status row this long before the idle hang-up.
    idle_warning: float = 30.0
    #: Longest call (seconds); None: no limit.
    max_session: float | None = 1800.0
    #: Warn this long before the maximum length.
    max_warning: float = 60.0
    #: How often a running countdown is refreshed on the status row.
    countdown_step: float = 5.0

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "max_session"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, not {value}")
        if self.idle_warning < 0 or self.max_warning < 0 or self.countdown_step <= 0:
            raise ValueError("warnings must be >= 0 and countdown_step > 0")


class Watch:
    """The clocks of one call."""

    __slots__ = ("last_input", "limits", "started")

    def __init__(self, limits: Limits, started: float) -> None:
        self.limits = limits
        self.started = started
        self.last_input = started

    def touch(self, now: float) -> None:
        self.last_input = now

    def _ends(self, meter: Any, now: float) -> list[tuple[float, float, str]]:
        """(end time, warning lead, reason) of every limit that applies."""
        lim = self.limits
        ends = []
        if lim.idle_timeout is not None:
            ends.append((self.last_input + lim.idle_timeout, lim.idle_warning, "idle"))
        if lim.max_session is not None:
            ends.append((self.started + lim.max_session, lim.max_warning, "max-duration"))
        if meter is not None:
            end = meter.cap_end()
            if end != math.inf:
                ends.append((end, float(meter.plan.warn_before), "cap"))
        return ends

    def check(self, now: float, meter: Any = None) -> tuple[str | None, str]:
        """``(reason to hang up or None, warning for the status row or "")``."""
        warning = ""
        soonest = math.inf
        for end, lead, reason in self._ends(meter, now):
            if now >= end:
                return reason, ""
            if now >= end - lead and end < soonest:
                soonest = end
                left = math.ceil(end - now)
                warning = (f"Sans action, fin dans {left} s" if reason == "idle"
                           else f"Fin de l'appel dans {left} s")
        return None, warning

    def next_deadline(self, now: float, meter: Any = None) -> float | None:
        times = []
        for end, lead, _reason in self._ends(meter, now):
            warn_at = end - lead
            if now < warn_at:
                times.append(warn_at)
            else:  # counting down: refresh the warning, then the end itself
                times.append(min(end, now + self.limits.countdown_step))
        return min(times) if times else None
