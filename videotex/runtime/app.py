"""``run_server``: one server process, from its configuration to a clean stop.

Startup order: the results store (opened in this process, after any fork), the billing
hooks (the ledger recovered first), the switchboard, the signal handlers, the listeners;
then the garbage-collection policy takes over. SIGINT/SIGTERM: stop accepting, send every
caller the goodbye page, close the ledger and the store. ``videotex serve`` calls it in
its own process, and the supervisor (:mod:`.workers`) in each worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from typing import Any

from pages import ResultsService
from videotex.store import ResultsStore
from videotex.teletel import SessionConfig, SystemClock

from .config import ServerConfig
from .gcpolicy import GcPolicy, worker_phase
from .listeners import Listener, start_listener
from .metrics import MetricsHooks
from .switchboard import Switchboard

__all__ = ["run_server"]

log = logging.getLogger("videotex.serve")


async def _background(steps: list[Callable[[], bool]]) -> None:
    """Call each step function until it says it is done, yielding to the loop between
    calls (each call is a few milliseconds of work)."""
    for step in steps:
        while step():
            await asyncio.sleep(0)


async def _sample_sms(metrics: Any, engine: Any, link: Any) -> None:
    while True:
        metrics.sample(engine, link)
        await asyncio.sleep(2.0)


async def run_server(config: ServerConfig, *, worker: int = 0,
                     ready: asyncio.Event | None = None, announce: bool = True,
                     on_ready: Callable[[], None] | None = None) -> None:
    """Serve ``config`` until SIGINT or SIGTERM, then say goodbye to every caller.

    ``worker`` is this process's index among ``--workers N`` (0 for a lone server): it
    spreads the workers' full garbage collections. ``ready`` is set and ``on_ready``
    called once every listener is up (``announce``: print where, for a person)."""
    loop = asyncio.get_running_loop()
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
    from videotex.gateway.setup import background_work, build_directory, call_factory

    plans = billing.book.plans if billing is not None else None
    directory = build_directory(config, service, plans)  # None: no gateway configured
    # the page trees' optimizers: a decision at a time between calls' work, none waits
    background = loop.create_task(_background(background_work(directory)))
    gateway: dict[str, Any] = {} if directory is None else {
        "session_factory": call_factory(config.start)}
    board = Switchboard(directory or service, SystemClock(), hooks=hooks, gate=config.gate,
                        **gateway,
                        session_config=SessionConfig(limits=config.limits),
                        health=billing.health if billing is not None else None,
                        ready_timeout=float(config.billing.get("ready_timeout", 10.0)))
    if billing is not None:
        await billing.start()
    sms = None
    if config.smpp and worker == 0:  # one bind: the outbox is read by one process
        from videotex.sms.setup import build_sms

        sms = build_sms(config.smpp, service, board.clock, config.store,
                        ledger=billing.ledger if billing is not None else None, plans=plans)
        sms_tasks = [loop.create_task(sms[1].run()),
                     loop.create_task(sms[0].watch_publications())]
        sms_metrics = None
        if metrics is not None:
            from .metrics import SmsMetrics

            sms_metrics = SmsMetrics()
            sms_tasks.append(loop.create_task(_sample_sms(sms_metrics, *sms)))
        if announce:
            print(f"SMS: bound as ESME to {sms[1].target.host}:{sms[1].target.port}, "
                  f"short code {sms[0].config.short_code}", flush=True)
    # signals first: once a listener is announced, SIGTERM must mean a clean stop
    stop = asyncio.Event()
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
    if config.media_priority and any(c.kind in ("sip", "audiosocket")
                                     for c in config.listeners):
        from concurrent.futures import ThreadPoolExecutor

        from .realtime import enter, join

        enter(config.media_priority)  # (checked by serve before any process started)
        # threads asyncio starts later for blocking calls take it too (they hold the GIL)
        loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="asyncio",
                                                     initializer=join))
        log.info("media at real-time priority", extra={"priority": config.media_priority})
    telnets = [c for c in config.listeners if c.kind == "telnet"]
    if telnets and announce:
        c = telnets[0]
        print(f"Connect with: terminal-emu connect telnet://{c.host}:{c.port}"
              f"   (or: telnet {c.host} {c.port})", flush=True)
    kiosks = [c for c in config.listeners if c.kind == "telnet"
              and not c.options.get("service") and directory is not None and not config.start]
    if kiosks and announce:
        c = kiosks[0]
        print(f"The Teletel kiosk (type a service code, Guide lists them): terminal-emu "
              f"connect telnet://{c.host}:{c.port}", flush=True)
    phones = [c for c in config.listeners if c.kind == "sip"]
    if phones and announce:
        c = phones[0]
        print(f"By phone, as a Minitel on an internet box: terminal-emu connect "
              f"sip:3615@{c.host}:{c.port}", flush=True)
    gc_policy = GcPolicy(config.gc_full_every,
                         on_full=metrics.gc_full_done if metrics is not None else None,
                         phase=worker_phase(worker))
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
    background.cancel()
    for server in servers:
        server.close()
    await board.shutdown("shutdown")
    for server in servers:
        await server.wait_closed()
    if sms is not None:
        await sms[1].stop()
        for task in sms_tasks:
            task.cancel()
        await asyncio.gather(*sms_tasks, return_exceptions=True)
        await sms[0].drain()
        if sms_metrics is not None:
            sms_metrics.sample(*sms)
        sms[0].store.close()
    if billing is not None:
        await billing.stop()
        billing.ledger.close()
    from .effects import close_http

    await close_http()
    store.close()
