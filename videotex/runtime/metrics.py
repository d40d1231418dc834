"""Operator metrics (prometheus-client, multi-process mode) and the plain-text status.

Every process of a server (the supervisor and its workers, or the single process)
writes its samples into one directory (``PROMETHEUS_MULTIPROC_DIR``, set by
:func:`prepare` before prometheus_client is imported); the supervisor serves them all
at ``/metrics`` and ``videotex status`` reads them from the directory.

Metrics: sessions by transport (live), connects by transport, lookups by kind and
outcome, errors by kind, billed seconds and amount; the SMS channel's messages, replies,
receipts, binds and drops, its outbox backlog and whether its link is bound.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["MetricsHooks", "SmsMetrics", "prepare", "read_status", "serve_metrics"]

_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(directory: Path, *, clean: bool) -> None:
    """Point prometheus_client at ``directory`` (call before it is imported)."""
    if clean and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[_ENV] = str(directory)


class MetricsHooks:
    """Counts calls as the switchboard opens and closes them."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge

        self.sessions = Gauge("videotex_sessions", "Connected callers", ["transport"],
                              multiprocess_mode="livesum")
        self.connects = Counter("videotex_connects", "Calls accepted", ["transport"])
        self.lookups = Counter("videotex_lookups", "Result lookups", ["outcome"])
        self.errors = Counter("videotex_errors", "Errors", ["kind"])
        self.billed_seconds = Counter("videotex_billed_seconds", "Connected time billed")
        self.billed_eur = Counter("videotex_billed_eur", "Amount billed, incl. tax")
        self.gc_full = Counter("videotex_gc_full_seconds",
                               "Time the event loop spent in full garbage collections")

    def gc_full_done(self, seconds: float, _found: int) -> None:
        self.gc_full.inc(seconds)

    def call_opened(self, call: Any) -> None:
        channel = call.conn.channel
        self.connects.labels(channel).inc()
        self.sessions.labels(channel).inc()

    def call_closed(self, call: Any, reason: str) -> None:
        self.sessions.labels(call.conn.channel).dec()
        facts = call.session.ctx.facts
        lookups = facts.lookups
        if lookups:
            outcome = "found" if facts.result_found else "not_found"
            self.lookups.labels(outcome).inc(lookups)
        if reason == "error":
            self.errors.labels("session").inc()
        meter = getattr(call.session.ctx, "meter", None)
        self.billed_seconds.inc(max(0.0, call.session.ctx.connected_seconds()))
        if meter is not None and getattr(meter, "final_amount", None) is not None:
            self.billed_eur.inc(float(meter.final_amount))


#: The SMS engine's and link's counters, by metric name.
_SMS_COUNTERS = {
    "messages": ("mo", "Messages received (redeliveries not counted)"),
    "duplicates": ("mo_duplicates", "Redelivered messages acknowledged again"),
    "sent": ("mt_sent", "Replies and alerts the SMSC accepted"),
    "failed": ("mt_failed", "Replies and alerts the SMSC refused for good"),
    "receipts": ("receipts", "Delivery receipts received"),
    "alerts": ("alerts_queued", "Alerts queued at publication"),
}


class SmsMetrics:
    """The SMS channel's figures, sampled from the engine and the link (:meth:`sample`,
    every few seconds and at shutdown: counters grow by what changed since)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge

        self.counters = {name: Counter(f"videotex_sms_{name}", text)
                         for name, (_, text) in _SMS_COUNTERS.items()}
        for name, text in (("binds", "SMPP binds made"), ("drops", "SMPP links lost"),
                           ("throttled", "Submits the SMSC answered throttled")):
            self.counters[name] = Counter(f"videotex_sms_{name}", text)
        self.backlog = Gauge("videotex_sms_backlog", "Outbox entries waiting to be sent",
                             multiprocess_mode="livesum")
        self.bound = Gauge("videotex_sms_bound", "1 while the SMPP link is bound",
                           multiprocess_mode="livemax")
        self._last: dict[str, float] = {}

    def sample(self, engine: Any, link: Any) -> None:
        values = {name: engine.stats[key] for name, (key, _) in _SMS_COUNTERS.items()}
        values.update(binds=link.binds, drops=link.drops, throttled=link.throttled)
        for name, value in values.items():
            delta = value - self._last.get(name, 0)
            if delta > 0:
                self.counters[name].inc(delta)
            self._last[name] = value
        self.backlog.set(engine.backlog)
        self.bound.set(1 if link.bound.is_set() else 0)


def _registry() -> Any:
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def serve_metrics(host: str, port: int) -> Any:
    """Serve ``/metrics`` for every process of the server (a daemon thread)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=_registry())
    return server


def mark_dead(pid: int) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def read_status(directory: Path) -> dict[str, float]:
    """Current values from a metrics directory, flattened ``name{labels}`` → value."""
    prepare(directory, clean=False)
    out: dict[str, float] = {}
    for family in _registry().collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            key = f"{sample.name}{{{labels}}}" if labels else sample.name
            out[key] = out.get(key, 0.0) + sample.value
    return out
