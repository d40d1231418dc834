"""The SMS channel's fuzz targets, a million inputs each, run by ``bench/bench_fuzz.py``:

    .venv/bin/python bench/bench_fuzz.py --only sms_mo,sms_encode,smpp_pdu

Same conventions as ``bench_fuzz.py`` (``bench/fuzzing.py``). Targets:

- ``sms_mo``: a candidate's message, decoded like an SMSC's deliver_sm, then ``parse_mo``;
- ``sms_encode``: ``encode_sms``, every part decoded back to the text sent, within its limits;
- ``smpp_pdu``: a bound ``SmppClient`` fed mutated PDUs: events or a link failure, exactly
  one response to each request whose header was sound, the same whole or split.
"""

from __future__ import annotations

import datetime
import random
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fuzzing import Invariant, Target, check  # noqa: E402

# -- SMS targets ----------------------------------------------------------------------

_SMS_TODAY = datetime.date(2005, 7, 8)
#: The first byte's low three bits pick how the rest reaches ``parse_mo``: None is UTF-8
#: with lone surrogates kept (any ``str``), a number is a data_coding for ``decode_sms``.
_SMS_CODINGS = (None, 0, 1, 3, 8, None, 0, None)


def sms_mo() -> Target:
    """A candidate's message: decoded like an SMSC's deliver_sm (``SmsDecodeError`` is the
    documented refusal; bit 0x10 of the first byte announces a UDH), or taken as any
    string, then read by ``parse_mo``, which must never raise. A request must hold a number
    of the message's own digits and a plausible birth date; an error's reply must fit in
    one SMS."""
    from videotex.sms.text import (
        MoError,
        MoKind,
        SmsDecodeError,
        decode_sms,
        encode_sms,
        error_text,
        parse_mo,
    )

    stats = {"decode_refused": 0, "mo_refused": 0, "results": 0, "alerts": 0, "stop_help": 0}

    def target(data: bytes) -> bool:
        head = data[0] if data else 0
        coding = _SMS_CODINGS[head & 7]
        if coding is None:
            text = data[1:].decode("utf-8", "surrogateescape")
        else:
            try:
                text = decode_sms(data[1:], coding, bool(head & 0x10))
            except SmsDecodeError as e:
                check(0 <= e.offset <= len(data) and e.data_coding == coding,
                      f"decode error {e} at a wrong place")
                stats["decode_refused"] += 1
                raise
        got = parse_mo(text, today=_SMS_TODAY)
        if isinstance(got, MoError):
            check(bool(got.detail) and "\n" not in got.detail, f"bad detail {got!r}")
            check(encode_sms(error_text(got, "0,35 EUR"), ref=0).count == 1,
                  f"the reply to {got.code} takes more than one SMS")
            stats["mo_refused"] += 1
            return False
        if got.kind in (MoKind.RESULT, MoKind.ALERT):
            n, b = got.numero, got.birth
            check(n is not None and len(n) == 10 and n.isascii() and n.isdigit(),
                  f"numero {n!r}")
            check(n is not None and n in "".join(c for c in text if "0" <= c <= "9"),
                  f"numero {n!r} is not the message's digits")
            check(b is not None and datetime.date(1905, 1, 1) <= b <= datetime.date(1995, 7, 8),
                  f"birth {b!r}")
            stats["results" if got.kind is MoKind.RESULT else "alerts"] += 1
        else:
            stats["stop_help"] += 1
        return True

    gsm = bytes([0x42, 0x41, 0x43, 0x20]) + b"2310512345 14/03/1987 \x05t\x05 \x1be"
    seeds = [b"\x00" + m.encode() for m in (
        "BAC 2310512345 14031987", "Résultat 14.03.87, 231 051 2345",
        "ALERTE 2310512345 14 mars 1987", "STOP", "AIDE", "?", "23 10 51 23 45 14 03 87",
        "BAC 2005 231051234514031987", "N° 2310512345 né le 14/03/1987", "bac pro",
        "BAC ２３１０５１２３４５ 14031987", "BAC 2310512345 31021987")]
    seeds += [b"\x01" + gsm, b"\x11" + bytes([5, 0, 3, 7, 2, 1]) + gsm,
              b"\x02BAC 2310512345 1987-03-14",
              b"\x03" + "Brevet 2340512345 14-03-1987 né".encode("latin-1"),
              b"\x04" + "BAC 2310512345 14031987 é 🎓".encode("utf-16-be"),
              b"\x14" + bytes([0]) + "stop".encode("utf-16-be")]
    return Target(seeds, target, (SmsDecodeError,), stats)


def sms_encode() -> Target:
    """``encode_sms`` on any text (the input as UTF-8 with lone surrogates; the first byte
    is the reference, an odd one repeats the text to reach many parts, and unless bits 1
    and 2 are both set unprintable characters are dropped): ``ValueError`` itself is the documented refusal (control
    characters, lone surrogates, too many parts). The parts must decode back to the text
    sent, keep within 160 septets / 70 units (153 / 67 behind a UDH), and carry the UDH
    ``05 00 03 ref total seq``."""
    import unicodedata

    from videotex.sms.text import MAX_PARTS, SmsEncoding, decode_sms, encode_sms

    stats = {"gsm": 0, "transliterated": 0, "ucs2": 0, "multipart": 0}

    def target(data: bytes) -> bool:
        ref = data[0] if data else 0
        text = data[1:].decode("utf-8", "surrogateescape")
        if ref & 6 != 6:  # a quarter of the inputs keep their control characters
            text = "".join(c for c in text if c.isprintable() or c == "\n")
        if ref & 1:
            text *= 1 + ref // 32
        try:
            sms = encode_sms(text, ref=ref)
        except ValueError as e:
            check(type(e) is ValueError, f"{type(e).__name__} is not the documented ValueError")
            raise
        multi = sms.count > 1
        check(1 <= sms.count <= MAX_PARTS, f"{sms.count} parts")
        check(sms.esm_class == (0x40 if multi else 0), f"esm_class {sms.esm_class}")
        ucs2 = sms.encoding is SmsEncoding.UCS2
        check(sms.data_coding == (8 if ucs2 else 0), f"data_coding {sms.data_coding}")
        limit = (67 * 2 if ucs2 else 153) if multi else (70 * 2 if ucs2 else 160)
        decoded = []
        for seq, part in enumerate(sms.parts, start=1):
            if multi:
                check(part[:6] == bytes((5, 0, 3, ref, sms.count, seq)), f"UDH {part[:6]!r}")
            check(len(part) - 6 * multi <= limit, f"part {seq} of {len(part)} bytes")
            decoded.append(decode_sms(part, sms.data_coding, multi))
        check("".join(decoded) == sms.text, "the parts do not decode to the text sent")
        nfc = unicodedata.normalize("NFC", text)
        check(sms.text == nfc or (not ucs2 and sms.transliterated), "text changed silently")
        stats["ucs2" if ucs2 else "transliterated" if sms.transliterated else "gsm"] += 1
        stats["multipart"] += multi
        return True

    seeds = [b"\x00" + m.encode() for m in (
        "Bac 2005, académie de Lille : Élodie DUPONT, ADMIS, mention Très bien.",
        "Thị Minh Nguyễn, œuvre « ça » … ‘’", "王小明 ADMIS 🎓", "€[]{}~^\\|" * 3,
        "Ольга")]
    seeds += [b"\x21" + b"a" * 159 + "€".encode(), b"\x41" + "王".encode() * 66 + "🎓".encode()]
    return Target(seeds, target, (ValueError,), stats)


# -- SMPP target ----------------------------------------------------------------------

_SMPP_HEAD = struct.Struct("!IIII")


def _smpp_seeds() -> list[bytes]:
    """What an SMSC sends a bound ESME: MOs (GSM, UCS-2, UDH parts, message_payload, our
    0x1502 id), receipts (text, or TLVs 0x001E and 0x0427), answers to the submits the
    target keeps in flight (sequence numbers 2 and 3), keep-alive, unbind, strays, unknown
    commands, and bodies cut short or with junk behind them."""
    from aiosmpplib.protocol import DeliverSm
    from aiosmpplib.state import OptionalParam, PhoneNumber

    from videotex.protocols.smpp import MO_ID_TAG, Command

    def deliver(text: str, raw: bytes | None = None, **kw: Any) -> bytes:
        sm = DeliverSm(short_message=text, source=PhoneNumber("33612345678"),
                       destination=PhoneNumber("61234"), sequence_num=7, **kw)
        if raw is not None:
            sm.set_encoded_message(raw)
        return sm.pdu()

    def pdu(command: int, seq: int, body: bytes = b"", status: int = 0) -> bytes:
        return _SMPP_HEAD.pack(16 + len(body), command, status, seq) + body

    def longer(data: bytes, junk: bytes) -> bytes:
        return struct.pack("!I", len(data) + len(junk)) + data[4:] + junk

    mo = deliver("BAC 2310512345 14031987", optional_params=[OptionalParam(MO_ID_TAG, "mo-1")])
    udh = bytes((5, 0, 3, 42, 2, 1))
    receipt = ("id:abc123 sub:001 dlvrd:001 submit date:0507081400 done date:0507081401 "
               "stat:DELIVRD err:000 text:Bac 2005")
    return [
        mo, deliver("Résultat 王 🎓 14/03/1987", encoding="ucs2"),
        deliver("-", esm_class=0x40, raw=udh + b"BAC 2310512345 \x1be"),
        deliver("-", esm_class=0x40, encoding="ucs2",
                raw=udh[:5] + b"\x02" + "14031987 é 🎓".encode("utf-16-be")),
        deliver(receipt, esm_class=0x04),
        deliver("-", esm_class=0x04, optional_params=[
            OptionalParam(0x001E, "abc123"), OptionalParam(0x0427, 5)]),
        deliver("BAC 2310512345 14031987 " * 12),  # message_payload TLV (over 254 bytes)
        pdu(Command.SUBMIT_SM_RESP, 2, b"msg-2\0"),
        pdu(Command.SUBMIT_SM_RESP, 3, b"\0", status=0x58),
        pdu(Command.GENERIC_NACK, 2, status=0x08), pdu(Command.ENQUIRE_LINK, 9),
        pdu(Command.ENQUIRE_LINK_RESP, 9), pdu(Command.UNBIND, 10), pdu(0x00000103, 11),
        pdu(Command.SUBMIT_SM, 12, mo[16:]), pdu(Command.BIND_TRANSCEIVER_RESP, 1, b"S\0"),
        pdu(Command.DELIVER_SM_RESP, 7, b"\0"),
        pdu(Command.DELIVER_SM, 13, b"\0\1"),  # a body cut short behind a sound header
        mo[:-5],  # the header says more than comes: waits
        longer(mo, b"\x15\x02\x00\x40mo-2"), longer(mo, b"\x04\x27\x00\x03\x01"),
        pdu(Command.ENQUIRE_LINK, 14) + mo + pdu(Command.SUBMIT_SM_RESP, 3, b"m3\0"),
    ]


def smpp_pdu() -> Target:
    """A bound ``SmppClient`` (two submits in flight, sequence numbers 2 and 3) fed what
    an SMSC sends; two inputs in three have their command_length set to their length, so
    that mutations reach the bodies and the TLVs. Any input gives events or a
    ``LinkFailed`` (then a new client), never an exception; each MO and receipt is
    answered with ``respond``; then every request whose header was sound (deliver_sm,
    enquire_link, unbind, an unknown command) has had exactly one response, and nothing
    else was sent. Bytes left waiting are, half the time, followed by the end of the
    connection. One input in twenty is also fed to two new clients, whole and split."""
    import zlib

    from videotex.protocols.smpp import (
        MAX_PDU,
        Command,
        LinkFailed,
        MessageIn,
        ReceiptIn,
        SmppClient,
        State,
        SubmitRefused,
        Submitted,
        Unbound,
    )

    rng = random.Random(19)
    box: dict[str, SmppClient] = {}
    answer: dict[int, int] = {Command.DELIVER_SM: Command.DELIVER_SM_RESP,
                              Command.UNBIND: Command.UNBIND_RESP,
                              Command.ENQUIRE_LINK: Command.ENQUIRE_LINK_RESP}
    stats = dict.fromkeys(("clients", "MessageIn", "ReceiptIn", "Submitted", "SubmitRefused",
                           "Unbound", "LinkFailed", "closed", "nacks_sent", "deliver_refused"), 0)

    def bound() -> SmppClient:
        c = SmppClient("videotex", "secret", window=3, response_timeout=1e9)
        c.start(0.0)
        seq = _SMPP_HEAD.unpack_from(c.data_to_send())[3]
        check(c.receive_data(_SMPP_HEAD.pack(21, Command.BIND_TRANSCEIVER_RESP, 0, seq)
                             + b"SMSC\0", 0.0) != [], "the bind was not answered")
        return c

    def arm(c: SmppClient) -> None:
        for seq in (2, 3):  # the sequence numbers the seeds answer
            if seq not in c.inflight:
                c._seq = seq - 1
                c.submit(f"K:{seq}#0", "61234", "33612345678", b"x", data_coding=0, now=1.0)
        c.data_to_send()

    def frames(buf: bytes) -> tuple[list[tuple[int, int]], bool]:
        """(command, seq) of the PDUs the client acts on, and whether framing is lost."""
        out: list[tuple[int, int]] = []
        i = 0
        while len(buf) - i >= 16:
            length, command, _, seq = _SMPP_HEAD.unpack_from(buf, i)
            if not 16 <= length <= MAX_PDU:
                return out, True
            if len(buf) - i < length:
                break
            out.append((command, seq))
            i += length
            if command == Command.UNBIND:  # the session ends there
                break
        return out, False

    def feed(c: SmppClient, data: bytes) -> list[Any]:
        before = bytes(c._in)
        try:
            events = c.receive_data(data, 1.0)
        except Exception as e:
            box.clear()
            raise Invariant(f"{type(e).__name__}: {e}; buffered {before.hex()}, fed "
                            f"{data.hex()}") from e
        for ev in events:
            if isinstance(ev, MessageIn | ReceiptIn):
                c.respond(ev.seq)
        return events

    def sent(out: bytes) -> list[tuple[int, int, int]]:
        got: list[tuple[int, int, int]] = []
        i = 0
        while i < len(out):
            length, command, status, seq = _SMPP_HEAD.unpack_from(out, i)
            got.append((command, status, seq))
            i += length
        return got

    def split_twins(data: bytes) -> None:
        whole, split = bound(), bound()
        arm(whole)
        arm(split)
        cut = rng.randrange(1, len(data))  # b"" would be the end of the connection
        one = feed(whole, data)
        two = feed(split, data[:cut]) + feed(split, data[cut:])
        # in order but for our deliver_sm_resp, sent once each read's events are handled
        sent_one, sent_two = sorted(sent(whole.data_to_send())), sorted(sent(split.data_to_send()))
        check(one == two and sent_one == sent_two, f"a split at {cut} of {data.hex()} changed "
              f"the session: {one} {sent_one}, then {two} {sent_two}")

    def target(data: bytes) -> bool | None:
        if len(data) >= 16 and len(data) <= MAX_PDU and zlib.crc32(data) % 3:
            data = struct.pack("!I", len(data)) + data[4:]
        c = box.get("c")
        if c is None or c.state is not State.BOUND or rng.random() < 0.01:
            c = box["c"] = bound()
            stats["clients"] += 1
        arm(c)
        acted, lost = frames(bytes(c._in) + data)
        lost = lost or not data  # b"": the SMSC closed the connection
        events = feed(c, data)
        out = c.data_to_send()
        if len(data) > 1 and rng.random() < 0.05:
            split_twins(data)
        requests = [(cmd, seq) for cmd, seq in acted if not cmd & 0x80000000]
        responses = sent(out)
        expected = sorted((answer.get(cmd, Command.GENERIC_NACK), seq) for cmd, seq in requests)
        check(sorted((cmd, seq) for cmd, _, seq in responses) == expected,
              f"responses {responses} to the requests {requests}")
        delivers = {seq for cmd, seq in acted if cmd == Command.DELIVER_SM}
        check(all(ev.seq in delivers for ev in events if isinstance(ev, MessageIn | ReceiptIn)),
              "an MO or a receipt from no deliver_sm")
        check(all(ev.seq in (2, 3) for ev in events
                  if isinstance(ev, Submitted | SubmitRefused)), "an answer to no submit")
        failed = [ev for ev in events if isinstance(ev, LinkFailed)]
        check(len(failed) == lost and (not failed or events[-1] is failed[0]),
              f"framing lost {lost}, events {events}")
        check(any(isinstance(ev, Unbound) for ev in events)
              == any(cmd == Command.UNBIND for cmd, _ in acted), "unbind not followed")
        check(len(c._in) < MAX_PDU, f"{len(c._in)} bytes buffered")
        for ev in events:
            stats[type(ev).__name__] += 1
        nacks = sum(cmd == Command.GENERIC_NACK for cmd, _, _ in responses)
        refused = nacks + sum(cmd == Command.DELIVER_SM_RESP and status != 0
                              for cmd, status, _ in responses)
        stats["nacks_sent"] += nacks
        stats["deliver_refused"] += refused - nacks
        if failed:
            box.clear()
            return False
        if c.state is State.BOUND and c._in and rng.random() < 0.5:
            end = feed(c, b"")
            check(len(end) == 1 and isinstance(end[0], LinkFailed) and c.data_to_send() == b"",
                  f"the end of the connection gave {end}")
            stats["closed"] += 1
            box.clear()
        if events:
            return True
        return False if refused else (True if responses else None)

    return Target(_smpp_seeds(), target, (), stats)


PARSERS: dict[str, Callable[[], Target]] = {
    "sms_mo": sms_mo, "sms_encode": sms_encode, "smpp_pdu": smpp_pdu}
