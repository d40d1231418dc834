"""The SMPP link: one ESME transceiver connection to the SMSC, kept up.

Owns: the socket (TCP, or TLS for ``smpps://``), binding again with backoff when the link
drops or the bind is refused, the keep-alive tick, and moving events between the sans-IO
:class:`~videotex.protocols.smpp.SmppClient` and the :class:`~videotex.sms.engine.SmsEngine`:
an MO is acknowledged when the engine says it is recorded; the window is refilled from
the engine's outbox as responses come back; a throttled answer pauses submissions
(doubling from ``pause`` up to ``max_pause``, reset by the next accepted submit).

``videotex serve --smpp smpp://SYSTEM_ID:PASSWORD@HOST:PORT`` starts one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from videotex.protocols.smpp import (
    BindRefused,
    Bound,
    Event,
    LinkFailed,
    MessageIn,
    ReceiptIn,
    SmppClient,
    State,
    SubmitRefused,
    Submitted,
    Unbound,
)

__all__ = ["SmppLink", "SmppTarget", "parse_smpp_url"]

log = logging.getLogger("videotex.sms")


@dataclass(frozen=True)
class SmppTarget:
    host: str
    port: int
    system_id: str
    password: str
    tls: bool = False


def parse_smpp_url(url: str) -> SmppTarget:
    """``smpp://SYSTEM_ID:PASSWORD@HOST:PORT`` (``smpps://`` for TLS); clear errors."""
    parts = urlsplit(url)
    if parts.scheme not in ("smpp", "smpps"):
        raise ValueError(f"--smpp {url!r}: the scheme must be smpp:// or smpps://")
    if not parts.hostname:
        raise ValueError(f"--smpp {url!r}: no host (smpp://SYSTEM_ID:PASSWORD@HOST:PORT)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"--smpp {url!r}: the port is not a number from 1 to 65535") from None
    if port is None:
        port = 2775 if parts.scheme == "smpp" else 3550
    if not parts.username:
        raise ValueError(f"--smpp {url!r}: no system id (smpp://SYSTEM_ID:PASSWORD@HOST:PORT)")
    system_id, password = unquote(parts.username), unquote(parts.password or "")
    if len(system_id) > 15 or len(password) > 8:
        raise ValueError(f"--smpp {url!r}: SMPP 3.4 takes a system id of at most 15 "
                         "characters and a password of at most 8")
    return SmppTarget(parts.hostname, port, system_id, password, parts.scheme == "smpps")


class SmppLink:
    """Keeps one bind to the SMSC and serves the engine through it."""

    def __init__(self, target: SmppTarget, engine: Any, *, system_type: str = "",
                 window: int = 10, enquire_every: float = 30.0, response_timeout: float = 10.0,
                 backoff: tuple[float, float] = (1.0, 30.0), pause: float = 0.05,
                 max_pause: float = 5.0, tls_context: ssl.SSLContext | None = None) -> None:
        self.target = target
        self.engine = engine
        self.system_type = system_type
        self.window = window
        self.enquire_every = enquire_every
        self.response_timeout = response_timeout
        self.backoff = backoff
        self.pause, self.max_pause = pause, max_pause
        self.tls_context = tls_context
        self.client: SmppClient | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._paused_until = 0.0
        self._pause_now = pause
        self._wake = asyncio.Event()
        self._stopping = False
        self.bound = asyncio.Event()
        #: Counters: binds made, links lost, throttled answers.
        self.binds = 0
        self.drops = 0
        self.throttled = 0
        self.last_error = ""

    # -- life ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, bind, serve; on any loss wait (backoff with jitter) and again."""
        delay = self.backoff[0]
        while not self._stopping:
            try:
                ok = await self._session()
            except (OSError, ssl.SSLError) as e:
                ok = False
                self.last_error = f"cannot reach the SMSC at {self.target.host}:" \
                                  f"{self.target.port}: {e}"
                log.warning("SMPP: %s", self.last_error)
            if self._stopping:
                break
            delay = self.backoff[0] if ok else min(self.backoff[1], delay * 2)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    async def stop(self) -> None:
        """Unbind (waiting up to 2 s for the SMSC's answer) and stop binding again."""
        self._stopping = True
        client, writer = self.client, self._writer
        if client is not None and writer is not None and client.state is State.BOUND:
            client.unbind(asyncio.get_running_loop().time())
            self._flush()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closed(), 2.0)
        if writer is not None:
            writer.close()
        self._wake.set()

    async def _closed(self) -> None:
        while self.client is not None and self.client.state is not State.CLOSED:
            await asyncio.sleep(0.02)

    async def _session(self) -> bool:
        """One connection; True when it was bound (the next try starts without delay)."""
        loop = asyncio.get_running_loop()
        context = None
        if self.target.tls:
            context = self.tls_context or ssl.create_default_context()
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            self.target.host, self.target.port, ssl=context), 10)
        client = SmppClient(self.target.system_id, self.target.password, self.system_type,
                            window=self.window, enquire_every=self.enquire_every,
                            response_timeout=self.response_timeout)
        self.client, self._writer = client, writer
        client.start(loop.time())
        self._flush()
        ticker = loop.create_task(self._ticker(client))
        sender = loop.create_task(self._sender(client))
        was_bound = False
        try:
            while client.state is not State.CLOSED:
                data = await reader.read(65536)
                events = client.receive_data(data, loop.time())
                was_bound |= self._handle(client, events)
                self._fill(client)
                self._flush()
        except (ConnectionError, OSError) as e:
            self.last_error = f"SMPP link lost: {e}"
        finally:
            ticker.cancel()
            sender.cancel()
            if client.state is not State.CLOSED:  # we leave with parts unanswered
                failed = client.receive_data(b"", loop.time())
                self._handle(client, failed)
            self.bound.clear()
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()
            self.client, self._writer = None, None
        return was_bound

    async def _ticker(self, client: SmppClient) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.enquire_every / 4))
            events = client.tick(loop.time())
            if events:
                self._handle(client, events)
                if self._writer is not None:
                    self._writer.close()  # the reader then sees the end
            self._fill(client)
            self._flush()

    async def _sender(self, client: SmppClient) -> None:
        """Wakes when the engine has new work (a recorded MO's reply, a wave)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._fill(client)
            self._flush()

    def kick(self) -> None:
        """The engine queued something to send."""
        self._wake.set()

    # -- moving things --------------------------------------------------------------------

    def _flush(self) -> None:
        client, writer = self.client, self._writer
        if client is None or writer is None:
            return
        data = client.data_to_send()
        if data and not writer.is_closing():
            writer.write(data)

    def _fill(self, client: SmppClient) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if now < self._paused_until:
            return
        while client.free > 0:
            part = self.engine.next_part()
            if part is None:
                return
            client.submit(part.key, part.source, part.destination, part.message,
                          data_coding=part.data_coding, esm_class=part.esm_class,
                          registered_delivery=part.registered_delivery, now=now)

    def _handle(self, client: SmppClient, events: list[Event]) -> bool:
        bound = False
        for ev in events:
            if isinstance(ev, MessageIn):
                self._answer(client, ev.seq, self.engine.message_in(ev))
            elif isinstance(ev, ReceiptIn):
                self._answer(client, ev.seq, self.engine.receipt_in(ev))
            elif isinstance(ev, Submitted):
                self._pause_now = self.pause
                self.engine.submitted(ev.key, ev.message_id)
            elif isinstance(ev, SubmitRefused):
                if ev.transient:
                    self.throttled += 1
                    loop = asyncio.get_running_loop()
                    pause = self._pause_now
                    self._paused_until = loop.time() + pause
                    self._pause_now = min(self.max_pause, pause * 2)
                    loop.call_later(pause, self._wake.set)  # then the window fills again
                self.engine.refused(ev.key, ev.status, ev.transient)
            elif isinstance(ev, Bound):
                bound = True
                self.binds += 1
                self.bound.set()
                log.info("SMPP bound to %s at %s:%d", ev.system_id or "the SMSC",
                         self.target.host, self.target.port)
            elif isinstance(ev, BindRefused):
                self.last_error = ev.reason
                log.error("SMPP: %s (check the system id and password of --smpp)", ev.reason)
                if self._writer is not None:
                    self._writer.close()
            elif isinstance(ev, LinkFailed | Unbound):
                if isinstance(ev, LinkFailed):
                    self.drops += 1
                    self.last_error = ev.reason
                    log.warning("SMPP link down: %s; %d parts to send again", ev.reason,
                                len(ev.unanswered))
                self.engine.requeue(ev.unanswered)
                if self._writer is not None:
                    self._writer.close()
        return bound

    def _answer(self, client: SmppClient, seq: int, fut: asyncio.Future[int]) -> None:
        def done(f: asyncio.Future[int]) -> None:
            if self.client is not client or client.state is State.CLOSED:
                return  # that link is gone: the SMSC delivers it again, we deduplicate
            client.respond(seq, f.result())
            self._fill(client)
            self._flush()

        if fut.done():
            client.respond(seq, fut.result())
        else:
            fut.add_done_callback(done)
