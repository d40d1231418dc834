"""Results by SMS and alerts at publication, end to end: MOs from the node-smpp SMSC, the
MTs it records, the ledger's records, the store's outbox."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from pages import ResultsService, ServiceConfig
from tests.helpers.results import ELODIE, LILLE, MARIE_AJOURNEE, NOW, PARIS, PAUL_PARIS, build_store
from videotex.sms.setup import build_sms
from videotex.store import ResultsStore
from videotex.teletel import FakeClock

from .conftest import MakeRig, SmsRig
from .smsc import requires_node, smsc_running

pytestmark = requires_node

SENDER = "33612345678"


async def ask(rig: SmsRig, text: str, src: str = SENDER) -> dict[str, object]:
    mo = await rig.smsc.mo(src, text)
    await rig.smsc.wait_mo_acked(mo)
    return await rig.smsc.wait_mt(lambda m: m["destination"] == src)


async def test_a_result_by_sms_is_answered_and_billed_once(make_rig: MakeRig) -> None:
    rig = await make_rig()
    numero, birth = ELODIE
    mt = await ask(rig, f"bac {numero} {birth[:2]}/{birth[2:4]}/{birth[4:]}")
    assert mt["text"] == "Bac 2005, académie de Lille : Élodie DUPONT, ADMIS, mention Très bien."
    assert mt["source"] == "61234" and mt["data_coding"] == 0 and mt["registered_delivery"] == 1
    assert mt["key"].startswith("R:id:")
    # the SMSC's receipt reaches the outbox entry
    await rig.smsc.wait_event("receipt_ack", lambda e: e["message_id"] == mt["message_id"])
    await rig.engine.drain()
    entry = rig.engine.store.get("out", mt["key"].rpartition("#")[0].encode())
    assert entry is not None and entry["state"] == "delivered"
    (record,) = rig.records()
    assert (record.channel, record.caller, record.plan) == ("sms", SENDER, "sms")
    assert Decimal(record.amount_eur) == Decimal("0.35") and record.result_found


async def test_an_ajourne_result_and_a_wrong_birth_date(make_rig: MakeRig) -> None:
    rig = await make_rig()
    numero, birth = MARIE_AJOURNEE
    mt = await ask(rig, f"RÉSULTAT {birth} {numero}")
    assert "Marie DUPONT" in mt["text"] and "AJOURN" in mt["text"].upper()
    mt = await ask(rig, f"bac {numero} 02121986")
    assert mt["text"].startswith("Aucun résultat publié pour ce numéro")


async def test_before_publication_nothing_tells_whether_the_number_exists(
        make_rig: MakeRig) -> None:
    rig = await make_rig()
    known = await ask(rig, f"BAC {PAUL_PARIS[0]} {PAUL_PARIS[1]}")
    unknown = await ask(rig, f"BAC {PARIS}0099999 01011988", src="33699999999")
    assert known["text"] == unknown["text"]
    assert "Paris" in known["text"] and "aujourd'hui à 14h" in known["text"]


async def test_an_alert_is_sent_at_publication_with_its_receipt(make_rig: MakeRig) -> None:
    rig = await make_rig()
    numero, birth = PAUL_PARIS
    confirm = await ask(rig, f"alerte {numero} {birth}")
    assert confirm["text"].startswith("Alerte enregistrée")
    again = await ask(rig, f"ALERTE {numero} {birth}")
    assert again["text"].startswith("Alerte déjà enregistrée")
    wrong = await ask(rig, f"ALERTE {PARIS}0099999 01011988", src="33611111111")
    assert wrong["text"] == confirm["text"]  # the same words: nothing revealed
    assert await rig.engine.run_waves() == 0  # not published yet: nothing sent
    await rig.publish_paris()
    assert await rig.engine.run_waves() == 2
    alert = await rig.smsc.wait_mt(lambda m: m["destination"] == SENDER)
    assert alert["text"] == "Bac 2005, académie de Paris : Paul DURAND, ADMIS, mention Bien."
    nothing = await rig.smsc.wait_mt(lambda m: m["destination"] == "33611111111")
    assert nothing["text"].startswith("Résultats publiés : aucun ne correspond")
    await rig.smsc.wait_event("receipt_ack", lambda e: e["message_id"] == nothing["message_id"])
    assert await rig.engine.run_waves() == 0  # a batch's wave is made once
    await rig.engine.drain()
    alerts = [r for r in rig.records() if r.close_reason == "alert sent"]
    assert len(alerts) == 1 and alerts[0].caller == SENDER  # the not-found notice is free
    assert (await rig.smsc.stats())["destinations_with_more_than_one_mt"] == 0


async def test_stop_cancels_alerts_and_is_free(make_rig: MakeRig) -> None:
    rig = await make_rig()
    numero, birth = PAUL_PARIS
    await ask(rig, f"ALERTE {numero} {birth}")
    stop = await ask(rig, "STOP")
    assert stop["text"].startswith("Alertes annulées")
    await rig.publish_paris()
    assert await rig.engine.run_waves() == 0
    await rig.engine.drain()
    prices = sorted(Decimal(r.amount_eur) for r in rig.records())
    assert prices == [Decimal(0), Decimal("0.35")]


async def test_bad_messages_get_a_clear_answer(make_rig: MakeRig) -> None:
    rig = await make_rig()
    cases = {
        "BAC 2310512345 31021987": "date",
        "BONJOUR": "",
        "BAC 12345 14031987": "numéro",
    }
    for i, (text, word) in enumerate(cases.items()):
        mt = await ask(rig, text, src=f"3361000000{i}")
        assert "Ex. :" in mt["text"] and word in mt["text"], mt["text"]


async def test_throttled_and_dropped_links_lose_nothing_and_send_nothing_twice(
        make_rig: MakeRig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="videotex.sms")
    rig = await make_rig(window=4)
    await rig.smsc.throttle(3)
    await rig.smsc.drop_after_submits(6)
    numero, birth = ELODIE
    senders = [f"3362000{i:04d}" for i in range(30)]
    for src in senders:
        await rig.smsc.mo(src, f"BAC {numero} {birth}")
    got = [await rig.smsc.wait_mt(lambda m, s=s: m["destination"] == s, timeout=20)
           for s in senders]
    assert all("Élodie DUPONT" in m["text"] for m in got)
    stats = await rig.smsc.stats()
    assert stats["throttled"] == 3
    # the 6th submit was recorded, then the link cut before its answer: sent again with
    # the same key after the new bind, the SMSC knew it and delivered it once
    assert stats["dups_suppressed"] >= 1
    assert stats["destinations_with_more_than_one_mt"] == 0
    assert rig.link.binds >= 2 and rig.link.drops >= 1 and rig.link.throttled >= 1
    await rig.engine.drain()
    records = rig.records()
    assert sorted(r.caller for r in records) == sorted(senders)  # each MO billed once


async def test_malformed_pdus_from_the_smsc_are_refused_and_service_goes_on(
        make_rig: MakeRig) -> None:
    rig = await make_rig()
    # a deliver_sm cut short, an unknown command, then a PDU of absurd length
    await rig.smsc.raw(bytes.fromhex("00000012" "00000005" "00000000" "0000abcd" "0001"))
    await rig.smsc.raw(bytes.fromhex("00000010" "00000103" "00000000" "0000abce"))
    await asyncio.sleep(0)
    mt = await ask(rig, f"BAC {ELODIE[0]} {ELODIE[1]}")
    assert "Élodie" in mt["text"]
    assert rig.link.client is not None and rig.link.client.malformed >= 2
    await rig.smsc.raw(bytes.fromhex("ffffffff" "00000005" "00000000" "00000001"))
    mt = await ask(rig, f"BAC {ELODIE[0]} {ELODIE[1]}", src="33655555555")
    assert "Élodie" in mt["text"] and rig.link.drops >= 1


async def test_one_phone_trying_numbers_is_slowed_then_refused(make_rig: MakeRig) -> None:
    rig = await make_rig()
    texts = []
    for i in range(3):  # an honest caller mistypes: the first failures cost nothing
        texts.append((await ask(rig, f"BAC {LILLE}{90 + i:07d} 01011988"))["text"])
    assert all(t.startswith("Aucun résultat") for t in texts)
    # the fourth failure waits (the guard's 1 s): nothing until the clock has moved
    mo = await rig.smsc.mo(SENDER, f"BAC {LILLE}0000099 01011988")
    await rig.smsc.wait_mo_acked(mo)
    assert rig.engine.backlog == 1
    rig.clock.advance(1.5)
    slowed = await rig.smsc.wait_mt(lambda m: m["destination"] == SENDER)
    assert slowed["text"].startswith("Aucun résultat")
    # another phone is not slowed by this one
    other = await ask(rig, f"BAC {ELODIE[0]} {ELODIE[1]}", src="33688888888")
    assert "Élodie" in other["text"]
    for i in range(10, 17):  # the 10th failure, then past refuse_after: refused
        rig.clock.advance(60)
        mo = await rig.smsc.mo(SENDER, f"BAC {LILLE}00000{i} 01011988")
        await rig.smsc.wait_mo_acked(mo)
        rig.clock.advance(60)
        last = await rig.smsc.wait_mt(lambda m: m["destination"] == SENDER, timeout=20)
    assert last["text"].startswith("Trop de recherches")


async def test_the_smsc_drops_the_link_mid_wave(make_rig: MakeRig) -> None:
    rig = await make_rig(window=5)
    numero, birth = PAUL_PARIS
    phones = [f"3363000{i:04d}" for i in range(40)]
    for phone in phones:
        await ask(rig, f"ALERTE {numero} {birth}", src=phone)
    await rig.publish_paris()
    await rig.smsc.drop_after_submits(12)
    await rig.smsc.rate(200)  # and it throttles beyond 200 a second
    assert await rig.engine.run_waves() == 40
    got = [await rig.smsc.wait_mt(lambda m, p=p: m["destination"] == p, timeout=30)
           for p in phones]
    assert all("Paul DURAND" in m["text"] for m in got)
    stats = await rig.smsc.stats()
    assert stats["destinations_with_more_than_one_mt"] == 0 and stats["dups_suppressed"] >= 1
    assert rig.link.drops >= 1
    await rig.engine.drain()
    alerts = [r for r in rig.records() if r.close_reason == "alert sent"]
    assert sorted(r.caller for r in alerts) == phones


async def test_the_link_keeps_itself_alive(make_rig: MakeRig) -> None:
    rig = await make_rig(enquire_every=1)

    async def enquired() -> None:
        while (await rig.smsc.stats())["enquire_links"] < 2:
            await asyncio.sleep(0.1)

    await asyncio.wait_for(enquired(), 10)
    assert rig.link.binds == 1 and rig.link.drops == 0


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the test SMSC's, and the CA we trust)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test SMSC")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_file, cert_file = folder / "smsc.key", folder / "smsc.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


async def test_smpps_binds_over_tls_to_a_trusted_smsc(tmp_path: Path) -> None:
    key_file, cert_file = _self_signed(tmp_path)
    async with smsc_running(tls_key=str(key_file), tls_cert=str(cert_file)) as smsc:
        url = smsc.url.replace("smpp://", "smpps://")
        store_dir = build_store(tmp_path)
        results = ResultsService(ResultsStore(store_dir), ServiceConfig())
        # an untrusted certificate: the bind never happens, the error says why
        engine, link = build_sms({"url": url}, results, FakeClock(NOW), tmp_path / "a")
        task = asyncio.get_running_loop().create_task(link.run())
        try:
            while "CERTIFICATE_VERIFY_FAILED" not in link.last_error:
                await asyncio.sleep(0.05)
        finally:
            await link.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            engine.store.close()
        engine, link = build_sms({"url": url, "tls_ca": str(cert_file)}, results,
                                 FakeClock(NOW), tmp_path / "b")
        task = asyncio.get_running_loop().create_task(link.run())
        try:
            await asyncio.wait_for(link.bound.wait(), 10)
            mo = await smsc.mo(SENDER, f"BAC {ELODIE[0]} {ELODIE[1]}")
            await smsc.wait_mo_acked(mo)
            mt = await smsc.wait_mt(lambda m: m["destination"] == SENDER)
            assert "Élodie DUPONT" in mt["text"]
        finally:
            await link.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.drain()
            engine.store.close()


async def test_a_message_in_two_parts_with_a_udh(make_rig: MakeRig) -> None:
    rig = await make_rig()
    numero, birth = ELODIE
    udh = bytes([5, 0, 3, 0x2A, 2])
    first = (udh + b"\x01" + b"BAC " + numero.encode()).hex()
    second = (udh + b"\x02" + f" {birth}".encode()).hex()
    for hex_data in (first, second):
        mo = await rig.smsc.mo(SENDER, "", hex=hex_data, esm_class=0x40)
        await rig.smsc.wait_mo_acked(mo)
    mt = await rig.smsc.wait_mt(lambda m: m["destination"] == SENDER)
    assert "Élodie DUPONT" in mt["text"]
    await rig.engine.drain()
    assert len(rig.records()) == 1  # one message, billed once
