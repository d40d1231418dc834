"""The phone listeners' options, checked once at startup with messages that name the key.

``[[listen]] kind = "sip"`` (or ``--sip HOST:PORT[,key=value...]``):

``rtp_ports``     ``"20000-20999"``: the UDP ports of the calls' RTP (even ports, one a call)
``max_calls``     500: calls at once; one more gets ``486 Busy Here``
``rtp_timeout``   10: seconds without RTP from the caller that end a call (a lost BYE)
``answer_tone``   1.0: seconds of 2100 Hz before the 1300 Hz carrier (see docs/phone.md)
``ring``          0: seconds of ``180 Ringing`` before answering
``codecs``        ``"PCMA,PCMU"``: the G.711 laws we accept (the caller's order is kept)
``transport``     ``"udp,tcp"``: SIP over UDP, TCP or both on the same port
``advertise``     address shown in Contact and SDP (default: our address toward the caller)
``jitter``        4: 20 ms frames held before playing a call's audio (it grows on late audio)
``media_log``     60: seconds between the media figures in the log (0: never)
``registrar``     ``HOST:PORT`` of a SIP trunk to REGISTER with (optional), with ``user``,
                  ``password``, ``domain`` (default the registrar's host), ``expires`` (300)
``voice``         called numbers (request-URI users) answered by the voice menu, not the
                  modem: a list in TOML, ``;``-separated in ``--sip``, ``"*"`` for every
                  number (``serve --voice N1,N2`` sets it on every SIP listener)
``auto``          false: other numbers answer with the modem's tone and fall back to the
                  voice menu when no Minitel carrier comes within ``auto_wait`` seconds (6)
                  or a keypad digit arrives first

``kind = "audiosocket"`` takes ``max_calls``, ``rtp_timeout`` (seconds without audio),
``answer_tone``, ``jitter`` and ``media_log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from videotex.protocols.v23 import AnswerConfig

__all__ = ["PhoneOptionError", "PhoneOptions", "parse_spec"]

SIP_KEYS = ("rtp_ports", "max_calls", "rtp_timeout", "answer_tone", "ring", "codecs",
            "transport", "advertise", "jitter", "media_log", "registrar", "user", "password",
            "domain", "expires", "voice", "auto", "auto_wait")
AUDIOSOCKET_KEYS = ("max_calls", "rtp_timeout", "answer_tone", "jitter", "media_log")


class PhoneOptionError(ValueError):
    """A phone listener option that cannot be used; the message names the listener and key."""


@dataclass(frozen=True)
class PhoneOptions:
    rtp_ports: tuple[int, int] = (20000, 20999)
    max_calls: int = 500
    rtp_timeout: float = 10.0
    answer_tone: float = 1.0
    ring: float = 0.0
    codecs: tuple[str, ...] = ("PCMA", "PCMU")
    transport: tuple[str, ...] = ("udp", "tcp")
    advertise: str = ""
    jitter: int = 4
    media_log: float = 60.0
    registrar: tuple[str, int] | None = None
    user: str = ""
    password: str = ""
    domain: str = ""
    expires: int = 300
    #: Called numbers answered by the voice menu ("*": all).
    voice: frozenset[str] = frozenset()
    auto: bool = False
    auto_wait: float = 6.0

    def is_voice(self, number: str) -> bool:
        return "*" in self.voice or number in self.voice

    @property
    def modem(self) -> AnswerConfig:
        """The answer modem's settings these options ask for."""
        return AnswerConfig(answer_tone_ms=self.answer_tone * 1000.0)

    @classmethod
    def parse(cls, kind: str, where: str, options: dict[str, Any]) -> PhoneOptions:
        known = SIP_KEYS if kind == "sip" else AUDIOSOCKET_KEYS
        for key in options:
            if key not in known and key not in ("reuse_port", "proxy_protocol", "service"):
                raise PhoneOptionError(f"{where}: unknown option {key!r} for {kind} "
                                       f"(known: {', '.join(known)})")
        d = cls()
        out: dict[str, Any] = {
            "max_calls": _int(options, "max_calls", d.max_calls, where, 1, 100_000),
            "rtp_timeout": _number(options, "rtp_timeout", d.rtp_timeout, where, 0.5, 3600),
            "answer_tone": _number(options, "answer_tone", d.answer_tone, where, 0.0, 4.0),
            "jitter": _int(options, "jitter", d.jitter, where, 1, 20),
            "media_log": _number(options, "media_log", d.media_log, where, 0.0, 86400),
        }
        if kind == "sip":
            out.update(_sip(options, where, d))
        return cls(**out)


def _sip(options: dict[str, Any], where: str, d: PhoneOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"ring": _number(options, "ring", d.ring, where, 0.0, 60.0),
                           "expires": _int(options, "expires", d.expires, where, 30, 86400),
                           "auto_wait": _number(options, "auto_wait", d.auto_wait, where,
                                                1.0, 60.0)}
    voice = options.get("voice", ())
    if isinstance(voice, str):
        voice = [v for v in voice.replace(";", ",").split(",") if v.strip()]
    if not isinstance(voice, list | tuple) or not all(
            isinstance(v, str) and v.strip() and (v.strip() == "*" or all(
                c.isascii() and (c.isalnum() or c in "+-._") for c in v.strip()))
            for v in voice):
        raise PhoneOptionError(f"{where}: voice {options.get('voice')!r} must list called "
                               "numbers (request-URI users), or \"*\"")
    out["voice"] = frozenset(v.strip() for v in voice)
    auto = options.get("auto", False)
    if isinstance(auto, str) and auto.lower() in ("true", "false", "1", "0", "yes", "no"):
        auto = auto.lower() in ("true", "1", "yes")
    if not isinstance(auto, bool):
        raise PhoneOptionError(f"{where}: auto must be true or false, not {auto!r}")
    out["auto"] = auto
    ports = str(options.get("rtp_ports", "20000-20999"))
    lo, dash, hi = ports.partition("-")
    if not (dash and (lo.strip().isascii() and lo.strip().isdigit()) and (hi.strip().isascii() and hi.strip().isdigit())
            and 1024 <= int(lo) < int(hi) <= 65535):
        raise PhoneOptionError(f"{where}: rtp_ports {ports!r} is not LOW-HIGH within "
                               "1024-65535")
    out["rtp_ports"] = (int(lo), int(hi))
    codecs = tuple(c.strip().upper() for c in str(options.get("codecs", "PCMA,PCMU")).split(",")
                   if c.strip())
    if not codecs or any(c not in ("PCMA", "PCMU") for c in codecs):
        raise PhoneOptionError(f"{where}: codecs {options.get('codecs')!r}: only PCMA and "
                               "PCMU carry a modem")
    out["codecs"] = codecs
    transport = tuple(t.strip().lower() for t in
                      str(options.get("transport", "udp,tcp")).split(",") if t.strip())
    if not transport or any(t not in ("udp", "tcp") for t in transport):
        raise PhoneOptionError(f"{where}: transport {options.get('transport')!r} is not "
                               "udp, tcp or udp,tcp")
    out["transport"] = transport
    out["advertise"] = str(options.get("advertise", ""))
    registrar = options.get("registrar")
    if registrar:
        host, colon, port = str(registrar).rpartition(":")
        if not colon or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise PhoneOptionError(f"{where}: registrar {registrar!r} is not HOST:PORT")
        out["registrar"] = (host.strip("[]"), int(port))
        for key in ("user", "password"):
            if not isinstance(options.get(key), str) or not options[key]:
                raise PhoneOptionError(f"{where}: a registrar needs {key} (a string)")
        out["user"], out["password"] = options["user"], options["password"]
        out["domain"] = str(options.get("domain") or host.strip("[]"))
    return out


def _number(options: dict[str, Any], key: str, default: float, where: str, low: float,
            high: float) -> float:
    value = options.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PhoneOptionError(f"{where}: {key} must be a number, not {value!r}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise PhoneOptionError(f"{where}: {key} must be between {low:g} and {high:g}, "
                               f"not {value!r}")
    return number


def _int(options: dict[str, Any], key: str, default: int, where: str, low: int,
         high: int) -> int:
    number = _number(options, key, default, where, low, high)
    if number != int(number):
        raise PhoneOptionError(f"{where}: {key} must be a whole number, not {number:g}")
    return int(number)


#: Options only worker 0 keeps (one registration for the group).
REGISTRATION_KEYS = ("registrar", "user", "password", "domain", "expires")


def share(options: dict[str, Any], index: int, workers: int, where: str) -> dict[str, Any]:
    """The options of worker ``index`` of ``workers`` for one ``sip`` listener: an equal,
    separate slice of ``rtp_ports`` each (even-aligned), ``max_calls`` divided (rounded up:
    the listener's figure is the group's), registration in worker 0 only. Raises
    :class:`PhoneOptionError` when the range leaves a worker fewer ports than its calls."""
    parsed = PhoneOptions.parse("sip", where, options)
    lo, hi = parsed.rtp_ports
    lo += lo % 2
    size = ((hi - lo + 1) // workers) & ~1
    calls = -(-parsed.max_calls // workers)
    if size < 2 * calls:
        raise PhoneOptionError(
            f"{where}: with {workers} workers, rtp_ports {lo}-{hi} gives each {size // 2} "
            f"calls' ports for {calls} calls (max_calls {parsed.max_calls}): widen rtp_ports "
            f"to at least {2 * calls * workers} ports")
    out = dict(options)
    first = lo + index * size
    out["rtp_ports"] = f"{first}-{first + size - 1}"
    out["max_calls"] = calls
    if index:
        for key in REGISTRATION_KEYS:
            out.pop(key, None)
    return out


def parse_spec(spec: str, flag: str) -> tuple[str, dict[str, Any]]:
    """``127.0.0.1:5060,max_calls=50,rtp_ports=30000-30999`` → the address and options."""
    address, *parts = spec.split(",")
    options: dict[str, Any] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise PhoneOptionError(f"{flag} {spec}: {part!r} is not key=value")
        options[key.strip()] = value.strip()
    return address, options
