"""``videotex serve --smpp``, a real server process: results by SMS, and a wave of alerts
at publication that survives a SIGKILL half way (nothing lost, nothing sent twice, each
alert billed once)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers.results import LILLE, PARIS, build_synthetic_store, synthetic_birth
from videotex.billing import Ledger
from videotex.store import publish_batch

from .smsc import Smsc, requires_node, smsc_running

pytestmark = requires_node

ROOT = Path(__file__).resolve().parents[2]


def serve(tmp: Path, store: Path, smsc: Smsc, *extra: str) -> subprocess.Popen[bytes]:
    config = tmp / "sms.toml"
    config.write_text("[smpp]\nwindow = 50\nenquire_every = 30\n")
    log = (tmp / "server.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "videotex.cli", "serve", "--store", str(store), "--config",
         str(config), "--smpp", smsc.url, "--log", "text", "--metrics-dir",
         str(tmp / "metrics"), *extra], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


async def distinct(smsc: Smsc, seen: set[str], target: int, timeout: float = 60) -> None:
    """Take the SMSC's MTs as they come until ``target`` phones have had one."""
    while len(seen) < target:
        seen.add((await smsc.wait_mt(timeout=timeout))["destination"])


async def test_a_wave_of_alerts_survives_a_sigkill(tmp_path: Path) -> None:
    n = 600
    store, key = build_synthetic_store(tmp_path, 10, n)

    async with smsc_running(events=["bind", "mo_ack", "mt", "flood_done"]) as smsc:
        server = serve(tmp_path, store, smsc)
        try:
            await smsc.wait_bound(30)
            # one Minitel-less candidate asks for a result: the process answers
            mo = await smsc.mo("33600000001", f"bac {LILLE}0000001 "
                               f"{synthetic_birth(1).strftime('%d/%m/%Y')}")
            await smsc.wait_mo_acked(mo)
            texts = [f"ALERTE {PARIS}{i:07d} {synthetic_birth(i).strftime('%d%m%Y')}"
                     for i in range(1, n + 1)]
            report = await smsc.flood(count=n, rate=1000, texts=texts, source_base="3371",
                                      source_count=n, grace_ms=5000)
            assert report["answered"] == n
            await smsc.reset()
            publish_batch(store, "bac", "paris", key, force=True)
            phones: set[str] = set()
            await distinct(smsc, phones, n // 3)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            mark = smsc.mark()
            server = serve(tmp_path, store, smsc)
            await smsc.wait_event("bind", since=mark, timeout=30)
            await distinct(smsc, phones, n)  # none lost
            # a clean stop sends what it holds: a duplicate, if any, is at the SMSC after it
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0, (tmp_path / "server.log").read_text()[-2000:]
            stats = await smsc.stats()
            assert stats["unique_destinations"] == n
            assert stats["destinations_with_more_than_one_mt"] == 0  # none sent twice
        finally:
            if server.poll() is None:  # the test failed before the clean stop
                server.kill()
                server.wait(10)
    status = subprocess.run([sys.executable, "-m", "videotex.cli", "status", "--metrics-dir",
                             str(tmp_path / "metrics"), "--interval", "0"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert status.returncode == 0, status.stderr
    # the second run's own figures: it sent what the first left, and bound once
    sent = next(line for line in status.stdout.splitlines() if line.startswith("SMS sent:"))
    assert int(sent.split()[2]) > 0
    ledger = Ledger(store, readonly=True)
    try:
        records = [r for r in ledger.records() if r.channel == "sms"]
    finally:
        ledger.env.close()
    alerts = [r for r in records if r.close_reason == "alert sent"]
    assert len(alerts) == n and len({r.caller for r in alerts}) == n  # each billed once
    messages = [r for r in records if r.close_reason.startswith("message:")]
    assert len(messages) == n + 1  # every message received billed once
