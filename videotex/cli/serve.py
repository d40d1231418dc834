"""``videotex serve`` and ``videotex status``: the command line of the server.

``serve`` turns its flags and the configuration file into a :class:`ServerConfig`
(failing early with a message naming the key or flag), sets up logging, the open-files
limit and the metrics directory, builds the demo store if asked, then runs the server:
:func:`videotex.runtime.app.run_server` in this process, or the
:class:`~videotex.runtime.workers.Supervisor` for ``--workers N`` or ``--metrics``.
``status`` reads a running server's metrics directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from videotex.runtime.app import run_server
from videotex.runtime.config import ConfigError, listener, load_config, parse_address
from videotex.runtime.logs import setup_logging

__all__ = ["parse_serial_spec", "register"]

log = logging.getLogger("videotex.serve")

#: ``make run``: the exam results on telnet and raw TCP, and on the phone line (the
#: emulator dials it with ``terminal-emu connect sip:3615@127.0.0.1:3617``); on 3613 the
#: Teletel kiosk, where a caller types EXAMENS or DEMO (the page tree in pages/trees/demo).
DEMO_LISTENERS = (("telnet", "127.0.0.1:3615"), ("raw", "127.0.0.1:3616"),
                  ("sip", "127.0.0.1:3617"))
DEMO_KIOSK = ("telnet", "127.0.0.1:3613")


def demo_gateway(config: Any) -> None:
    """The demo's kiosk and its two services, when the configuration names none: the
    results listeners go straight to EXAMENS, as before the gateway."""
    import pages

    config.services = [
        {"code": "EXAMENS", "kind": "results", "name": "Résultats des examens",
         "plan": "3615"},
        {"code": "DEMO", "kind": "pages", "name": "Démo : pages .vdt",
         "path": str(Path(pages.__file__).parent / "trees" / "demo"), "plan": "3613"}]
    for i, cfg in enumerate(config.listeners):
        config.listeners[i] = listener(cfg.kind, f"{cfg.host}:{cfg.port}", "--demo",
                                       options={**cfg.options, "service": "EXAMENS"})
    config.listeners.append(listener(*DEMO_KIOSK, "--demo"))


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
    p.add_argument("--voice", metavar="NUMBER[,NUMBER...]",
                   help="on every SIP listener, these called numbers get the voice menu "
                        "(results read by a synthetic voice, keypad digits); the others the "
                        "modem; * for every number")
    p.add_argument("--smpp", metavar="smpp://SYSTEM_ID:PASSWORD@HOST:PORT",
                   help="the SMS channel: bind to this SMSC as an ESME transceiver "
                        "(results by SMS, alerts at publication; [smpp] in the config for "
                        "the rest, docs/sms.md)")
    p.add_argument("--minipavi", metavar="URL",
                   help="serve this MiniPavi service straight away on every listener")
    p.add_argument("--pages", metavar="DIR",
                   help="serve this page tree (a folder of .vdt pages and its tree.toml) "
                        "straight away on every listener")
    p.add_argument("--log", choices=("json", "text"), help="log format (default json)")
    p.add_argument("--media-priority", type=int, metavar="N",
                   help="run phone calls' audio at real-time priority N (1-99, SCHED_RR; "
                        "needs CAP_SYS_NICE): [runtime] media_priority")
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
            if not config.services and not config.kiosk:
                demo_gateway(config)
        if args.smpp:
            config.smpp["url"] = args.smpp
        if config.smpp:
            from videotex.sms.setup import SmsSetupError, check_smpp

            try:
                check_smpp(config.smpp)
            except SmsSetupError as e:
                raise ConfigError(str(e)) from None
        if not config.listeners and not config.smpp:
            raise ConfigError("no listener: give --telnet HOST:PORT or --raw HOST:PORT, "
                              "or [[listen]] in the configuration (or --smpp for SMS only)")
        if args.voice:
            sips = [c for c in config.listeners if c.kind == "sip"]
            if not sips:
                raise ConfigError("--voice: no SIP listener (give --sip HOST:PORT)")
            for c in sips:
                c.options["voice"] = args.voice
        if args.workers > 1:  # each worker's share of a sip listener: checked here, once
            from videotex.channels.phone.options import PhoneOptionError, share

            for cfg in config.listeners:
                if cfg.kind == "sip":
                    try:
                        share(cfg.options, 0, args.workers, f"listener {cfg}")
                    except PhoneOptionError as e:
                        raise ConfigError(str(e)) from None
        if args.media_priority is not None:
            config.media_priority = args.media_priority
        if config.media_priority:
            from videotex.runtime.realtime import RealtimeError, check

            try:
                check(config.media_priority,
                      "--media-priority" if args.media_priority is not None
                      else "[runtime] media_priority")
            except RealtimeError as e:
                raise ConfigError(str(e)) from None
        if args.minipavi and args.pages:
            raise ConfigError("--minipavi and --pages: give one service to go straight to")
        if args.minipavi:
            config.services.append({"code": "MINIPAVI", "kind": "minipavi",
                                    "url": args.minipavi, "name": "MiniPavi"})
            config.start = "MINIPAVI"
        if args.pages:
            config.services.append({"code": "PAGES", "kind": "pages",
                                    "path": str(Path(args.pages).resolve()), "name": "Pages"})
            config.start = "PAGES"
        from videotex.billing import TariffBook, TariffError

        try:
            book = TariffBook.from_config(config.billing)
        except TariffError as e:
            raise ConfigError(f"{args.config or 'billing'}: {e}") from None
        from videotex.gateway.setup import GatewayError, build_directory

        try:  # fail now, with the file and the service, not in each worker
            directory = build_directory(
                config, None, book.plans if config.billing.get("enabled", True) else None)
        except (GatewayError, ValueError) as e:
            raise ConfigError(str(e)) from None
        for cfg in config.listeners:
            start = cfg.options.get("service")
            if start and (directory is None or directory.lookup(str(start)) is None):
                raise ConfigError(f"listener {cfg}: service {start!r} is not in [[services]]")
    except ConfigError as e:
        print(f"videotex serve: {e}", file=sys.stderr)
        return 2
    setup_logging(config.log_format, config.log_level)
    _open_files_limit()
    metrics_addr = parse_address(args.metrics, "--metrics") if args.metrics else None
    from videotex.runtime.metrics import prepare

    prepare(Path(args.metrics_dir), clean=True)
    if args.demo:
        from videotex.runtime.demo import ensure_demo_store

        if not (config.store / "results.lmdb").exists():
            print(f"Building a demo results store in {config.store} ...", flush=True)
        lines = ensure_demo_store(config.store, config.store.parent / "demo-files")
        print("\n".join(lines), flush=True)
    elif not (config.store / "results.lmdb").exists():
        print(f"videotex serve: no results store in {config.store} "
              "(create one with videotex ingest/publish, or use --demo)", file=sys.stderr)
        return 1
    if args.workers != 1 or metrics_addr is not None:
        from videotex.runtime.workers import Supervisor

        return Supervisor(config, args.workers, metrics_dir=Path(args.metrics_dir),
                          metrics_addr=metrics_addr).run()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            from videotex.runtime.loop import ServerLoop

            with asyncio.Runner(loop_factory=ServerLoop) as runner:
                runner.run(run_server(config))
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

    from videotex.runtime.metrics import read_status

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
    if any(k.startswith("videotex_sms_") for k in now):
        got = total("videotex_sms_messages_total", now)
        rate = (got - total("videotex_sms_messages_total", first)) / max(args.interval, 1e-9)
        print(f"SMS received:      {int(got)}  ({rate:.1f}/s)")
        print(f"SMS sent:          {int(total('videotex_sms_sent_total', now))}"
              f"  (waiting {int(total('videotex_sms_backlog', now))}, "
              f"link {'bound' if total('videotex_sms_bound', now) else 'DOWN'})")
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
