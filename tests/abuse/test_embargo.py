"""The embargo, proved over every transport (issue 8).

Before publication no channel reveals anything of a batch: not a result, a name, a
count, nor which numbers exist. The key never reaches a log or a file of the server,
and staged files hold ciphertext only.

The store is built the way an operator does it, with the ``videotex`` command line
(keygen, seal, ingest, schedule): bac Lille is published; bac Paris is sealed and staged,
its official hour still to come, its key not released. One switchboard serves it through
real listeners (telnet, raw TCP, SSH, WebSocket on loopback, and a serial line in direct
mode over a pty pair); the emulator is the caller on each. The staged candidate's number
with the right birth date, with a wrong one, and a number of the batch that does not
exist must draw the same screen (only the clock of row 0 may differ), and none of them
any of the candidate's data or the batch's size. The search by name finds the staged
candidate no more than a name nobody has. Then the key is released at the official hour
and the same callers get the result over each transport: the checks could see a leak.

Screens are compared once complete: after the page, the test types a character no page
takes, and the server's beep for it comes after every byte of the page. No sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import io
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pages import ResultsService, ServiceConfig
from terminal_emu import Key
from terminal_emu.client import MinitelClient, open_transport
from tests.cellmodel import STATUS_CELLS, assert_same_screen, normalise_screen
from tests.helpers.serial_line import PtyPair, socket_minitel
from videotex.cli import main as videotex
from videotex.protocols.gate import GatePolicy
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import Listener, start_listener
from videotex.runtime.logs import JsonFormatter
from videotex.runtime.switchboard import Switchboard
from videotex.store import ACADEMIES, EXAMS, ResultsStore, publish_batch
from videotex.store.exams import ACADEMY_CODES, EXAM_CODES
from videotex.store.lmdbstore import close_env
from videotex.store.publish import staged_path
from videotex.store.sealed import read_header, read_key, seal_bytes, unseal

UTC = datetime.UTC
#: The official hour of bac Paris: 14h00 in Paris. Far ahead, so that the real clock
#: never reaches it: only the key holder publishes, and only when told the hour has come.
HOUR = datetime.datetime(2100, 7, 8, 12, 0, tzinfo=UTC)
BEFORE = HOUR - datetime.timedelta(hours=4)
LILLE = ACADEMY_CODES["lille"] + EXAM_CODES["bac"]
PARIS = ACADEMY_CODES["paris"] + EXAM_CODES["bac"]

HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"
#: The staged candidate: consenting, admitted with a mention (all of it secret until 14h00).
NUMERO = f"{PARIS}0000017"
NOM, PRENOM, BIRTH = "QUINCAMPOIX", "Séverine", datetime.date(1987, 11, 23)
ETABLISSEMENT, JURY = "Lycée Fénelon", "J77"
BIRTH_TYPED, WRONG_BIRTH_TYPED = "23111987", "24111987"
#: A number of the same exam and académie that the batch does not hold.
ABSENT = f"{PARIS}0000500"
#: A surname nobody has, in any batch.
NOBODY = "VERCINGETORIX"
#: How many results the staged batch holds: a figure that must appear nowhere before 14h00.
ROWS = 37
_FILLER_NAMES = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND",
                 "DUBOIS", "MOREAU", "LAURENT", "SIMON", "MICHEL")


def _paris_rows() -> list[str]:
    rows = []
    for serial in range(1, ROWS + 1):
        if f"{PARIS}{serial:07d}" == NUMERO:
            rows.append(f"{NUMERO},{NOM},{PRENOM},{BIRTH.isoformat()},S,admis,TB,oui,"
                        f"{ETABLISSEMENT},{JURY}")
            continue
        born = datetime.date(1987, 1 + serial % 9, 1 + serial % 27)  # never 23/11
        outcome = ("admis", "ajourné", "second groupe")[serial % 3]
        rows.append(f"{PARIS}{serial:07d},{_FILLER_NAMES[serial % 12]},Prénom{serial},"
                    f"{born.isoformat()},ES,{outcome},,{'oui' if serial % 4 else 'non'},"
                    f"Lycée Voltaire,J0{serial % 9}")
    return rows


LILLE_ROWS = [
    f"{LILLE}0000001,DUPONT,Élodie,1987-07-03,S,admis,TB,oui,Lycée Faidherbe,J12",
    f"{LILLE}0000002,LEFÈVRE,François,1987-02-02,STG,second groupe,,oui,Lycée Baggio,J14",
]


# -- what must never be seen ------------------------------------------------------------


def key_forms(key: bytes) -> dict[str, bytes]:
    """The key as it could slip into a log line or a file."""
    return {
        "raw": key,
        "hex": key.hex().encode(),
        "HEX": key.hex().upper().encode(),
        "base64": base64.b64encode(key),
        "base64 unpadded": base64.b64encode(key).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(key).rstrip(b"="),
        "repr": repr(key).encode(),
        "latin-1 text": key.decode("latin-1").encode(),
    }


def plaintext_forms() -> dict[str, bytes]:
    """The staged candidate's data, as it would be stored or shown."""
    return {
        "numero": NUMERO.encode(),
        "nom": NOM.encode(),
        "nom (normalised)": NOM.lower().encode(),
        "prenom": PRENOM.encode(),
        "prenom (normalised)": b"severine",
        "birth (ISO)": BIRTH.isoformat().encode(),
        "birth (typed)": BIRTH_TYPED.encode(),
        "birth (shown)": BIRTH.strftime("%d/%m/%Y").encode(),
        "etablissement": ETABLISSEMENT.encode(),
    }


def found_in(blob: bytes, forms: dict[str, bytes]) -> list[str]:
    return [name for name, form in forms.items() if form in blob]


def files_under(root: Path, skip: tuple[Path, ...] = ()) -> Iterator[Path]:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if path not in skip and path.is_file():
                yield path


def scan(root: Path, forms: dict[str, bytes], skip: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """Which forms appear in which file under ``root`` (every byte of every file)."""
    hits = {}
    for path in files_under(root, skip):
        found = found_in(path.read_bytes(), forms)
        if found:
            hits[str(path.relative_to(root))] = found
    return hits


class LogFile(logging.Handler):
    """What the server's own log would hold: every record formatted when emitted, as
    ``videotex serve`` writes it (JSON, extra fields included) and as plain text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.json = JsonFormatter()
        self.plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        for formatter in (self.json, self.plain):
            try:
                self.lines.append(formatter.format(record))
            except Exception as exc:  # a record a real handler would lose
                self.lines.append(f"unformattable {record.name} record: {exc!r}")

    def blob(self) -> bytes:
        return "\n".join(self.lines).encode("utf-8", "surrogateescape")


# -- the store, built with the operator's command line -------------------------------------


@dataclass
class Embargo:
    root: Path
    store: Path
    key: bytes
    key_file: Path
    csv: Path
    #: SHA-256 of the LMDB data file just before and just after the Paris batch was staged.
    lmdb_before: str
    lmdb_after: str
    outputs: list[str] = field(default_factory=list)

    @property
    def provider_files(self) -> tuple[Path, ...]:
        """The provider's own secrets, outside the server's reach (never scanned)."""
        return (self.key_file, self.csv)


def cli(out: list[str], capsys: pytest.CaptureFixture[str], *argv: str | Path) -> int:
    status = videotex([str(a) for a in argv])
    captured = capsys.readouterr()
    out.append(captured.out + captured.err)
    return status


def lmdb_digest(store: Path) -> str:
    return hashlib.sha256((store / "results.lmdb" / "data.mdb").read_bytes()).hexdigest()


def build(root: Path, capsys: pytest.CaptureFixture[str]) -> Embargo:
    """bac Lille published; bac Paris sealed, staged and scheduled at :data:`HOUR`."""
    store, provider = root / "store", root / "provider"
    provider.mkdir()
    out: list[str] = []
    lille_key = os.urandom(16)
    lille = provider / "bac-lille.sealed"
    lille.write_bytes(seal_bytes((HEADER + "\n".join(LILLE_ROWS) + "\n").encode(), lille_key,
                                 exam="bac", academie="lille", session=2005,
                                 rows=len(LILLE_ROWS)))
    assert cli(out, capsys, "ingest", lille, "--store", store) == 0
    publish_batch(store, "bac", "lille", lille_key, now=BEFORE - datetime.timedelta(hours=2))
    lille.unlink()
    # the provider's side: a key, the CSV, the sealed file
    key_file, csv = provider / "bac-paris.key", provider / "bac-paris.csv"
    csv.write_text(HEADER + "\n".join(_paris_rows()) + "\n", encoding="utf-8")
    assert cli(out, capsys, "keygen", "-o", key_file) == 0
    sealed = provider / "bac-paris.sealed"
    assert cli(out, capsys, "seal", csv, "--key", key_file, "--exam", "bac", "--academie",
               "paris", "--session", "2005", "-o", sealed) == 0
    # the operator's side: the official hour (public), then the sealed file
    assert cli(out, capsys, "schedule", "--store", store, "--exam", "bac", "--academie",
               "paris", "--at", HOUR.isoformat()) == 0
    before = lmdb_digest(store)
    assert cli(out, capsys, "ingest", sealed, "--store", store) == 0
    after = lmdb_digest(store)
    sealed.unlink()  # in transit: gone once staged
    return Embargo(root, store, read_key(key_file), key_file, csv, before, after, out)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[LogFile]:
    """Every log record at DEBUG and above, from any logger, formatted as emitted."""
    caplog.set_level(logging.DEBUG)
    handler = LogFile()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def embargo(tmp_path: Path, capsys: pytest.CaptureFixture[str],
            debug_logs: LogFile) -> Iterator[Embargo]:
    built = build(tmp_path, capsys)
    yield built
    close_env(built.store)


# -- on disk, in logs, through the store API ----------------------------------------------


def test_staged_batch_is_ciphertext_only_and_the_key_reaches_no_log_or_file(
        embargo: Embargo, capsys: pytest.CaptureFixture[str],
        debug_logs: LogFile, caplog: pytest.LogCaptureFixture) -> None:
    e = embargo
    secrets = key_forms(e.key)
    # staging touched nothing the server reads: the LMDB data file is byte for byte the same
    assert e.lmdb_before == e.lmdb_after
    # no file of the server holds the key, the candidate's data or the plain CSV's rows
    assert scan(e.root, secrets, e.provider_files) == {}
    assert scan(e.root, plaintext_forms(), e.provider_files) == {}
    rows = {f"row {i}": r.encode() for i, r in enumerate(_paris_rows())}
    assert scan(e.root, rows, e.provider_files) == {}
    # the staged file: the documented header, then chunks that decrypt to the CSV
    staged = staged_path(e.store, "bac", "paris").read_bytes()
    header = read_header(io.BytesIO(staged))
    assert set(json.loads(header.raw[12:])) == {
        "exam", "academie", "session", "rows", "chunk_size", "nonce_prefix", "key_id",
        "source"}
    assert header.source == "bac-paris.csv"
    assert unseal(io.BytesIO(staged), e.key)[1] == e.csv.read_bytes()
    # through the store's read API: nothing, not even a count
    store = ResultsStore(e.store)
    assert store.lookup_number(NUMERO, BIRTH) is None
    assert store.lookup_name(NOM, "bac", "paris") == []
    assert store.count_rows("bac", "paris") == 0
    status = store.status("bac", "paris", BEFORE)
    assert (status.published, status.rows, status.session, status.scheduled_at) == (
        False, None, None, HOUR)

    # the key given early is refused, a wrong key too; neither reaches an output
    out = e.outputs
    assert cli(out, capsys, "publish", "--store", e.store, "--exam", "bac", "--academie",
               "paris", "--key", e.key_file) == 1
    assert "comes out at 2100-07-08 14:00:00 CEST" in out[-1]
    wrong_file = e.root / "provider" / "wrong.key"
    assert cli(out, capsys, "keygen", "-o", wrong_file) == 0
    wrong = read_key(wrong_file)
    assert cli(out, capsys, "publish", "--store", e.store, "--exam", "bac", "--academie",
               "paris", "--key", wrong_file, "--force") == 1
    assert "wrong key for bac paris 2005" in out[-1]
    assert lmdb_digest(e.store) == e.lmdb_before
    # the key holder publishes (with --force: this test's official hour is in 2100)
    assert cli(out, capsys, "publish", "--store", e.store, "--exam", "bac", "--academie",
               "paris", "--key", e.key_file, "--force") == 0
    assert f"published bac paris: {ROWS} results" in out[-1]
    found = ResultsStore(e.store).lookup_number(NUMERO, BIRTH)
    assert found is not None and (found.nom, found.prenom) == (NOM, PRENOM)

    # the same scan now finds the candidate in the LMDB file: it would have seen a leak
    after = scan(e.root, plaintext_forms(), e.provider_files)
    assert "numero" in after.get("store/results.lmdb/data.mdb", [])
    # and the key still nowhere: no file, no CLI output, no log record at any level
    all_secrets = secrets | {f"wrong key {k}": v for k, v in key_forms(wrong).items()}
    assert scan(e.root, all_secrets, (*e.provider_files, wrong_file)) == {}
    assert found_in("\n".join(out).encode(), all_secrets) == []
    # (the store and its command line log nothing today; a record would be seen:)
    logging.getLogger("videotex.store.publish").debug("canary %s", "débogage")
    assert any("canary débogage" in line for line in debug_logs.lines)
    assert found_in(debug_logs.blob(), all_secrets) == []
    assert found_in(caplog.text.encode(), all_secrets) == []


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


async def test_nothing_of_a_staged_batch_over_any_transport_until_the_key_is_released(
        embargo: Embargo, tmp_path: Path, debug_logs: LogFile,
        caplog: pytest.LogCaptureFixture) -> None:
    e = embargo
    clock = HourClock(BEFORE)
    service = ResultsService(ResultsStore(e.store), ServiceConfig())
    # every caller comes from 127.0.0.1: per-address limits are for floods, not this test
    board = Switchboard(service, clock, gate=GatePolicy(exempt=frozenset({"127.0.0.1"})))
    listeners: list[Listener] = []
    async with serial_cable() as (server_side, minitel_side):
        # The Minitel is switched on before the line is served (pyserial flushes input
        # on open: a speed request sent before would be lost).
        transport = await open_transport(f"serial://{minitel_side.path}?baud=9600")
        minitel = MinitelClient(transport, socket_minitel("2"))
        try:
            for kind, options in (
                ("telnet", {}), ("raw", {}), ("ws", {}),
                ("ssh", {"host_key": str(tmp_path / "ssh" / "host_key")}),
            ):
                listeners.append(await start_listener(
                    ListenerConfig(kind, "127.0.0.1", 0, options=options), board))
            serial = await start_listener(
                ListenerConfig("serial", server_side.path, 0, 9600,
                               options={"mode": "direct"}), board)
            listeners.append(serial)
            urls = [a for lst in listeners[:4] for a in lst.addresses()
                    if not a.startswith("http")]
            lines: list[Line] = [NetLine(u.partition(":")[0], u.replace("ssh://", "ssh://caller@"))
                                 for u in urls]
            lines.append(SerialLine(minitel, serial, board))
            assert sorted(line.name for line in lines) == ["raw", "serial", "ssh", "telnet",
                                                           "ws"]

            seen: dict[str, Embargoed] = await gather_lines(lines, before_publication)
            for s in seen.values():
                assert "aujourd'hui à 14h00" in s.right.text, s.right.text
                for one in (s.right, s.wrong, s.absent, s.paris, s.name, s.nobody):
                    assert_reveals_nothing(one)
                # the right birth date, a wrong one, a number that does not exist: one screen
                assert_same(s.right, s.wrong)
                assert_same(s.right, s.absent)
                # chosen from the list of académies: the same page, the official hour
                assert_same(s.right, s.paris)
                # by name: the staged candidate is nobody
                assert_same(s.name, s.nobody)
            # and every transport showed the same screens
            first = seen["telnet"]
            for s in seen.values():
                assert_same(first.right, s.right)
                assert_same(first.name, s.name)

            # the WebSocket listener's HTTP side serves its fixed pages, never a file of
            # the store, whatever the path asks for
            http = next(a for a in listeners[2].addresses() if a.startswith("http://"))
            for path in HTTP_PROBES:
                answer = await http_get(http, path)
                expected = b"HTTP/1.1 200 " if path in ("/", "/index.html") else b"HTTP/1.1 404 "
                assert answer.startswith(expected), (path, answer[:200])
                assert found_in(answer, plaintext_forms() | key_forms(e.key)
                                | {"sealed file": b"VTXSEAL"}) == [], path

            # the official hour: the key holder releases the key
            status = publish_batch(e.store, "bac", "paris", e.key, now=HOUR)
            assert (status.published, status.rows) == (True, ROWS)
            clock.set_wall(HOUR + datetime.timedelta(minutes=1))

            out: dict[str, tuple[Shot, Shot, Shot]] = await gather_lines(lines,
                                                                         after_publication)
            for name, (right, wrong, by_name) in out.items():
                for what in (NOM, PRENOM, "ADMIS", f"{ETABLISSEMENT}, jury {JURY}"):
                    assert shows(right.text, what), f"{name}: no {what!r}\n{right.text}"
                # the check that found nothing before would have seen the difference now
                with pytest.raises(AssertionError):
                    assert_same(right, seen[name].right)
                with pytest.raises(AssertionError):
                    assert_same(right, wrong)
                assert f"{NOM} {PRENOM}" in by_name.text, by_name.text
        finally:
            for lst in listeners:
                lst.close()
            await board.shutdown(grace=2)
            for lst in listeners:
                await lst.wait_closed()
            await minitel.close()
            close_env(e.store)
    # the key went through no log record, at any level, while all of this ran
    assert any("call opened" in line for line in debug_logs.lines)
    assert not [line for line in debug_logs.lines if line.startswith("unformattable")]
    assert found_in(debug_logs.blob(), key_forms(e.key)) == []
    assert found_in(caplog.text.encode(), key_forms(e.key)) == []
