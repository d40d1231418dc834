"""The sans-IO SMPP ESME session: bind, window, MO/receipt events, keep-alive, bad PDUs.

The SMSC side of these exchanges is written with the same library's PDU classes (the
real SMSC, node-smpp, is in tests/sms); each input is fed whole and byte by byte.
"""

from __future__ import annotations

import struct

import pytest
from aiosmpplib.protocol import DeliverSm
from aiosmpplib.state import OptionalParam, PhoneNumber
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols.smpp import (
    MESSAGE_KEY_TAG,
    MO_ID_TAG,
    BindRefused,
    Bound,
    Command,
    LinkFailed,
    LocalProtocolError,
    MessageIn,
    ReceiptIn,
    SmppClient,
    State,
    SubmitRefused,
    Submitted,
    Unbound,
)

H = struct.Struct("!IIII")


def pdu(command: int, status: int, seq: int, body: bytes = b"") -> bytes:
    return H.pack(16 + len(body), command, status, seq) + body


def header(data: bytes) -> tuple[int, int, int, int]:
    return H.unpack_from(data)


def bound_client(window: int = 3) -> SmppClient:
    c = SmppClient("videotex", "secret", window=window, enquire_every=30, response_timeout=10)
    c.start(0.0)
    bind = c.data_to_send()
    length, command, _, seq = header(bind)
    assert command == Command.BIND_TRANSCEIVER and length == len(bind)
    assert b"videotex\0secret\0" in bind
    events = c.receive_data(pdu(Command.BIND_TRANSCEIVER_RESP, 0, seq, b"SMSC\0"), 0.0)
    assert events == [Bound("SMSC")] and c.state is State.BOUND
    return c


def feed(c: SmppClient, data: bytes, *, bytewise: bool) -> list[object]:
    if not bytewise:
        return list(c.receive_data(data, 1.0))
    out: list[object] = []
    for i in range(len(data)):
        out.extend(c.receive_data(data[i:i + 1], 1.0))
    return out


def test_a_refused_bind_names_the_status() -> None:
    c = SmppClient("videotex", "wrong")
    c.start(0.0)
    seq = header(c.data_to_send())[3]
    (ev,) = c.receive_data(pdu(Command.BIND_TRANSCEIVER_RESP, 0x0E, seq, b"\0"), 0.0)
    assert isinstance(ev, BindRefused) and ev.status == 0x0E
    assert "ESME_RINVPASWD" in ev.reason and c.state is State.CLOSED


def test_bind_credentials_longer_than_smpp_allows_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="password 8"):
        SmppClient("videotex", "far-too-long")


@pytest.mark.parametrize("bytewise", [False, True])
def test_submit_window_and_responses(bytewise: bool) -> None:
    c = bound_client(window=2)
    s1 = c.submit("R:a#0", "61234", "33612345678", b"Hello", data_coding=0, now=1.0)
    s2 = c.submit("R:b#0", "61234", "33612345679", "é".encode("utf-16-be"),
                  data_coding=8, esm_class=0, now=1.0)
    assert c.free == 0
    with pytest.raises(LocalProtocolError, match="no room"):
        c.submit("R:c#0", "61234", "336", b"x", data_coding=0, now=1.0)
    sent = c.data_to_send()
    first = sent[:header(sent)[0]]
    assert header(first)[1] == Command.SUBMIT_SM and b"Hello" in first
    # our key rides in the vendor TLV
    assert struct.pack("!HH", MESSAGE_KEY_TAG, 5) + b"R:a#0" in first
    events = feed(c, pdu(Command.SUBMIT_SM_RESP, 0, s1, b"abc123\0")
                  + pdu(Command.SUBMIT_SM_RESP, 0x58, s2, b"\0"), bytewise=bytewise)
    assert events == [Submitted(s1, "R:a#0", "abc123"),
                      SubmitRefused(s2, "R:b#0", 0x58, transient=True)]
    assert c.free == 2


def test_a_permanent_refusal_is_not_transient() -> None:
    c = bound_client()
    s = c.submit("A:x#0", "61234", "bad", b"x", data_coding=0, now=1.0)
    (ev,) = c.receive_data(pdu(Command.SUBMIT_SM_RESP, 0x0B, s, b"\0"), 1.0)
    assert ev == SubmitRefused(s, "A:x#0", 0x0B, transient=False)


@pytest.mark.parametrize("bytewise", [False, True])
def test_an_mo_waits_for_our_answer(bytewise: bool) -> None:
    c = bound_client()
    c.data_to_send()
    mo = DeliverSm(short_message="BAC 2310512345 14031987", source=PhoneNumber("33612345678"),
                   destination=PhoneNumber("61234"), sequence_num=77,
                   optional_params=[OptionalParam(MO_ID_TAG, "mo-1")]).pdu()
    (ev,) = feed(c, mo, bytewise=bytewise)
    assert ev == MessageIn(77, "33612345678", "61234", "BAC 2310512345 14031987", 0, "mo-1")
    assert c.data_to_send() == b""  # nothing until it is recorded
    c.respond(77)
    assert header(c.data_to_send()) == (17, Command.DELIVER_SM_RESP, 0, 77)


def test_a_ucs2_mo_and_a_receipt() -> None:
    c = bound_client()
    mo = DeliverSm(short_message="Résultat 王", source=PhoneNumber("336"),
                   destination=PhoneNumber("61234"), sequence_num=5, encoding="ucs2").pdu()
    receipt = DeliverSm(short_message="id:abc123 sub:001 dlvrd:001 submit date:2607050900 "
                        "done date:2607050900 stat:DELIVRD err:000 text:x",
                        source=PhoneNumber("336"), destination=PhoneNumber("61234"),
                        esm_class=0x04, sequence_num=6).pdu()
    events = c.receive_data(mo + receipt, 1.0)
    assert events == [MessageIn(5, "336", "61234", "Résultat 王", 8, None),
                      ReceiptIn(6, "abc123", "DELIVRD", "000")]


def test_keepalive_and_a_missing_response_breaks_the_link() -> None:
    c = bound_client()
    c.data_to_send()
    assert c.tick(20.0) == []
    assert c.data_to_send() == b""
    assert c.tick(31.0) == []
    enquire = c.data_to_send()
    assert header(enquire)[1] == Command.ENQUIRE_LINK
    s = c.submit("R:z#0", "61234", "336", b"x", data_coding=0, now=31.0)
    (ev,) = c.tick(45.0)
    assert isinstance(ev, LinkFailed) and "no response" in ev.reason
    assert ev.unanswered == ("R:z#0",) and c.state is State.CLOSED
    assert s > 0


def test_the_smsc_enquires_and_unbinds() -> None:
    c = bound_client()
    c.data_to_send()
    c.submit("R:q#0", "61234", "336", b"x", data_coding=0, now=1.0)
    c.data_to_send()
    events = c.receive_data(pdu(Command.ENQUIRE_LINK, 0, 900) + pdu(Command.UNBIND, 0, 901), 2.0)
    assert events == [Unbound(("R:q#0",))]
    out = c.data_to_send()
    assert header(out)[1:] == (Command.ENQUIRE_LINK_RESP, 0, 900)
    assert header(out[16:])[1:] == (Command.UNBIND_RESP, 0, 901)


def test_bad_pdus_get_a_nack_and_the_link_stays_up() -> None:
    c = bound_client()
    c.data_to_send()
    bad_body = pdu(Command.DELIVER_SM, 0, 10, b"\x00\x01")  # a deliver_sm cut short
    unknown = pdu(0x00000103, 0, 11)  # data_sm: not served
    stray = pdu(Command.SUBMIT_SM_RESP, 0, 999, b"x\0")  # a response to nothing
    events = c.receive_data(bad_body + unknown + stray, 1.0)
    assert events == [] and c.state is State.BOUND
    out = c.data_to_send()
    assert header(out) == (17, Command.DELIVER_SM_RESP, 0x65, 10)
    assert header(out[17:]) == (16, Command.GENERIC_NACK, 0x03, 11)
    assert c.malformed == 3


def test_framing_loss_fails_the_link() -> None:
    c = bound_client()
    (ev,) = c.receive_data(H.pack(8, 4, 0, 1), 1.0)
    assert isinstance(ev, LinkFailed) and "framing" in ev.reason


def test_the_end_of_the_connection() -> None:
    c = bound_client()
    c.submit("R:e#0", "61234", "336", b"x", data_coding=0, now=1.0)
    (ev,) = c.receive_data(b"", 1.0)
    assert ev == LinkFailed("the SMSC closed the connection", ("R:e#0",))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_events_or_a_link_failure_never_an_exception(data: bytes) -> None:
    c = bound_client()
    events = c.receive_data(data, 1.0)
    for ev in events:
        assert isinstance(ev, MessageIn | ReceiptIn | Submitted | SubmitRefused | LinkFailed
                          | Unbound | Bound | BindRefused)


def test_a_receipt_in_tlvs_only_and_an_empty_mo() -> None:
    c = bound_client()
    c.data_to_send()
    receipt = bytes.fromhex("0000003900000005000000000000002900000033333600000036313233340004"
                            "000000000000000000001e0007616263313233000427000102")
    empty_mo = DeliverSm(short_message="x", source=PhoneNumber("336"),
                         destination=PhoneNumber("61234"), sequence_num=42).pdu()
    empty_mo = empty_mo.replace(b"\x00\x01x", b"\x00\x00")  # sm_length 0, no text
    empty_mo = struct.pack("!I", len(empty_mo)) + empty_mo[4:]
    events = c.receive_data(receipt + empty_mo, 1.0)
    assert events == [ReceiptIn(0x29, "abc123", "DELIVRD"),
                      MessageIn(42, "336", "61234", "", 0, None)]
    assert c.malformed == 0
