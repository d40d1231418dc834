"""Packing text into SMPP short messages and back, sans-IO: GSM 03.38 and UCS-2.

Owns :func:`encode_sms` / :func:`decode_sms`: GSM 03.38 (unpacked septets, data_coding 0)
when the text fits after transliteration, else UCS-2 (data_coding 8); concatenated parts
with an 8-bit-reference UDH, never splitting an escape or a surrogate pair. The character
tables are aiosmpplib's (:mod:`aiosmpplib.codec`); only its decoding of undefined escape
codes is replaced (see :func:`decode_sms`). It knows nothing of what the text says.
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from dataclasses import dataclass
from typing import Final

from aiosmpplib.codec import (
    GSM_BASIC_ENCODE_MAP,
    GSM_EXTENDED_DECODE_MAP,
    GSM_EXTENDED_ENCODE_MAP,
    GSM7BitCodec,
    UCS2Codec,
)

__all__ = [
    "MAX_PARTS",
    "SmsDecodeError",
    "SmsEncoding",
    "SmsParts",
    "decode_sms",
    "encode_sms",
]

class SmsEncoding(enum.StrEnum):
    """The alphabet of a short message."""

    GSM7 = "gsm7"  #: GSM 03.38 default alphabet, one septet per octet (SMPP data_coding 0)
    UCS2 = "ucs2"  #: UTF-16-BE, surrogate pairs for characters beyond the BMP (data_coding 8)


DC_GSM: Final = 0  #: SMPP 3.4 §5.2.19 data_coding: SMSC default alphabet (GSM 03.38 here)
DC_IA5: Final = 1  #: IA5 (CCITT T.50), i.e. ASCII
DC_LATIN1: Final = 3  #: ISO-8859-1
DC_UCS2: Final = 8  #: ISO/IEC 10646 UCS-2, sent as UTF-16-BE
ESM_UDHI: Final = 0x40  #: SMPP 3.4 §5.2.12 esm_class: short_message starts with a UDH
#: Most parts a reply may take; every reply of this module fits in one.
MAX_PARTS: Final = 6
ESCAPE: Final = 0x1B  #: GSM 03.38: the next septet is from the extension table
#: Bytes of short_message: a whole message, and a part after its 6-byte UDH (GSM 03.40
#: 9.2.3.24.1: 153 septets with a UDH, packed by the SMSC with one fill bit; 67 UCS-2 units).
_GSM_SINGLE, _GSM_PART, _UCS2_SINGLE, _UCS2_PART = 160, 153, 140, 134

_GSM: Final = frozenset(GSM_BASIC_ENCODE_MAP) | frozenset(GSM_EXTENDED_ENCODE_MAP)
_GSM_CODEC: Final = GSM7BitCodec()
_UCS2_CODEC: Final = UCS2Codec()
#: Characters GSM lacks whose NFKD decomposition gives nothing sensible (or nothing).
_TRANSLIT: Final = {
    "ç": "c", "œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "‚": "'", "′": "'", "`": "'",
    "´": "'", "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "″": '"', "\t": " ",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2028": "\n", "\u2029": "\n",
    "…": "...", "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "•": "-", "·": ".",
    "°": "o", "º": "o", "ª": "a", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i",
    "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ħ": "h", "Ħ": "H", "ŋ": "n", "Ŋ": "N",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}


class SmsDecodeError(ValueError):
    """Bytes that are not text in their data_coding; ``offset`` is in the message given."""

    def __init__(self, message: str, data_coding: int, offset: int) -> None:
        super().__init__(message)
        self.data_coding = data_coding
        self.offset = offset


@dataclass(frozen=True, slots=True)
class SmsParts:
    """A reply ready for submit_sm: ``parts`` are the short_message bytes, each with its
    UDH when there are several (then ``esm_class`` is 0x40). ``encoding`` and ``reason``
    say which alphabet and why; ``transliterated``: GSM after replacing characters it
    lacks; ``text`` is what the candidate reads; ``units``: septets (an escaped character
    counts 2) or UTF-16 units, UDH excluded."""

    parts: tuple[bytes, ...]
    encoding: SmsEncoding
    data_coding: int
    esm_class: int
    transliterated: bool
    reason: str
    text: str
    units: int

    @property
    def count(self) -> int:
        return len(self.parts)


@functools.lru_cache(maxsize=4096)
def _gsm_of(ch: str) -> str | None:
    """What replaces a character GSM lacks: the table's choice, else its NFKD decomposition
    without combining marks if that is all GSM ("ễ" -> "e", "ﬁ" -> "fi"), else None."""
    if ch in _TRANSLIT:
        return _TRANSLIT[ch]
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if c in _GSM:
            out.append(c)
        elif c in _TRANSLIT:
            out.append(_TRANSLIT[c])
        elif not unicodedata.combining(c):
            return None
    return "".join(out)


def _to_gsm(text: str) -> tuple[str | None, str]:
    """(the text in GSM characters, why) or (None, why not). Raises ValueError for a
    control character or a lone surrogate: nothing can send those."""
    if _GSM.issuperset(text):
        return text, "GSM 03.38: every character is in the default alphabet"
    out: list[str] = []
    changes: list[str] = []
    blocker = None
    for i, ch in enumerate(text):
        if ch in _GSM:
            out.append(ch)
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") and ch != "\t":
            raise ValueError(f"encode_sms: U+{ord(ch):04X} at offset {i} cannot be sent "
                             "(a control character or a lone surrogate)")
        sub = _gsm_of(ch) if blocker is None else None
        if sub is None:
            blocker = blocker or ch
            continue
        out.append(sub)
        if len(changes) < 4 and f"{ch}->{sub!r}" not in changes:
            changes.append(f"{ch}->{sub!r}")
    if blocker is not None:
        return None, (f"UCS-2: {blocker!r} (U+{ord(blocker):04X}) has no GSM 03.38 "
                      "transliteration")
    return "".join(out), "GSM 03.38 after transliteration: " + ", ".join(changes)


def _cut(data: bytes, single: int, per: int, ucs2: bool) -> list[bytes]:
    """``data`` whole if it fits ``single`` bytes, else parts of at most ``per`` bytes that
    never end inside an escape pair (GSM) or a surrogate pair (UCS-2)."""
    if len(data) <= single:
        return [data]
    out = []
    i = 0
    while i < len(data):
        j = min(i + per, len(data))
        if j < len(data):
            if ucs2 and 0xD8 <= data[j - 2] <= 0xDB:  # a high surrogate: keep its pair whole
                j -= 2
            elif not ucs2 and data[j - 1] == ESCAPE:  # only ever an escape's first byte
                j -= 1
        out.append(data[i:j])
        i = j
    return out


def encode_sms(text: str, *, ref: int, max_parts: int = MAX_PARTS) -> SmsParts:
    """``text`` as SMPP short messages.

    The rule: the text (NFC) goes in GSM 03.38 when every character is in the alphabet,
    or has a GSM transliteration (a small table: ç->c, œ->oe, ’->', «»->", no-break space
    -> space, …->...; else NFKD without combining marks: ê->e, "Nguyễn"->"Nguyen"); if one
    character has none ("王", Greek or Cyrillic small letters, emoji) the whole text goes
    in UCS-2, untouched. One message up to 160 septets or 70 UCS-2 units; beyond, parts of
    153 septets or 67 units behind a UDH ``05 00 03 ref total seq``.

    Raises ValueError (never another error) for a ``ref`` outside 0-255, a control
    character or lone surrogate in ``text``, or more than ``max_parts`` parts (naming the
    length)."""
    if not 0 <= ref <= 255:
        raise ValueError(f"encode_sms: ref {ref} is not an 8-bit reference (0-255)")
    if not 1 <= max_parts <= 255:
        raise ValueError(f"encode_sms: max_parts {max_parts} is outside 1-255 (UDH limit)")
    text = unicodedata.normalize("NFC", text)
    gsm, reason = _to_gsm(text)
    if gsm is not None:
        sent, encoding, coding, unit = gsm, SmsEncoding.GSM7, DC_GSM, "septets"
        payload = _GSM_CODEC.encode(gsm)[0]
        units = len(payload)
        chunks = _cut(payload, _GSM_SINGLE, _GSM_PART, ucs2=False)
    else:
        sent, encoding, coding, unit = text, SmsEncoding.UCS2, DC_UCS2, "UTF-16 units"
        payload = _UCS2_CODEC.encode(text)[0]
        units = len(payload) // 2
        chunks = _cut(payload, _UCS2_SINGLE, _UCS2_PART, ucs2=True)
    total = len(chunks)
    if total > max_parts:
        per = _GSM_PART if coding == DC_GSM else _UCS2_PART // 2
        raise ValueError(f"encode_sms: {units} {unit} need {total} parts, more than the "
                         f"{max_parts} allowed ({max_parts * per} {unit} at most)")
    parts: tuple[bytes, ...]
    if total == 1:
        parts, esm = (chunks[0],), 0
    else:
        parts = tuple(bytes((5, 0, 3, ref, total, seq)) + chunk
                      for seq, chunk in enumerate(chunks, start=1))
        esm = ESM_UDHI
    return SmsParts(parts, encoding, coding, esm, sent != text and coding == DC_GSM,
                    reason, sent, units)


_CODINGS: Final = {DC_GSM: "GSM 03.38", DC_IA5: "IA5", DC_LATIN1: "Latin-1",
                   DC_UCS2: "UCS-2"}


def decode_sms(data: bytes, data_coding: int, has_udh: bool = False) -> str:
    """A received short message's text: data_coding 0 (GSM 03.38, one septet per octet as
    SMPP carries it), 1 (IA5/ASCII), 3 (Latin-1) or 8 (UCS-2, surrogate pairs allowed);
    ``has_udh`` (esm_class 0x40): the UDH is skipped. Raises :class:`SmsDecodeError`
    naming the coding and the offset in ``data``, never another error.

    GSM escapes follow 3GPP TS 23.038 §6.2.1.1 where aiosmpplib does not: an undefined
    extension code reads as the basic table's character (aiosmpplib gives U+00A0), and
    ESC ESC as a space (aiosmpplib escapes twice)."""
    name = _CODINGS.get(data_coding)
    if name is None:
        raise SmsDecodeError(f"decode_sms: data_coding {data_coding} is not supported "
                             "(0 GSM 03.38, 1 IA5, 3 Latin-1, 8 UCS-2)", data_coding, 0)
    start = 0
    if has_udh:
        if not data:
            raise SmsDecodeError(f"decode_sms: a UDH is announced but the message is empty "
                                 f"({name}, data_coding {data_coding})", data_coding, 0)
        start = data[0] + 1
        if start > len(data):
            raise SmsDecodeError(f"decode_sms: the UDH says {data[0]} bytes, the message has "
                                 f"{len(data) - 1} after its length ({name}, data_coding "
                                 f"{data_coding})", data_coding, 0)
    body = bytes(data[start:])
    if data_coding == DC_LATIN1:
        return body.decode("latin-1")
    if data_coding in (DC_GSM, DC_IA5) and not body.isascii():
        at = next(i for i, b in enumerate(body) if b >= 0x80)
        what = "a GSM 03.38 septet" if data_coding == DC_GSM else "IA5"
        raise SmsDecodeError(f"decode_sms: byte 0x{body[at]:02X} at offset {start + at} is "
                             f"not {what} (data_coding {data_coding})", data_coding, start + at)
    if data_coding == DC_IA5:
        return body.decode("ascii")
    if data_coding == DC_GSM:
        return _GSM_CODEC.decode(_escapes(body, start) if ESCAPE in body else body)[0]
    try:
        text, used = _UCS2_CODEC.decode(body, "strict")
    except UnicodeDecodeError as e:
        raise SmsDecodeError(f"decode_sms: {e.reason} at offset {start + e.start} (UCS-2, "
                             "data_coding 8)", DC_UCS2, start + e.start) from None
    if used != len(body):  # aiosmpplib stops silently there (utf_16_be_decode, not final)
        what = "an odd last byte" if (len(body) - used) % 2 else "a lone high surrogate"
        raise SmsDecodeError(f"decode_sms: {what} at offset {start + used} (UCS-2, "
                             "data_coding 8)", DC_UCS2, start + used)
    return text


def _escapes(body: bytes, start: int) -> bytes:
    """GSM septets with each escape pair made one aiosmpplib decodes as TS 23.038 says."""
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        if b != ESCAPE:
            out.append(b)
            i += 1
            continue
        if i + 1 == len(body):
            raise SmsDecodeError(f"decode_sms: the message ends with an escape (0x1B) at "
                                 f"offset {start + i} (GSM 03.38, data_coding 0)", DC_GSM,
                                 start + i)
        code = body[i + 1]
        if code in GSM_EXTENDED_DECODE_MAP:
            out += bytes((ESCAPE, code))
        elif code == ESCAPE:
            out.append(0x20)  # reserved for a further table: "shall display a space"
        else:
            out.append(code)  # undefined: "display the character of the default table"
        i += 2
    return bytes(out)
