"""Against enumeration of candidate numbers: failed number + birth-date lookups slow
down, then stop, per call and per address, without slowing honest callers.

An honest caller mistypes once or twice: the first ``free`` failures of a call cost
nothing. After that each failure waits twice as long as the previous one (1 s, 2 s,
4 s … capped), and past ``refuse_after`` failures the call gets no more lookups. Per
address (a NAT or a modem bank may hold a dozen honest callers), failures are counted in
a sliding window; past ``address_slow`` the address's lookups wait ``address_delay``,
past ``address_refuse`` they are refused until the window moves on.

Sans-IO: time comes in as arguments (monotonic seconds).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["EnumerationGuard", "GuardPolicy", "Verdict"]


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    free: int = 3
    first_delay: float = 1.0
    max_delay: float = 16.0
    refuse_after: int = 10
    window: float = 900.0
    address_slow: int = 30
    address_delay: float = 5.0
    address_refuse: int = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    delay: float = 0.0


class EnumerationGuard:
    """Failure counts per address for one process (a worker sees its own callers)."""

    def __init__(self, policy: GuardPolicy | None = None, max_addresses: int = 100_000) -> None:
        self.policy = policy or GuardPolicy()
        self._failures: dict[str, deque[float]] = {}
        self._max = max_addresses

    def _recent(self, identity: str, now: float) -> deque[float]:
        q = self._failures.get(identity)
        if q is None:
            return deque()
        while q and q[0] <= now - self.policy.window:
            q.popleft()
        if not q:
            del self._failures[identity]
        return q

    def before_lookup(self, identity: str, call_failures: int, now: float) -> Verdict:
        """May this lookup go ahead, and after how long?"""
        p = self.policy
        if call_failures >= p.refuse_after:
            return Verdict(False)
        recent = len(self._recent(identity, now))
        if recent >= p.address_refuse:
            return Verdict(False)
        delay = 0.0
        if call_failures >= p.free:
            delay = min(p.max_delay, p.first_delay * 2 ** (call_failures - p.free))
        if recent >= p.address_slow:
            delay = max(delay, p.address_delay)
        return Verdict(True, delay)

    def failed(self, identity: str, now: float) -> None:
        q = self._failures.get(identity)
        if q is None:
            if len(self._failures) >= self._max:  # bounded memory under a flood of addresses
                oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                del self._failures[oldest]
            q = self._failures[identity] = deque()
        q.append(now)
