"""The embargo test's callers over every transport: screens shot and compared, lookups and
name searches before and after the publication hour."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from terminal_emu import Key
from terminal_emu.client import MinitelClient
from tests.abuse.embargo_store import (
    ABSENT,
    BIRTH_TYPED,
    ETABLISSEMENT,
    JURY,
    NOBODY,
    NOM,
    NUMERO,
    PRENOM,
    ROWS,
    WRONG_BIRTH_TYPED,
)
from tests.cellmodel import STATUS_CELLS, assert_same_screen, normalise_screen
from tests.helpers.serial_line import PtyPair
from videotex.runtime.switchboard import Switchboard
from videotex.store import ACADEMIES, EXAMS

# -- over every transport -----------------------------------------------------------------


class HourClock:
    """Real monotonic time; a wall clock that stays before the official hour until the
    test moves it (the service reads publication states against the wall clock)."""

    def __init__(self, wall: datetime.datetime) -> None:
        self._wall = wall

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime.datetime:
        return self._wall

    def set_wall(self, wall: datetime.datetime) -> None:
        self._wall = wall


@dataclass
class Shot:
    """One screen as a person sees it, with what may legitimately differ masked: the
    digits of row 0 (time connected) and the terminal's own indicators there."""

    where: str
    text: str
    cells: list[list[dict[str, Any]]]
    cursor: tuple[int, int, bool]
    #: The text without what the caller typed (a field shows it back).
    shown: str


#: What a masked cell becomes on both sides of a comparison.
MASKED = {"kind": "char", "char": "?", "sextants": 0, "separated": False, "fg": 7, "bg": 0,
          "blink": False, "inverse": False, "underline": False, "masked": False,
          "size": "normal", "part": [0, 0]}


def shows(text: str, words: str) -> bool:
    """``words`` on screen in normal or double width (as MinitelClient.shows)."""
    return words in text or "".join(ch * 2 for ch in words) in text


def shot(t: MinitelClient, where: str, mask: tuple[tuple[int, int, int], ...] = ()) -> Shot:
    snap = t.snapshot()
    cells = normalise_screen(snap)
    for r, c in STATUS_CELLS:
        cells[r][c - 1] = MASKED
    for c, cell in enumerate(cells[0]):
        if str(cell["char"]).isdigit():
            cells[0][c] = MASKED
    for row, first, last in mask:
        for c in range(first, last + 1):
            cells[row][c - 1] = MASKED
    lines = t.text.split("\n")
    for row, first, last in mask:
        lines[row] = lines[row][:first - 1] + "?" * (last - first + 1) + lines[row][last:]
    cur: dict[str, Any] = snap["cursor"]  # type: ignore[assignment]
    cursor = (int(cur["row"]), int(cur["col"]), bool(cur["visible"]))
    for row, first, last in mask:
        if cursor[0] == row and first <= cursor[1] <= last + 1:
            cursor = (row, 0, cursor[2])  # after what was typed: its length
    return Shot(where, t.text, cells, cursor, "\n".join(lines))


def assert_same(a: Shot, b: Shot) -> None:
    context = f"{a.where} vs {b.where}\n{a.text}\n----\n{b.text}"
    assert_same_screen(a.cells, b.cells, context)
    assert a.cursor == b.cursor, context


def assert_reveals_nothing(s: Shot) -> None:
    plain = s.shown
    squeezed = plain.replace(" ", "")
    for secret in (NOM, PRENOM, "SEVERINE", ETABLISSEMENT, "Fenelon", JURY, "ADMIS",
                   "AJOURN", "SECOND GROUPE", "Mention", "Très bien", "candidat de ce nom",
                   "candidats de ce nom"):
        assert secret.lower() not in plain.lower(), f"{s.where} shows {secret!r}\n{plain}"
        doubled = "".join(ch * 2 for ch in secret)  # double width
        assert doubled not in squeezed, f"{s.where} shows {secret!r}\n{plain}"
    assert str(ROWS) not in re.sub(r"\d\d:\d\d", "", plain), f"{s.where} shows {ROWS}\n{plain}"


async def settle(t: MinitelClient, timeout: float) -> None:
    """Wait until the page is all there: a key no page takes is answered with a beep, and
    the beep comes after every byte the server sent before it."""
    bells = t.minitel.screen.bells
    await t.type("*")
    await t.wait_for(lambda c: c.minitel.screen.bells > bells, timeout,
                     "the beep that follows the page")


class Line:
    """How a caller reaches the service on one transport: a fresh call at the home page."""

    name: str
    timeout = 10.0

    async def call(self) -> MinitelClient:
        raise NotImplementedError

    async def hang_up(self, t: MinitelClient) -> None:
        raise NotImplementedError

    async def home(self, t: MinitelClient) -> MinitelClient:
        await t.wait_for_text("RESULTATS DES EXAMENS", self.timeout)
        await t.wait_for(lambda c: c.minitel.cursor == (10, 15), self.timeout,
                         "cursor in the number field")
        return t


class NetLine(Line):
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    async def call(self) -> MinitelClient:
        return await self.home(await MinitelClient.connect(self.url))

    async def hang_up(self, t: MinitelClient) -> None:
        await t.close()


class SerialLine(Line):
    """A Minitel 2 on its DIN socket, plugged into the server's serial line (direct mode)
    by a null-modem cable between two ptys. It stays plugged: Connexion/Fin ends a call,
    its next key starts the next one."""

    name = "serial"
    timeout = 20.0

    def __init__(self, client: MinitelClient, line: Any, board: Switchboard) -> None:
        self.client = client
        self.line = line
        self.board = board
        self.calls = 0

    def _on_line(self) -> bool:
        return any(c.conn.channel == "serial" for c in self.board.calls)

    async def call(self) -> MinitelClient:
        t = self.client
        if self.calls:
            await t.press(Key.SOMMAIRE)
        self.calls += 1
        await self.line.wait_until(lambda line: line.calls >= self.calls, self.timeout)
        return await self.home(t)

    async def hang_up(self, t: MinitelClient) -> None:
        await t.press(Key.CONNEXION_FIN)
        await t.wait_for_text("AU REVOIR", self.timeout)
        await self.line.wait_until(lambda line: not self._on_line(), self.timeout)


async def lookup(line: Line, numero: str, birth: str, expect: str) -> Shot:
    """Number, Suite, birth date, Envoi (the home page's contract); the complete answer."""
    t = await line.call()
    try:
        await t.type(numero)
        await t.press(Key.SUITE)
        await t.type(birth)
        await t.wait_for(lambda c: birth in c.text, line.timeout, "birth date echoed")
        await t.press(Key.ENVOI)
        await t.wait_for_text(expect, line.timeout)
        await settle(t, line.timeout)
        return shot(t, f"{line.name} {numero} {birth}")
    finally:
        await line.hang_up(t)


async def choose(t: MinitelClient, line: Line, number: int, expect: str) -> None:
    await t.type(str(number))
    await t.press(Key.ENVOI)
    await t.wait_for_text(expect, line.timeout)
    await settle(t, line.timeout)


#: The name field of the name form (row 9, columns 3 to 26): it shows what was typed.
NAME_FIELD = ((9, 3, 26),)
BAC = list(EXAMS).index("bac") + 1
PARIS_CHOICE = list(ACADEMIES).index("paris") + 1
LILLE_CHOICE = list(ACADEMIES).index("lille") + 1


async def search_names(line: Line) -> tuple[Shot, Shot, Shot]:
    """Sommaire, bac, Paris: the académie's page; then Lille's name form with the staged
    candidate's surname, and with a surname nobody has."""
    t = await line.call()
    try:
        await t.press(Key.SOMMAIRE)
        await t.wait_for_text("Publications, et recherche par nom", line.timeout)
        await choose(t, line, BAC, "ACADEMIE")
        await choose(t, line, PARIS_CHOICE, "PAS ENCORE PUBLIE")
        paris = shot(t, f"{line.name} académie de Paris")
        await t.press(Key.RETOUR)
        await t.wait_for_text("Tapez le numéro choisi", line.timeout)
        await choose(t, line, LILLE_CHOICE, "RECHERCHE PAR NOM")
        shots = []
        for name in (NOM, NOBODY):
            await t.press(Key.ANNULATION)
            await t.type(name)
            await t.wait_for(lambda c: name in c.text, line.timeout,  # noqa: B023
                             "name echoed")
            await t.press(Key.ENVOI)
            await t.wait_for_text("Aucun candidat publié sous ce nom", line.timeout)
            await settle(t, line.timeout)
            shots.append(shot(t, f"{line.name} name {name} in Lille", NAME_FIELD))
        return paris, shots[0], shots[1]
    finally:
        await line.hang_up(t)


@dataclass
class Embargoed:
    """What one transport showed while the batch was staged and not published."""

    right: Shot
    wrong: Shot
    absent: Shot
    paris: Shot
    name: Shot
    nobody: Shot


async def before_publication(line: Line) -> Embargoed:
    right = await lookup(line, NUMERO, BIRTH_TYPED, "PAS ENCORE PUBLIE")
    wrong = await lookup(line, NUMERO, WRONG_BIRTH_TYPED, "PAS ENCORE PUBLIE")
    absent = await lookup(line, ABSENT, BIRTH_TYPED, "PAS ENCORE PUBLIE")
    return Embargoed(right, wrong, absent, *await search_names(line))


async def after_publication(line: Line) -> tuple[Shot, Shot, Shot]:
    """The same caller at the official hour: the result by number, a wrong birth date
    refused, and the candidate by name in Paris."""
    right = await lookup(line, NUMERO, BIRTH_TYPED, "Mention Très bien")
    wrong = await lookup(line, NUMERO, WRONG_BIRTH_TYPED, "AUCUN RESULTAT")
    t = await line.call()
    try:
        await t.press(Key.SOMMAIRE)
        await t.wait_for_text("Publications, et recherche par nom", line.timeout)
        await choose(t, line, BAC, "ACADEMIE")
        await choose(t, line, PARIS_CHOICE, "RECHERCHE PAR NOM")
        await t.type(NOM)
        await t.press(Key.ENVOI)
        await t.wait_for_text("1 candidat de ce nom", line.timeout)
        await settle(t, line.timeout)
        by_name = shot(t, f"{line.name} name {NOM} in Paris")
    finally:
        await line.hang_up(t)
    return right, wrong, by_name


@contextlib.asynccontextmanager
async def serial_cable() -> Any:
    """Two pty pairs joined by a null-modem cable: ``(server side, Minitel side)``."""
    a, b = PtyPair(), PtyPair()
    loop = asyncio.get_running_loop()

    def carry(src: int, dst: int) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(dst, os.read(src, 4096))

    loop.add_reader(a.master, carry, a.master, b.master)
    loop.add_reader(b.master, carry, b.master, a.master)
    try:
        yield a, b
    finally:
        loop.remove_reader(a.master)
        loop.remove_reader(b.master)
        a.close()
        b.close()


#: Paths asked of the HTTP side of the ``ws`` listener: its page, and files of the store.
HTTP_PROBES = ("/", "/index.html", "/staged/bac-paris.sealed", "/../staged/bac-paris.sealed",
               "/%2e%2e/store/staged/bac-paris.sealed", "/results.lmdb/data.mdb",
               "//etc/../store/staged/bac-paris.sealed")


async def http_get(base: str, path: str) -> bytes:
    """The whole answer to a plain HTTP/1.1 GET (the server closes after it)."""
    host, _, port = base.removeprefix("http://").rstrip("/").rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def gather_lines(lines: list[Line], job: Callable[[Line], Awaitable[Any]]
                       ) -> dict[str, Any]:
    results = await asyncio.gather(*(job(line) for line in lines))
    return {line.name: r for line, r in zip(lines, results, strict=True)}
