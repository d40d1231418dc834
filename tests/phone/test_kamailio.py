"""Past one machine: Kamailio (Debian package) as a SIP dispatcher in front of two server
processes, as HAProxy is for telnet. Kamailio record-routes the signalling and spreads the
INVITEs round-robin; the audio goes straight between the caller and the node that answered
(its SDP says where). Each node bills the caller's number, which the dispatcher passes on;
its own address is exempt from the per-address limits (docs/phone.md)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.processes import VIDEOTEX

from .caller import Phones
from .conftest import free_rtp_range

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

pytestmark = [pytest.mark.skipif(not Path(KAMAILIO).exists(),
                                 reason="kamailio is not installed (Debian package kamailio)"),
              pytest.mark.timeout(180)]

CONFIG = """#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:{front}
mpath="{modules}/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "pv.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "{nodes}")
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK") && t_check_trans()) {{ t_relay(); }}
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("INVITE")) {{ record_route(); }}
    if (!ds_select_dst("1", "4")) {{ sl_send_reply("503", "No node"); exit; }}
    t_relay();
}}
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node(store: Path, tmp: Path, name: str) -> tuple[subprocess.Popen[str], int, Path]:
    config = tmp / f"{name}.toml"
    config.write_text("[limits]\nexempt = ['127.0.0.1']\n")  # the dispatcher's address
    log = tmp / f"{name}.log"
    proc = subprocess.Popen(
        [VIDEOTEX, "serve", "--store", str(store), "--config", str(config),
         "--sip", f"127.0.0.1:0,transport=udp,max_calls=8,rtp_ports={free_rtp_range(20)}",
         "--metrics-dir", str(tmp / f"metrics-{name}")],
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("listening sip://"):
            return proc, int(line.strip().rsplit(":", 1)[1]), log
    raise AssertionError(f"node {name} did not start: {log.read_text()}")


@pytest.fixture
def cluster(store_dir: Path, tmp_path: Path) -> Iterator[tuple[int, list[Path],
                                                                 list[subprocess.Popen[str]]]]:
    nodes = [node(store_dir, tmp_path, name) for name in ("node1", "node2")]
    (tmp_path / "nodes.list").write_text("".join(f"1 sip:127.0.0.1:{port}\n"
                                                 for _, port, _ in nodes))
    front = free_udp_port()
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(CONFIG.format(front=front, modules=MODULES, nodes=tmp_path / "nodes.list"))
    kamailio = subprocess.Popen([KAMAILIO, "-f", str(cfg), "-DD", "-E", "-P",
                                 str(tmp_path / "kamailio.pid"), "-Y", str(tmp_path)],
                                stdout=subprocess.DEVNULL, stderr=(tmp_path / "k.log").open("w"))
    procs = [n[0] for n in nodes]
    yield front, [n[2] for n in nodes], procs
    for p in [kamailio, *procs]:
        if p.poll() is None:
            p.terminate()
    for p in [kamailio, *procs]:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


async def test_calls_are_dispatched_to_both_nodes_and_billed_to_the_caller(
        cluster: tuple[int, list[Path], list[subprocess.Popen[str]]], store_dir: Path) -> None:
    front, logs, nodes = cluster
    phones = await Phones(("127.0.0.1", front), capacity=4).open()
    callers = [f"061234560{i}" for i in range(4)]
    try:
        lines = []
        for number in callers:  # Kamailio may still be starting: its socket queues the INVITE
            line = phones.invite(number)
            lines.append(await phones.answered(line, timeout=30))
        for line in lines:
            await phones.wait(line, lambda ln: ln.shows("RESULTATS DES EXAMENS"), timeout=40,
                              what="the home page")
        for line in lines:  # BYE through the dispatcher (record-routed)
            assert (await phones.hangup(line)).status == 200
    finally:
        await phones.close()
    answered = {}
    for log in logs:
        entries = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        answered[log.stem] = {e["caller"] for e in entries if e["msg"] == "phone call answered"}
    assert answered["node1"] and answered["node2"], f"not spread: {answered}"
    assert answered["node1"] | answered["node2"] == set(callers)
    for proc in nodes:
        proc.terminate()
        proc.wait(30)
    report = subprocess.run([VIDEOTEX, "billing", "report", "--store", str(store_dir),
                             "--format", "json"], capture_output=True, text=True, check=True)
    records = json.loads(report.stdout)
    records = records.get("records", records) if isinstance(records, dict) else records
    billed = sorted(r["caller"] for r in records if r["caller"] in callers)
    assert billed == sorted(callers) and all(r["channel"] == "phone" for r in records
                                             if r["caller"] in callers)
