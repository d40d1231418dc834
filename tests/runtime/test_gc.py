"""An ended call is freed by reference counting; full collections run on our schedule.

The server turns CPython's automatic collection off (``videotex.runtime.gcpolicy``),
which is only sound if a finished call leaves no reference cycle behind: these tests
end calls both ways (the caller hangs up, the server hangs up) over telnet and raw
with the collector off, and look for what is left.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import weakref

import pytest

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.collector import collector_off  # noqa: F401  (a fixture)
from videotex.channels.raw import start_raw
from videotex.channels.telnet import start_telnet
from videotex.runtime.gcpolicy import GcPolicy, worker_phase
from videotex.runtime.switchboard import Call, Switchboard
from videotex.teletel import SystemClock

#: Objects a server-side call is made of; none may outlive the call.
CALL_TYPES = {"Session", "Call", "TelnetConnection", "StreamConnection",
              "MinitelTelnetProtocol", "TelnetWriter", "TelnetReader", "Encoder"}


def _left() -> dict[str, int]:
    found: dict[str, int] = {}
    for o in gc.get_objects():
        kind = type(o)
        name = kind.__name__
        if name in CALL_TYPES and kind.__module__.startswith(("videotex.", "telnetlib3.")):
            found[name] = found.get(name, 0) + 1
    return found


@pytest.mark.usefixtures("collector_off")
async def test_ended_calls_leave_no_cycles(service) -> None:
    loop = asyncio.get_running_loop()
    freed: list[asyncio.Event] = []

    class Watch:  # the connection is the last object of a call to go
        def call_opened(self, call: Call) -> None:
            event = asyncio.Event()
            weakref.finalize(call.conn, loop.call_soon_threadsafe, event.set)
            freed.append(event)

        def call_closed(self, call: Call, reason: str) -> None:
            pass

    board = Switchboard(service, SystemClock(), hooks=[Watch()])
    tel = await start_telnet(board.handle, "127.0.0.1", 0)
    raw = await start_raw(board.handle, "127.0.0.1", 0)
    urls = [f"telnet://127.0.0.1:{tel.sockets[0].getsockname()[1]}",
            f"raw://127.0.0.1:{raw.sockets[0].getsockname()[1]}"]
    try:
        assert _left() == {}
        for url in urls:
            for server_hangs_up in (False, True):
                t = await MinitelClient.connect(url)
                await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="home page")
                await t.type("123")
                await t.wait_for(lambda c: "123" in c.text, what="echo")
                assert _left().get("Session") == 1  # the call is alive: the check sees it
                if server_hangs_up:
                    await t.press(Key.CONNEXION_FIN)
                    await t.wait_closed()
                else:
                    await t.close()
                try:
                    async with asyncio.timeout(10):
                        await freed[-1].wait()  # freed by reference counting (gc is off)
                except TimeoutError:
                    pytest.fail(f"{url}: an ended call left {_left()} behind")
                assert not board.calls
                assert _left() == {}, f"{url}: an ended call left {_left()} behind"
        assert _left() == {}
    finally:
        tel.close()
        raw.close()
        await board.shutdown(grace=2)


async def test_gc_policy_takes_over_and_gives_back() -> None:
    seen: list[tuple[float, int]] = []
    policy = GcPolicy(full_every=3600, on_full=lambda s, n: seen.append((s, n)))
    assert gc.isenabled()
    policy.start()
    try:
        assert not gc.isenabled()  # no automatic collection in the event loop
        assert gc.get_freeze_count() > 0  # what startup built is never scanned again

        class Cycle:
            pass

        a, b = Cycle(), Cycle()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
        assert policy.collect() >= 2
        assert policy.fulls == 1 and len(seen) == 1 and seen[0][0] >= 0
    finally:
        policy.stop()
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_gc_policy_zero_keeps_cpython_policy_and_refuses_negative() -> None:
    with pytest.raises(ValueError, match="full_every must be >= 0"):
        GcPolicy(full_every=-1)
    policy = GcPolicy(full_every=0)
    policy.start()  # no loop needed: nothing is taken over
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_workers_spread_their_full_collections() -> None:
    phases = [worker_phase(i) for i in range(8)]
    assert all(0 <= p < 1 for p in phases)
    gaps = sorted(phases)
    # eight workers: no two within a twentieth of a period of each other
    assert min(b - a for a, b in itertools.pairwise(gaps)) > 0.05
    with pytest.raises(ValueError, match="fraction of the period"):
        GcPolicy(full_every=600, phase=1.0)


async def test_the_first_full_collection_waits_for_the_worker_phase() -> None:
    loop = asyncio.get_running_loop()
    seen: list[float] = []
    done = asyncio.Event()

    def on_full(seconds: float, collected: int) -> None:
        seen.append(loop.time())
        done.set()

    policy = GcPolicy(full_every=0.2, on_full=on_full, phase=0.5)
    started = loop.time()
    policy.start()
    try:
        async with asyncio.timeout(5):
            await done.wait()
    finally:
        policy.stop()
    assert seen[0] - started >= 0.3  # (1 + phase) periods, never sooner
