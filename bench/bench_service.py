"""Service figures of issue 4: bytes per page, memory per idle session, keypress latency.

    .venv/bin/python bench/bench_service.py [--sessions 5000] [--store var/store]

1. Bytes: the home page as sent at connection (echo-off, ENQROM, page) and the bytes from
   Envoi to the complete result page, with their time at 1200 baud (120 characters/s).
   Computed on the sans-IO session with the emulator checking the screens.
2. Memory per idle session, per transport: a fresh server process, N connections
   (arriving in waves of 500) each waiting on the home page; RSS growth / N.
3. Keypress → complete response with those N sessions: a digit typed in the number
   field by callers in turn (bounded rate), time until its echo has arrived; p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import pct, rss_kib  # noqa: E402
from terminal_emu import Key  # noqa: E402
from terminal_emu.telnet import TelnetCodec  # noqa: E402


def bytes_figures(store: Path) -> dict[str, float]:
    import tempfile

    from pages import ResultsService
    from tests.helpers.harness import Caller
    from tests.helpers.results import ELODIE, NOW, build_store
    from videotex.store import ResultsStore
    from videotex.teletel import FakeClock

    with tempfile.TemporaryDirectory() as tmp:
        svc = ResultsService(ResultsStore(build_store(Path(tmp))))
        c = Caller(svc, FakeClock(NOW))
        home = c.sent
        c.type(ELODIE[0])
        c.press(Key.SUITE)
        c.type(ELODIE[1])
        c.press(Key.ENVOI)
        assert c.shows("ADMIS") and "Très bien" in c.text
        result = len(c.last)
    return {"home_bytes": home, "home_seconds_1200": round(home / 120, 2),
            "envoi_to_result_bytes": result, "result_seconds_1200": round(result / 120, 2)}


async def _open(port: int, telnet: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, TelnetCodec | None]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return reader, writer, TelnetCodec() if telnet else None


async def _until(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 codec: TelnetCodec | None, tail: bytes, timeout: float = 60) -> None:
    got = bytearray()
    async with asyncio.timeout(timeout):
        while not got.endswith(tail):
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("closed")
            if codec is not None:
                data = codec.decode(data)
                if codec.replies:
                    writer.write(bytes(codec.replies))
                    codec.replies.clear()
            got += data


def start_server(store: Path) -> tuple[subprocess.Popen[str], int, int]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/videotex"), "serve", "--store", str(store),
         "--config", str(ROOT / "bench/loopback.toml"), "--metrics-dir", "/tmp/bench-metrics",
         "--telnet", "127.0.0.1:0", "--raw", "127.0.0.1:0", "--log", "text"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ports = {}
    for line in proc.stdout:
        if line.startswith("listening"):
            kind, _, port = line.split()[1].partition("://")
            ports[kind] = int(port.rsplit(":", 1)[1])
        if len(ports) == 2:
            break
    return proc, ports["telnet"], ports["raw"]


async def sessions_figures(store: Path, n: int, rate: float, kind: str) -> dict[str, float]:
    """One fresh server, ``n`` callers of one transport waiting on the home page."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    proc, tport, rport = start_server(store)
    telnet = kind == "telnet"
    port = tport if telnet else rport
    try:
        # learn the home page's tail with one caller
        reader, writer, _codec = await _open(rport, False)
        got = bytearray()
        async with asyncio.timeout(30):
            while b"CNX/FIN" not in got or not got.endswith(b"\x11"):
                got += await reader.read(65536)
        tail = bytes(got[-4:])
        writer.close()
        await asyncio.sleep(1)  # the server's young-generation collection runs
        idle = rss_kib(proc.pid)
        conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, TelnetCodec | None]] = []
        t0 = time.monotonic()
        for at in range(0, n, 500):  # arrivals in waves of 500, as a busy minute brings
            batch = [await _open(port, telnet) for _ in range(min(500, n - at))]
            await asyncio.gather(*(_until(r, w, c, tail) for r, w, c in batch))
            conns += batch
        opened = time.monotonic() - t0
        await asyncio.sleep(1)
        loaded = rss_kib(proc.pid)
        # keypress -> echo latency: one digit per caller, at `rate` keys per second
        lat: list[float] = []

        async def key(i: int) -> None:
            r, w, _c = conns[i]
            await asyncio.sleep(i / rate)
            t = time.monotonic()
            w.write(b"5")
            got = b""
            async with asyncio.timeout(30):
                while b"5" not in got:  # the echo (a status row update may come first)
                    data = await r.read(65536)
                    if not data:
                        raise ConnectionError("closed")
                    got += data
            lat.append(time.monotonic() - t)

        sample = min(n, int(rate * 10))
        await asyncio.gather(*(key(i) for i in range(0, n, max(1, n // sample))))
        for _r, w, _c in conns:
            w.close()
        return {"transport": kind, "sessions": n, "open_seconds": round(opened, 1),
                "rss_idle_mib": round(idle / 1024, 1), "rss_loaded_mib": round(loaded / 1024, 1),
                "kib_per_idle_session": round((loaded - idle) / n, 1),
                "keys": len(lat), "key_rate_per_s": rate,
                "key_to_echo_p50_ms": round(statistics.median(lat) * 1000, 2),
                "key_to_echo_p99_ms": round(pct(lat, 0.99) * 1000, 2)}
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var/store")
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=200.0, help="keypresses per second")
    args = ap.parse_args()
    report = {"bytes": bytes_figures(args.store)}
    print(json.dumps(report, indent=1), flush=True)
    for kind in ("telnet", "raw"):
        report[kind] = asyncio.run(sessions_figures(args.store, args.sessions, args.rate, kind))
        print(json.dumps(report[kind], indent=1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
