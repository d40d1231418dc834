"""The ledger on a real LMDB environment: batching, durability across SIGKILL,
recovery of a dead owner's records only, offers, reports."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import lmdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from videotex.billing import CallRecord, Ledger, OfferBook, TariffPlan
from videotex.billing.report import aggregate, render
from videotex.cli.billing import report_main


def record(i: int, *, found: bool = False, start: str = "2005-07-08T08:00:00+00:00",
           amount: str = "0.13", seconds: float = 10.0, channel: str = "telnet") -> CallRecord:
    return CallRecord(session_id=f"s{i:05d}", channel=channel, caller=f"10.0.0.{i % 250}:1",
                      service="3615 EXAMENS", started_at=start, ended_at=None,
                      duration_s=seconds, units=1, amount_eur=amount, result_found=found,
                      lookups=1)


def test_open_checkpoint_close_in_batches(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=0.2)
    recs = [record(i) for i in range(500)]
    for r in recs:
        ledger.open_record(r)
    for r in recs[:200]:
        r.ended_at = r.started_at
        ledger.close_record(r)
    assert ledger.flush(10)
    assert ledger.commits < 50  # batched, not one transaction per record
    assert ledger.open_count() == 300
    stored = list(ledger.iter_records())
    assert len(stored) == 500
    assert sum(1 for r in stored if r.ended_at) == 200
    ledger.close()


def test_recover_closes_only_dead_owners_records(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path.cwd())!r})
        from videotex.billing import CallRecord, Ledger
        ledger = Ledger({str(tmp_path)!r}, batch_interval=0.05)
        for i in range(20):
            r = CallRecord(session_id=f"dead{{i}}", channel="telnet", caller="x",
                           service="s", started_at="2005-07-08T08:00:00+00:00",
                           ended_at=None, duration_s=0.0, units=1, amount_eur="0.13",
                           result_found=False, lookups=0)
            ledger.open_record(r)
            r.duration_s = 12.5
            r.checkpoint_at = "2005-07-08T08:00:12+00:00"
            ledger.checkpoint(r)
        ledger.flush()
        print("checkpointed", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "checkpointed"
    ours = Ledger(tmp_path)
    mine = record(1)
    ours.open_record(mine)
    ours.flush()
    assert ours.recover() == 0  # the other process is alive: its records are left alone
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ours.recover(datetime(2005, 7, 8, 9, 0, tzinfo=UTC)) == 20
    assert ours.recover() == 0  # once
    recs = {r.session_id: r for r in ours.records()}
    dead = [r for k, r in recs.items() if k.startswith("dead")]
    assert all(r.recovered and r.ended_at == "2005-07-08T08:00:12+00:00" for r in dead)
    assert all(r.recovered_at == "2005-07-08T09:00:00.000Z" for r in dead)
    assert all(r.close_reason == "recovered" and r.units == 1 for r in dead)
    assert all(r.duration_s == 12.5 for r in dead)  # nothing lost beyond the checkpoint
    assert not recs[mine.session_id].recovered and ours.open_count() == 1
    ours.close()


def test_full_map_raises_the_alarm_and_keeps_records(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=0.05)
    ledger.env.set_mapsize(64 * 1024)  # far too small: the disk is "full"
    for i in range(2000):
        ledger.open_record(record(i))
    waited = threading.Event()
    for _ in range(100):
        if not ledger.healthy:
            break
        waited.wait(0.05)
    assert not ledger.healthy and "billing ledger" in ledger.problem
    ledger.env.set_mapsize(64 << 20)  # the operator frees space
    assert ledger.flush(20)
    assert ledger.healthy
    assert len(list(ledger.iter_records())) == 2000
    ledger.close()


def test_per_consultation_offer(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    offers = OfferBook(ledger, TariffPlan(per_consultation=True))
    assert offers.quote("10.0.0.1", "1111000001").price == Decimal("3.00")
    assert offers.consume("10.0.0.1", "1111000001") == Decimal("3.00")  # one view
    q = offers.quote("10.0.0.1", "1111000001")
    assert (q.kind, q.price, q.views_after) == ("repurchase", Decimal("3.00"), 4)
    assert offers.consume("10.0.0.1", "1111000001") == Decimal("3.00")
    for _ in range(4):
        assert offers.consume("10.0.0.1", "1111000001") == Decimal(0)  # the 5 views
    assert offers.consume("10.0.0.1", "1111000001") == Decimal("3.00")  # re-purchase
    assert offers.quote("10.0.0.2", "1111000001").kind == "first"  # per identity
    assert offers.quote("10.0.0.1", "1111000002").kind == "first"  # per result
    ledger.close()


def test_report_aggregates_formats_and_merges_nodes(tmp_path: Path, capsys) -> None:
    for node in ("a", "b"):
        ledger = Ledger(tmp_path / node)
        for i in range(10):
            r = record(i, found=i % 2 == 0, amount="1.20", seconds=120.0,
                       start=f"2005-07-08T{8 + i % 2:02d}:00:{i:02d}+00:00",
                       channel="telnet" if node == "a" else "ssh")
            r.session_id = f"{node}{i}"
            r.ended_at = r.started_at
            ledger.close_record(r)
        ledger.flush()
        ledger.close()
    import argparse

    args = argparse.Namespace(store=[str(tmp_path / "a"), str(tmp_path / "b")], frm=None,
                              to=None, by="hour", format="json", plot=tmp_path / "day.png")
    assert report_main(args) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 20 and set(listed[0]) == {
        "session_id", "channel", "caller", "service", "started_at", "ended_at",
        "duration_s", "units", "amount_eur", "result_found", "lookups", "recovered"}
    assert (tmp_path / "day.png").stat().st_size > 1000
    recs = [CallRecord(**{**r, "ended_at": r["ended_at"]}) for r in listed]
    rows = aggregate(recs, "channel")
    total = rows[-1].as_dict()
    assert total["sessions"] == 20 and total["minutes"] == 40.0
    assert total["revenue_incl_tax"] == "24.00"
    assert total["revenue_excl_tax"] == str((Decimal("24.00") / Decimal("1.196")).quantize(Decimal("0.01")))
    assert total["without_result"] == 10
    table = render(rows, "table")
    assert "telnet" in table and "ssh" in table and "total" in table
    assert render(rows, "csv").splitlines()[0].startswith("key,sessions,minutes")


def test_report_names_a_store_without_ledger(tmp_path: Path, capsys) -> None:
    import argparse

    args = argparse.Namespace(store=[str(tmp_path)], frm=None, to=None, by="day",
                              format="table", plot=None)
    assert report_main(args) == 1
    assert "no billing ledger" in capsys.readouterr().err


def test_ledger_survives_lmdb_reopen(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.open_record(record(1))
    ledger.flush()
    ledger.close()
    env = lmdb.open(str(tmp_path / "billing.lmdb"), max_dbs=4, readonly=True)
    env.close()
    again = Ledger(tmp_path)
    assert len(list(again.iter_records())) == 1
    again.close()


def test_records_scan_a_utc_range_whatever_the_offset_given(tmp_path: Path) -> None:
    from videotex.billing.ledger import utc_iso

    ledger = Ledger(tmp_path)
    for i, hour in enumerate((7, 8, 9, 10)):
        ledger.close_record(record(i, start=utc_iso(datetime(2005, 7, 8, hour, 0, tzinfo=UTC))))
    ledger.flush()
    paris = timezone(timedelta(hours=2))
    frm = datetime(2005, 7, 8, 10, 30, tzinfo=paris)  # 08:30 UTC
    to = datetime(2005, 7, 8, 12, 0, tzinfo=paris)    # 10:00 UTC, excluded
    assert [r.session_id for r in ledger.records(frm, to)] == ["s00002"]
    assert [r.session_id for r in ledger.records(datetime(2005, 7, 8, 8))] == [
        "s00001", "s00002", "s00003"]  # naive: UTC
    ledger.close()


def test_report_command_line(tmp_path: Path) -> None:
    from videotex.billing.ledger import utc_iso

    videotex = str(Path(sys.executable).with_name("videotex"))
    for node in ("a", "b"):
        ledger = Ledger(tmp_path / node)
        for i in range(4):
            r = record(i, found=i == 0, amount="0.35", seconds=40.0,
                       start=utc_iso(datetime(2005, 7, 8, 8 + i, 0, tzinfo=UTC)),
                       channel="ssh" if node == "b" else "telnet")
            r.session_id = f"{node}{i}"
            r.ended_at = r.started_at
            ledger.close_record(r)
        ledger.close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([videotex, "billing", "report", *args], capture_output=True,
                              text=True, timeout=60)

    out = run("--store", str(tmp_path / "a"), "--ledger", str(tmp_path / "b"),
              "--by", "channel", "--format", "csv")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("key,sessions,minutes,units,revenue_incl_tax")
    assert lines[1].startswith("ssh,4,2.7,4,1.40,1.17,0.82,3,0,0")
    assert lines[3].startswith("total,8,5.3,8,2.80,2.34,1.64,6,0,0")
    out = run("--store", str(tmp_path / "a"), "--from", "2005-07-08T09:00+01:00",
              "--to", "2005-07-08T10:00", "--format", "json")
    assert [r["session_id"] for r in json.loads(out.stdout)] == ["a0", "a1"]
    out = run("--store", str(tmp_path / "a"), "--by", "hour")
    assert "2005-07-08T11:00" in out.stdout and out.stdout.splitlines()[-1].startswith("total")
    out = run("--store", str(tmp_path / "nowhere"))
    assert out.returncode == 1 and "nowhere: no billing ledger (billing.lmdb)" in out.stderr
    out = run("--store", str(tmp_path / "a"), "--from", "hier")
    assert out.returncode == 2 and "'hier' is not an ISO date" in out.stderr
    out = run("--store", str(tmp_path / "a"), "--from", "2005-07-09", "--to", "2005-07-08")
    assert out.returncode == 2 and "is not before --to" in out.stderr


def old_utc_iso(when: datetime) -> str:
    """``utc_iso`` as it was (strftime): the reference for ordinary dates."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


ZONES = [None, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30)),
         timezone(timedelta(hours=14))]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from(ZONES)))
@example(datetime(2005, 7, 8, 8, 0, 0, 999999, tzinfo=UTC))  # truncated, not rounded
@example(datetime(2005, 12, 31, 23, 59, 59, 999500, tzinfo=timezone(timedelta(hours=-1))))
@example(datetime(2005, 7, 8, 8, 0))
def test_utc_iso_reads_as_the_strftime_it_replaces(when: datetime) -> None:
    from videotex.billing.ledger import utc_iso

    assert utc_iso(when) == old_utc_iso(when)
    assert len(utc_iso(when)) == 24


def test_utc_iso_keeps_four_digits_before_the_year_1000() -> None:
    from videotex.billing.ledger import utc_iso

    assert utc_iso(datetime(999, 12, 31, 23, 59, 59, 999999)) == "0999-12-31T23:59:59.999Z"
    assert utc_iso(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)  # surrogates too


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, st.floats(allow_nan=False, allow_infinity=False), st.integers(),
       st.none() | TEXT)
@example("0320123456", "192.0.2.7:40312", 12.3, 2, None)
@example("élève\u00e9\"\\\n", "\udc80\U0001f600", 1e300, -1, "\x00")
def test_record_bytes_are_the_compact_json_they_were(caller: str, peer: str, seconds: float,
                                                      lookups: int, ended: str | None) -> None:
    r = record(1)
    r.caller, r.peer, r.duration_s, r.lookups, r.ended_at = caller, peer, seconds, lookups, ended
    data = r.to_bytes()
    assert data == json.JSONEncoder(separators=(",", ":")).encode(r.__dict__).encode()
    assert data.isascii() and CallRecord.from_bytes(data) == r


def test_records_of_older_and_newer_versions_still_decode() -> None:
    old = {"session_id": "s1", "channel": "telnet", "caller": "10.0.0.1", "service": "s",
           "started_at": "2005-07-08T08:00:00.000Z", "ended_at": None, "duration_s": 1.5,
           "units": 1, "amount_eur": "0.13", "result_found": False, "lookups": 0}
    rec = CallRecord.from_bytes(json.dumps(old).encode())
    assert rec.duration_s == 1.5 and rec.peer == "" and rec.vat_rate == "0.196"
    newer = CallRecord.from_bytes(json.dumps({**old, "later": 1}).encode())
    assert newer == rec and CallRecord.from_bytes(rec.to_bytes()) == rec


def open_table(ledger: Ledger) -> dict[bytes, bytes]:
    with ledger.env.begin(db=ledger._open_db) as txn:
        return {bytes(k): bytes(v) for k, v in txn.cursor()}


@pytest.mark.parametrize("flush_between", [False, True])
def test_checkpoints_leave_the_opening_listed_and_a_close_unlists(
        tmp_path: Path, flush_between: bool) -> None:
    ledger = Ledger(tmp_path, batch_interval=0.05)
    recs = [record(i) for i in range(10)]
    for r in recs:
        ledger.open_record(r)
    if flush_between:  # the checkpoints commit in a later transaction than the openings
        assert ledger.flush(10)
    for r in recs:
        r.duration_s = 20.0
        ledger.checkpoint(r)
    for r in recs[:3]:
        r.ended_at = r.started_at
        ledger.close_record(r)
    late = record(10)  # opened, checkpointed, closed: one transaction or several
    ledger.open_record(late)
    late.duration_s = 5.0
    ledger.checkpoint(late)
    late.ended_at = late.started_at
    ledger.close_record(late)
    assert ledger.flush(10)
    assert open_table(ledger) == {r.key: ledger.owner.encode() for r in recs[3:]}
    assert ledger.open_count() == 7
    stored = {r.session_id: r for r in ledger.records()}
    assert [stored[r.session_id].duration_s for r in recs] == [20.0] * 10
    assert stored[late.session_id].duration_s == 5.0 and stored[late.session_id].ended_at
    ledger.close()


def test_a_dead_owners_checkpoint_in_a_later_transaction_is_recovered(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, batch_interval=0.05)
    ledger.owner = f"{socket.gethostname()}:999999999:1"  # a pid that cannot run
    recs = [record(i) for i in range(5)]
    for r in recs:
        ledger.open_record(r)
    assert ledger.flush(10)
    for r in recs:
        r.duration_s, r.units, r.checkpoint_at = 45.0, 3, "2005-07-08T08:00:45.000Z"
        ledger.checkpoint(r)
    assert ledger.flush(10)
    assert ledger.recover(datetime(2005, 7, 8, 9, 0, tzinfo=UTC)) == 5
    assert ledger.open_count() == 0 and ledger.recover() == 0
    for r in ledger.records():
        assert r.recovered and r.close_reason == "recovered"
        assert (r.duration_s, r.units, r.ended_at) == (45.0, 3, "2005-07-08T08:00:45.000Z")
    ledger.close()
