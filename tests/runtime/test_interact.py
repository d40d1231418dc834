"""How time wakes a call over real sockets (``videotex.runtime.interact``): the status row
ticks with no key typed, typing still works between ticks, and a time limit ends the
call on a tick. Telnet and raw TCP write a tick from the timer, without interrupting the
read; a paced line goes through the coroutine. Waits for the screen, never sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pages import ResultsService, ServiceConfig
from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.helpers.listeners import loopback_servers
from videotex.channels.connection import Pacer, StreamConnection
from videotex.runtime.interact import interact
from videotex.runtime.switchboard import Switchboard
from videotex.store import ResultsStore
from videotex.teletel import Limits, Session, SessionConfig, SystemClock


def _fast_service(store_dir: Any) -> ResultsService:
    # the status row every 0.3 s (60 s in service)
    return ResultsService(ResultsStore(store_dir), ServiceConfig(status_interval=0.3))


@pytest.fixture
async def urls(store_dir) -> AsyncIterator[dict[str, str]]:
    board = Switchboard(_fast_service(store_dir), SystemClock(), session_config=SessionConfig(
        limits=Limits(idle_timeout=3.0, idle_warning=1.0, countdown_step=0.5)))
    async with loopback_servers(None, board) as servers:
        yield {"telnet": servers.telnet, "raw": servers.raw}


def _status(t: MinitelClient) -> str:
    return t.text.splitlines()[0]


@pytest.mark.parametrize("kind", ["telnet", "raw"])
async def test_ticks_reach_an_idle_caller_and_typing_still_works(urls, kind: str) -> None:
    t = await MinitelClient.connect(urls[kind])
    try:
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="home page")
        first = _status(t)
        await t.wait_for(lambda c: _status(c) != first, what="a status tick, no key typed")
        second = _status(t)
        await t.wait_for(lambda c: _status(c) != second, what="another status tick")
        await t.type("123")
        await t.wait_for(lambda c: "123" in c.text, what="echo between ticks")
        now = _status(t)
        await t.wait_for(lambda c: _status(c) != now, what="ticks go on after typing")
        await t.wait_for(lambda c: c.minitel.cursor == (10, 18), what="cursor back in field")
    finally:
        await t.close()


@pytest.mark.parametrize("kind", ["telnet", "raw"])
async def test_idle_limit_ends_the_call_on_a_tick(urls, kind: str) -> None:
    t = await MinitelClient.connect(urls[kind])
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="home page")
    await t.wait_for(lambda c: "Sans action, fin dans" in _status(c), timeout=5.0,
                     what="the idle warning, counting down")
    await t.wait_for(lambda c: "Merci de votre appel" in c.text, timeout=5.0,
                     what="the goodbye page of the idle hang-up")
    await t.wait_closed(timeout=5.0)


class _Pipe(StreamConnection):
    """A raw TCP line made to look like a line whose writes need the coroutine."""

    writes_now = False


async def test_a_paced_line_ticks_through_the_coroutine(store_dir) -> None:
    service = _fast_service(store_dir)
    sessions: list[Session] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(service, SystemClock(), caller="test", channel="raw")
        sessions.append(session)
        await interact(_Pipe(reader, writer, "raw"), session, Pacer(9600))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        t = await MinitelClient.connect(f"raw://127.0.0.1:{port}")
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), what="home page")
        first = _status(t)
        await t.wait_for(lambda c: _status(c) != first, what="a paced status tick")
        await t.type("45")
        await t.wait_for(lambda c: "45" in c.text, what="echo on the paced line")
        await t.press(Key.CONNEXION_FIN)
        await t.wait_closed()
        assert sessions[0].closed
    finally:
        server.close()


class _Member:
    """Stands for a call's deadlines in the wheel (what the wheel calls is ``fire``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, due: float, log: list[Any],
                 fail: bool = False) -> None:
        self.loop, self.due, self.log, self.fail = loop, due, log, fail
        self.fired = asyncio.Event()

    def fire(self) -> None:
        self.log.append((self, self.loop.time()))
        self.fired.set()
        if self.fail:
            raise RuntimeError("this call's tick failed")


async def test_the_wheel_fires_never_early_removes_and_isolates_faults() -> None:
    from videotex.runtime.interact import _wheel

    loop = asyncio.get_running_loop()
    wheel = _wheel(loop)
    assert _wheel(loop) is wheel  # one per loop
    log: list[Any] = []
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    now = loop.time()
    members = [_Member(loop, now + d, log, fail=(i == 0))
               for i, d in enumerate((0.01, 0.01, 0.07, 0.12))]
    slots = [wheel.add(m, m.due) for m in members]  # type: ignore[arg-type]
    gone = _Member(loop, now + 0.01, log)
    wheel.remove(gone, wheel.add(gone, gone.due))  # type: ignore[arg-type]
    assert slots[0] == slots[1]  # due together: one slot, one wake-up
    async with asyncio.timeout(5):
        for m in members:
            await m.fired.wait()
    fired = {id(m): at for m, at in log}
    assert set(fired) == {id(m) for m in members}  # the removed one never fired
    for m in members:
        assert fired[id(m)] >= m.due  # never early
    assert len(errors) == 1 and "this call's tick failed" in str(errors[0]["exception"])
    assert wheel.slots == {}
