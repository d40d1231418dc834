"""``videotex serve --workers N``: a supervisor and N worker processes.

The supervisor forks the workers before anything opens LMDB or starts an event loop;
each worker opens its own environments after the fork and binds every TCP listener with
``SO_REUSEPORT``, so the kernel spreads connections across workers (one process can hold
only about 20,000 open files here, so 50,000 callers need at least 3 workers). Serial
lines and AudioSocket run in worker 0 only.

A ``sip`` listener on port P becomes one listener a worker, on ports P, P+1, ... P+N-1
(a port chosen for each when P is 0), each with its own slice of ``rtp_ports`` and its
share of ``max_calls`` (:func:`~videotex.channels.phone.options.share`): a SIP dialog and
its audio must stay in the process that answered it, which the kernel's spreading by
address cannot promise (every call from a trunk comes from one address), so a SIP
dispatcher in front spreads the calls (``docs/phone.md``: Kamailio). Only worker 0
registers with a trunk.

A worker that dies is restarted (with a growing pause if it keeps dying at once); its
metrics are marked dead and its open call records are recovered by the worker that
replaces it. SIGTERM or SIGINT stops them all: each worker says goodbye to its callers,
stragglers are killed after the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from dataclasses import replace
from typing import Any

from .app import run_server
from .config import DEVICE_KINDS, ONE_PROCESS_KINDS, ListenerConfig, ServerConfig
from .loop import ServerLoop

__all__ = ["Supervisor"]

log = logging.getLogger("videotex.workers")


class _Stop(Exception):
    pass


class Supervisor:
    def __init__(self, config: ServerConfig, workers: int, *, grace: float = 10.0,
                 metrics_dir: Any = None, metrics_addr: tuple[str, int] | None = None) -> None:
        if workers < 1:
            raise ValueError(f"--workers must be at least 1, not {workers}")
        self.config = config
        self.n = workers
        self.grace = grace
        self.metrics_dir = metrics_dir
        self.metrics_addr = metrics_addr
        self.children: dict[int, int] = {}  # pid -> worker index
        self.started: dict[int, float] = {}  # index -> last start (monotonic)
        self.failures: dict[int, int] = {}  # index -> quick deaths in a row
        self._reserved: list[socket.socket] = []
        self.restarts = 0
        # workers write one byte here once listening; the supervisor announces after that
        self._ready_r, self._ready_w = os.pipe()

    # -- ports ------------------------------------------------------------------------

    def _reserve(self, cfg: ListenerConfig) -> ListenerConfig:
        """Give port-0 listeners a real port that every worker can bind with reuse_port."""
        options = dict(cfg.options, reuse_port=True)
        if cfg.kind in DEVICE_KINDS or cfg.port != 0:
            return replace(cfg, options=options)
        family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind((cfg.host, 0))
        self._reserved.append(s)  # bound, never listening: holds the port for the group
        return replace(cfg, port=s.getsockname()[1], options=options)

    def listeners(self) -> list[ListenerConfig]:
        return [c if c.kind == "sip" else self._reserve(c) for c in self.config.listeners]

    def _sip_shares(self, cfg: ListenerConfig) -> list[ListenerConfig]:
        """One ``sip`` listener a worker (see the module docstring)."""
        from videotex.channels.phone.options import share

        ports = [cfg.port + i for i in range(self.n)] if cfg.port else [
            _free_port(cfg.host) for _ in range(self.n)]
        return [replace(cfg, port=ports[i],
                        options=share(cfg.options, i, self.n, f"listener {cfg}"))
                for i in range(self.n)]

    # -- processes --------------------------------------------------------------------

    def _spawn(self, index: int, config: ServerConfig) -> None:
        """Fork worker ``index`` (-1: the metrics server, a process of its own so that the
        supervisor never forks while a server thread runs)."""
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                _die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                for s in self._reserved:
                    s.close()
                os.close(self._ready_r)
                if index < 0:
                    code = _metrics_main(self.metrics_addr)
                else:
                    code = _worker_main(index, config, self._ready_w)
            finally:
                os._exit(code)
        self.children[pid] = index
        self.started[index] = time.monotonic()
        log.info("worker started", extra={"worker": index, "pid": pid})

    def run(self) -> int:
        if self.metrics_addr is not None and self.metrics_addr[1] == 0:
            with socket.socket() as s:  # pick a free port for the metrics process
                s.bind((self.metrics_addr[0], 0))
                self.metrics_addr = (self.metrics_addr[0], s.getsockname()[1])
        listeners = self.listeners()
        sips = {id(c): self._sip_shares(c) for c in listeners if c.kind == "sip"}
        worker_configs = []
        for i in range(self.n):
            own = [sips[id(c)][i] if c.kind == "sip" else c for c in listeners
                   if c.kind == "sip" or c.kind not in ONE_PROCESS_KINDS or i == 0]
            worker_configs.append(replace(self.config, listeners=own))
        announced = [c for c in listeners if c.kind != "sip"] + [
            share for shares in sips.values() for share in shares]

        def stop(_sig: int, _frame: Any) -> None:
            raise _Stop

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker_configs.append(self.config)  # index -1: the metrics process (no listeners)
        try:
            if self.metrics_addr is not None:
                self._spawn(-1, self.config)
                print(f"metrics http://{self.metrics_addr[0]}:{self.metrics_addr[1]}/metrics",
                      flush=True)
            for i in range(self.n):
                self._spawn(i, worker_configs[i])
            ready = 0
            while ready < self.n:
                got = os.read(self._ready_r, 64)
                if not got:
                    break
                ready += len(got)
            for cfg in announced:
                print(f"listening {cfg}", flush=True)
            print(f"{self.n} workers", flush=True)
            while True:
                pid, status = os.wait()
                index = self.children.pop(pid, None)
                if index is None:
                    continue
                self._reap(pid)
                code = os.waitstatus_to_exitcode(status)
                log.warning("worker died", extra={"worker": index, "pid": pid, "status": code})
                self._pause_before_restart(index)
                self.restarts += 1
                self._spawn(index, worker_configs[index])
                print(f"worker {index} died (pid {pid}, status {code}): restarted", flush=True)
        except _Stop:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            self._stop_all()
            for s in self._reserved:
                s.close()
        return 0

    def _pause_before_restart(self, index: int) -> None:
        lived = time.monotonic() - self.started.get(index, 0.0)
        if lived < 2.0:
            self.failures[index] = self.failures.get(index, 0) + 1
            time.sleep(min(10.0, 0.25 * 2 ** self.failures[index]))
        else:
            self.failures[index] = 0

    def _reap(self, pid: int) -> None:
        if self.metrics_dir is not None:
            from .metrics import mark_dead

            mark_dead(pid)

    def _stop_all(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.children.pop(pid, None)
        deadline = time.monotonic() + self.grace
        while self.children and time.monotonic() < deadline:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.05)
                continue
            self.children.pop(pid, None)
            self._reap(pid)
        for pid in list(self.children):
            log.warning("worker killed after grace period", extra={"pid": pid})
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self._reap(pid)
        self.children.clear()


def _free_port(host: str) -> int:
    """A port free for UDP and TCP on ``host`` now (a port-0 SIP listener with workers).
    UDP cannot be held for a group as TCP is (a bound UDP socket takes its share of the
    datagrams), so the port is only picked here: the worker binds it a moment later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(family, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(family, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return int(port)


def _die_with_parent() -> None:
    """A worker gets SIGTERM if the supervisor dies, even by SIGKILL (Linux prctl), so
    no orphan keeps serving a port nobody supervises."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot ask to die with the supervisor on this system")


def _metrics_main(addr: tuple[str, int] | None) -> int:
    from .metrics import serve_metrics

    assert addr is not None
    serve_metrics(*addr)
    while True:
        signal.pause()


def _worker_main(index: int, config: ServerConfig, ready_fd: int) -> int:
    def ready() -> None:
        os.write(ready_fd, b"r")

    try:
        with asyncio.Runner(loop_factory=ServerLoop) as runner:
            runner.run(run_server(config, worker=index, announce=False, on_ready=ready))
    except Exception:
        log.exception("worker failed", extra={"worker": index})
        return 1
    return 0
