"""Per-address admission: caps on concurrent calls and on the connection rate.

A modem bank or a NAT can put a dozen honest callers behind one address, so the
defaults allow that with room to spare (16 at once, a burst of 30 then one new call
every 2 s); a flood from one address is refused before anything is billed. Each
worker process keeps its own counts (with N workers sharing a port the kernel spreads an
address's connections, so the effective cap is up to N times the figure; see
docs/security.md).

Sans-IO: time comes in as an argument (monotonic seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GatePolicy", "Gatekeeper"]


@dataclass(frozen=True, slots=True)
class GatePolicy:
    max_concurrent: int = 16
    #: Token bucket: ``burst`` connections at once, refilled at ``rate`` per second.
    burst: float = 30.0
    rate: float = 0.5
    #: Addresses never limited (the operator's own probes, a trusted gateway).
    exempt: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.max_concurrent < 1 or self.burst < 1 or self.rate <= 0:
            raise ValueError("gate: max_concurrent and burst >= 1, rate > 0")


class Gatekeeper:
    def __init__(self, policy: GatePolicy | None = None, max_addresses: int = 200_000) -> None:
        self.policy = policy or GatePolicy()
        self._live: dict[str, int] = {}
        self._bucket: dict[str, tuple[float, float]] = {}  # identity -> (tokens, at)
        self._max = max_addresses
        self.refused = 0

    def admit(self, identity: str, now: float) -> str | None:
        """``None`` to let the call in (and count it), or why it is refused."""
        p = self.policy
        if identity in p.exempt:
            self._live[identity] = self._live.get(identity, 0) + 1
            return None
        if self._live.get(identity, 0) >= p.max_concurrent:
            self.refused += 1
            return "concurrent"
        tokens, at = self._bucket.get(identity, (p.burst, now))
        tokens = min(p.burst, tokens + (now - at) * p.rate)
        if tokens < 1.0:
            self._bucket[identity] = (tokens, now)
            self.refused += 1
            return "rate"
        if len(self._bucket) >= self._max and identity not in self._bucket:
            self._forget_full(now)
        self._bucket[identity] = (tokens - 1.0, now)
        self._live[identity] = self._live.get(identity, 0) + 1
        return None

    def release(self, identity: str) -> None:
        n = self._live.get(identity, 0) - 1
        if n > 0:
            self._live[identity] = n
        else:
            self._live.pop(identity, None)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled (they carry no information any more)."""
        p = self.policy
        full = [k for k, (t, at) in self._bucket.items() if t + (now - at) * p.rate >= p.burst]
        for k in full:
            del self._bucket[k]
        if len(self._bucket) >= self._max:  # still full: a flood of addresses
            self._bucket.clear()
