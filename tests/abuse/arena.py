"""The end-to-end fuzz's ground: constants, and the watches its callers and attackers
wait on (tests/abuse/test_e2e_fuzz.py)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable

from videotex.runtime.switchboard import Call

SEED = int(os.environ.get("E2E_FUZZ_SEED", "3615"))
HOST = "127.0.0.1"
NETWORK = ("telnet", "raw", "ssh", "ws")
#: Serial lines: honest (the emulator's serial:// URL), attacked direct, attacked modem.
SERIAL = ("serial", "direct", "modem")
ENQROM = b"\x1b\x39\x7b"  # the session's first bytes: the caller is connected
MODEM_TIMINGS = {"guard": 0.05, "at_timeout": 0.5, "reopen": 0.1}
SLOW = 20.0  # serial pages are paced at 9600 baud, and two cores run it all


# -- waiting on conditions ------------------------------------------------------------


class Watch:
    """Something that changes; tests await a predicate on it, never a fixed time."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def until(self, predicate: Callable[[], bool], what: str,
                    timeout: float = 10.0) -> None:
        async def wait() -> None:
            while not predicate():
                await self._event.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no {what} after {timeout} s (seed {SEED})") from None


class Hooks(Watch):
    """Call hooks: what billing sees of every call the board opens and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[Call] = []
        self.closed: list[tuple[Call, str]] = []

    def call_opened(self, call: Call) -> None:
        self.opened.append(call)
        self.changed()

    def call_closed(self, call: Call, reason: str) -> None:
        self.closed.append((call, reason))
        self.changed()

    def live_on(self, peer: str) -> list[Call]:
        ended = {id(c) for c, _ in self.closed}
        return [c for c in self.opened if c.conn.peer == peer and id(c) not in ended]


class Arena(Watch):
    """What the attackers did, per transport."""

    def __init__(self) -> None:
        super().__init__()
        self.started: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.cut: Counter[str] = Counter()  # the server hung up before the attacker did

    def start(self, kind: str) -> None:
        self.started[kind] += 1
        self.changed()
