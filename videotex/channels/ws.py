"""WebSocket listener: the browser Minitel at ``/`` and the videotex endpoint at ``/ws``.

One HTTP port serves both (``videotex serve --ws HOST:PORT``):

* ``GET /`` and the page's assets (``minitel.js``, ``font.js``, ``minitel.css``) from the
  bundled :data:`WEB_DIR`; anything else is 404. Only the files present at start are
  ever served (a fixed table, no path from the request touches the file system).
* ``GET /ws`` with a WebSocket upgrade is the endpoint; an upgrade on ``/`` is accepted
  too, for community emulators that are given a bare ``ws://host:port`` URL.

WebSocket framing stays here (DESIGN rule 5). The wire convention is the one of the
community's browser emulators (miedit, MiniPavi): **text frames in which each
character's code point is one videotex byte** (latin-1 both ways). Binary frames from
clients that send them are accepted as bytes; we always answer in text frames. A code
point above U+00FF cannot be a byte: it is dropped and counted
(:attr:`WsConnection.dropped_chars`). Messages larger than ``max_message`` bytes
(4 KiB by default) end the connection with close code 1009.

Origin policy: by default any origin may connect (the community's emulators are pages on
other sites). The listener option ``origins`` (a list of ``https://site`` strings; the
string ``"null"`` allows clients that send no Origin) restricts it; a refused origin
gets HTTP 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Origin, Subprotocol

from videotex.runtime.config import ListenerConfig
from videotex.runtime.switchboard import Switchboard

from .connection import Connection, Pacer

__all__ = [
    "ENDPOINTS",
    "MAX_MESSAGE",
    "SUBPROTOCOLS",
    "WEB_DIR",
    "WsConnection",
    "WsListener",
    "load_site",
    "start",
]

log = logging.getLogger("videotex.ws")

#: Where the bundled browser Minitel lives.
WEB_DIR = Path(__file__).with_name("web")
#: Paths on which a WebSocket upgrade reaches the videotex endpoint.
ENDPOINTS = ("/ws", "/")
#: Largest message accepted from a caller, in bytes (text: characters).
MAX_MESSAGE = 4096
#: Subprotocols we answer to when a client offers them; none is required.
SUBPROTOCOLS = ("tty", "binary")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
_SECURITY = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy",
     "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
     "style-src 'self'; script-src 'self'; frame-ancestors 'self'"),
)


def load_site(directory: Path = WEB_DIR) -> dict[str, tuple[str, bytes]]:
    """``/path`` → (content type, body) for every servable file of ``directory``.

    ``/`` is ``index.html``. Files of unknown type (the font generator script) are not
    served. Raises ``FileNotFoundError`` naming the directory when it has no index."""
    index = directory / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: the browser Minitel page is missing")
    site: dict[str, tuple[str, bytes]] = {}
    for path in sorted(directory.iterdir()):
        kind = _TYPES.get(path.suffix)
        if kind is not None and path.is_file():
            site["/" + path.name] = (kind, path.read_bytes())
    site["/"] = site["/index.html"]
    return site


class WsConnection(Connection):
    """A caller on a WebSocket: latin-1 text frames (or binary) in, text frames out."""

    channel = "ws"

    def __init__(self, ws: ServerConnection) -> None:
        self._ws = ws
        self._out = bytearray()
        self._closer: asyncio.Task[None] | None = None
        self.dropped_chars = 0
        self.binary_messages = 0
        self.subprotocol = ws.subprotocol or ""
        peer = ws.remote_address
        if isinstance(peer, tuple):
            host = f"[{peer[0]}]" if ":" in peer[0] else peer[0]
            self.peer = f"{host}:{peer[1]}"
        else:
            self.peer = str(peer or "")

    async def read(self) -> bytes:
        try:
            message = await self._ws.recv()
        except ConnectionClosed:
            return b""
        if isinstance(message, bytes):
            self.binary_messages += 1
            return message
        data = message.encode("latin-1", errors="ignore")
        if len(data) != len(message):
            self.dropped_chars += len(message) - len(data)
            log.debug("dropped characters above U+00FF", extra={"peer": self.peer})
        return data

    def write(self, data: bytes) -> None:
        self._out += data

    async def drain(self) -> None:
        if not self._out:
            return
        text = self._out.decode("latin-1")
        self._out.clear()
        if self._ws.state is not State.OPEN:
            # Closing: send() would wait for the socket to close, up to the close timeout
            # (10 s) while the call and its meter run on, and with the caller's messages
            # filling the queue the socket is not even read. Reading them on resumes it:
            # the read after the last one reports the hang-up.
            return
        # a caller who is gone is reported by the next read, as a hang-up
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(text)

    def close(self) -> None:
        if self._closer is None:
            self._closer = asyncio.ensure_future(self._flush_and_close())

    async def _flush_and_close(self) -> None:
        await self.drain()
        await self._ws.close()

    async def wait_closed(self) -> None:
        """Until the closing handshake is over (after :meth:`close`, once the call has
        stopped reading). What the caller sends meanwhile is read and dropped: left
        queued past websockets' limit, it stops the socket being read, and the caller's
        answer to our close frame then goes unseen until the close timeout (10 s)."""
        discard = asyncio.ensure_future(self._discard())
        try:
            if self._closer is not None:
                await self._closer
            await self._ws.wait_closed()
        finally:
            discard.cancel()

    async def _discard(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._ws.recv()


class WsListener:
    """The running HTTP/WebSocket server of one ``ws`` listener."""

    kind = "ws"

    def __init__(self, server: Server) -> None:
        self.server = server

    def close(self) -> None:
        # leave open connections to the switchboard: it says goodbye to each caller
        self.server.close(close_connections=False)

    async def wait_closed(self) -> None:
        await self.server.wait_closed()

    def addresses(self) -> list[str]:
        """``http://…/`` for the page and ``ws://…/ws`` for the endpoint, per socket."""
        out = []
        for sock in self.server.sockets:
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            out += [f"http://{shown}:{port}/", f"ws://{shown}:{port}/ws"]
        return out


class _Connection(ServerConnection):
    """websockets' connection, except that bytes a client sends behind its opening
    request wait until the request is answered.

    RFC 6455 (4.1) has the client wait for the server's answer, but a client that does
    not is met by a websockets 17 problem: it parses those bytes as frames at once, a bad
    frame fails the connection, and answering the request then trips an assertion (no
    HTTP answer, an ERROR with a traceback in the log, per connection: a way to flood
    the log). Held here, they are parsed after the answer: as frames after a 101, and
    discarded after any other answer, as websockets does. At most ``MAX_HELD`` bytes."""

    MAX_HELD = 1 << 16

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tail: bytes | None = b""  # last bytes of the request read so far
        self._held: bytearray | None = None  # bytes behind the request

    def data_received(self, data: bytes) -> None:
        if self._held is not None:
            if len(self._held) + len(data) > self.MAX_HELD:
                self.transport.close()
                return
            self._held += data
            return
        if self._tail is not None:
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")  # request lines end in CRLF (websockets)
            if end < 0:
                self._tail = seen[-3:]
            else:
                end += 4 - len(self._tail)
                self._tail = None
                if end < len(data):
                    self._held = bytearray(data[end:])
                    data = data[:end]
        super().data_received(data)

    async def handshake(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().handshake(*args, **kwargs)
        finally:
            self._tail = None
            held, self._held = self._held, None
            if held and not self.transport.is_closing():
                super().data_received(bytes(held))


def _response(status: http.HTTPStatus, kind: str, body: bytes) -> Response:
    headers = Headers([("Content-Type", kind), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-cache"), *_SECURITY])
    return Response(status.value, status.phrase, headers, body)


def _select_subprotocol(conn: ServerConnection,
                        offered: Sequence[Subprotocol]) -> Subprotocol | None:
    for name in SUBPROTOCOLS:
        if name in offered:
            return Subprotocol(name)
    return None  # miedit and MiniPavi offer none: go on without one


def _origins(value: Any) -> list[Origin | None] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"ws listener option origins must be a list of strings, not {value!r}")
    return [None if v == "null" else Origin(v) for v in value]


async def start(cfg: ListenerConfig, board: Switchboard) -> WsListener:
    """Listener starter (``listeners.STARTERS["ws"]``).

    Options: ``origins`` (list, see the module docstring), ``max_message`` (bytes),
    ``reuse_port`` (set by ``--workers``)."""
    site = load_site(Path(cfg.options.get("web_dir", WEB_DIR)))
    pacer = Pacer(cfg.baud) if cfg.baud else None
    max_message = int(cfg.options.get("max_message", MAX_MESSAGE))
    if max_message < 1:
        raise ValueError(f"ws listener option max_message must be positive, not {max_message}")

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        path = request.path.partition("?")[0]
        # get_all: with Upgrade given twice, get() raises MultipleValuesError (an HTTP
        # 500 and a logged traceback); websockets answers such a handshake with 426
        upgrade = any("websocket" in v.lower() for v in request.headers.get_all("Upgrade"))
        if upgrade and path in ENDPOINTS:
            return None  # the WebSocket handshake goes on
        if upgrade:
            return _response(http.HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8",
                             f"no WebSocket endpoint at {path}; use /ws\n".encode())
        page = site.get(path)
        if page is None:
            return _response(http.HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8",
                             f"{path}: not found\n".encode())
        return _response(http.HTTPStatus.OK, *page)

    async def handler(ws: ServerConnection) -> None:
        conn = WsConnection(ws)
        try:
            await board.handle(conn, pacer=pacer)
        finally:
            conn.close()
            await conn.wait_closed()

    server = await serve(
        handler, cfg.host, cfg.port,
        process_request=process_request,
        select_subprotocol=_select_subprotocol,
        origins=_origins(cfg.options.get("origins")),
        max_size=max_message,
        compression=None,  # videotex pages are small; deflate costs more than it saves
        backlog=cfg.backlog,
        reuse_port=bool(cfg.options.get("reuse_port")) or None,
        server_header=None,
        create_connection=_Connection,
    )
    return WsListener(server)
