"""SDP for one G.711 audio stream (RFC 4566 syntax, RFC 3264 offer/answer), sans-IO.

Owns what the emulator's SIP user agent offers and how it reads the answer: an offer of
one ``m=audio`` line with PCMU (0) and/or PCMA (8), in the order asked, optionally
``telephone-event`` (101), ptime 20 ms; the answer must keep an audio stream (port not 0)
over RTP/AVP, at an IP address (media ``c=`` over session ``c=``), with at least one of
the offered G.711 codecs: the first of those the answer lists is the one used both ways.

Invariant: :func:`parse_answer` returns a usable :class:`MediaAnswer` or raises
:class:`SdpError` saying which line is wrong, for any body.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CODECS",
    "TELEPHONE_EVENT",
    "Codec",
    "MediaAnswer",
    "SdpError",
    "build_offer",
    "parse_answer",
]

Law = Literal["ulaw", "alaw"]


@dataclass(frozen=True, slots=True)
class Codec:
    """A G.711 payload format: its RFC 3551 static payload type and its companding law."""

    name: str
    payload_type: int
    law: Law


#: RFC 3551 §6, table 4: the static payload types of G.711 at 8000 Hz, by option name.
CODECS = {"pcmu": Codec("PCMU", 0, "ulaw"), "pcma": Codec("PCMA", 8, "alaw")}
#: RFC 4733 DTMF events, offered at this dynamic payload type (never sent by the emulator).
TELEPHONE_EVENT = 101
PTIME_MS = 20


class SdpError(ValueError):
    """An SDP answer the emulator cannot use; the text names the line or what is missing."""


@dataclass(frozen=True, slots=True)
class MediaAnswer:
    """Where to send RTP and in which codec, from the answer."""

    host: str  #: an IP address, normalised (``ipaddress`` form)
    port: int
    codec: Codec
    direction: str  #: sendrecv, sendonly, recvonly or inactive (informational)


def build_offer(host: str, port: int, codecs: Sequence[str], *, session_id: int,
                version: int = 1, telephone_event: bool = True) -> bytes:
    """The offer body: ``codecs`` are keys of :data:`CODECS`, in order of preference."""
    family = "IP6" if ":" in host else "IP4"
    chosen = [CODECS[c] for c in codecs]
    pts = [str(c.payload_type) for c in chosen]
    if telephone_event:
        pts.append(str(TELEPHONE_EVENT))
    lines = [
        "v=0",
        f"o=- {session_id} {version} IN {family} {host}",
        "s=terminal-emu",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(pts)}",
    ]
    lines += [f"a=rtpmap:{c.payload_type} {c.name}/8000" for c in chosen]
    if telephone_event:
        lines += [f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000",
                  f"a=fmtp:{TELEPHONE_EVENT} 0-15"]
    lines += [f"a=ptime:{PTIME_MS}", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_answer(body: bytes, offered: Sequence[str]) -> MediaAnswer:
    """The audio stream of an SDP answer to an offer of ``offered`` codecs."""
    if not body.strip():
        raise SdpError("the answer has no SDP body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SdpError(f"SDP is not UTF-8 (byte {e.start})") from None
    session_c: str | None = None
    media: list[list[str]] = []  # each: the m= line, then its attribute/c= lines
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        elif line.startswith("c="):
            session_c = line
    audio = [m for m in media if m[0].startswith("m=audio ")]
    if not audio:
        raise SdpError("the answer has no m=audio line")
    for section in audio:
        port, proto, pts = _m_line(section[0])
        if port == 0:
            continue  # refused stream: §6 of RFC 3264
        if proto != "RTP/AVP":
            raise SdpError(f"{section[0]!r}: transport {proto} (only RTP/AVP is supported)")
        c_line = next((x for x in section if x.startswith("c=")), session_c)
        if c_line is None:
            raise SdpError("the answer has no c= line for its audio")
        codec = _codec(section, pts, offered)
        direction = next((x[2:] for x in section
                          if x[2:] in ("sendrecv", "sendonly", "recvonly", "inactive")),
                         "sendrecv")
        return MediaAnswer(_address(c_line), port, codec, direction)
    raise SdpError("the answer refused the audio stream (m=audio port 0)")


def _m_line(line: str) -> tuple[int, str, list[str]]:
    parts = line[2:].split()
    if len(parts) < 4 or not (parts[1].split("/")[0].isascii() and parts[1].split("/")[0].isdigit()):
        raise SdpError(f"{line!r}: expected m=audio PORT RTP/AVP FORMATS")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise SdpError(f"{line!r}: port {port} is out of range")
    return port, parts[2], parts[3:]


def _codec(section: list[str], pts: list[str], offered: Sequence[str]) -> Codec:
    names: dict[str, str] = {}
    for line in section:
        if line.startswith("a=rtpmap:"):
            pt, _, rest = line[len("a=rtpmap:"):].partition(" ")
            names[pt.strip()] = rest.strip().lower()
    wanted = {CODECS[o].payload_type: CODECS[o] for o in offered}
    for pt in pts:
        if not (pt.isascii() and pt.isdigit()):
            continue
        codec = wanted.get(int(pt))
        # a static type may come without rtpmap; with one, it must say the same codec
        if codec is not None and names.get(pt, f"{codec.name.lower()}/8000").startswith(
                f"{codec.name.lower()}/8000"):
            return codec
    offer = ", ".join(f"{CODECS[o].name} ({CODECS[o].payload_type})" for o in offered)
    raise SdpError(f"{section[0]!r}: none of the offered codecs {offer}")


def _address(c_line: str) -> str:
    parts = c_line[2:].split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"{c_line!r}: expected c=IN IP4 ADDRESS or c=IN IP6 ADDRESS")
    try:
        address = ipaddress.ip_address(parts[2].split("/")[0])
    except ValueError:
        raise SdpError(f"{c_line!r}: {parts[2]!r} is not an IP address") from None
    if address.is_unspecified:
        raise SdpError(f"{c_line!r}: the answer puts the call on hold (unspecified address)")
    return str(address)
