"""The short messages a reply makes, and reading what candidates send: GSM or UCS-2, part
boundaries, UDH, escape and surrogate pairs kept whole, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.sms import gsm as sms_gsm
from videotex.sms import text as sms
from videotex.sms.text import (
    MAX_PARTS,
    SmsDecodeError,
    SmsEncoding,
    decode_sms,
    encode_sms,
)

from .test_parse import _check_answer, parse

# -- encoding ---------------------------------------------------------------------------------

def _body(part: bytes, count: int) -> bytes:
    return part[6:] if count > 1 else part


def _decoded(parts: sms.SmsParts) -> str:
    return "".join(decode_sms(p, parts.data_coding, has_udh=parts.count > 1)
                   for p in parts.parts)


@pytest.mark.parametrize(("text", "sent", "encoding", "transliterated"), [
    ("Élodie DUPONT, ADMIS", "Élodie DUPONT, ADMIS", SmsEncoding.GSM7, False),
    ("àéèùìòÇÄÖÑÜäöñüßÆæØøÅå€[]{}~^\\|", "àéèùìòÇÄÖÑÜäöñüßÆæØøÅå€[]{}~^\\|",
     SmsEncoding.GSM7, False),
    ("François", "Francois", SmsEncoding.GSM7, True),
    ("âêîôûëïÿ ÂÊÎÔÛËÏ", "aeiouei​y AEIOUEI".replace("\u200b", ""), SmsEncoding.GSM7, True),
    ("Œdipe, cœur", "OEdipe, coeur", SmsEncoding.GSM7, True),
    ("l’été « chaud »\u00a0: fin…", "l'été \" chaud \" : fin...", SmsEncoding.GSM7, True),
    ("n° 5 – fin", "no 5 - fin", SmsEncoding.GSM7, True),
    ("Nguyễn Thị", "Nguyen Thi", SmsEncoding.GSM7, True),
    ("Đặng Łukasz", "Dang Lukasz", SmsEncoding.GSM7, True),
    ("Ｂａｃ", "Bac", SmsEncoding.GSM7, True),
    ("e\u0301lodie", "élodie", SmsEncoding.GSM7, False),  # NFC first: é is GSM
    ("王小明 ADMIS", "王小明 ADMIS", SmsEncoding.UCS2, False),
    ("Ольга, admise, ç", "Ольга, admise, ç", SmsEncoding.UCS2, False),  # no partial change
    ("Bravo 🎓", "Bravo 🎓", SmsEncoding.UCS2, False),
])
def test_alphabet_choice_and_transliteration(text: str, sent: str, encoding: SmsEncoding,
                                            transliterated: bool) -> None:
    parts = encode_sms(text, ref=7)
    assert (parts.text, parts.encoding, parts.transliterated) == (sent, encoding,
                                                                  transliterated)
    assert parts.data_coding == (0 if encoding is SmsEncoding.GSM7 else 8)
    assert _decoded(parts) == sent
    if encoding is SmsEncoding.UCS2:
        assert "has no GSM 03.38 transliteration" in parts.reason
    elif transliterated:
        assert "transliteration" in parts.reason


@pytest.mark.parametrize(("text", "counts"), [
    ("a" * 160, [160]),
    ("a" * 161, [153, 8]),
    ("a" * 306, [153, 153]),
    ("a" * 307, [153, 153, 1]),
    ("€" * 80, [160]),  # escaped characters count two
    ("€" * 80 + "a", [152, 9]),  # 76 pairs, the 77th would straddle 153
    ("a" * 152 + "€" + "a" * 10, [152, 12]),  # the pair straddles 153: it moves whole
    ("a" * 151 + "€" + "a" * 10, [153, 10]),  # the pair ends at 153: it stays
])
def test_gsm_part_boundaries(text: str, counts: list[int]) -> None:
    parts = encode_sms(text, ref=9)
    assert parts.encoding is SmsEncoding.GSM7 and parts.count == len(counts)
    assert [len(_body(p, parts.count)) for p in parts.parts] == counts
    assert parts.units == sum(counts)
    for p in parts.parts:
        assert not _body(p, parts.count).endswith(b"\x1b")
    assert _decoded(parts) == text


@pytest.mark.parametrize(("text", "units"), [
    ("王" * 70, [70]),
    ("王" * 71, [67, 4]),
    ("王" * 134, [67, 67]),
    ("王" * 135, [67, 67, 1]),
    ("🎓" * 35, [70]),
    ("王" * 66 + "🎓" + "王" * 5, [66, 7]),  # the pair straddles 67: it moves whole
    ("王" * 65 + "🎓" + "王" * 5, [67, 5]),  # the pair ends at 67: it stays
])
def test_ucs2_part_boundaries(text: str, units: list[int]) -> None:
    parts = encode_sms(text, ref=9)
    assert parts.encoding is SmsEncoding.UCS2 and parts.count == len(units)
    assert [len(_body(p, parts.count)) // 2 for p in parts.parts] == units
    for p in parts.parts:
        body = _body(p, parts.count)
        assert not 0xD8 <= body[-2] <= 0xDB and not 0xDC <= body[0] <= 0xDF
    assert _decoded(parts) == text


def test_udh_of_concatenated_parts() -> None:
    parts = encode_sms("a" * 400, ref=0xAB)
    assert parts.count == 3 and parts.esm_class == 0x40 and parts.data_coding == 0
    for seq, p in enumerate(parts.parts, start=1):
        assert p[:6] == bytes([0x05, 0x00, 0x03, 0xAB, 3, seq])
    single = encode_sms("a", ref=0xAB)
    assert single.parts == (b"a",) and single.esm_class == 0 and single.count == 1
    assert encode_sms("", ref=0).parts == (b"",)


def test_too_long_or_bad_arguments_raise_value_error() -> None:
    assert encode_sms("a" * 153 * MAX_PARTS, ref=0).count == MAX_PARTS
    with pytest.raises(ValueError, match=r"919 septets need 7 parts.*918 septets at most"):
        encode_sms("a" * (153 * MAX_PARTS + 1), ref=0)
    with pytest.raises(ValueError, match="403 UTF-16 units need 7 parts"):
        encode_sms("王" * 403, ref=0)
    assert encode_sms("a" * 153 * 20, ref=0, max_parts=20).count == 20
    with pytest.raises(ValueError, match="ref 256"):
        encode_sms("a", ref=256)
    with pytest.raises(ValueError, match="U\\+0007 at offset 2"):
        encode_sms("ab\x07", ref=0)
    with pytest.raises(ValueError, match="U\\+D800 at offset 1"):
        encode_sms("a\ud800", ref=0)


_GSM_TEXT = st.text(alphabet=st.sampled_from(sorted(sms_gsm._GSM)), max_size=500)


@settings(max_examples=300, deadline=None)
@given(text=_GSM_TEXT, ref=st.integers(0, 255))
def test_gsm_round_trip(text: str, ref: int) -> None:
    parts = encode_sms(text, ref=ref)
    assert parts.encoding is SmsEncoding.GSM7 and not parts.transliterated
    assert _decoded(parts) == text
    assert all(len(_body(p, parts.count)) <= (160 if parts.count == 1 else 153)
               for p in parts.parts)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), ref=st.integers(0, 255))
def test_any_text_round_trips_or_is_refused(text: str, ref: int) -> None:
    try:
        parts = encode_sms(text, ref=ref)
    except ValueError as e:
        assert type(e) is ValueError
        return
    assert _decoded(parts) == parts.text
    limit = 140 if parts.encoding is SmsEncoding.UCS2 else 160
    assert all(len(p) <= limit for p in parts.parts)


# -- decoding what candidates send -------------------------------------------------------------

def test_decode_each_coding() -> None:
    assert decode_sms(b"BAC \x05t\x05 \x04 \x1be", 0, False) == "BAC été è €"
    assert decode_sms(b"BAC 123", 1, False) == "BAC 123"
    assert decode_sms("Résultat".encode("latin-1"), 3, False) == "Résultat"
    assert decode_sms("王 🎓".encode("utf-16-be"), 8, False) == "王 🎓"
    assert decode_sms(bytes([5, 0, 3, 1, 2, 1]) + b"BAC", 0, True) == "BAC"
    assert decode_sms(bytes([0]) + b"BAC", 1, True) == "BAC"


def test_decode_follows_ts_23038_on_odd_escapes() -> None:
    # aiosmpplib gives U+00A0 for an undefined escape and escapes twice on ESC ESC
    assert decode_sms(b"a\x1bAb", 0, False) == "aAb"
    assert decode_sms(b"a\x1b\x1b\x65b", 0, False) == "a eb"


@pytest.mark.parametrize(("data", "coding", "udh", "offset", "said"), [
    (b"ab\x80", 0, False, 2, "0x80 at offset 2"),
    (b"ab\x1b", 0, False, 2, "ends with an escape"),
    (b"\x05\x00\x03\x01\x02\x01ab\xff", 0, True, 8, "0xFF at offset 8"),
    (b"ab\xe9", 1, False, 2, "is not IA5"),
    (b"\x00a\x00", 8, False, 2, "odd last byte"),
    (b"\x00a\xd8\x3d", 8, False, 2, "lone high surrogate"),
    (b"\x00a\xde\x00\x00b", 8, False, 2, "offset 2"),
    (b"\x05\x00\x03", 0, True, 0, "UDH says 5 bytes"),
    (b"", 0, True, 0, "empty"),
    (b"abc", 4, False, 0, "data_coding 4 is not supported"),
])
def test_decode_errors_name_coding_and_offset(data: bytes, coding: int, udh: bool,
                                              offset: int, said: str) -> None:
    with pytest.raises(SmsDecodeError, match=said) as caught:
        decode_sms(data, coding, udh)
    assert caught.value.offset == offset and caught.value.data_coding == coding
    assert isinstance(caught.value, ValueError)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=200), coding=st.sampled_from([0, 1, 3, 8, 2, 4]),
       udh=st.booleans())
def test_any_bytes_decode_or_raise_sms_decode_error(data: bytes, coding: int,
                                                    udh: bool) -> None:
    try:
        got = decode_sms(data, coding, udh)
    except SmsDecodeError as e:
        assert 0 <= e.offset <= len(data) and str(coding) in str(e)
        return
    assert isinstance(got, str)
    _check_answer(got, parse(got))
