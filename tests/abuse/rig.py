"""The end-to-end fuzz's rig: every transport on one switchboard, honest callers, and
the attack roster."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
from pathlib import Path
from typing import Any

from terminal_emu import Key
from terminal_emu.client import MinitelClient, open_transport
from tests.abuse.arena import (
    HOST,
    MODEM_TIMINGS,
    NETWORK,
    SEED,
    SLOW,
    Arena,
    Hooks,
)
from tests.abuse.attackers import (
    attack_raw,
    attack_ssh_requests,
    attack_ssh_shell,
    attack_ssh_wire,
    attack_telnet,
    attack_ws_client,
    attack_ws_wire,
)
from tests.helpers.callers import send_form
from tests.helpers.results import ELODIE
from tests.helpers.serial_line import FakeModem, PtyPair, SevenE1Line, socket_minitel
from videotex.channels.serial_line import SerialLine
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import Listener, start_listener
from videotex.runtime.switchboard import Switchboard
from videotex.teletel import SystemClock

# -- honest callers -------------------------------------------------------------------------


async def consult(t: MinitelClient, who: tuple[str, str], timeout: float = 10.0) -> None:
    """Home page, number, Suite, birth date, Envoi; then the page that caller must get."""
    numero, birth = who
    await t.wait_for(lambda c: (c.shows("RESULTATS DES EXAMENS") and not c.shows("AU REVOIR")
                                and c.minitel.cursor == (10, 15)),
                     timeout, "the home page, cursor in the number field")
    await send_form(t, numero, birth, timeout)
    # paced lines draw a page over a while: wait for all of it
    if who == ELODIE:
        await t.wait_for(lambda c: (c.shows("ADMIS") and c.shows("Mention Très bien")
                                    and "Lycée Faidherbe" in c.text),
                         timeout, "Élodie's result: admitted, with honours, her lycée")
    else:
        await t.wait_for(lambda c: c.shows("PAS ENCORE PUBLIE") and "14h00" in c.text,
                         timeout, "Paul's result: not yet published, out at 14h00")


async def honest_call(url: str, who: tuple[str, str]) -> None:
    """A whole call: consultation, then Connexion/Fin and the server's goodbye."""
    t = await MinitelClient.connect(url)
    try:
        await consult(t, who)
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("AU REVOIR")
        await t.wait_closed(10)
    finally:
        await t.close()


async def staying_call(rig: Rig, kind: str, who: tuple[str, str]) -> None:
    """A consultation whose caller stays on the line (the shutdown says goodbye)."""
    t = await MinitelClient.connect(rig.url(kind))
    rig.clients.append(t)
    rig.staying.append(t)
    await consult(t, who)


async def end_call(t: MinitelClient, hooks: Hooks, peer: str) -> None:
    """Connexion/Fin ends the one call on a serial line. Whatever the noise left half
    typed, SEP breaks it and is decoded on its own; the press waits behind the noise,
    whose answers are paced at the line's speed."""
    assert len(hooks.live_on(peer)) == 1, hooks.live_on(peer)
    await t.press(Key.CONNEXION_FIN)
    await hooks.until(lambda: not hooks.live_on(peer), f"end of the call on {peer}", SLOW)


async def new_direct_call(t: MinitelClient, line: SerialLine, who: tuple[str, str]) -> None:
    """Direct mode: with the line idle, the Minitel's next key starts a new call."""
    calls = line.calls
    await t.press(Key.SOMMAIRE)
    await line.wait_until(lambda ln: ln.calls == calls + 1, SLOW)
    await consult(t, who, SLOW)


# -- the rig --------------------------------------------------------------------------------


class Rig:
    """The switchboard, its listeners, the serial lines' far ends, and clean-up."""

    def __init__(self, service: Any, host_key: Path) -> None:
        self.hooks = Hooks()
        self.board = Switchboard(service, SystemClock(), hooks=[self.hooks])
        self.host_key = host_key
        self.listeners: dict[str, Listener] = {}
        self.ports: dict[str, int] = {}
        self.ptys = {name: PtyPair() for name in ("cable", "serial", "direct", "modem")}
        self.clients: list[MinitelClient] = []
        self.modem: FakeModem | None = None
        #: Callers left on the line for the shutdown to say goodbye to.
        self.staying: list[MinitelClient] = []
        self._cabled: list[int] = []
        self._shut = self._stopped = False

    def url(self, kind: str) -> str:
        port = self.ports[kind]
        return {"telnet": f"telnet://{HOST}:{port}", "raw": f"raw://{HOST}:{port}",
                "ssh": f"ssh://minitel@{HOST}:{port}", "ws": f"ws://{HOST}:{port}/ws"}[kind]

    def line(self, name: str) -> SerialLine:
        line = self.listeners[name]
        assert isinstance(line, SerialLine)
        return line

    def device(self, name: str) -> str:
        return self.ptys[name].path

    @property
    def fake_modem(self) -> FakeModem:
        assert self.modem is not None
        return self.modem

    async def start(self) -> None:
        options: dict[str, dict[str, Any]] = {"ssh": {"host_key": str(self.host_key)}}
        for kind in NETWORK:
            listener = await start_listener(
                ListenerConfig(kind, HOST, 0, options=options.get(kind, {})), self.board)
            self.listeners[kind] = listener
            self.ports[kind] = int(listener.addresses()[-1].rpartition(":")[2].split("/")[0])
        self._cable(self.ptys["cable"], self.ptys["serial"])
        # the Minitels are on before their lines open (a speed request must find them)
        transport = await open_transport(f"serial://{self.device('cable')}?baud=9600")
        self.clients.append(MinitelClient(transport, socket_minitel("2")))
        wire = SevenE1Line(self.ptys["direct"])
        self.clients.append(MinitelClient(wire, socket_minitel("2")))
        self.modem = FakeModem(self.ptys["modem"], speed=9600)
        for name, options_ in (("serial", {"mode": "direct"}), ("direct", {"mode": "direct"}),
                               ("modem", MODEM_TIMINGS)):
            self.listeners[name] = await start_listener(
                ListenerConfig("serial", self.device(name), 0, 9600, options=options_),
                self.board)

    def _cable(self, a: PtyPair, b: PtyPair) -> None:
        """A null-modem cable between two pty masters."""
        loop = asyncio.get_running_loop()

        def carry(src: int, dst: int) -> None:
            with contextlib.suppress(BlockingIOError):
                os.write(dst, os.read(src, 4096))

        loop.add_reader(a.master, carry, a.master, b.master)
        loop.add_reader(b.master, carry, b.master, a.master)
        self._cabled += [a.master, b.master]

    async def shutdown(self) -> None:
        """The server's part: listeners closed, callers said goodbye to, lines closed."""
        if self._shut:
            return
        self._shut = True
        for listener in self.listeners.values():
            listener.close()
        await self.board.shutdown(grace=2)
        for listener in self.listeners.values():  # no connection lingers (close timeouts)
            await asyncio.wait_for(listener.wait_closed(), 5)

    async def stop(self) -> None:
        """The server shut down, then our ends of every line."""
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.shutdown()
        finally:
            for client in self.clients:
                await client.close()
            if self.modem is not None:
                if self.modem.client is not None:
                    await self.modem.client.close()
                self.modem.stop()
            loop = asyncio.get_running_loop()
            for fd in self._cabled:
                loop.remove_reader(fd)

    def close(self) -> None:
        for pair in self.ptys.values():
            pair.close()


def attackers(rig: Rig, arena: Arena, hold: asyncio.Event) -> list[Any]:
    """The attack coroutines: a fixed count per transport, each seeded from SEED."""
    sources = (f"127.0.0.{n}" for n in itertools.count(10))
    seeds = itertools.count(SEED * 1000)

    def rng() -> random.Random:
        return random.Random(next(seeds))

    p = rig.ports
    out: list[Any] = []
    for i, style in enumerate(("noise", "iac", "oversized", "agree", "agree", "refuse")):
        out.append(attack_telnet(arena, p["telnet"], next(sources), rng(), style,
                                 hold if i == 3 else None))
    for i, style in enumerate(("noise", "keys", "keys", "burst", "noise")):
        out.append(attack_raw(arena, p["raw"], next(sources), rng(), style,
                              hold if i == 1 else None))
    for style in ("noise", "banner", "length"):
        out.append(attack_ssh_wire(arena, p["ssh"], next(sources), rng(), style))
    out.append(attack_ssh_shell(arena, p["ssh"], next(sources), rng(), hold))
    out.append(attack_ssh_shell(arena, p["ssh"], next(sources), rng(), None))
    out.append(attack_ssh_requests(arena, p["ssh"], next(sources), rng()))
    for i, style in enumerate(("noise", "pipelined", "pipelined", "frames", "frames",
                               "valid")):
        out.append(attack_ws_wire(arena, p["ws"], next(sources), rng(), style,
                                  hold if i == 5 else None))
    for ending in ("oversized", "hangup"):
        out.append(attack_ws_client(arena, p["ws"], next(sources), rng(), ending))
    return out
