"""``videotex serve``: listeners, the switchboard, graceful shutdown.

Startup order: configuration (fails early with a message naming the key), logging, the
results store (opened in this process), the listeners; then it prints one line per
listener (``listening telnet://127.0.0.1:3615``) and how to connect. SIGINT/SIGTERM:
stop accepting, send every caller the goodbye page, close.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from pages import ResultsService
from videotex.store import ResultsStore
from videotex.teletel import SystemClock

from .config import ConfigError, ServerConfig, listener, load_config
from .listeners import Listener, start_listener
from .logs import setup_logging
from .switchboard import Switchboard

__all__ = ["parse_serial_spec", "register", "run_server"]

log = logging.getLogger("videotex.serve")

DEMO_LISTENERS = (("telnet", "127.0.0.1:3615"), ("raw", "127.0.0.1:3616"))


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the Teletel server",
                       description="Serve the exam-results service to Minitel callers.")
    p.add_argument("--config", metavar="FILE", help="TOML configuration file")
    p.add_argument("--store", metavar="DIR", help="results store directory")
    p.add_argument("--telnet", metavar="HOST:PORT", action="append", default=[],
                   help="telnet listener (repeatable)")
    p.add_argument("--raw", metavar="HOST:PORT", action="append", default=[],
                   help="raw TCP listener, bare videotex (repeatable)")
    p.add_argument("--ssh", metavar="HOST:PORT", action="append", default=[],
                   help="public SSH access to the service (repeatable)")
    p.add_argument("--sftp", metavar="HOST:PORT", action="append", default=[],
                   help="SFTP drop box for result providers (accounts in the config)")
    p.add_argument("--ws", metavar="HOST:PORT", action="append", default=[],
                   help="WebSocket endpoint /ws and the browser Minitel at /")
    p.add_argument("--serial", metavar="DEVICE[,mode=modem|direct][,baud=1200][,init=AT...]",
                   action="append", default=[],
                   help="a Minitel on a modem or a serial line (repeatable)")
    p.add_argument("--baud", type=int, choices=(1200, 4800, 9600),
                   help="pace output of the command-line listeners like a real line")
    p.add_argument("--demo", action="store_true",
                   help="build a small demo store if none exists; default listeners "
                   "telnet 127.0.0.1:3615 and raw 127.0.0.1:3616")
    p.add_argument("--log", choices=("json", "text"), help="log format (default json)")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        if args.store:
            config.store = Path(args.store)
        for kind in ("telnet", "raw", "ssh", "sftp", "ws"):
            for address in getattr(args, kind):
                config.listeners.append(listener(kind, address, f"--{kind}", args.baud))
        for spec in args.serial:
            device, options = parse_serial_spec(spec)
            config.listeners.append(listener("serial", device, f"--serial {spec}",
                                             options.pop("baud", None), options=options))
        if args.log:
            config.log_format = args.log
        if args.demo and not config.listeners:
            config.listeners = [listener(k, a, "--demo") for k, a in DEMO_LISTENERS]
        if not config.listeners:
            raise ConfigError("no listener: give --telnet HOST:PORT or --raw HOST:PORT, "
                              "or [[listen]] in the configuration")
    except ConfigError as e:
        print(f"videotex serve: {e}", file=sys.stderr)
        return 2
    setup_logging(config.log_format, config.log_level)
    if args.demo:
        from .demo import ensure_demo_store

        if not (config.store / "results.lmdb").exists():
            print(f"Building a demo results store in {config.store} ...", flush=True)
        lines = ensure_demo_store(config.store, config.store.parent / "demo-files")
        print("\n".join(lines), flush=True)
    elif not (config.store / "results.lmdb").exists():
        print(f"videotex serve: no results store in {config.store} "
              "(create one with videotex ingest/publish, or use --demo)", file=sys.stderr)
        return 1
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_server(config))
    return 0


def parse_serial_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``/dev/ttyS0,mode=direct,baud=1200,init=ATZ`` → device and options."""
    device, *parts = spec.split(",")
    options: dict[str, Any] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(f"--serial {spec}: {part!r} is not key=value")
        if key == "baud":
            try:
                options["baud"] = int(value)
            except ValueError:
                raise ConfigError(f"--serial {spec}: baud {value!r} is not a number") from None
        elif key in ("mode", "init"):
            options[key] = value
        else:
            raise ConfigError(f"--serial {spec}: unknown option {key!r} (mode, baud, init)")
    if options.get("mode", "modem") not in ("modem", "direct"):
        raise ConfigError(f"--serial {spec}: mode must be modem or direct")
    return device, options


async def run_server(config: ServerConfig, *, ready: asyncio.Event | None = None) -> None:
    store = ResultsStore(config.store)
    service = ResultsService(store, config.service)
    board = Switchboard(service, SystemClock())
    servers: list[Listener] = []
    for cfg in config.listeners:
        server = await start_listener(cfg, board)
        servers.append(server)
        for url in server.addresses():
            print(f"listening {url}", flush=True)
            log.info("listening", extra={"url": url})
    telnets = [c for c in config.listeners if c.kind == "telnet"]
    if telnets:
        c = telnets[0]
        print(f"Connect with: terminal-emu connect telnet://{c.host}:{c.port}"
              f"   (or: telnet {c.host} {c.port})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("shutting down", extra={"calls": len(board.calls)})
    for server in servers:
        server.close()
    await board.shutdown("shutdown")
    for server in servers:
        await server.wait_closed()
    store.close()
