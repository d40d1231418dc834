"""The SMS engine without a link: redeliveries, recovery after a crash, a store that cannot
write, and the [smpp] checks. (The real SMSC is in test_sms_channel.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pages import ResultsService, ServiceConfig
from tests.helpers.results import ELODIE, NOW
from videotex.billing import Ledger, TariffBook
from videotex.protocols.smpp import MessageIn
from videotex.sms.dialogue import SmsDialogue
from videotex.sms.engine import SmsConfig, SmsEngine
from videotex.sms.setup import SmsSetupError, check_smpp
from videotex.sms.store import SmsStore
from videotex.sms.text import decode_sms
from videotex.store import ResultsStore
from videotex.teletel import FakeClock

ASK = f"BAC {ELODIE[0]} {ELODIE[1]}"


def engine(store_dir: Path, sms_dir: Path, ledger: Ledger | None = None,
           **store_kw: int) -> SmsEngine:
    results = ResultsService(ResultsStore(store_dir), ServiceConfig())
    clock = FakeClock(NOW)
    plan = TariffBook.from_config({}).plans["sms"]
    return SmsEngine(SmsDialogue(results, clock), SmsStore(sms_dir, **store_kw),
                     ledger=ledger, plan=plan, config=SmsConfig())


def mo(seq: int, text: str = ASK, smsc_id: str | None = "mo-1",
       src: str = "33612345678") -> MessageIn:
    return MessageIn(seq, src, "61234", text, 0, smsc_id)


async def test_a_redelivered_message_is_answered_and_billed_once(
        store_dir: Path, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "billing", batch_interval=0.001)
    e = engine(store_dir, tmp_path, ledger)
    first = e.message_in(mo(1))
    again_at_once = e.message_in(mo(2))  # while the first is being written
    assert await first == 0 and await again_at_once == 0
    assert await e.message_in(mo(3)) == 0  # after: found in the store
    # without an SMSC id: the same sender and text within the window is the same message
    assert await e.message_in(mo(4, smsc_id=None)) == 0
    assert await e.message_in(mo(5, smsc_id=None)) == 0
    await e.drain()
    assert e.stats["mo"] == 2 and e.stats["mo_duplicates"] == 3
    parts = []
    while (part := e.next_part()) is not None:
        parts.append(part)
    assert [p.key for p in parts] == ["R:id:mo-1#0", parts[1].key]
    ledger.flush()
    assert len([r for r in ledger.records() if r.channel == "sms"]) == 2
    e.store.close()
    ledger.close()


async def test_after_a_crash_the_reply_goes_out_with_the_same_key(
        store_dir: Path, tmp_path: Path) -> None:
    e = engine(store_dir, tmp_path)
    assert await e.message_in(mo(1)) == 0
    await e.drain()
    e.store.close()  # the process dies before the reply was submitted
    again = engine(store_dir, tmp_path)
    assert again.recover() == 1
    part = again.next_part()
    assert part is not None and part.key == "R:id:mo-1#0" and part.destination == "33612345678"
    again.submitted(part.key, "smsc-42")
    await again.drain()
    again.store.close()
    third = engine(store_dir, tmp_path)
    assert third.recover() == 0  # accepted by the SMSC: not sent again
    assert third.store.get("out", b"R:id:mo-1")["ids"] == ["smsc-42"]
    third.store.close()


async def test_a_store_that_cannot_write_refuses_for_now_and_keeps_nothing_half(
        store_dir: Path, tmp_path: Path) -> None:
    e = engine(store_dir, tmp_path, map_size=64 * 1024)
    big = ASK + " " + "X" * 500
    statuses = [await e.message_in(mo(i, big, smsc_id=f"m{i}")) for i in range(200)]
    assert 0x64 in statuses  # the SMSC is told to deliver it again later
    refused = statuses.index(0x64)
    key = f"id:m{refused}".encode()
    assert not e.store.has("mo", key) and not e.store.has("out", b"R:" + key)
    assert e.store.count("mo") == e.store.count("out") == statuses.count(0)
    e.store.close()


@pytest.mark.parametrize(("table", "message"), [
    ({}, "[smpp] url: needed"),
    ({"url": "http://x:1"}, "smpp:// or smpps://"),
    ({"url": "smpp://h:2775"}, "no system id"),
    ({"url": "smpp://id:pw@h:99999"}, "port"),
    ({"url": "smpp://id:far-too-long@h:1"}, "at most 8"),
    ({"url": "smpp://id:pw@h:1", "window": 0}, "[smpp] window"),
    ({"url": "smpp://id:pw@h:1", "short_code": "6１234"}, "[smpp] short_code"),
    ({"url": "smpp://id:pw@h:1", "colour": 1}, "[smpp] colour: unknown key"),
    ({"url": "smpp://id:pw@h:1", "message_price": -1}, "[smpp] message_price"),
    ({"url": "smpp://id:pw@h:1", "keywords": {"result": ["NOTE"], "alert": ["note"]}},
     "both result and alert"),
    ({"url": "smpp://id:pw@h:1", "keywords": {"promo": ["X"]}}, "promo: unknown kind"),
])
def test_smpp_settings_are_checked_with_a_clear_message(table: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(SmsSetupError) as e:
        check_smpp(table)
    assert message in str(e.value)


def test_serve_refuses_a_bad_smpp_url_before_starting(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "videotex.cli", "serve", "--store",
                          str(tmp_path), "--smpp", "smpp://videotex@127.0.0.1:notaport"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "port is not a number" in out.stderr


async def test_a_concatenated_message_is_answered_once_whole(
        store_dir: Path, tmp_path: Path) -> None:
    e = engine(store_dir, tmp_path)
    numero, birth = ELODIE

    def part(seq: int, index: int, text: str) -> MessageIn:
        return MessageIn(seq, "33612345678", "61234", text, 0, f"p{index}", (7, 3, index))

    # the parts come out of order, two of them at once, one of them twice
    a = e.message_in(part(1, 3, f" {birth}"))
    b = e.message_in(part(2, 1, "BAC "))
    c = e.message_in(part(3, 1, "BAC "))
    assert [await a, await b, await c] == [0, 0, 0]
    assert e.next_part() is None and e.stats["mo"] == 0  # not whole yet: no reply
    assert await e.message_in(part(4, 2, numero)) == 0
    assert await e.message_in(part(5, 2, numero)) == 0  # the SMSC again: nothing more
    await e.drain()
    assert e.stats["mo"] == 1
    reply = e.next_part()
    assert reply is not None and e.next_part() is None
    assert "Élodie DUPONT, ADMIS" in decode_sms(reply.message, reply.data_coding, False)
    assert e.store.count("parts") == 0
    e.store.close()
