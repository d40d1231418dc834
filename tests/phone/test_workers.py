"""``videotex serve --workers N --sip``: one SIP listener a worker, each on its own port with
its own slice of RTP ports and share of the calls; a real server process answers a call on
each, from two different processes, both billed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videotex.billing import Ledger
from videotex.channels.phone.options import PhoneOptionError, share

from .caller import Phones
from .conftest import free_rtp_range
from .test_consultation import home

pytestmark = pytest.mark.timeout(120)
VIDEOTEX = str(Path(sys.executable).with_name("videotex"))


def test_each_worker_gets_its_own_slice_and_share() -> None:
    opts = {"rtp_ports": "20001-20999", "max_calls": "301", "registrar": "trunk:5060",
            "user": "3361", "password": "x", "voice": "3617"}
    shares = [share(opts, i, 3, "listener sip") for i in range(3)]
    ranges = [tuple(map(int, s["rtp_ports"].split("-"))) for s in shares]
    assert ranges == [(20002, 20333), (20334, 20665), (20666, 20997)]  # even, disjoint
    assert all(s["max_calls"] == 101 for s in shares)  # the listener's figure is the group's
    assert shares[0]["registrar"] == "trunk:5060" and shares[0]["password"] == "x"
    assert all("registrar" not in s and "password" not in s for s in shares[1:])
    assert all(s["voice"] == "3617" for s in shares)
    assert opts["rtp_ports"] == "20001-20999"  # (the listener's own options are left alone)
    with pytest.raises(PhoneOptionError, match=r"with 4 workers, rtp_ports 20000-20199 gives "
                                               r"each 25 calls' ports for 50 calls"):
        share({"rtp_ports": "20000-20199", "max_calls": "200"}, 0, 4, "listener sip")


def test_serve_refuses_a_range_too_small_for_its_workers(store_dir: Path) -> None:
    done = subprocess.run(
        [VIDEOTEX, "serve", "--store", str(store_dir), "--workers", "2",
         "--sip", "127.0.0.1:0,rtp_ports=30000-30099,max_calls=100"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "with 2 workers, rtp_ports 30000-30099 gives each 25 calls' ports for 50" \
        in done.stderr


async def test_two_workers_answer_a_call_each(store_dir: Path, tmp_path: Path) -> None:
    lo, hi = map(int, free_rtp_range(80).split("-"))
    proc = subprocess.Popen(
        [VIDEOTEX, "serve", "--store", str(store_dir), "--workers", "2",
         "--sip", f"127.0.0.1:0,rtp_ports={lo}-{hi},max_calls=10",
         "--metrics-dir", str(tmp_path / "m")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ports = []
    for out in proc.stdout:
        if out.startswith("listening sip://"):
            ports.append(int(out.rsplit(":", 1)[1]))
        if out.startswith("2 workers"):
            break
    try:
        assert len(ports) == 2 and ports[0] != ports[1]
        half = (hi - lo + 1) // 2
        for i, port in enumerate(ports):
            phones = await Phones(("127.0.0.1", port)).open()
            try:
                line = await phones.call(f"03299770{i}0")
                await home(phones, line)
                assert line.remote is not None  # the server's RTP: its worker's slice
                assert lo + i * half <= line.remote[1] < lo + (i + 1) * half
                assert await phones.hangup(line) is not None
            finally:
                await phones.close()
    finally:
        proc.terminate()
        proc.wait(30)
    ledger = Ledger(store_dir, readonly=True)
    try:
        mine = [r for r in ledger.records() if r.caller in ("0329977000", "0329977010")]
    finally:
        ledger.close()
    assert sorted(r.caller for r in mine) == ["0329977000", "0329977010"]
    assert all(r.channel == "phone" and r.ended_at for r in mine)
