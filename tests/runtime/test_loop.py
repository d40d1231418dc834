"""ServerLoop: asyncio's loop, whose one urgent timer (the media clock) runs as soon as it
is due, between two ready callbacks, instead of after all of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from videotex.runtime.loop import ServerLoop


def _burst(loop: asyncio.AbstractEventLoop, order: list[str], n: int = 5) -> None:
    """``n`` callbacks ready at once, each busy 15 ms (sessions drawing pages)."""
    def work(i: int) -> None:
        time.sleep(0.015)
        order.append(f"work{i}")
    for i in range(n):
        loop.call_soon(work, i)


def _run(loop: asyncio.AbstractEventLoop, until: float) -> None:
    loop.call_at(until, loop.stop)
    loop.run_forever()


def _tick_in_a_burst(loop: asyncio.AbstractEventLoop,
                     arm: Callable[..., object]) -> list[str]:
    """A timer due 5 ms in, armed with ``arm``, while five 15 ms callbacks are ready:
    the order things ran in."""
    try:
        order: list[str] = []
        now = loop.time()
        arm(now + 0.005, order.append, "TICK")
        _burst(loop, order)
        _run(loop, now + 0.2)
    finally:
        loop.close()
    return order


def test_a_due_urgent_timer_runs_between_ready_callbacks() -> None:
    loop = ServerLoop()
    assert _tick_in_a_burst(loop, loop.call_urgent_at) == [
        "work0", "TICK", "work1", "work2", "work3", "work4"]


def test_asyncio_s_own_loop_runs_it_after_the_whole_burst() -> None:
    """What the urgent timer is for: a plain timer waits for every ready callback."""
    loop = asyncio.SelectorEventLoop()
    assert _tick_in_a_burst(loop, loop.call_at) == [
        "work0", "work1", "work2", "work3", "work4", "TICK"]


def test_an_idle_loop_fires_it_as_a_timer_once_and_a_new_one_replaces_the_last() -> None:
    loop = ServerLoop()
    try:
        fired: list[str] = []
        now = loop.time()
        loop.call_urgent_at(now + 0.01, fired.append, "first")
        loop.call_urgent_at(now + 0.02, fired.append, "second")  # replaces the first
        _run(loop, now + 0.1)
        assert fired == ["second"]

        def again(n: int) -> None:  # a clock re-arming itself from its own callback
            fired.append(f"tick{n}")
            if n < 3:
                loop.call_urgent_at(loop.time() + 0.005, again, n + 1)
        loop.call_urgent_at(loop.time(), again, 1)
        _burst(loop, fired, 2)
        _run(loop, loop.time() + 0.2)
    finally:
        loop.close()
    assert fired.count("tick1") == fired.count("tick2") == fired.count("tick3") == 1
    assert fired.index("tick1") < fired.index("tick2") < fired.index("tick3")


def test_an_urgent_callback_that_raises_goes_to_the_exception_handler() -> None:
    loop = ServerLoop()
    seen: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        order: list[str] = []

        def boom() -> None:
            raise RuntimeError("tick failed")
        loop.call_urgent_at(loop.time(), boom)
        _burst(loop, order, 2)
        _run(loop, loop.time() + 0.1)
    finally:
        loop.close()
    assert order == ["work0", "work1"]  # the loop went on
    assert len(seen) == 1 and isinstance(seen[0]["exception"], RuntimeError)


def test_the_rest_of_asyncio_behaves_as_usual() -> None:
    async def main(address: tuple[str, int]) -> list[str]:
        out: list[str] = []

        async def sleeper(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            out.append(name)
        loop = asyncio.get_running_loop()
        loop.call_later(0.03, out.append, "later")
        handle = loop.call_later(0.01, out.append, "cancelled")
        handle.cancel()
        await asyncio.gather(sleeper("b", 0.02), sleeper("a", 0.01), sleeper("c", 0.04))
        fut = loop.create_future()
        loop.call_soon_threadsafe(fut.set_result, "threadsafe")
        out.append(await fut)
        reader, writer = await asyncio.open_connection(*address)
        writer.write(b"ping\n")
        out.append((await reader.readline()).decode().strip())
        writer.close()
        return out

    async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(await r.readline())
        await w.drain()
        w.close()

    async def serve_and_run() -> list[str]:
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        async with server:
            return await main(server.sockets[0].getsockname()[:2])

    with asyncio.Runner(loop_factory=ServerLoop) as runner:
        got = runner.run(serve_and_run())
    assert got == ["a", "b", "later", "c", "threadsafe", "ping"]

