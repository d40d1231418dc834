"""End to end fuzz: every transport of one switchboard attacked at once, honest callers served.

One :class:`Switchboard` with real listeners (telnet, raw, SSH and WebSocket on loopback
port 0; serial lines on pty pairs). Attackers, each from its own loopback address (the
per-address gate stays at its defaults and refuses none of them), send seeded random
bytes:

* telnet: pure noise; IAC-heavy noise (options, commands, short, truncated and oversized
  subnegotiations); the same after a correct or a wrong option negotiation;
* raw: pure noise; key-like noise after the home page; one burst above ``max_input``;
* SSH: noise instead of a version banner; a banner then noise or an absurd packet
  length; real asyncssh sessions typing noise in a PTY shell (with window changes,
  breaks and signals), and one asking for what is refused (a forwarding, a command, a
  second session);
* WebSocket: noise instead of a request; an upgrade with noise pipelined behind it; an
  upgrade then random and invalid frames; a real websockets client sending random text
  (code points above U+00FF), binary, pings and an oversized message;
* serial: noise (bad parity included) written to a direct-mode line's pty, and to a
  modem line while a call is on.

Meanwhile an honest caller consults the results over every transport (telnet, raw,
ssh, ws and serial URLs of the emulator) and must get the right page. Afterwards: each
listener takes a new honest call; no log record at ERROR, nothing reached the event
loop's exception handler; every call the board opened was closed exactly once; after
shutdown no task is left and the gate counts no caller.

Serial noise never contains Connexion/Fin (``SEP 49``, ``ESC 29 34 0D``): the test, not
the noise, ends those calls, so the state of the line afterwards is known without
guessing how far the server got. ``E2E_FUZZ_SEED`` replays another seed.

Found with it (each has its regression test next to its transport's tests): serial calls
outlived a shutdown when the caller was idle; an SSH caller's EOF left the channel and
the connection open for good; a WebSocket call, or its connection once the call was
over, stayed 10 s after the caller had gone when messages were left queued.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections import Counter
from typing import Any

import pytest

from tests.abuse.arena import (
    NETWORK,
    SEED,
    SERIAL,
    SLOW,
    Arena,
)
from tests.abuse.attackers import (
    attack_serial,
)
from tests.abuse.rig import (
    Rig,
    attackers,
    consult,
    end_call,
    honest_call,
    new_direct_call,
    staying_call,
)
from tests.helpers.results import ELODIE, PAUL_PARIS
from videotex.protocols.hayes import ModemState


async def test_attacks_on_every_transport_while_honest_callers_get_their_results(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    try:
        await run_the_attack(rig)
        on_the_line = {id(call) for call in rig.board.calls}
        await rig.shutdown()
        for t in rig.staying:  # every caller still on the line got the goodbye page
            await t.wait_for_text("AU REVOIR", SLOW)
            assert "redémarre" in t.text, t.text
        reasons = [reason for call, reason in rig.hooks.closed if id(call) in on_the_line]
        assert reasons == ["shutdown"] * len(on_the_line), reasons
        await rig.stop()
        gc.collect()  # "exception never retrieved" is reported when a task is freed
        await leftover_tasks()
    finally:
        loop.set_exception_handler(previous)

    errors = [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records
              if r.levelno >= logging.ERROR]
    assert not errors, "\n".join(errors)
    assert not loop_errors, loop_errors
    hooks = rig.hooks
    closes = Counter(id(call) for call, _ in hooks.closed)
    assert all(n == 1 for n in closes.values()), "a call was closed twice"
    assert set(closes) == {id(call) for call in hooks.opened}, "a call was never closed"
    assert not rig.board.calls
    assert not rig.board.gate._live, rig.board.gate._live  # every admission released
    assert rig.board.gate.refused == 0  # attackers each had their own address


async def leftover_tasks() -> None:
    """After shutdown, every task ends (a closing handshake may take a moment)."""
    others = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=10)
    left = [t for t in others if not t.done()]
    assert not left, left


async def run_the_attack(rig: Rig) -> None:
    hooks, board = rig.hooks, rig.board
    arena = Arena()
    hold = asyncio.Event()
    serial, direct = rig.clients[0], rig.clients[1]
    # serial lines ready: the honest Minitel and the attacked one on their home page, the
    # modem line answering a call
    await rig.line("direct").wait_until(lambda ln: ln.calls == 1, SLOW)
    await direct.wait_for(lambda c: c.minitel.cursor == (10, 15), SLOW, "home page on direct")
    await rig.line("modem").wait_until(
        lambda ln: ln.modem is not None and ln.modem.state is ModemState.IDLE, SLOW)
    rig.fake_modem.ring(caller="0320123456")
    attacked = await rig.fake_modem.answered(SLOW)
    await attacked.wait_for(lambda c: c.minitel.cursor == (10, 15), SLOW, "home page on modem")
    direct_wire = rig.ptys["direct"].master
    modem_wire = rig.ptys["modem"].master

    async with asyncio.timeout(60), asyncio.TaskGroup() as tg:
        for attack in attackers(rig, arena, hold):
            tg.create_task(attack)
        tg.create_task(attack_serial(arena, "direct", direct_wire, random.Random(SEED + 1)))
        tg.create_task(attack_serial(arena, "modem", modem_wire, random.Random(SEED + 2)))
        await arena.until(lambda: all(arena.started[k] >= 1 for k in (*NETWORK, *SERIAL[1:])),
                          "attack on every transport")
        # the honest callers, while the attacks run (some attackers wait for them to end)
        async with asyncio.TaskGroup() as honest:
            honest.create_task(honest_call(rig.url("telnet"), ELODIE))
            honest.create_task(honest_call(rig.url("raw"), PAUL_PARIS))
            honest.create_task(honest_call(rig.url("ssh"), ELODIE))
            honest.create_task(honest_call(rig.url("ws"), PAUL_PARIS))
            honest.create_task(consult(serial, ELODIE, SLOW))
        hold.set()
    assert all(arena.sent[k] > 0 for k in (*NETWORK, *SERIAL[1:])), arena.sent
    print(f"seed {SEED}: connections {dict(arena.started)}, sent {dict(arena.sent)}, "
          f"cut by the server {dict(arena.cut)}, calls {len(hooks.opened)}")

    # afterwards, every listener takes a new honest call
    async with asyncio.TaskGroup() as after:
        after.create_task(staying_call(rig, "telnet", PAUL_PARIS))
        after.create_task(staying_call(rig, "raw", ELODIE))
        after.create_task(staying_call(rig, "ssh", PAUL_PARIS))
        after.create_task(staying_call(rig, "ws", ELODIE))

        async def serial_again() -> None:
            await end_call(serial, hooks, rig.device("serial"))
            await new_direct_call(serial, rig.line("serial"), PAUL_PARIS)
            rig.staying.append(serial)

        async def direct_again() -> None:
            await end_call(direct, hooks, rig.device("direct"))
            await new_direct_call(direct, rig.line("direct"), ELODIE)
            rig.staying.append(direct)

        async def modem_again() -> None:
            assert len(hooks.live_on(rig.device("modem"))) == 1
            rig.fake_modem.drop_carrier()
            await hooks.until(lambda: not hooks.live_on(rig.device("modem")),
                              "end of the modem call", SLOW)
            await rig.line("modem").wait_until(
                lambda ln: ln.modem is not None and ln.modem.state is ModemState.IDLE, SLOW)
            rig.fake_modem.ring()
            again = await rig.fake_modem.answered(SLOW)
            await consult(again, ELODIE, SLOW)
            rig.staying.append(again)

        after.create_task(serial_again())
        after.create_task(direct_again())
        after.create_task(modem_again())
    # the attackers' calls end with them: only the honest callers are left for the shutdown
    await hooks.until(lambda: len(board.calls) == len(rig.staying), "attackers' calls ended",
                      timeout=5)
    assert len(board.calls) == len(rig.staying) == 7, "callers left for the shutdown"
