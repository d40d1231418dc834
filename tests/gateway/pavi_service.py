"""MiniPavi services for the tests and the gateway benchmark: real HTTP servers on
loopback (aiohttp), speaking the service side of the protocol as its reference describes
it (``../shared/reference/minipavi-protocol.md``), independently of the gateway's code.

:class:`PaviService` records every request it gets (path, query, headers, the JSON body)
and answers with what its ``handler`` returns for it: a dict (sent as JSON), or raw bytes
(to test the gateway's errors), after an optional delay. :func:`page` builds the answer of
a MiniPavi service the way MiniPaviCli does (content in base64, the COMMAND object).

``python -m tests.gateway.pavi_service --port 0`` runs the benchmark's service in a
process of its own and prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["PaviRequest", "PaviService", "hello_flow", "page"]


@dataclass
class PaviRequest:
    """One POST the service got."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    data: Any  # the decoded JSON (None when the body is not JSON)

    @property
    def pavi(self) -> dict[str, Any]:
        pavi: dict[str, Any] = self.data["PAVI"]
        return pavi

    @property
    def fctn(self) -> str:
        return str(self.pavi["fctn"])


Handler = Callable[[PaviRequest], "dict[str, Any] | bytes | Awaitable[dict[str, Any] | bytes]"]


def page(content: bytes, *, next_url: str = "", context: str = "", echo: bool = True,
         command: dict[str, Any] | None = None, directcall: str = "no") -> dict[str, Any]:
    """An answer as MiniPaviCli's ``send()`` writes it."""
    answer: dict[str, Any] = {
        "version": "1.1", "content": base64.b64encode(content).decode("ascii"),
        "context": context, "echo": "on" if echo else "off", "next": next_url,
        "directcall": directcall}
    if command is not None:
        answer["COMMAND"] = command
    return answer


#: What MiniPaviCli's toG2 writes for the accents a French name has (SS2, the accent,
#: the letter), from the Minitel's G2 set; anything else not ASCII becomes "?".
_G2 = {"é": b"\x19Be", "è": b"\x19Ae", "à": b"\x19Aa", "ù": b"\x19Au", "ê": b"\x19Ce",
       "â": b"\x19Ca", "î": b"\x19Ci", "ô": b"\x19Co", "û": b"\x19Cu", "ë": b"\x19He",
       "ï": b"\x19Hi", "ü": b"\x19Hu", "ç": b"\x19Kc"}


def to_videotex(text: str) -> bytes:
    return b"".join(_G2.get(ch, ch.encode("ascii", "replace")) for ch in text)


def input_txt(x: int, y: int, length: int, *, validwith: int = 128, spacechar: str = ".",
              prefill: str = "", cursor: str = "on") -> dict[str, Any]:
    return {"name": "InputTxt", "param": {"x": x, "y": y, "l": length, "char": "",
                                          "spacechar": spacechar, "prefill": prefill,
                                          "cursor": cursor, "validwith": validwith}}


@dataclass
class PaviService:
    """See the module docstring."""

    handler: Handler
    delay: float = 0.0
    requests: list[PaviRequest] = field(default_factory=list)
    #: Seconds spent in ``handler`` per request (the service's own time).
    own_time: list[float] = field(default_factory=list)
    keep_requests: bool = True
    _runner: web.AppRunner | None = None
    port: int = 0
    #: Set at each request (tests await it instead of polling).
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, float]:
        """The service's own time per request (its handler, its parsing), in ms."""
        times = sorted(self.own_time)
        if not times:
            return {"count": 0}
        return {"count": len(times), "p50_ms": 1000 * times[len(times) // 2],
                "p99_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.99))],
                "max_ms": 1000 * times[-1]}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and request.path == "/__stats":  # the benchmark asks
            return web.json_response(self.stats())
        t0 = time.perf_counter()
        body = await request.read()
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        seen = PaviRequest(request.path, dict(request.query), dict(request.headers), body, data)
        if self.keep_requests:
            self.requests.append(seen)
        self.arrived.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self.handler(seen)
        if asyncio.iscoroutine(answer):
            answer = await answer
        self.own_time.append(time.perf_counter() - t0)
        if isinstance(answer, bytes):
            return web.Response(body=answer, content_type="text/html")
        return web.json_response(answer)

    async def start(self, port: int = 0) -> PaviService:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=4096)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fctns(self) -> list[str]:
        return [r.fctn for r in self.requests if r.data is not None]


def hello_flow(base: str) -> Handler:
    """§8's worked example, and one more page: CNX → "Votre nom :" with a 10-character
    field; Envoi → "Bonjour NAME" and a field for a number; Envoi → "Merci" again."""

    def handle(req: PaviRequest) -> dict[str, Any]:
        pavi = req.pavi
        if pavi["fctn"] in ("CNX", "DIRECTCNX") or not pavi["context"]:
            return page(b"\x0c\x1f\x4a\x41Votre nom :", context="step=name",
                        next_url=f"{base}/hello?step=name",
                        command=input_txt(13, 10, 10))
        if pavi["fctn"] == "ENVOI" and pavi["context"] == "step=name":
            name = pavi["content"][0] if pavi["content"] else ""
            return page(b"\x0c\x1f\x4a\x41Bonjour " + to_videotex(name)
                        + b"\x1f\x4c\x41Un nombre :", context=f"step=number;name={name}",
                        next_url=f"{base}/hello?step=number",
                        command=input_txt(13, 12, 5, validwith=128 | 16))
        return page(b"\x0c\x1f\x4a\x41Merci " + to_videotex("".join(pavi["content"])),
                    context="step=name",
                    next_url=f"{base}/hello?step=name", command=input_txt(13, 10, 10))

    return handle


def main() -> None:
    ap = argparse.ArgumentParser(description="the gateway benchmark's MiniPavi service")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    async def run() -> None:
        holder: dict[str, str] = {}

        def handler(req: PaviRequest) -> dict[str, Any]:
            return hello_flow(holder["base"])(req)

        service = PaviService(handler, keep_requests=False)
        await service.start(args.port)
        holder["base"] = service.url
        print(f"serving {service.url}/hello", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await service.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
