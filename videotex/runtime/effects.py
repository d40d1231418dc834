"""The I/O a gateway call asks for: MiniPavi's HTTP requests and bridges.

A :class:`~videotex.gateway.call.GatewayCall` is sans-IO: when a MiniPavi service is to
be called it emits an ``HttpPost`` effect, when the service bridges the caller to another
Minitel server a ``Bridge``. :class:`CallEffects` runs them beside
:func:`~videotex.runtime.interact.interact` and hands the outcome back to the part that
asked (``deliver``, ``bridge_data``, ``bridge_ended``), then pokes the call's driver to
send what the part has to say. A slow or broken service holds only its own caller: every
request is a task of its own, bounded by the client's timeouts and pool.

HTTP, per the protocol reference (§2): one pooled :class:`aiohttp.ClientSession` per event
loop, ``User-Agent: MiniPAVI/1.6``, connect timeout 4 s, total 25 s, up to three attempts
on a timeout only, redirects followed, bodies over 100,000 bytes refused, the status code
never checked (a 404 page is an answer, and says so as ERR #03).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

import aiohttp

__all__ = ["CallEffects", "GatewayHttp", "close_http", "http_for"]

log = logging.getLogger("videotex.gateway")

MAX_BODY = 100_000
ATTEMPTS = 3
#: Open connections of one process to all MiniPavi services, and to any one of them.
POOL_LIMIT = 512
POOL_PER_HOST = 64


class GatewayHttp:
    """The MiniPavi client of one event loop (see the module docstring)."""

    def __init__(self, *, connect_timeout: float = 4.0, total_timeout: float = 25.0,
                 limit: int = POOL_LIMIT, per_host: int = POOL_PER_HOST) -> None:
        self.timeout = aiohttp.ClientTimeout(total=total_timeout, connect=connect_timeout)
        self.limit, self.per_host = limit, per_host
        self._session: aiohttp.ClientSession | None = None
        #: Requests made, failed (after retries), and retried on a timeout.
        self.posts = self.failures = self.retries = 0

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            from videotex.protocols.minipavi import USER_AGENT

            connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.per_host,
                                             ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"})
        return self._session

    async def post(self, url: str, body: bytes) -> Any:
        """POST ``body`` to ``url``: an ``HttpResult`` (body, or error and whether it
        timed out), never an exception."""
        from videotex.gateway.minipavi_call import HttpResult

        self.posts += 1
        for attempt in range(ATTEMPTS):
            try:
                async with self._client().post(url, data=body) as response:
                    data = await response.content.read(MAX_BODY + 1)
                    if len(data) > MAX_BODY:
                        self.failures += 1
                        return HttpResult(None, f"answer over {MAX_BODY} bytes")
                    return HttpResult(data)
            except TimeoutError:
                if attempt + 1 < ATTEMPTS:
                    self.retries += 1
                    continue
                self.failures += 1
                return HttpResult(None, "timeout", timeout=True)
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                self.failures += 1
                return HttpResult(None, f"{type(exc).__name__}: {exc}"[:200])
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GatewayHttp] = (
    weakref.WeakKeyDictionary())


def http_for(loop: asyncio.AbstractEventLoop | None = None) -> GatewayHttp:
    """This event loop's MiniPavi client (made at first use)."""
    loop = loop or asyncio.get_running_loop()
    client = _CLIENTS.get(loop)
    if client is None:
        client = _CLIENTS[loop] = GatewayHttp()
    return client


async def close_http() -> None:
    """Close this loop's client (server shutdown, the end of a test)."""
    client = _CLIENTS.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.close()


class _Relay:
    """A bridge to another Minitel server: caller bytes out, server bytes in."""

    __slots__ = ("engine", "send", "task")

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.send: Callable[[bytes], Any] | None = None
        self.task: asyncio.Task[None] | None = None


class CallEffects:
    """Runs the effects of one call; ``poke`` wakes the call's driver afterwards."""

    def __init__(self, session: Any, poke: Callable[[], None],
                 http: GatewayHttp | None = None, *, allow_bridges: bool = True,
                 conn: Any = None) -> None:
        self.session = session
        self.poke = poke
        #: The caller's line: a voice call plays its prompts there.
        self.conn = conn
        self.http = http or http_for()
        self.allow_bridges = allow_bridges
        self.tasks: set[asyncio.Task[None]] = set()
        self.relays: dict[int, _Relay] = {}

    def pump(self) -> None:
        """Start what the call asked for since the last pump; relay the caller's bytes;
        deliver its service's PushServiceMsg messages to the calls they name."""
        uid = getattr(self.session, "unique_id", None)
        if uid is not None and _BY_UID.get(uid) is not self:
            _BY_UID[uid] = self
        pushes = getattr(self.session, "pushes", None)
        for target, message in pushes() if pushes is not None else ():
            other = _BY_UID.get(target)
            if other is not None and other.session.push(message):
                other.poke()
        for engine, effect in self.session.effects():
            kind = type(effect).__name__
            if kind == "HttpPost":
                self._spawn(self._post(engine, effect), detached=not effect.wait)
            elif kind == "Bridge":
                relay = self.relays[effect.id] = _Relay(engine)
                relay.task = self._spawn(self._bridge(relay, effect))
            elif kind == "Play" and self.conn is not None:  # a voice call's prompts
                log.info("voice said", extra={
                    "caller": getattr(self.conn, "identity", ""),
                    "items": [getattr(i, "key", None) or getattr(i, "text", None)
                              or getattr(i, "digits", "") for i in effect.items]})
                self.conn.play(effect, self._heard(engine, effect.id))
            elif kind == "Stop" and self.conn is not None:
                self.conn.stop(effect.id)
            else:
                log.error("unknown gateway effect %r", effect)
        for key, relay in list(self.relays.items()):
            out = relay.engine.bridge_outgoing()
            if out and relay.send is not None:
                relay.send(out)
            if not getattr(relay.engine, "bridging", True) and relay.task is not None:
                relay.task.cancel()  # the caller ended the bridge (*** Sommaire, Fin)
                del self.relays[key]

    def _heard(self, engine: Any, play_id: int) -> Callable[[], None]:
        def heard() -> None:
            engine.prompt_ended(play_id)
            self.poke()
        return heard

    def _spawn(self, coro: Any, detached: bool = False) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        if not detached:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:  # FIN: the call may be over, the request still goes out (bounded by timeouts)
            _DETACHED.add(task)
            task.add_done_callback(_DETACHED.discard)
        return task

    async def _post(self, engine: Any, effect: Any) -> None:
        result = await self.http.post(effect.url, effect.body)
        if not effect.wait:
            return
        engine.deliver(effect.id, result)
        self.poke()

    async def _bridge(self, relay: _Relay, effect: Any) -> None:
        failed, cancelled = True, False
        try:
            if not self.allow_bridges:
                return
            if effect.kind == "ws":
                await self._bridge_ws(relay, effect.params)
            else:
                await self._bridge_tln(relay, effect.params)
            failed = False
        except asyncio.CancelledError:
            cancelled = True  # the caller ended the bridge, or the call is over
            raise
        except Exception as exc:  # OSError, timeouts, websockets' errors: the bridge failed
            log.info("bridge failed", extra={"kind": effect.kind, "why": repr(exc)[:200]})
        finally:
            relay.send = None
            if not cancelled:
                self.relays.pop(effect.id, None)
                relay.engine.bridge_ended(failed)
                self.poke()

    async def _bridge_tln(self, relay: _Relay, params: dict[str, Any]) -> None:
        """A TCP bridge that speaks enough telnet for a telnet Minitel server: its option
        requests refused (a Minitel needs none: 7-bit data), IAC IAC undoubled, and the
        caller's 0xFF doubled (videotex never has it: harmless to a plain TCP server)."""
        from videotex.protocols.telnet import SteadyTelnet, escape

        host, port = _host_port(str(params.get("host", "")), 23)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        telnet = SteadyTelnet(set(), set())
        try:
            relay.send = lambda data: writer.write(escape(data))
            start = params.get("startseq", b"")
            if start:
                writer.write(start if isinstance(start, bytes) else str(start).encode("latin-1"))
            while chunk := await reader.read(4096):
                data, reply = telnet.receive(chunk)
                if reply:
                    writer.write(reply)
                if data:
                    relay.engine.bridge_data(data)
                    self.poke()
        finally:
            writer.close()

    async def _bridge_ws(self, relay: _Relay, params: dict[str, Any]) -> None:
        import websockets

        host = str(params.get("host", ""))
        scheme = "ws"
        if host.startswith("ssl://"):
            scheme, host = "wss", host[6:]
        path = str(params.get("path", "/")) or "/"
        if not path.startswith("/"):
            path = "/" + path
        proto = str(params.get("proto", "") or "")
        subprotocols = [proto] if proto else None
        async with websockets.connect(f"{scheme}://{host}{path}", open_timeout=10,
                                      subprotocols=subprotocols,  # type: ignore[arg-type]
                                      max_size=2**20) as ws:
            outgoing: asyncio.Queue[bytes] = asyncio.Queue()
            relay.send = outgoing.put_nowait

            async def sender() -> None:  # in order, one frame per read of the caller
                while True:
                    await ws.send((await outgoing.get()).decode("latin-1"))

            sending = asyncio.ensure_future(sender())
            try:
                async for message in ws:
                    data = (message.encode("latin-1", "replace") if isinstance(message, str)
                            else bytes(message))
                    relay.engine.bridge_data(data)
                    self.poke()
            finally:
                sending.cancel()

    async def close(self) -> None:
        """The call is over: stop its requests and bridges (a FIN goes on, detached)."""
        uid = getattr(self.session, "unique_id", None)
        if uid is not None and _BY_UID.get(uid) is self:
            del _BY_UID[uid]
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.relays.clear()


_DETACHED: set[asyncio.Task[None]] = set()
#: The live gateway calls of this process by MiniPavi uniqueId (PushServiceMsg targets).
_BY_UID: weakref.WeakValueDictionary[str, CallEffects] = weakref.WeakValueDictionary()


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    if not (port.isascii() and port.isdigit()):
        raise ValueError(f"bridge host {text!r}: the port is not a number")
    return host.strip("[]"), int(port)
