"""The simulated SMSC (tests/sms/smsc/smsc.js, on node-smpp) checked from the other side of a
real socket: a tiny ESME made of aiosmpplib's PDU classes binds, submits and answers MOs, and
the driver (tests/sms/smsc.py) reads what the SMSC recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from struct import pack

import pytest
from aiosmpplib.codec import find_codec_info
from aiosmpplib.protocol import (
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitterResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SmppMessage,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from aiosmpplib.state import OptionalParam, PduHeader, PhoneNumber, SmppCommand, SmppCommandStatus

from tests.sms.smsc import NODE, Smsc, smsc_running

pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node (Node.js) is not installed: the SMSC simulator runs on node-smpp "
    "(apt-get install nodejs npm)",
)

KEY_TLV = 0x1501
MO_ID_TLV = 0x1502
RECEIPTED_MESSAGE_ID = 0x001E
MESSAGE_STATE = 0x0427
THROTTLED = 0x58
GSM = find_codec_info("gsm0338")

_CLASSES: dict[SmppCommand, type[SmppMessage]] = {
    SmppCommand.BIND_TRANSCEIVER_RESP: BindTransceiverResp,
    SmppCommand.BIND_TRANSMITTER_RESP: BindTransmitterResp,
    SmppCommand.BIND_RECEIVER_RESP: BindReceiverResp,
    SmppCommand.SUBMIT_SM_RESP: SubmitSmResp,
    SmppCommand.DELIVER_SM: DeliverSm,
    SmppCommand.ENQUIRE_LINK_RESP: EnquireLinkResp,
    SmppCommand.UNBIND_RESP: UnbindResp,
    SmppCommand.GENERIC_NACK: GenericNack,
}


class TinyEsme:
    """One SMPP connection: aiosmpplib PDUs in and out, nothing automatic (no resp, no
    enquire_link); ``expect`` keeps PDUs it skips for later calls."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.seq = 0
        self.backlog: list[tuple[PduHeader, SmppMessage | None]] = []

    @classmethod
    async def connect(cls, smsc: Smsc) -> TinyEsme:
        return cls(*await asyncio.open_connection("127.0.0.1", smsc.smpp_port))

    def send(self, msg: SmppMessage) -> int:
        if not msg.sequence_num:
            self.seq += 1
            msg.sequence_num = self.seq
        self.writer.write(msg.pdu())
        return msg.sequence_num

    async def read(self, timeout: float = 5) -> tuple[PduHeader, SmppMessage | None]:
        """The next PDU; its message is None for a body-less error response."""
        head = await asyncio.wait_for(self.reader.readexactly(16), timeout)
        header = SmppMessage.parse_header(head)
        pdu = head + await self.reader.readexactly(header.pdu_length - 16)
        if header.command_status and header.pdu_length == 16 and header.smpp_command != SmppCommand.GENERIC_NACK:
            return header, None
        return header, _CLASSES[header.smpp_command].from_pdu(pdu, header, "gsm0338")

    async def expect(
        self, command: SmppCommand, timeout: float = 5
    ) -> tuple[PduHeader, SmppMessage | None]:
        for i, (header, msg) in enumerate(self.backlog):
            if header.smpp_command == command:
                del self.backlog[i]
                return header, msg
        deadline = time.monotonic() + timeout
        while True:
            header, msg = await self.read(max(0.01, deadline - time.monotonic()))
            if header.smpp_command == command:
                return header, msg
            self.backlog.append((header, msg))

    async def bind(self, system_id: str = "videotex", password: str = "secret") -> int:
        self.send(BindTransceiver(system_id=system_id, password=password))
        header, _ = await self.expect(SmppCommand.BIND_TRANSCEIVER_RESP)
        return int(header.command_status)

    async def submit(self, msg: SubmitSm) -> tuple[int, str]:
        seq = self.send(msg)
        header, resp = await self.expect(SmppCommand.SUBMIT_SM_RESP)
        assert header.sequence_num == seq
        return int(header.command_status), resp.message_id if isinstance(resp, SubmitSmResp) else ""

    async def deliver(self, status: int | None = 0, timeout: float = 5) -> DeliverSm:
        """The next deliver_sm, answered with ``status`` (None: left unanswered)."""
        header, msg = await self.expect(SmppCommand.DELIVER_SM, timeout)
        assert isinstance(msg, DeliverSm)
        if status is not None:
            self.send(DeliverSmResp(sequence_num=header.sequence_num, command_status=SmppCommandStatus(status)))
        return msg

    async def closed(self, timeout: float = 5) -> bool:
        """True once the SMSC closed the socket (pending PDUs go to the backlog)."""
        try:
            while True:
                self.backlog.append(await self.read(timeout))
        except asyncio.IncompleteReadError:
            return True

    def close(self) -> None:
        self.writer.close()


def sms(text: str = "", dst: str = "33612345678", **kw: object) -> SubmitSm:
    kw.setdefault("registered_delivery", 0)
    return SubmitSm(short_message=text, source=PhoneNumber("61234"), destination=PhoneNumber(dst), **kw)


def tlv(msg: SmppMessage, tag: int) -> object:
    return next(p.value for p in msg.optional_params or [] if p.tag == tag)


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    async with smsc_running(receipt_delay_ms=20) as running:
        yield running


@pytest.fixture
async def esme(smsc: Smsc) -> AsyncIterator[TinyEsme]:
    client = await TinyEsme.connect(smsc)
    assert await client.bind() == 0
    yield client
    client.close()


async def test_bind_checks_credentials_and_bound_state(smsc: Smsc) -> None:
    assert smsc.url == f"smpp://videotex:secret@127.0.0.1:{smsc.smpp_port}"
    client = await TinyEsme.connect(smsc)
    status, _ = await client.submit(sms("avant le bind"))
    assert status == 0x04  # ESME_RINVBNDSTS
    assert await client.bind(password="wrong") == 0x0E
    assert await client.bind(system_id="intrus") == 0x0F
    assert await client.bind() == 0
    assert await client.bind() == 0x05  # ESME_RALYBND
    client.send(EnquireLink())
    await client.expect(SmppCommand.ENQUIRE_LINK_RESP)
    assert await smsc.wait_bound(1) == 1
    client.send(Unbind())
    header, _ = await client.expect(SmppCommand.UNBIND_RESP)
    assert header.command_status == 0
    await smsc.wait_event("unbind")
    stats = await smsc.stats()
    assert (stats["binds"], stats["bind_failures"], stats["enquire_links"]) == (1, 2, 1)
    assert (stats["unbinds"], stats["bound"], stats["mts"]) == (1, 0, 0)
    client.close()


async def test_unknown_command_gets_generic_nack(smsc: Smsc, esme: TinyEsme) -> None:
    esme.writer.write(pack("!IIII", 16, 0x00000077, 0, 99))
    header, _ = await esme.expect(SmppCommand.GENERIC_NACK)
    assert (header.command_status, header.sequence_num) == (0x03, 99)


async def test_submits_are_recorded_and_decoded(smsc: Smsc, esme: TinyEsme) -> None:
    status, gsm_id = await esme.submit(sms("Résultat: admis, 12€ {ok}", dst="33611111111"))
    assert status == 0 and len(gsm_id) == 16 and int(gsm_id, 16) >= 0
    mt = await smsc.wait_mt()
    assert (mt["message_id"], mt["source"], mt["destination"]) == (gsm_id, "61234", "33611111111")
    assert (mt["data_coding"], mt["udh"], mt["key"]) == (0, None, None)
    assert mt["text"] == "Résultat: admis, 12€ {ok}"
    assert "1b65" in mt["sm_hex"]  # € is ESC e, one septet per octet

    await esme.submit(sms("Łódź: 試験 réussi", dst="33622222222", encoding="ucs2"))
    mt = await smsc.wait_mt(lambda m: m["destination"] == "33622222222")
    assert (mt["data_coding"], mt["text"]) == (8, "Łódź: 試験 réussi")

    await esme.submit(sms("Très bien", dst="33633333333", encoding="latin_1"))
    mt = await smsc.wait_mt()
    assert (mt["data_coding"], mt["text"], mt["sm_hex"]) == (3, "Très bien", "Tr\xe8s bien".encode("latin-1").hex())

    await esme.submit(sms(message_payload="x" * 300, dst="33644444444"))
    mt = await smsc.wait_mt()
    assert (mt["sm_hex"], mt["text"], len(mt["payload_hex"])) == ("", "x" * 300, 600)


async def test_concatenated_parts_keep_their_udh(smsc: Smsc, esme: TinyEsme) -> None:
    parts = ["Bac 2025: ", "admis mention ", "très bien"]
    ids = []
    for seq, part in enumerate(parts, 1):
        msg = sms("-", dst="33655555555", esm_class=0x40)
        msg.set_encoded_message(bytes([5, 0, 3, 0xA7, 3, seq]) + GSM.encode(part)[0])
        ids.append((await esme.submit(msg))[1])
    assert len(set(ids)) == 3
    records = [await smsc.wait_mt() for _ in parts]
    assert [r["udh"]["seq"] for r in records] == [1, 2, 3]
    assert {(r["udh"]["ref"], r["udh"]["total"], r["esm_class"]) for r in records} == {(0xA7, 3, 0x40)}
    assert "".join(r["text"] for r in records) == "Bac 2025: admis mention très bien"
    assert records[0]["udh"]["hex"] == "050003a70301"

    msg = sms("-", dst="33655555555", esm_class=0x40)
    msg.set_encoded_message(bytes([6, 8, 4, 0x12, 0x34, 2, 1]) + b"abc")
    await esme.submit(msg)
    udh = (await smsc.wait_mt())["udh"]
    assert (udh["ref"], udh["total"], udh["seq"], udh["ref16"]) == (0x1234, 2, 1, True)


async def test_message_key_makes_a_resubmit_idempotent(smsc: Smsc, esme: TinyEsme) -> None:
    def keyed(key: str, text: str = "Admis") -> SubmitSm:
        return sms(text, optional_params=[OptionalParam(KEY_TLV, key)])

    _, first = await esme.submit(keyed("res-1"))
    _, again = await esme.submit(keyed("res-1"))
    _, other = await esme.submit(keyed("res-2"))
    assert first == again != other
    assert (await smsc.wait_mt())["key"] == "res-1"
    await esme.submit(sms("Admis"))  # no key: a resend is a second message on the phone
    await esme.submit(sms("Admis"))
    stats = await smsc.stats()
    assert (stats["submits"], stats["mts"], stats["dups_suppressed"]) == (5, 4, 1)
    assert (stats["unique_destinations"], stats["destinations_with_more_than_one_mt"]) == (1, 1)
    assert [m["key"] for m in await smsc.mts()] == ["res-1", "res-2", None, None]


async def test_delivery_receipt_is_sent_and_its_ack_counted(smsc: Smsc, esme: TinyEsme) -> None:
    _, message_id = await esme.submit(sms("Votre résultat est disponible", registered_delivery=1))
    receipt = await esme.deliver()
    assert receipt.esm_class == 0x04 and receipt.is_receipt()
    assert (receipt.source.number, receipt.destination.number) == ("33612345678", "61234")
    fields = receipt.parse_receipt()
    assert (fields["id"], fields["stat"], fields["err"]) == (message_id, "DELIVRD", 0)
    assert fields["text"] == "Votre résultat est d"
    assert tlv(receipt, RECEIPTED_MESSAGE_ID) == message_id
    assert tlv(receipt, MESSAGE_STATE) == 2
    ack = await smsc.wait_event("receipt_ack")
    assert (ack["message_id"], ack["status"]) == (message_id, 0)
    stats = await smsc.stats()
    assert (stats["receipts_sent"], stats["receipts_acked"]) == (1, 1)


async def test_mo_is_delivered_with_its_id(smsc: Smsc, esme: TinyEsme) -> None:
    mo_id = await smsc.mo("33612345678", "RESULTAT 0123456789 é")
    msg = await esme.deliver()
    assert (msg.source.number, msg.destination.number, msg.esm_class) == ("33612345678", "61234", 0)
    assert (msg.encoding, msg.short_message) == (None, "RESULTAT 0123456789 é")  # GSM default
    assert tlv(msg, MO_ID_TLV) == mo_id
    assert (await smsc.wait_mo_acked(mo_id))["status"] == 0

    await smsc.mo("33612345678", "Ω 試験")  # needs UCS-2
    msg = await esme.deliver()
    assert (msg.encoding, msg.short_message) == ("ucs2", "Ω 試験")


async def test_mo_waits_for_a_bind_and_is_redelivered_after_a_drop(smsc: Smsc) -> None:
    first = await smsc.mo("33600000001", "avant")
    client = await TinyEsme.connect(smsc)
    assert await client.bind() == 0
    assert tlv(await client.deliver(), MO_ID_TLV) == first

    second = await smsc.mo("33600000002", "perdu?")
    assert tlv(await client.deliver(status=None), MO_ID_TLV) == second  # never acked
    assert await smsc.drop() == 1
    assert await client.closed()
    client.close()

    client = await TinyEsme.connect(smsc)
    assert await client.bind() == 0
    assert tlv(await client.deliver(), MO_ID_TLV) == second
    await smsc.wait_mo_acked(second)
    stats = await smsc.stats()
    assert (stats["mo_sent"], stats["mo_acked"], stats["mo_redelivered"]) == (3, 2, 1)
    client.close()


async def test_mo_refused_by_the_esme_is_retried(smsc: Smsc, esme: TinyEsme) -> None:
    mo_id = await smsc.mo("33600000003", "encore")
    await esme.deliver(status=THROTTLED)
    nack = await smsc.wait_event("mo_ack", lambda e: e["status"] != 0)
    assert (nack["mo"], nack["status"]) == (mo_id, THROTTLED)
    assert tlv(await esme.deliver(timeout=3), MO_ID_TLV) == mo_id  # after 1 s
    await smsc.wait_mo_acked(mo_id)
    assert (await smsc.stats())["mo_retries"] == 1


async def test_window_bounds_outstanding_mos() -> None:
    async with smsc_running(window=2) as smsc:
        client = await TinyEsme.connect(smsc)
        assert await client.bind() == 0
        ids = [await smsc.mo(f"3360000010{i}", f"MO {i}") for i in range(5)]
        first = await client.deliver(status=None)
        await client.deliver(status=None)
        stats = await smsc.stats()
        assert (stats["outstanding"], stats["queued"]) == (2, 3)
        client.send(DeliverSmResp(sequence_num=first.sequence_num))
        assert tlv(await client.deliver(status=None), MO_ID_TLV) == ids[2]
        assert tlv(first, MO_ID_TLV) == ids[0]
        client.close()


async def test_throttle_and_rate_answer_0x58(smsc: Smsc, esme: TinyEsme) -> None:
    await smsc.throttle(2)
    statuses = [(await esme.submit(sms(f"n{i}")))[0] for i in range(3)]
    assert statuses == [THROTTLED, THROTTLED, 0]
    await smsc.rate(3)
    statuses = [(await esme.submit(sms(f"r{i}")))[0] for i in range(6)]
    assert statuses.count(THROTTLED) >= 2 and statuses[:3] == [0, 0, 0]
    await smsc.rate(0)
    stats = await smsc.stats()
    assert stats["throttled"] == 2 + statuses.count(THROTTLED)
    assert stats["mts"] == 1 + statuses.count(0)


async def test_drop_after_submits_closes_before_the_resp(smsc: Smsc, esme: TinyEsme) -> None:
    await smsc.drop_after_submits(2)
    keyed = sms("Admis", optional_params=[OptionalParam(KEY_TLV, "k-42")])
    assert (await esme.submit(sms("un")))[0] == 0
    esme.send(keyed)
    assert await esme.closed()
    assert not [h for h, _ in esme.backlog if h.smpp_command == SmppCommand.SUBMIT_SM_RESP]
    recorded = await smsc.wait_mt(lambda m: m["key"] == "k-42")
    esme.close()

    again = await TinyEsme.connect(smsc)
    assert await again.bind() == 0
    status, message_id = await again.submit(sms("Admis", optional_params=[OptionalParam(KEY_TLV, "k-42")]))
    assert (status, message_id) == (0, recorded["message_id"])
    stats = await smsc.stats()
    assert (stats["mts"], stats["dups_suppressed"]) == (2, 1)
    again.close()


async def test_raw_bytes_and_slow_responses(smsc: Smsc, esme: TinyEsme) -> None:
    garbage = bytes.fromhex("0000000c8000000400")  # a short, malformed PDU
    assert await smsc.raw(garbage) == 1
    assert await asyncio.wait_for(esme.reader.readexactly(len(garbage)), 5) == garbage
    await smsc.slow_resp(150)
    started = time.monotonic()
    assert (await esme.submit(sms("lent")))[0] == 0
    assert time.monotonic() - started >= 0.14


async def flood_answerer(client: TinyEsme) -> int:
    """Answers each MO at once with an MT to its sender, batching writes per read."""
    answered = 0
    while True:
        try:
            head = await client.reader.readexactly(16)
        except asyncio.IncompleteReadError:
            return answered
        header = SmppMessage.parse_header(head)
        pdu = head + await client.reader.readexactly(header.pdu_length - 16)
        if header.smpp_command != SmppCommand.DELIVER_SM:
            continue
        mo = DeliverSm.from_pdu(pdu, header, "gsm0338")
        out = DeliverSmResp(sequence_num=header.sequence_num).pdu()
        client.seq += 1
        out += sms("Admis", dst=mo.source.number, sequence_num=client.seq).pdu()
        client.writer.write(out)
        answered += 1


async def test_flood_sends_at_rate_and_measures_answers(smsc: Smsc, esme: TinyEsme) -> None:
    answerer = asyncio.create_task(flood_answerer(esme))
    report = await smsc.flood(
        count=5000, rate=2000, source_base="33700000000", source_count=2500,
        texts=["RESULTAT 1", "RESULTAT 2"], grace_ms=2000,
    )
    answerer.cancel()
    assert (report["sent"], report["acked"], report["answered"], report["unanswered"]) == (5000, 5000, 5000, 0)
    assert 2.2 <= report["send_duration_s"] <= 3.5, report
    assert report["rate_achieved"] >= 1500, report
    latency = report["latency_ms"]
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert latency["p50"] < 250, report
    assert (report["throttled"], report["dups_suppressed"], report["mts"]) == (0, 0, 5000)
    stats = await smsc.stats()
    assert (stats["mo_acked"], stats["mts"], stats["unique_destinations"]) == (5000, 5000, 2500)
    assert not [e for e in smsc.events if e["ev"] in ("mt", "mo_ack")]  # a quiet flood
