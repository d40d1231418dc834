"""``videotex serve`` configuration: a TOML file, then command-line flags on top.

Example (every key optional)::

    [service]
    access_code = "3615 EXAMENS"
    session = 2005
    price_per_minute = 0.34
    status_interval = 60      # seconds; the cost also refreshes the row at each unit

    [store]
    path = "var/store"

    [[listen]]
    kind = "telnet"          # telnet | raw | ssh | sftp | ws | serial | sip | audiosocket
    address = "127.0.0.1:3615"   # HOST:PORT, or a device path for serial
    baud = 1200              # optional output pacing: 1200, 4800 or 9600
    backlog = 4096
    # any other key is an option of that listener (e.g. serial: mode, init)

    [log]
    format = "json"          # json | text
    level = "info"

    [limits]
    idle_timeout = 180       # seconds without a key; 0 = never
    idle_warning = 30
    max_session = 1800       # longest call; 0 = no limit
    per_address_concurrent = 16
    per_address_burst = 30   # new calls at once from one address...
    per_address_rate = 0.5   # ...then this many per second
    exempt = []              # addresses never limited, e.g. ["127.0.0.1"] for load tests

    [runtime]
    gc_full_every = 600      # seconds between full garbage collections; 0 = CPython's own
    media_priority = 0       # 1-99: phone audio at real-time priority (SCHED_RR); 0 = normal

    [kiosk]                  # a Teletel gateway: callers type a service code (3615 style)
    number = "3615"
    name = "TELETEL"
    plan = "kiosque"         # the tariff of the time spent at the kiosk itself

    [[services]]             # the services behind the kiosk (see videotex.gateway.setup)
    code = "EXAMENS"
    kind = "results"         # results | pages | minipavi
    plan = "3615"            # its kiosk tariff ([billing.plans] or a built-in 3613...3617)
    [[services]]
    code = "METEO"
    kind = "pages"
    path = "pages/trees/demo"
    [[services]]
    code = "PAVI"
    kind = "minipavi"
    url = "http://127.0.0.1:8080/service"

A listener may lead straight to one service: ``service = "EXAMENS"`` in its [[listen]].

A mistake fails at startup with a message naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pages import ServiceConfig
from videotex.protocols.gate import GatePolicy
from videotex.teletel import Limits

__all__ = ["ConfigError", "ListenerConfig", "ServerConfig", "load_config", "parse_address"]

#: Listener kinds; ``videotex.runtime.listeners`` maps each to its starter.
KINDS = ("telnet", "raw", "ssh", "sftp", "ws", "serial", "sip", "audiosocket")
#: Kinds whose address is a device, not HOST:PORT.
DEVICE_KINDS = ("serial",)
#: Kinds that run in one process only (worker 0): a device, or a phone line, whose calls
#: share one modem bank and one RTP port range (more cores: processes behind a dispatcher).
ONE_PROCESS_KINDS = (*DEVICE_KINDS, "sip", "audiosocket")
BAUDS = (1200, 4800, 9600)


class ConfigError(ValueError):
    """A configuration mistake; the message names where it is."""


@dataclass(frozen=True)
class ListenerConfig:
    kind: str
    #: HOST (or device path for serial lines).
    host: str
    #: TCP port; 0 for serial lines.
    port: int
    baud: int | None = None
    backlog: int = 4096
    #: Transport-specific options (serial mode/init, ssh host key, sftp accounts, ...).
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        pace = f" at {self.baud} baud" if self.baud else ""
        if self.kind in DEVICE_KINDS:
            return f"{self.kind}://{self.host}{pace}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.kind}://{host}:{self.port}{pace}"


@dataclass
class ServerConfig:
    store: Path = Path("var/store")
    service: ServiceConfig = field(default_factory=ServiceConfig)
    listeners: list[ListenerConfig] = field(default_factory=list)
    log_format: str = "json"
    log_level: str = "info"
    limits: Limits = field(default_factory=Limits)
    gate: GatePolicy = field(default_factory=GatePolicy)
    #: The [billing] table, checked by videotex.billing at startup.
    billing: dict[str, Any] = field(default_factory=dict)
    #: Seconds between full garbage collections (``videotex.runtime.gcpolicy``); 0 = CPython's.
    gc_full_every: float = 600.0
    #: SCHED_RR priority of the process that runs phone listeners (``videotex.runtime.realtime``);
    #: 0: normal scheduling.
    media_priority: int = 0
    #: The gateway: [kiosk] and [[services]], checked by videotex.gateway.setup at startup;
    #: both empty: the exam-results service alone, as before the gateway.
    kiosk: dict[str, Any] = field(default_factory=dict)
    services: list[dict[str, Any]] = field(default_factory=list)
    #: Where the configuration came from (relative service paths start there), for errors.
    source: str = ""
    #: Go straight to this service on every listener (``serve --minipavi/--pages``).
    start: str | None = None
    #: The SMS channel: the [smpp] table (``serve --smpp URL`` sets its url), checked by
    #: videotex.sms.setup at startup; empty: no SMS.
    smpp: dict[str, Any] = field(default_factory=dict)


def parse_address(text: str, where: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[v6]:PORT`` → (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{where}: {text!r} is not HOST:PORT")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{where}: port {port_text!r} is not a number") from None
    if not (0 <= port <= 65535):
        raise ConfigError(f"{where}: port {port} outside 0–65535")
    return host, port


def listener(kind: str, address: str, where: str, baud: int | None = None,
             backlog: int = 4096, options: dict[str, Any] | None = None) -> ListenerConfig:
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if baud is not None and baud not in BAUDS:
        raise ConfigError(f"{where}: baud {baud} is not one of {', '.join(map(str, BAUDS))}")
    if not isinstance(backlog, int) or backlog < 1:
        raise ConfigError(f"{where}: backlog must be a positive integer, not {backlog!r}")
    if kind in DEVICE_KINDS:
        if not address:
            raise ConfigError(f"{where}: a {kind} listener needs a device path")
        return ListenerConfig(kind, address, 0, baud, backlog, dict(options or {}))
    host, port = parse_address(address, where)
    return ListenerConfig(kind, host, port, baud, backlog, dict(options or {}))


def _service(table: dict[str, Any], where: str) -> ServiceConfig:
    known = {f.name: f for f in fields(ServiceConfig)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key [service] {key}; known: {', '.join(known)}")
        default = getattr(ServiceConfig(), key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise ConfigError(
                f"{where}: [service] {key} must be {type(default).__name__}, not {value!r}"
            )
        values[key] = value
    return ServiceConfig(**values)


def load_config(path: str | Path | None) -> ServerConfig:
    config = ServerConfig()
    if path is None:
        return config
    where = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such configuration file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    for key in data:
        if key not in ("service", "store", "listen", "log", "limits", "billing", "runtime",
                       "kiosk", "services", "smpp"):
            raise ConfigError(f"{where}: unknown section [{key}]")
    config.service = _service(data.get("service", {}), where)
    store = data.get("store", {})
    if "path" in store:
        config.store = Path(store["path"])
    for i, item in enumerate(data.get("listen", [])):
        at = f"{where}: [[listen]] #{i + 1}"
        if "kind" not in item or "address" not in item:
            raise ConfigError(f"{at}: needs kind and address")
        options = {k: v for k, v in item.items()
                   if k not in ("kind", "address", "baud", "backlog")}
        config.listeners.append(listener(item["kind"], item["address"], at,
                                         item.get("baud"), item.get("backlog", 4096), options))
    log = data.get("log", {})
    config.log_format = log.get("format", config.log_format)
    if config.log_format not in ("json", "text"):
        raise ConfigError(f"{where}: [log] format must be json or text")
    config.log_level = log.get("level", config.log_level)
    config.limits, config.gate = _limits(data.get("limits", {}), where)
    config.billing = data.get("billing", {})
    config.source = where
    kiosk = data.get("kiosk", {})
    if not isinstance(kiosk, dict):
        raise ConfigError(f"{where}: [kiosk] must be a table")
    config.kiosk = kiosk
    smpp = data.get("smpp", {})
    if not isinstance(smpp, dict):
        raise ConfigError(f"{where}: [smpp] must be a table")
    config.smpp = smpp
    services = data.get("services", [])
    if not isinstance(services, list) or not all(isinstance(x, dict) for x in services):
        raise ConfigError(f"{where}: services must be an array of tables ([[services]])")
    config.services = services
    runtime = data.get("runtime", {})
    for key in runtime:
        if key not in ("gc_full_every", "media_priority"):
            raise ConfigError(f"{where}: unknown key [runtime] {key}; known: gc_full_every, "
                              f"media_priority")
    config.gc_full_every = _number(runtime, "gc_full_every", config.gc_full_every, where,
                                   "runtime")
    priority = runtime.get("media_priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 99:
        raise ConfigError(f"{where}: [runtime] media_priority must be a whole number from 0 "
                          f"(normal scheduling) to 99, got {priority!r}")
    config.media_priority = priority
    return config


def _number(table: dict[str, Any], key: str, default: float, where: str,
            section: str = "limits") -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: [{section}] {key} must be a number >= 0, not {value!r}")
    return float(value)


def _limits(table: dict[str, Any], where: str) -> tuple[Limits, GatePolicy]:
    known = {"idle_timeout", "idle_warning", "max_session", "per_address_concurrent",
             "per_address_burst", "per_address_rate", "exempt"}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: unknown key [limits] {key}; known: "
                              f"{', '.join(sorted(known))}")
    d = Limits()
    idle = _number(table, "idle_timeout", d.idle_timeout or 0, where)
    longest = _number(table, "max_session", d.max_session or 0, where)
    exempt = table.get("exempt", [])
    if not isinstance(exempt, list) or not all(isinstance(x, str) for x in exempt):
        raise ConfigError(f"{where}: [limits] exempt must be a list of addresses")
    try:
        limits = Limits(idle_timeout=idle or None,
                        idle_warning=_number(table, "idle_warning", d.idle_warning, where),
                        max_session=longest or None)
        g = GatePolicy()
        gate = GatePolicy(
            max_concurrent=int(_number(table, "per_address_concurrent", g.max_concurrent, where)),
            burst=_number(table, "per_address_burst", g.burst, where),
            rate=_number(table, "per_address_rate", g.rate, where),
            exempt=frozenset(exempt))
    except ValueError as e:
        raise ConfigError(f"{where}: [limits] {e}") from None
    return limits, gate
