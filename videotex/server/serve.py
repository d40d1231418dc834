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
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pages import ResultsService
from videotex.store import ResultsStore
from videotex.teletel import SessionConfig, SystemClock

from .config import ConfigError, ServerConfig, listener, load_config, parse_address
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
    p.add_argument("--sip", metavar="HOST:PORT[,key=value...]", action="append", default=[],
                   help="SIP/RTP phone line through the V.23 modem (options: docs/phone.md)")
    p.add_argument("--audiosocket", metavar="HOST:PORT[,key=value...]", action="append",
                   default=[], help="Asterisk AudioSocket phone line (docs/phone.md)")
    p.add_argument("--proxy-protocol", action="store_true",
                   help="the --telnet/--raw listeners sit behind HAProxy: each connection "
                   "starts with a PROXY v1/v2 header giving the caller's real address")
    p.add_argument("--baud", type=int, choices=(1200, 4800, 9600),
                   help="pace output of the command-line listeners like a real line")
    p.add_argument("--demo", action="store_true",
                   help="build a small demo store if none exists; default listeners "
                   "telnet 127.0.0.1:3615 and raw 127.0.0.1:3616")
    p.add_argument("--log", choices=("json", "text"), help="log format (default json)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes sharing each port (SO_REUSEPORT); default 1")
    p.add_argument("--metrics", metavar="HOST:PORT",
                   help="serve Prometheus metrics of every process at /metrics")
    p.add_argument("--metrics-dir", metavar="DIR", default="var/metrics",
                   help="where processes write their metrics (default var/metrics)")
    p.set_defaults(handler=main)

    st = sub.add_parser("status", help="plain-text status of a running server",
                        description="Sessions, connects, lookups, errors and billing "
                        "totals of a running server, read from its metrics directory.")
    st.add_argument("--metrics-dir", metavar="DIR", default="var/metrics")
    st.add_argument("--interval", type=float, default=1.0,
                    help="seconds between the two readings used for rates")
    st.set_defaults(handler=status_main)


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        if args.store:
            config.store = Path(args.store)
        for kind in ("telnet", "raw", "ssh", "sftp", "ws"):
            for address in getattr(args, kind):
                options = {"proxy_protocol": True} if (
                    args.proxy_protocol and kind in ("telnet", "raw")) else {}
                config.listeners.append(listener(kind, address, f"--{kind}", args.baud,
                                                 options=options))
        for spec in args.serial:
            device, options = parse_serial_spec(spec)
            config.listeners.append(listener("serial", device, f"--serial {spec}",
                                             options.pop("baud", None), options=options))
        for kind in ("sip", "audiosocket"):
            for spec in getattr(args, kind):
                from videotex.channels.phone.options import PhoneOptionError, parse_spec

                try:
                    address, options = parse_spec(spec, f"--{kind}")
                except PhoneOptionError as e:
                    raise ConfigError(str(e)) from None
                config.listeners.append(listener(kind, address, f"--{kind} {spec}",
                                                 options=options))
        if args.log:
            config.log_format = args.log
        if args.demo and not config.listeners:
            config.listeners = [listener(k, a, "--demo") for k, a in DEMO_LISTENERS]
        if not config.listeners:
            raise ConfigError("no listener: give --telnet HOST:PORT or --raw HOST:PORT, "
                              "or [[listen]] in the configuration")
        from videotex.billing import TariffBook, TariffError

        try:
            TariffBook.from_config(config.billing)
        except TariffError as e:
            raise ConfigError(f"{args.config or 'billing'}: {e}") from None
    except ConfigError as e:
        print(f"videotex serve: {e}", file=sys.stderr)
        return 2
    setup_logging(config.log_format, config.log_level)
    _open_files_limit()
    metrics_addr = parse_address(args.metrics, "--metrics") if args.metrics else None
    from .metrics import prepare

    prepare(Path(args.metrics_dir), clean=True)
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
    if args.workers != 1 or metrics_addr is not None:
        from .workers import Supervisor

        return Supervisor(config, args.workers, metrics_dir=Path(args.metrics_dir),
                          metrics_addr=metrics_addr).run()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_server(config))
    except ValueError as e:  # listener options: ssh host key, sftp accounts, serial line
        print(f"videotex serve: {e}", file=sys.stderr)
        return 2
    return 0


def _open_files_limit() -> int:
    """Every caller is an open socket: take the hard limit on open files (the soft one
    is often 1,024), and say what it allows."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    log.info("open files per process", extra={"limit": soft})
    return soft


def status_main(args: argparse.Namespace) -> int:
    import time

    from .metrics import read_status

    directory = Path(args.metrics_dir)
    if not directory.is_dir():
        print(f"videotex status: no metrics directory {directory} (is a server running "
              "with this --metrics-dir?)", file=sys.stderr)
        return 1
    first = read_status(directory)
    time.sleep(max(0.0, args.interval))
    now = read_status(directory)

    def total(prefix: str, values: dict[str, float]) -> float:
        return sum(v for k, v in values.items() if k.startswith(prefix))

    print("sessions by transport:")
    for key, value in sorted(now.items()):
        if key.startswith("videotex_sessions{"):
            print(f"  {key[len('videotex_sessions{transport='):-1]:<8} {int(value)}")
    print(f"sessions in all:   {int(total('videotex_sessions', now))}")
    connects = total("videotex_connects_total", now)
    rate = (connects - total("videotex_connects_total", first)) / max(args.interval, 1e-9)
    print(f"connects:          {int(connects)}  ({rate:.1f}/s)")
    print(f"lookups found:     {int(total('videotex_lookups_total{outcome=found', now))}")
    print(f"lookups not found: {int(total('videotex_lookups_total{outcome=not_found', now))}")
    print(f"errors:            {int(total('videotex_errors_total', now))}")
    print(f"billed minutes:    {total('videotex_billed_seconds_total', now) / 60:.1f}")
    print(f"billed amount:     {total('videotex_billed_eur_total', now):.2f} EUR")
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
        elif key in ("mode", "init", "parity"):
            options[key] = value
        else:
            raise ConfigError(f"--serial {spec}: unknown option {key!r} (mode, baud, init)")
    if options.get("mode", "modem") not in ("modem", "direct"):
        raise ConfigError(f"--serial {spec}: mode must be modem or direct")
    return device, options


async def run_server(config: ServerConfig, *, ready: asyncio.Event | None = None,
                     announce: bool = True, on_ready: Any = None) -> None:
    from .gcpolicy import GcPolicy, worker_phase
    from .metrics import MetricsHooks

    store = ResultsStore(config.store)
    service = ResultsService(store, config.service)
    hooks: list[Any] = []
    billing = None
    if config.billing.get("enabled", True):
        from videotex.billing import BillingHooks, Ledger, TariffBook

        ledger = Ledger(config.store)
        ledger.recover()  # records left open by a crash: closed at their last checkpoint
        billing = BillingHooks(TariffBook.from_config(config.billing), ledger,
                               config.service.access_code,
                               float(config.billing.get("checkpoint_every", 10.0)))
        hooks.append(billing)  # first: metrics read the stopped meter
    metrics = MetricsHooks() if "PROMETHEUS_MULTIPROC_DIR" in os.environ else None
    if metrics is not None:
        hooks.append(metrics)
    board = Switchboard(service, SystemClock(), hooks=hooks, gate=config.gate,
                        session_config=SessionConfig(limits=config.limits),
                        health=billing.health if billing is not None else None,
                        ready_timeout=float(config.billing.get("ready_timeout", 10.0)))
    if billing is not None:
        await billing.start()
    # signals first: once a listener is announced, SIGTERM must mean a clean stop
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    servers: list[Listener] = []
    for cfg in config.listeners:
        server = await start_listener(cfg, board)
        servers.append(server)
        for url in server.addresses():
            if announce:
                print(f"listening {url}", flush=True)
            log.info("listening", extra={"url": url})
    telnets = [c for c in config.listeners if c.kind == "telnet"]
    if telnets and announce:
        c = telnets[0]
        print(f"Connect with: terminal-emu connect telnet://{c.host}:{c.port}"
              f"   (or: telnet {c.host} {c.port})", flush=True)
    gc_policy = GcPolicy(config.gc_full_every,
                         on_full=metrics.gc_full_done if metrics is not None else None,
                         phase=worker_phase(int(os.environ.get("VIDEOTEX_WORKER", "0"))))
    gc_policy.start()  # after startup: what it built is frozen
    if ready is not None:
        ready.set()
    if on_ready is not None:
        on_ready()
    try:
        await stop.wait()
    finally:
        gc_policy.stop()
    log.info("shutting down", extra={"calls": len(board.calls)})
    for server in servers:
        server.close()
    await board.shutdown("shutdown")
    for server in servers:
        await server.wait_closed()
    if billing is not None:
        await billing.stop()
        billing.ledger.close()
    store.close()
