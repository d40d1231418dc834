"""MiniPavi's gateway <-> service protocol, the gateway side, sans-IO.

Owns the wire of ``shared/reference/minipavi-protocol.md`` §2-§4 and §8: the request JSON a
gateway POSTs to a service (:func:`request_json`, with the URL split as PHP's ``parse_url`` and
``parse_str`` split it, :func:`split_url`), the answer it reads back (:func:`parse_reply`), the
error screens of §3 (:func:`error_screen`) and the SS2 accent tables of §4 (:func:`ss2_to_text`,
:func:`text_to_ss2`). No I/O: the runtime makes the HTTP calls.

Invariants:

- :func:`request_json` writes what PHP's ``json_encode`` writes: compact, ``\\/`` for ``/``,
  ``\\uXXXX`` for anything outside ASCII, the keys in §8's order;
- :func:`parse_reply` returns a :class:`Reply`, ``None`` (empty body) or raises
  :class:`GatewayError` 03 or 05 (the errors after which nothing else is done), never another
  exception, whatever the body; the command errors (07, 10) are found later, once ``next``,
  ``context`` and ``echo`` have been applied (§3 order);
- :func:`error_screen` never sends a control byte taken from the service's text.
"""

from __future__ import annotations

import base64
import binascii
import enum
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from videotex.codec.charset import GLYPHS, glyph_bytes, to_glyphs

from .minipavi_url import parse_str, php_json_value, split_url, valid_url

__all__ = [
    "COMMAND_NAMES",
    "CONTENT_TYPE",
    "CONTEXT_MAX",
    "JSON_DEPTH",
    "PAVI_VERSION",
    "USER_AGENT",
    "Command",
    "DirectCall",
    "ErrorCode",
    "Fctn",
    "GatewayError",
    "PaviRequest",
    "Reply",
    "error_screen",
    "identification",
    "parse_reply",
    "parse_str",
    "php_json_value",
    "request_json",
    "split_url",
    "ss2_to_text",
    "text_to_ss2",
    "unknown_command",
    "valid_url",
]

#: §2 ``PAVI.version``.
PAVI_VERSION = "1.6"
#: §2 the User-Agent must contain ``MiniPAVI`` (MiniPaviCli redirects other clients).
USER_AGENT = "MiniPAVI/1.6"
#: §2 request header.
CONTENT_TYPE = "application/json"
#: §3 the gateway keeps this much of ``context``.
CONTEXT_MAX = 64_000
#: §3 nesting the service's JSON may have (PHP ``json_decode`` depth).
JSON_DEPTH = 50


class Fctn(enum.StrEnum):
    """Why the gateway calls the service (``PAVI.fctn``)."""

    CNX = "CNX"  #: §2 first call, or back to the default service after a FIN
    ENVOI = "ENVOI"  #: §2 §4 key validated
    RETOUR = "RETOUR"  #: §2 §4
    REPETITION = "REPETITION"  #: §2 §4
    GUIDE = "GUIDE"  #: §2 §4
    ANNULATION = "ANNULATION"  #: §2 §4
    SOMMAIRE = "SOMMAIRE"  #: §2 §4
    CORRECTION = "CORRECTION"  #: §2 §4
    SUITE = "SUITE"  #: §2 §4
    FIN = "FIN"  #: §2 Connexion/Fin, libCnx, hang-up, inactivity; the reply is ignored
    DIRECT = "DIRECT"  #: §2 §3 ``directcall: yes``
    DIRECTCNX = "DIRECTCNX"  #: §2 §3 ``directcall: yes-cnx``
    DIRECTCALLFAILED = "DIRECTCALLFAILED"  #: §2 §5 connectTo*/duplicateStream failed
    DIRECTCALLENDED = "DIRECTCALLENDED"  #: §2 §5 connectTo* ended
    DATAS = "DATAS"  #: §2 §5 after getScreen/getScreenList
    BGCALL = "BGCALL"  #: §2 §5 BackgroundCall
    BGCALL_SIMU = "BGCALL-SIMU"  #: §2 §5 BackgroundCall simulating the user


class DirectCall(enum.StrEnum):
    """The answer's ``directcall``."""

    NO = "no"  #: §3 wait for the user
    YES = "yes"  #: §3 call ``next`` at once with DIRECT
    YES_CNX = "yes-cnx"  #: §3 call ``next`` at once with DIRECTCNX


class ErrorCode(enum.IntEnum):
    """The gateway's error screens."""

    BAD_START_URL = 2  #: §3 ``Paramètre url incorrect``; hang-up
    NOT_JSON = 3  #: §3 ``Réponse non JSON``
    BAD_NEXT = 5  #: §3 ``Prochaine URL incorrecte``
    UNKNOWN_COMMAND = 7  #: §3 ``Commande inconnue``
    UNAVAILABLE = 9  #: §3 ``Service indisponible``; hang-up
    BAD_COMMAND = 10  #: §3 ``Commande mal formée``

    @property
    def message(self) -> str:
        return _MESSAGES[self]


_MESSAGES = {
    ErrorCode.BAD_START_URL: "Paramètre url incorrect",
    ErrorCode.NOT_JSON: "Réponse non JSON",
    ErrorCode.BAD_NEXT: "Prochaine URL incorrecte",
    ErrorCode.UNKNOWN_COMMAND: "Commande inconnue",
    ErrorCode.UNAVAILABLE: "Service indisponible",
    ErrorCode.BAD_COMMAND: "Commande mal formée",
}

#: §4 §5 every command name a gateway knows (case-sensitive, as PHP's ``switch``).
COMMAND_NAMES = frozenset({
    "InputTxt", "InputMsg", "InputForm", "libCnx", "PushServiceMsg", "BackgroundCall",
    "connectToWs", "connectToTln", "connectToExt", "duplicateStream", "setParam",
    "getScreen", "getScreenList",
})


class GatewayError(ValueError):
    """An error screen of §3: ``code``, its ``message``, a ``detail`` row and an ``extra`` one.

    ``message`` defaults to the reference's message for ``code``.
    """

    def __init__(self, code: int, message: str = "", detail: str = "", extra: str = "") -> None:
        self.code = int(code)
        if not message:
            try:
                message = ErrorCode(self.code).message
            except ValueError:
                message = "Erreur"
        self.message = message
        self.detail = detail
        self.extra = extra
        super().__init__(f"ERR #{self.code:02d} {message}" + (f": {detail}" if detail else "")
                         + (f" ({extra})" if extra else ""))


# -- the request ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class PaviRequest:
    """The ``PAVI`` object of a request (§2), field for field."""

    version: str = PAVI_VERSION
    unique_id: str
    remote_addr: str = ""
    typesocket: str = ""
    #: ``???`` until the terminal answered the identification request.
    versionminitel: str = "???"
    #: One entry per field of the last input command, accents in UTF-8.
    content: tuple[str, ...] = ()
    #: ``None`` unless getScreen/getScreenList ran.
    datas: Mapping[str, Any] | None = field(default=None, compare=False)
    context: str = ""
    fctn: str = Fctn.CNX
    webmedia: int = 0


def _php_json(value: Any) -> bytes:
    """``json_encode`` with PHP's default flags."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("/", "\\/").encode("ascii")


def request_json(req: PaviRequest, urlparams: dict[str, Any] | list[Any] | None = None) -> bytes:
    """The request body: ``{"PAVI": {...}, "URLPARAMS": ...}`` exactly as §8 shows it
    (``URLPARAMS`` left out when ``None``)."""
    pavi: dict[str, Any] = {
        "version": req.version,
        "uniqueId": req.unique_id,
        "remoteAddr": req.remote_addr,
        "typesocket": req.typesocket,
        "versionminitel": req.versionminitel,
        "content": list(req.content),
        "datas": None if req.datas is None else dict(req.datas),
        "context": req.context,
        "fctn": str(req.fctn),
        "webmedia": int(req.webmedia),
    }
    body: dict[str, Any] = {"PAVI": pavi}
    if urlparams is not None:
        body["URLPARAMS"] = urlparams
    return _php_json(body)


# -- the reply ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Command:
    """The answer's ``COMMAND`` (§3-§5): a name and its ``param`` object."""

    name: str
    param: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def known(self) -> bool:
        return self.name in COMMAND_NAMES

    def dump(self) -> str:
        """The command as the 07 error screen shows it (≤500 characters)."""
        text = json.dumps({"name": self.name, "param": dict(self.param)}, ensure_ascii=False,
                          default=str)
        return text[:500]


def unknown_command(command: Command) -> GatewayError:
    """ERR 07 for ``command``."""
    return GatewayError(ErrorCode.UNKNOWN_COMMAND, detail=command.dump())


@dataclass(frozen=True, slots=True)
class Reply:
    """A service's answer (§3), decoded."""

    #: Videotex to send as is (base64-decoded ``content``).
    content: bytes = b""
    #: New context; ``None`` keeps the previous one (absent or empty).
    context: str | None = None
    #: Typed characters are echoed in input fields.
    echo: bool = False
    #: Next URL (validated); ``None`` keeps the current one.
    next: str | None = None
    directcall: DirectCall = DirectCall.NO
    command: Command | None = None


_PHP_TRIM = " \t\n\r\0\x0b"
_B64 = re.compile(rb"[^A-Za-z0-9+/]")


def _b64(text: str) -> bytes:
    """PHP's non-strict ``base64_decode``: other characters skipped, a dangling one dropped."""
    data = _B64.sub(b"", text.encode("utf-8", "surrogatepass"))
    if len(data) % 4 == 1:
        data = data[:-1]
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the alphabet is clean
        return b""


def _too_deep(value: Any, limit: int) -> bool:
    """Arrays and objects nested deeper than ``limit`` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_TAGS = re.compile(r"<[^>]*>?", re.S)
_BR = re.compile(r"<br\s*/?>", re.I)


def _not_json(body: bytes, reason: str) -> GatewayError:
    text = html.unescape(body.decode("utf-8", "replace"))
    text = _TAGS.sub("", _BR.sub("\r\n", text)).strip(_PHP_TRIM)
    return GatewayError(ErrorCode.NOT_JSON, detail=f"Exception: {reason}",
                        extra="Votre serveur a répondu: " + text[:400])


def _decode_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_json(body, "Malformed UTF-8 characters, possibly incorrectly encoded") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _not_json(body, "Maximum stack depth exceeded") from None
    except ValueError as exc:
        reason = "Syntax error"
        if "control character" in str(exc).lower():
            reason = "Control character error, possibly incorrectly encoded"
        raise _not_json(body, reason) from None
    if _too_deep(value, JSON_DEPTH):
        raise _not_json(body, "Maximum stack depth exceeded")
    return value


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as PHP would make it a string (``None`` for arrays and objects)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return None


def _next_url(value: Any) -> str | None:
    if value is None:
        return None
    text = _scalar_text(value)
    if text is not None and not text.strip(_PHP_TRIM):
        return None
    if text is None or not valid_url(text):
        shown = text if text is not None else json.dumps(value, ensure_ascii=False)
        raise GatewayError(ErrorCode.BAD_NEXT, detail=shown)
    return text


def parse_reply(body: bytes) -> Reply | None:
    """Decode a service's answer (§3).

    ``None`` for an empty body (nothing happens). Raises :class:`GatewayError` 03 when it is
    not JSON (row 7 shows the tag-stripped body) and 05 when ``next`` is not a valid URL.
    Anything JSON that is not an object is an answer with nothing in it, as PHP reads it.
    """
    if not body.strip(_PHP_TRIM.encode()):
        return None
    data = _decode_json(body)
    if not isinstance(data, dict):
        data = {}
    nxt = _next_url(data.get("next"))
    raw = data.get("content")
    content = _b64(raw) if isinstance(raw, str) else b""
    ctx = data.get("context")
    context = _scalar_text(ctx) if ctx is not None else None
    context = context[:CONTEXT_MAX] if context else None
    echo = data.get("echo")
    direct = data.get("directcall")
    if direct == "yes" or direct is True:
        directcall = DirectCall.YES
    elif direct == "yes-cnx":
        directcall = DirectCall.YES_CNX
    else:
        directcall = DirectCall.NO
    return Reply(content=content, context=context, echo=echo == "on" or echo is True, next=nxt,
                 directcall=directcall, command=_command(data.get("COMMAND")))


def _command(value: Any) -> Command | None:
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    if name is None or name == "" or name is False:
        return None
    param = value.get("param")
    # PHP reads a property of a non-object as null: an absent, [] or scalar param is empty.
    return Command(name if isinstance(name, str) else json.dumps(name),
                   param if isinstance(param, dict) else {})


# -- SS2 accents ----------------------------------------------------------------------------

_SS2 = b"\x19"
#: §4 SS2 -> UTF-8, in the gateway's replacement order: each pair replaces every occurrence
#: before the next pair is tried (PHP ``str_replace`` with arrays); the last ones delete
#: leftover SS2 pieces. Quirks kept: SS2 H i gives î, SS2 0x2F is not listed (↓ -> /).
_FROM_SS2: tuple[tuple[bytes, str], ...] = (
    (b"Be", "é"), (b"Ae", "è"), (b"Aa", "à"), (b"Kc", "ç"), (b"Ce", "ê"),
    (b"BE", "É"), (b"AE", "È"), (b"AA", "À"), (b"CE", "Ê"), (b"\x7b", "β"), (b"\x7a", "œ"),
    (b"\x6a", "Œ"), (b"Hu", "ü"), (b"Cu", "û"), (b"Bu", "ú"), (b"Au", "ù"), (b"Ho", "ö"),
    (b"Co", "ô"), (b"Bo", "ó"), (b"Ao", "ò"), (b"Hi", "î"), (b"Ci", "î"), (b"Bi", "í"),
    (b"Ai", "ì"), (b"He", "ë"), (b"Ha", "ä"), (b"Ca", "â"), (b"Ba", "á"), (b"#", "£"),
    (b"0", "°"), (b"1", "±"), (b",", "←"), (b"-", "↑"), (b".", "→"), (b"\\/", "↓"),
    (b"<", "¼"), (b"=", "½"), (b">", "¾"), (b"CA", "Â"),
    (b"A", ""), (b"K", ""), (b"C", ""), (b"B", ""), (b"H", ""), (b"", ""),
)


def ss2_to_text(data: bytes) -> str:
    """What a field's bytes mean as text (§4 SS2 -> UTF-8, quirks included); bytes that are
    not UTF-8 become ``?`` as PHP's ``mb_convert_encoding`` makes them."""
    if _SS2 in data:
        for code, text in _FROM_SS2:
            data = data.replace(_SS2 + code, text.encode())
    return data.decode("utf-8", "replace").replace("\ufffd", "?")


#: Text -> SS2: the letters the §4 table decodes, then the codec's repertoire on top (î is
#: SS2 C i, as the terminal draws it, not the table's first SS2 H i).
_TO_SS2: dict[str, bytes] = {text: _SS2 + code for code, text in _FROM_SS2
                             if len(text) == 1 and text != "↓"}
_TO_SS2.update({g: b for g, b in GLYPHS.items() if len(g) == 1 and ord(g) > 0x7F})


def text_to_ss2(text: str) -> bytes:
    """Bytes that show ``text`` on a Minitel, as the gateway sends prefills and messages:
    ASCII as is, accents and G2 symbols with SS2 (the letters §4 decodes, so a prefill comes
    back unchanged), anything else through the codec's fallback (never raw UTF-8)."""
    out = bytearray()
    for ch in text:
        if ord(ch) < 0x80:
            out.append(ord(ch))
            continue
        code = _TO_SS2.get(ch)
        if code is None:
            code = b"".join(glyph_bytes(g) for g in to_glyphs(ch))
        out += code
    return bytes(out)


# -- identification and error screens -------------------------------------------------------

def identification(reply: bytes) -> str | None:
    """``versionminitel`` from an identification reply ``SOH x y z EOT`` (§2), else ``None``."""
    if len(reply) != 5 or reply[0] != 0x01 or reply[4] != 0x04:
        return None
    return reply.strip(b"\x01\x04").decode("latin-1")


def _pos(row: int, col: int) -> bytes:
    return bytes((0x1F, 0x40 + row, 0x40 + col))


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def _screen_text(text: str, limit: int) -> bytes:
    """Service text for an error screen: controls become spaces, the codec draws the rest."""
    glyphs = to_glyphs(_CONTROLS.sub(" ", text))[:limit]
    return b"".join(glyph_bytes(g) for g in glyphs)


def error_screen(error: GatewayError, unique_id: str) -> bytes:
    """The videotex of §3's error screen for ``error``.

    Clear; row 2 double height ` ERR #NN` white on red then ` <message>` white on green;
    the detail from row 4, the extra from row 7 (each cut so that nothing reaches row 24);
    row 24 ``UID:<uniqueId> Aide:aide@minipavi.fr``.
    """
    out = bytearray(b"\x0c")
    out += _pos(2, 1) + b"\x1bM\x1bG\x1bQ" + f" ERR #{error.code:02d}".encode()
    out += b"\x1bR " + _screen_text(error.message, 30) + b"\x18"
    if error.detail:
        out += _pos(4, 1) + _screen_text(error.detail, 120 if error.extra else 800)
    if error.extra:
        out += _pos(7, 1) + _screen_text(error.extra, 680)
    out += _pos(24, 1) + _screen_text(f"UID:{unique_id} Aide:aide@minipavi.fr", 40)
    return bytes(out)
