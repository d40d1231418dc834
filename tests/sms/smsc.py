"""The driver of the simulated SMSC (``tests/sms/smsc/smsc.js``, on node-smpp) for tests and
benchmarks: it spawns ``node``, reads the ports line, and talks JSON lines on the control port.

Invariants: one control connection per ``Smsc``; replies are matched to requests by id (a
``flood`` reply may come long after later ones); every event the SMSC pushes is kept in
arrival order (``events``), so a waiter never misses one that came before it was called:
``wait_mt`` hands each MT out once, ``wait_event`` scans from a mark. ``stop()`` kills the
process; the SMSC also exits by itself when this process goes away (its stdin closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "NODE",
    "SMSC_DIR",
    "Smsc",
    "SmscError",
    "requires_node",
    "smsc_running",
]

SMSC_DIR = Path(__file__).with_name("smsc")
NODE = shutil.which("node")
requires_node = pytest.mark.skipif(
    NODE is None,
    reason="node (Node.js) is not installed: the SMSC simulator runs on node-smpp "
    "(apt-get install nodejs npm, then make tests/sms/smsc/node_modules/.installed)",
)

Event = dict[str, Any]
Predicate = Callable[[Event], bool]

_OPTIONS = ("port", "control_port", "receipt_delay_ms", "window", "tls_key", "tls_cert")
_LINE_LIMIT = 1 << 28  # an `mts` reply of 200,000 records is one long line


class SmscError(RuntimeError):
    """The simulator refused a request, could not start, or died (its stderr is in the text)."""


@dataclass
class _Waiter:
    ev: str
    predicate: Predicate | None
    future: asyncio.Future[Event]
    take_mt: bool = False


class Smsc:
    """A running simulated SMSC. Build it with ``await Smsc.start(...)`` or ``smsc_running``."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        system_id: str,
        password: str,
        smpp_port: int,
        control_port: int,
    ) -> None:
        self.proc = proc
        self.system_id = system_id
        self.password = password
        self.smpp_port = smpp_port
        self.control_port = control_port
        self.url = f"smpp://{system_id}:{password}@127.0.0.1:{smpp_port}"
        #: every event pushed since start (or the last reset), in arrival order
        self.events: list[Event] = []
        self._mts: list[Event] = []
        self._mt_taken: list[bool] = []
        self._waiters: list[_Waiter] = []
        self._replies: dict[int, asyncio.Future[Event]] = {}
        self._next_id = 0
        self._stderr: deque[str] = deque(maxlen=40)
        self._closing = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ---- life cycle

    @classmethod
    async def start(
        cls,
        system_id: str = "videotex",
        password: str = "secret",
        *,
        events: bool | list[str] = True,
        **options: int | str,
    ) -> Smsc:
        """Spawns the simulator. ``options``: port, control_port (0 = ephemeral),
        receipt_delay_ms, window, tls_key and tls_cert (PEM files: SMPP over TLS). ``events``:
        which pushed events to receive (see subscribe)."""
        unknown = set(options) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"unknown SMSC option(s) {sorted(unknown)}; known: {_OPTIONS}")
        if NODE is None:
            raise SmscError("node is not installed (apt-get install nodejs npm)")
        if not (SMSC_DIR / "node_modules" / "smpp").is_dir():
            raise SmscError(
                f"node-smpp is not installed in {SMSC_DIR}: run "
                "`make tests/sms/smsc/node_modules/.installed` (npm ci in that folder)"
            )
        args = [NODE, str(SMSC_DIR / "smsc.js"), "--system-id", system_id, "--password", password]
        for name, value in options.items():
            args += ["--" + name.replace("_", "-"), str(value)]
        args.append("--parent-watch")
        proc = await asyncio.create_subprocess_exec(
            *args,
            cwd=SMSC_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            return await cls._connect(proc, system_id, password, events)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            raise

    @classmethod
    async def _connect(
        cls,
        proc: asyncio.subprocess.Process,
        system_id: str,
        password: str,
        events: bool | list[str],
    ) -> Smsc:
        assert proc.stdout is not None and proc.stderr is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        if not line:
            err = (await proc.stderr.read()).decode(errors="replace")
            raise SmscError(f"the SMSC simulator did not start: {err.strip() or 'no output'}")
        ports = json.loads(line)
        self = cls(proc, system_id, password, ports["smpp"], ports["control"])
        self._tasks.append(asyncio.create_task(self._drain_stderr()))
        self._reader, self._writer = await asyncio.open_connection(
            "127.0.0.1", self.control_port, limit=_LINE_LIMIT
        )
        self._tasks.append(asyncio.create_task(self._read_loop()))
        await self.subscribe(events)
        return self

    async def stop(self) -> None:
        """Kills the simulator and closes the control connection."""
        self._closing = True
        if self._writer is not None:
            self._writer.close()
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_pending(SmscError("the SMSC simulator was stopped"))

    async def __aenter__(self) -> Smsc:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- the control connection

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self._stderr.append(raw.decode(errors="replace").rstrip())

    def stderr_tail(self) -> str:
        """The simulator's last stderr lines (for error messages)."""
        return "\n".join(self._stderr)

    async def _read_loop(self) -> None:
        assert self._reader is not None
        while True:
            line = await self._reader.readline()
            if not line:
                break
            msg = json.loads(line)
            if "reply" in msg:
                future = self._replies.pop(msg["reply"], None)
                if future is not None and not future.done():
                    future.set_result(msg)
            elif "ev" in msg:
                self._dispatch(msg)
        if not self._closing:
            await asyncio.sleep(0)  # let the process exit be seen, for the message
            self._fail_pending(
                SmscError(f"the SMSC simulator closed its control port:\n{self.stderr_tail()}")
            )

    def _fail_pending(self, error: Exception) -> None:
        for future in list(self._replies.values()):
            if not future.done():
                future.set_exception(error)
        self._replies.clear()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(error)
        self._waiters.clear()

    def _dispatch(self, event: Event) -> None:
        self.events.append(event)
        index = -1
        if event["ev"] == "mt":
            index = len(self._mts)
            self._mts.append(event)
            self._mt_taken.append(False)
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            if waiter.ev != event["ev"] or (waiter.take_mt and self._mt_taken[index]):
                continue
            if waiter.predicate is None or waiter.predicate(event):
                if waiter.take_mt:
                    self._mt_taken[index] = True
                waiter.future.set_result(event)
                self._waiters.remove(waiter)

    async def call(self, op: str, *, timeout: float | None = 30, **params: Any) -> Event:
        """Sends one control request and returns its reply (raises SmscError on an error)."""
        if self._writer is None:
            raise SmscError("not connected")
        self._next_id += 1
        req_id = self._next_id
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._replies[req_id] = future
        self._writer.write(json.dumps({"op": op, "id": req_id, **params}).encode() + b"\n")
        try:
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(f"the SMSC did not answer {op!r} within {timeout} s") from None
        finally:
            self._replies.pop(req_id, None)
        if "error" in reply:
            raise SmscError(f"{op}: {reply['error']}")
        return reply

    async def _wait(self, waiter: _Waiter, timeout: float, what: str) -> Event:
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise TimeoutError(f"{what} within {timeout} s; {self._recent()}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _recent(self) -> str:
        tail = [
            {k: e.get(k) for k in ("ev", "destination", "text", "mo", "status", "session") if k in e}
            for e in self.events[-8:]
        ]
        return f"last events: {tail}"

    # ---- events

    async def subscribe(self, events: bool | list[str] = True) -> None:
        """Which events the SMSC pushes: True (all), False (none) or a list of names among
        mt, dup, mo_ack, receipt_ack, bind, bind_failed, unbind, connect, closed,
        generic_nack, dropping, flood_done. During a quiet flood mt/mo_ack/receipt_ack
        are never pushed."""
        await self.call("subscribe", events=events)

    def mark(self) -> int:
        """A position in ``events``, to wait for what comes after it (``wait_event(since=)``)."""
        return len(self.events)

    async def wait_event(
        self,
        ev: str,
        predicate: Predicate | None = None,
        timeout: float = 10,
        *,
        since: int = 0,
    ) -> Event:
        """The first event named ``ev`` at or after position ``since`` that ``predicate`` takes."""
        for event in self.events[since:]:
            if event["ev"] == ev and (predicate is None or predicate(event)):
                return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        return await self._wait(_Waiter(ev, predicate, future), timeout, f"no {ev!r} event")

    async def wait_mt(self, predicate: Predicate | None = None, timeout: float = 10) -> Event:
        """The oldest MT (submit_sm record) not yet returned by ``wait_mt`` that ``predicate``
        takes, waiting for it if needed. Keys: i, t, session, message_id, source, destination,
        esm_class, data_coding, registered_delivery, sm_hex, payload_hex, udh ({hex, ref,
        total, seq, ref16} or None), sar, text, key (TLV 0x1501), tlvs (other vendor TLVs)."""
        for index, mt in enumerate(self._mts):
            if not self._mt_taken[index] and (predicate is None or predicate(mt)):
                self._mt_taken[index] = True
                return mt
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        return await self._wait(
            _Waiter("mt", predicate, future, take_mt=True), timeout, "no matching MT"
        )

    async def wait_mo_acked(self, mo_id: str, timeout: float = 10) -> Event:
        """Waits until the ESME acknowledged MO ``mo_id`` with status 0."""
        return await self.wait_event(
            "mo_ack", lambda e: e["mo"] == mo_id and e["status"] == 0, timeout
        )

    async def wait_bound(self, timeout: float = 10) -> int:
        """Waits until at least one ESME is bound; returns how many are."""
        since = self.mark()
        bound = int((await self.stats())["bound"])
        if bound:
            return bound
        await self.wait_event("bind", timeout=timeout, since=since)
        return int((await self.stats())["bound"])

    # ---- requests

    async def mo(
        self, src: str, text: str, dst: str = "61234", data_coding: int | None = None, **extra: Any
    ) -> str:
        """Queues an MO (deliver_sm) from ``src`` to ``dst``; returns its id (TLV 0x1502).
        ``extra``: hex (raw user data instead of text), esm_class, source_ton/npi, dest_ton/npi."""
        params: dict[str, Any] = {"src": src, "text": text, "dst": dst, **extra}
        if data_coding is not None:
            params["data_coding"] = data_coding
        return str((await self.call("mo", **params))["mo"])

    async def mts(self, since: int = 0) -> list[Event]:
        """Every MT recorded since the last reset, from index ``since``."""
        out: list[Event] = []
        while True:
            reply = await self.call("mts", since=since, limit=50_000)
            out += reply["mts"]
            since = reply["next"]
            if since >= reply["total"]:
                return out

    async def stats(self) -> dict[str, Any]:
        """The SMSC's counters (cheap: no list is sent)."""
        reply = await self.call("stats")
        reply.pop("reply", None)
        return reply

    async def sessions(self) -> list[dict[str, Any]]:
        return list((await self.call("sessions"))["sessions"])

    async def reset(self) -> None:
        """Forgets recorded MTs, counters, dedup keys, queued MOs and faults (here too)."""
        await self.call("reset")
        self.events.clear()
        self._mts.clear()
        self._mt_taken.clear()

    async def throttle(self, n: int) -> None:
        """The next ``n`` submit_sm get ESME_RTHROTTLED (0x58) and are not recorded."""
        await self.call("throttle", n=n)

    async def rate(self, r: float) -> None:
        """submit_sm beyond ``r`` per second get ESME_RTHROTTLED (0 = no limit)."""
        await self.call("rate", r=r)

    async def drop(self, rst: bool = False) -> int:
        """Closes every ESME socket now, without unbind (``rst``: with a TCP reset)."""
        return int((await self.call("drop", rst=rst))["dropped"])

    async def drop_after_submits(self, n: int) -> None:
        """The ``n``-th next submit_sm is recorded, then its socket closed before the resp."""
        await self.call("drop_after_submits", n=n)

    async def raw(self, data: bytes) -> int:
        """Writes ``data`` as-is to every bound ESME socket; returns how many."""
        return int((await self.call("raw", hex=data.hex()))["written"])

    async def slow_resp(self, ms: float) -> None:
        """Delays every submit_sm_resp by ``ms`` milliseconds (0 = off)."""
        await self.call("slow_resp_ms", ms=ms)

    async def flood(self, **spec: Any) -> dict[str, Any]:
        """Runs the load generator and returns its report. ``spec``: count, rate (per s),
        sources (list) or source_base + source_count, texts, dst, data_coding, grace_ms
        (default 5000), quiet (default True: no mt/mo_ack events while it runs)."""
        count = int(spec.get("count", 0))
        rate = float(spec.get("rate", 0) or 0)
        budget = (count / rate if rate else 0) + spec.get("grace_ms", 5000) / 1000 + 120
        return dict((await self.call("flood", timeout=budget, **spec))["report"])


@contextlib.asynccontextmanager
async def smsc_running(
    system_id: str = "videotex", password: str = "secret", **options: Any
) -> AsyncIterator[Smsc]:
    """``async with smsc_running(...) as smsc``: a simulator for the block's duration."""
    smsc = await Smsc.start(system_id, password, **options)
    try:
        yield smsc
    finally:
        await smsc.stop()
