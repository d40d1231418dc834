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

import datetime
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pages import ResultsService, ServiceConfig
from terminal_emu.client import MinitelClient, open_transport
from tests.abuse.embargo_lines import (
    HTTP_PROBES,
    Embargoed,
    HourClock,
    Line,
    NetLine,
    SerialLine,
    Shot,
    after_publication,
    assert_reveals_nothing,
    assert_same,
    before_publication,
    gather_lines,
    http_get,
    serial_cable,
    shows,
)
from tests.abuse.embargo_store import (
    BEFORE,
    BIRTH,
    ETABLISSEMENT,
    HOUR,
    JURY,
    NOM,
    NUMERO,
    PRENOM,
    ROWS,
    Embargo,
    LogFile,
    _paris_rows,
    build,
    cli,
    found_in,
    key_forms,
    lmdb_digest,
    plaintext_forms,
    scan,
)
from tests.helpers.serial_line import socket_minitel
from videotex.protocols.gate import GatePolicy
from videotex.runtime.config import ListenerConfig
from videotex.runtime.listeners import Listener, start_listener
from videotex.runtime.switchboard import Switchboard
from videotex.store import ResultsStore, publish_batch
from videotex.store.lmdbstore import close_env
from videotex.store.publish import staged_path
from videotex.store.sealed import read_header, read_key, unseal


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
