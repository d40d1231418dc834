"""SDP (RFC 4566) for a G.711 modem line, and the offer/answer rules (RFC 3264), sans-IO.

Owns: parsing an offer into :class:`SessionDescription` (what a line needs: addresses, media
lines, payload maps, direction, ptime), choosing the line's codec (:func:`choose_audio`:
PCMA or PCMU, ``telephone-event`` accepted), and writing an answer or an offer.

Invariants: every refusal is an :class:`SdpError` (a ``ValueError``) naming the line and the
field; :class:`NoCommonCodec` (a subclass) means a well-formed offer we cannot take (SIP 488,
the others 400); an answer has exactly as many ``m=`` lines as the offer, in the same order,
refused streams with port 0 (RFC 3264 §6); ``parse_sdp(build_offer(...))`` round-trips.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

__all__ = [
    "AudioChoice",
    "Media",
    "NoCommonCodec",
    "SdpError",
    "SessionDescription",
    "build_answer",
    "build_offer",
    "choose_audio",
    "parse_sdp",
]

#: Static payload types of RFC 3551 a modem line can use.
STATIC = {0: "PCMU", 8: "PCMA"}
MAX_SDP = 16_384
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                     "inactive": "inactive"}


class SdpError(ValueError):
    """A session description we cannot read; the message names the line and field."""


class NoCommonCodec(SdpError):
    """A readable offer without an audio stream we can take (PCMA or PCMU over RTP/AVP)."""


@dataclass(frozen=True, slots=True)
class Media:
    """One ``m=`` section."""

    kind: str
    port: int
    proto: str
    formats: tuple[str, ...]
    #: ``a=rtpmap``: payload type → (encoding name upper-cased, clock rate).
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict, compare=False)
    #: Media-level ``c=`` address, if any.
    address: str | None = None
    direction: str = "sendrecv"
    ptime: int | None = None

    def encoding(self, pt: int) -> tuple[str, int] | None:
        """(name, clock rate) of payload type ``pt``: its rtpmap, else the static table."""
        if pt in self.rtpmap:
            return self.rtpmap[pt]
        return (STATIC[pt], 8000) if pt in STATIC else None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    origin_user: str
    session_id: str
    version: str
    #: Session-level ``c=`` address, if any.
    address: str | None
    media: tuple[Media, ...]
    direction: str = "sendrecv"


def _address(value: str, n: int) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"line {n}: c={value[:40]!r} is not 'IN IP4|IP6 address'")
    addr = parts[2].split("/", 1)[0]  # multicast TTL
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise SdpError(f"line {n}: c= address {addr[:40]!r} is not an IP address") from None
    if (ip.version == 4) != (parts[1] == "IP4"):
        raise SdpError(f"line {n}: c= says {parts[1]} for {addr}")
    return addr


def parse_sdp(data: bytes) -> SessionDescription:
    """An SDP body → its description. Checks what a line depends on (v=0 first, o=, c= and
    m= well formed, ports and payload types in range); other lines are kept out."""
    if len(data) > MAX_SDP:
        raise SdpError(f"SDP of {len(data)} bytes, more than {MAX_SDP}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SdpError(f"SDP is not UTF-8 (byte {e.start})") from None
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines or lines[0].strip() != "v=0":
        raise SdpError("line 1: an SDP starts with v=0")
    origin: list[str] | None = None
    address: str | None = None
    session_dir = "sendrecv"
    media: list[dict[str, object]] = []
    for n, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"line {n}: {line[:40]!r} is not 'x=value'")
        kind, value = line[0], line[2:]
        target = media[-1] if media else None
        if kind == "o":
            origin = value.split()
            if len(origin) != 6:
                raise SdpError(f"line {n}: o= needs 6 fields, has {len(origin)}")
        elif kind == "c":
            if target is None:
                address = _address(value, n)
            else:
                target["address"] = _address(value, n)
        elif kind == "m":
            media.append(_media_line(value, n))
        elif kind == "a":
            _attribute(value, n, target)
            if target is None and value in _DIRECTIONS:
                session_dir = value
    if origin is None:
        raise SdpError("no o= line")
    out = []
    for m in media:
        direction = m.pop("direction", None) or session_dir
        out.append(Media(**m, direction=direction))  # type: ignore[arg-type]
    return SessionDescription(origin[0], origin[1], origin[2], address, tuple(out), session_dir)


def _media_line(value: str, n: int) -> dict[str, object]:
    parts = value.split()
    if len(parts) < 4:
        raise SdpError(f"line {n}: m={value[:40]!r} needs media, port, proto and formats")
    port_text = parts[1].split("/", 1)[0]
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        raise SdpError(f"line {n}: m= port {parts[1][:10]!r} is not 0-65535")
    if parts[2].startswith("RTP/"):
        for fmt in parts[3:]:
            if not (fmt.isascii() and fmt.isdigit()) or int(fmt) > 127:
                raise SdpError(f"line {n}: m= payload type {fmt[:10]!r} is not 0-127")
    return {"kind": parts[0], "port": int(port_text), "proto": parts[2],
            "formats": tuple(parts[3:]), "rtpmap": {}}


def _attribute(value: str, n: int, target: dict[str, object] | None) -> None:
    name, _, rest = value.partition(":")
    if target is None:
        return
    if name in _DIRECTIONS and not rest:
        target["direction"] = name
    elif name == "rtpmap":
        pt_text, _, enc = rest.partition(" ")
        pieces = enc.strip().split("/")
        if not (pt_text.isascii() and pt_text.isdigit()) or int(pt_text) > 127 or len(pieces) < 2 \
                or not (pieces[1].isascii() and pieces[1].isdigit()) or not pieces[0]:
            raise SdpError(f"line {n}: a=rtpmap:{rest[:40]!r} is not 'pt name/rate'")
        rtpmap = target["rtpmap"]
        assert isinstance(rtpmap, dict)
        rtpmap[int(pt_text)] = (pieces[0].upper(), int(pieces[1][:9]))
    elif name == "ptime":
        ms = rest.strip()
        if not (ms.isascii() and ms.isdigit()) or len(ms) > 4 or not 1 <= int(ms) <= 1000:
            raise SdpError(f"line {n}: a=ptime:{rest[:20]!r} is not 1-1000 ms")
        target["ptime"] = int(ms)


@dataclass(frozen=True, slots=True)
class AudioChoice:
    """What the line uses: the stream's index in the offer, the codec, where to send."""

    index: int
    payload_type: int
    codec: str
    #: Where RTP goes (None: on hold, address 0.0.0.0 or port 0).
    remote: tuple[str, int] | None
    telephone_event: int | None
    #: Our direction in the answer.
    direction: str
    ptime: int | None = None


def choose_audio(offer: SessionDescription, codecs: tuple[str, ...] = ("PCMA", "PCMU")
                 ) -> AudioChoice:
    """The first audio stream over RTP/AVP offering one of ``codecs``; among its codecs, the
    one the offer lists first (RFC 3264 §6.1: the offerer's preference)."""
    wanted = {c.upper() for c in codecs}
    for index, m in enumerate(offer.media):
        if m.kind != "audio" or m.proto not in ("RTP/AVP", "RTP/AVPF") or m.port == 0:
            continue
        pt = next((int(f) for f in m.formats
                   if (enc := m.encoding(int(f))) and enc[0] in wanted and enc[1] == 8000), None)
        if pt is None:
            continue
        enc = m.encoding(pt)
        assert enc is not None
        te = next((int(f) for f in m.formats
                   if (e := m.encoding(int(f))) and e[0] == "TELEPHONE-EVENT" and e[1] == 8000),
                  None)
        host = m.address or offer.address
        if host is None:
            raise SdpError(f"m={m.kind} {m.port}: no c= address, neither in the media "
                           "nor in the session")
        held = host in ("0.0.0.0", "::")
        return AudioChoice(index, pt, enc[0], None if held else (host, m.port), te,
                           _ANSWER_DIRECTION[m.direction], m.ptime)
    offered = sorted({(m.encoding(int(f)) or (f, 0))[0] for m in offer.media
                      if m.proto.startswith("RTP/") for f in m.formats})
    raise NoCommonCodec(f"no audio stream with {' or '.join(sorted(wanted))} at 8000 Hz "
                        f"(offered: {', '.join(map(str, offered)) or 'nothing'})")


def _lines(address: str, session_id: str, version: int) -> list[str]:
    family = "IP6" if ":" in address else "IP4"
    return ["v=0", f"o=videotex {session_id} {version} IN {family} {address}", "s=videotex",
            f"c=IN {family} {address}", "t=0 0"]


def _audio(port: int, pt: int, codec: str, te: int | None, direction: str) -> list[str]:
    formats = f"{pt}" + (f" {te}" if te is not None else "")
    out = [f"m=audio {port} RTP/AVP {formats}", f"a=rtpmap:{pt} {codec}/8000"]
    if te is not None:
        out += [f"a=rtpmap:{te} telephone-event/8000", f"a=fmtp:{te} 0-15"]
    return [*out, "a=ptime:20", f"a={direction}"]


def build_answer(offer: SessionDescription, choice: AudioChoice, address: str, port: int,
                 session_id: str, version: int = 1) -> bytes:
    """The answer to ``offer`` accepting ``choice`` on our ``address``/``port``."""
    lines = _lines(address, session_id, version)
    for index, m in enumerate(offer.media):
        if index == choice.index:
            lines += _audio(port, choice.payload_type, choice.codec, choice.telephone_event,
                            choice.direction)
        else:
            lines.append(f"m={m.kind} 0 {m.proto} {' '.join(m.formats)}")
    return ("\r\n".join(lines) + "\r\n").encode()


def build_offer(address: str, port: int, codecs: tuple[str, ...] = ("PCMA", "PCMU"),
                session_id: str = "1", version: int = 1, telephone_event: int | None = 101,
                direction: str = "sendrecv") -> bytes:
    """An offer of one audio stream with ``codecs`` in order (static payload types)."""
    pts = {name: pt for pt, name in STATIC.items()}
    chosen = [pts[c.upper()] for c in codecs]
    lines = _lines(address, session_id, version)
    formats = " ".join(str(pt) for pt in chosen)
    if telephone_event is not None:
        formats += f" {telephone_event}"
    lines.append(f"m=audio {port} RTP/AVP {formats}")
    lines += [f"a=rtpmap:{pt} {STATIC[pt]}/8000" for pt in chosen]
    if telephone_event is not None:
        lines += [f"a=rtpmap:{telephone_event} telephone-event/8000",
                  f"a=fmtp:{telephone_event} 0-15"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()
