"""A real SIP stack against the ``sip`` listener: SIPp (Debian package ``sip-tester``) calls
the server on 127.0.0.1 with the scenarios of ``tests/phone/sipp/``, and plays a trunk's
registrar that challenges the server's REGISTER. SIPp's exit status says whether every
message it expected came, in order; what the server did is read from the server."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest

from videotex.protocols.gate import GatePolicy

from .conftest import MakeServer

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SCENARIOS = Path(__file__).with_name("sipp")

pytestmark = [pytest.mark.skipif(not Path(SIPP).exists(),
                                 reason="sipp is not installed (Debian package sip-tester)"),
              pytest.mark.timeout(120)]


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1]) & ~1


async def sipp(tmp_path: Path, target: tuple[str, int] | None, scenario: str, *args: str,
               status: int = 0, timeout: float = 30) -> str:
    """Run SIPp once (one call); return its messages, failing the test if it failed."""
    if scenario.endswith(".xml"):
        path = tmp_path / scenario
        path.write_text((SCENARIOS / scenario).read_text().replace("__STATUS__", str(status)))
        which = ["-sf", str(path)]
    else:
        which = ["-sn", scenario]
    cmd = [SIPP, *which, "-i", "127.0.0.1", "-mp", str(free_port()), "-m", "1", "-l", "1",
           "-s", "3615", "-nostdin", "-trace_err", "-timeout", f"{timeout:g}s",
           "-timeout_error", *args]
    if target is not None:
        cmd.append(f"{target[0]}:{target[1]}")
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=tmp_path,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout + 20)
    errors = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_errors.log"))
    assert proc.returncode == 0, f"sipp {scenario} failed ({proc.returncode}):\n{errors}\n" \
                                 f"{out.decode(errors='replace')[-3000:]}"
    return errors


async def test_a_call_kept_through_a_reinvite_then_bye(make_server: MakeServer,
                                                       tmp_path: Path) -> None:
    server = await make_server()
    await sipp(tmp_path, server.address, "call_reinvite.xml")
    records = await server.stop()
    assert records == []  # no Minitel answered: no session, nothing billed


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_sipp_builtin_call(make_server: MakeServer, tmp_path: Path,
                                 transport: str) -> None:
    server = await make_server()
    await sipp(tmp_path, server.address, "uac", "-t", "u1" if transport == "udp" else "t1")
    await server.stop()
    assert server.listener.calls == {}


async def test_cancel_while_ringing(make_server: MakeServer, tmp_path: Path) -> None:
    server = await make_server(ring=20)
    await sipp(tmp_path, server.address, "cancel.xml")
    assert server.listener.calls == {}
    await server.stop()


async def test_options_then_503_once_closing(make_server: MakeServer, tmp_path: Path) -> None:
    server = await make_server()
    await sipp(tmp_path, server.address, "options.xml", status=200)
    server.listener.close()
    await sipp(tmp_path, server.address, "options.xml", status=503)
    await sipp(tmp_path, server.address, "refused.xml", status=503)
    await server.stop()


async def test_486_when_every_line_is_busy(make_server: MakeServer, tmp_path: Path) -> None:
    server = await make_server(max_calls=1)
    phones = await server.phones()
    try:
        line = await phones.call()
        await sipp(tmp_path, server.address, "refused.xml", status=486)
        assert line.state == "up"  # the call in progress goes on
    finally:
        await phones.close()
    await server.stop()


async def test_486_when_one_address_calls_too_often(make_server: MakeServer,
                                                    tmp_path: Path) -> None:
    server = await make_server(gate=GatePolicy(max_concurrent=16, burst=1, rate=0.01))
    await sipp(tmp_path, server.address, "uac")
    await sipp(tmp_path, server.address, "refused.xml", status=486)
    await server.stop()


async def test_a_caller_that_never_hangs_up_is_ended_by_the_rtp_timeout(
        make_server: MakeServer, tmp_path: Path) -> None:
    server = await make_server(rtp_timeout=1)
    await sipp(tmp_path, server.address, "server_bye.xml")
    assert server.listener.calls == {}
    await server.stop()


async def test_registration_with_a_trunk_that_challenges(make_server: MakeServer,
                                                         tmp_path: Path) -> None:
    port = free_port()
    registrar = asyncio.ensure_future(sipp(tmp_path, None, "registrar.xml", "-p", str(port)))
    await asyncio.sleep(0)  # sipp binds while the server starts
    server = await make_server(registrar=f"127.0.0.1:{port}", user="3615", password="s3cret",
                               domain="trunk.example", expires=60)
    reg = server.listener.registration
    # sipp may start listening after our first REGISTER: the client transaction retransmits
    await asyncio.wait_for(server.listener.registration_settled(), 40)
    assert reg.state == "registered" and reg.granted == 60, reg.last_reason
    await registrar
    await server.stop()
