"""The injected clock.

Durations (billing, idle timers) use a monotonic clock so that wall-clock jumps never
change them; timestamps shown or stored use UTC wall time. Tests use :class:`FakeClock`
and advance it explicitly instead of sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def wall(self) -> datetime:
        """Current UTC time (timezone-aware)."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, wall: datetime | None = None, monotonic: float = 1000.0) -> None:
        self._wall = wall or datetime(2005, 7, 8, 8, 0, tzinfo=UTC)
        self._mono = monotonic

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> datetime:
        return self._wall

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards by {seconds} s")
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)

    def jump_wall(self, delta: timedelta) -> None:
        """Move wall time only (NTP step, DST mistake): durations must not change."""
        self._wall += delta
