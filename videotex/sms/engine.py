"""The SMS channel between the SMPP link and the store: messages in, the outbox out,
alerts at publication, billing.

Where a message goes (the walk): :meth:`SmsEngine.message_in` (the link hands it an MO)
-> :class:`~videotex.sms.dialogue.SmsDialogue` chooses the reply -> one transaction
records the message, its reply (in the outbox, ``due``) and any subscription -> the link
acknowledges the MO -> the reply goes out when the window has room
(:meth:`next_part`) -> the SMSC's ``submit_sm_resp`` marks it sent (:meth:`submitted`) ->
the ledger gets the record (channel ``sms``).

Invariants: an MO is acknowledged only once recorded; a message seen again (the SMSC's
redelivery after a lost acknowledgement: same SMSC id, or same sender and text within
``dedup_window``) is acknowledged without a second reply or charge; an outbox entry stays
``due`` until the SMSC accepted all its parts, and each part carries the key
``<entry>#<part>`` so that an SMSC which knows the key answers a resubmission after a crash
with the first message id; ledger records have fixed keys (a redo overwrites, never adds).
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from videotex.billing.ledger import CallRecord, utc_iso
from videotex.protocols.smpp import MessageIn, ReceiptIn

from . import text as words
from .billing import SmsBilling, parse_iso
from .dialogue import Reply, SmsDialogue
from .store import Op, SmsStore, dumps

__all__ = ["Part", "SmsConfig", "SmsEngine"]

log = logging.getLogger("videotex.sms")

#: deliver_sm_resp statuses (SMPP 3.4 §5.1.3)
_OK, _TRANSIENT = 0x00, 0x64


@dataclass(frozen=True)
class SmsConfig:
    #: Our short code: the source of what we send, the destination candidates text.
    short_code: str = "61234"
    #: The ledger's service column for SMS records.
    service: str = "SMS EXAMENS"
    #: Seconds within which the same text from the same sender, without an SMSC id, is a
    #: redelivery (acknowledged, not answered again).
    dedup_window: float = 120.0
    #: Ask the SMSC for delivery receipts.
    receipts: bool = True
    #: Seconds between looks at the batches that have alerts waiting.
    publication_poll: float = 1.0
    #: Subscriptions made into outbox entries per transaction during a wave.
    wave_chunk: int = 2_000
    #: Waiting alerts one sender may hold.
    max_alerts_per_sender: int = 5


@dataclass(frozen=True, slots=True)
class Part:
    """One submit_sm to send: the link calls :meth:`SmppClient.submit` with it."""

    key: str
    source: str
    destination: str
    message: bytes
    data_coding: int
    esm_class: int
    registered_delivery: int


class SmsEngine(SmsBilling):
    def __init__(self, dialogue: SmsDialogue, store: SmsStore, *, ledger: Any = None,
                 plan: Any = None, config: SmsConfig | None = None) -> None:
        self.dialogue = dialogue
        self.store = store
        self.ledger = ledger
        self.plan = plan
        self.config = config or SmsConfig()
        self.clock = dialogue.clock
        self._replies: deque[bytes] = deque()
        self._alerts: deque[bytes] = deque()
        self._later: list[tuple[float, bytes]] = []
        #: Entries being sent: key -> (entry, parts still to hand out, unanswered parts);
        #: the keys of those with parts still to hand out (no scan of every entry a part).
        self._unfinished: deque[bytes] = deque()
        self._sending: dict[bytes, _Sending] = {}
        #: MOs being recorded: their future, for a redelivery that arrives meanwhile.
        self._recording: dict[bytes, asyncio.Future[None]] = {}
        #: Concatenated MOs with a part being written (the next part waits for it).
        self._groups: dict[bytes, asyncio.Future[None]] = {}
        self._refs = 0
        self._waves: set[tuple[str, str]] = set()
        #: Called when there is something new to send (the link wakes its sender).
        self.on_work: Callable[[], None] | None = None
        #: Message id -> outbox key while its "sent" write is pending; the latest write of
        #: each entry; receipts that came while the entry's other parts were still out.
        self._ids: dict[str, bytes] = {}
        self._writing: dict[bytes, asyncio.Future[None]] = {}
        self._early: dict[bytes, list[tuple[ReceiptIn, asyncio.Future[int]]]] = {}
        #: Writes and ledger waits under way (:meth:`drain` waits for them at shutdown).
        self._pending: set[asyncio.Future[Any]] = set()
        self.stats = {"mo": 0, "mo_duplicates": 0, "mt_sent": 0, "mt_failed": 0,
                      "receipts": 0, "receipts_unknown": 0, "alerts_queued": 0, "resent": 0}

    # -- startup ------------------------------------------------------------------------

    def recover(self) -> int:
        """Put back what a previous run left: entries not accepted by the SMSC go out
        again (same keys), records not known in the ledger are written again, batches
        with alerts waiting are watched. Returns the entries due."""
        due = 0
        for key in self.store.iter_keys("due"):
            (self._alerts if key.startswith(b"A:") else self._replies).append(key)
            due += 1
        self.stats["resent"] = due
        self._bill_again(list(self.store.iter_keys("unbilled")))
        for key, wave in self.store.items("waves", limit=100_000):
            if wave.get("state") != "done":
                exam, academie = key.decode().split("|")
                self._waves.add((exam, academie))
        return due

    # -- messages in --------------------------------------------------------------------

    def message_in(self, msg: MessageIn) -> asyncio.Future[int]:
        """Record ``msg`` and its reply; the future gives the deliver_sm_resp status once
        they are on disk (0), or a temporary error (the SMSC delivers it again). A part of
        a concatenated message is recorded alone; the last one to come makes the message."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        key = self._mo_key(msg)
        pending = self._recording.get(key)
        if pending is not None:  # a redelivery while the first is being written
            self.stats["mo_duplicates"] += 1
            pending.add_done_callback(lambda f: _settle(done, f))
            return done
        if self.store.has("mo", key):
            self.stats["mo_duplicates"] += 1
            done.set_result(_OK)
            return done
        if msg.part is not None and msg.part[1] > 1:
            return self._part_in(key, msg, done)
        self._record_message(key, msg, done)
        return done

    def _record_message(self, key: bytes, msg: MessageIn, done: asyncio.Future[int],
                        extra: tuple[Op, ...] = ()) -> None:
        self.stats["mo"] += 1
        reply = self.dialogue.answer(msg.source, msg.text)
        at = self.clock.wall()
        ops, out_key, record = self._mo_ops(key, msg, reply, at)
        written = self._write([*ops, *extra])
        self._recording[key] = written

        def recorded(f: asyncio.Future[None]) -> None:
            del self._recording[key]
            if f.exception() is not None:
                log.error("SMS from %s not recorded: %s", msg.source, f.exception())
                done.set_result(_TRANSIENT)
                return
            if out_key is not None:
                self._queue(out_key, reply.delay)
            if record is not None:
                self._bill(b"mo:" + key, record)
            done.set_result(_OK)

        written.add_done_callback(recorded)

    def _part_in(self, key: bytes, msg: MessageIn, done: asyncio.Future[int]
                 ) -> asyncio.Future[int]:
        """One part of a concatenated MO: kept in ``parts`` (acknowledged once written);
        the part that completes the set makes the whole message, recorded and answered
        like any other, in the transaction that forgets the parts."""
        assert msg.part is not None
        ref, total, index = msg.part
        group = f"{msg.source}|{ref}|{total}|".encode()
        busy = self._groups.get(group)
        if busy is not None:  # another part of it is being written: after that one
            busy.add_done_callback(lambda f: self._part_in(key, msg, done))
            return done
        if self.store.has("mo", key):  # a redelivery, seen after waiting
            done.set_result(_OK)
            return done
        here = {k: v for k, v in self.store.items("parts", group, limit=256)}
        here[group + b"%03d" % index] = {"text": msg.text, "mo": key.decode()}
        if len(here) < total or not all(group + b"%03d" % i in here
                                         for i in range(1, total + 1)):
            written = self._write([("mo", key, dumps({"src": msg.source, "part": msg.part,
                                                      "at": utc_iso(self.clock.wall())})),
                                   ("parts", group + b"%03d" % index,
                                    dumps(here[group + b"%03d" % index]))])
            self._recording[key] = self._groups[group] = written

            def kept(f: asyncio.Future[None]) -> None:
                del self._recording[key]
                if self._groups.get(group) is f:
                    del self._groups[group]
                _settle(done, f)

            written.add_done_callback(kept)
            return done
        text = "".join(here[group + b"%03d" % i]["text"] for i in range(1, total + 1))
        whole = MessageIn(msg.seq, msg.source, msg.destination, text, msg.data_coding, None)
        forget = tuple(("parts", k, None) for k in here)
        marks = tuple(("mo", v["mo"].encode(), dumps({"src": msg.source, "part": msg.part}))
                      for v in here.values())
        whole_key = b"cat:" + group + key
        self._record_message(whole_key, whole, done, (*forget, *marks))
        written = self._groups[group] = self._recording[whole_key]
        written.add_done_callback(
            lambda f: self._groups.pop(group) if self._groups.get(group) is f else None)
        return done

    def _mo_key(self, msg: MessageIn) -> bytes:
        if msg.smsc_id:
            return f"id:{msg.smsc_id}".encode()
        # no id from the SMSC: the same text from the same sender within the window
        bucket = int(self.clock.wall().timestamp() // self.config.dedup_window)
        digest = hashlib.blake2b(f"{msg.source}\0{msg.destination}\0{msg.text}".encode(),
                                 digest_size=10).hexdigest()
        return f"h:{digest}:{bucket}".encode()

    def _mo_ops(self, key: bytes, msg: MessageIn, reply: Reply, at: datetime
                ) -> tuple[list[Op], bytes | None, CallRecord | None]:
        ops: list[Op] = []
        price = self._price("message_price") if reply.charged else Decimal(0)
        mo = {"src": msg.source, "dst": msg.destination, "text": msg.text[:640],
              "at": utc_iso(at), "kind": reply.kind, "price": str(price),
              "lookups": reply.lookups, "found": reply.result_found}
        out_key: bytes | None = None
        if reply.stop:
            ops.extend(self._stop_ops(msg.source, reply.stop_numero))
        if reply.subscribe is not None:
            sub = reply.subscribe
            mine = self.store.keys("subs_by", f"{msg.source}|".encode(), limit=100)
            if sub.key in {k.partition(b"|")[2] for k in mine}:
                reply = Reply("alert", words.alert_already_text())  # nothing more to keep
            elif len(mine) >= self.config.max_alerts_per_sender:
                reply = Reply("error", words.too_many_alerts_text(
                    self.config.max_alerts_per_sender))
            else:
                ops.append(("subs", sub.key, dumps({"birth": sub.birth.isoformat(),
                                                    "at": utc_iso(at), "mo": key.decode()})))
                ops.append(("subs_by", f"{msg.source}|".encode() + sub.key, b""))
                ops.append(("waves", f"{sub.exam}|{sub.academie}".encode(),
                            dumps({"state": "waiting"})))
                self._waves.add((sub.exam, sub.academie))
        if reply.text:
            out_key = b"R:" + key
            entry = self._entry(msg.source, reply.text, "reply", at)
            if entry is not None:
                ops.append(("out", out_key, dumps(entry)))
                ops.append(("due", out_key, b""))
            else:
                out_key = None
        mo["reply"] = out_key.decode() if out_key else None
        ops.append(("mo", key, dumps(mo)))
        record = None
        if self.ledger is not None:
            record = self._record(f"sms-{key.decode()}", msg.source, at, price,
                                  reply.result_found, reply.lookups, f"message:{reply.kind}")
            ops.append(("unbilled", b"mo:" + key, b""))
        return ops, out_key, record

    def _stop_ops(self, msisdn: str, numero: str | None) -> list[Op]:
        ops: list[Op] = []
        prefix = f"{msisdn}|".encode()
        for by in self.store.keys("subs_by", prefix, limit=1_000):
            key = by[len(prefix):]
            if numero is None or key.decode().split("|")[2] == numero:
                ops.append(("subs", key, None))
                ops.append(("subs_by", by, None))
        return ops

    def _entry(self, msisdn: str, text: str, kind: str, at: datetime,
               sub: str | None = None) -> dict[str, Any] | None:
        self._refs = (self._refs + 1) % 256
        try:
            sms = words.encode_sms(text, ref=self._refs)
        except ValueError as e:  # longer than the parts we allow: a bug in the wording
            log.error("SMS to %s not sent: %s", msisdn, e)
            return None
        return {"dst": msisdn, "src": self.config.short_code,
                "parts": [p.hex() for p in sms.parts], "dc": sms.data_coding,
                "esm": sms.esm_class, "kind": kind, "at": utc_iso(at),
                "ids": [None] * len(sms.parts), "state": "due", "sub": sub}

    # -- alerts at publication ----------------------------------------------------------

    async def watch_publications(self) -> None:
        """Forever: every ``publication_poll`` s, a wave for each batch just published."""
        while True:
            await asyncio.sleep(self.config.publication_poll)
            try:
                await self.run_waves()
            except Exception:
                log.exception("SMS alerts: a wave failed; trying again")

    async def run_waves(self) -> int:
        """Make the alerts of every published batch that has some waiting; returns how
        many were made."""
        now = self.clock.wall()
        made = 0
        for exam, academie in sorted(self._waves):
            status = self.dialogue.results.batch_status(exam, academie, now)
            if status.published:
                made += await self._wave(exam, academie, now)
        return made

    async def _wave(self, exam: str, academie: str, now: datetime) -> int:
        """Each subscription of the batch becomes an outbox entry, ``wave_chunk`` per
        transaction that also deletes those subscriptions: a crash resumes where the last
        commit left, none made twice."""
        batch = f"{exam}|{academie}".encode()
        lookup = self.dialogue.results.store.lookup_number
        made = 0
        while True:
            subs = self.store.items("subs", batch + b"|", limit=self.config.wave_chunk)
            if not subs:
                break
            ops: list[Op] = []
            keys = []
            for key, sub in subs:
                numero, msisdn = key.decode().split("|")[2:4]
                result = lookup(numero, date.fromisoformat(sub["birth"]))
                text = (words.result_text(result) if result is not None
                        else words.alert_not_found_text())
                entry = self._entry(msisdn, text, "alert", now, sub=key.decode())
                ops.append(("subs", key, None))
                ops.append(("subs_by", f"{msisdn}|".encode() + key, None))
                if entry is None:
                    continue
                entry["charged"] = result is not None  # no result found: not charged
                out_key = b"A:" + key
                ops.append(("out", out_key, dumps(entry)))
                ops.append(("due", out_key, b""))
                keys.append(out_key)
            made += len(keys)
            ops.append(("waves", batch, dumps({"state": "sending", "at": utc_iso(now)})))
            await self.store.write(ops)
            self._alerts.extend(keys)
            self.stats["alerts_queued"] += len(keys)
            if self.on_work is not None:
                self.on_work()
        await self.store.write([("waves", batch, dumps({"state": "done",
                                                        "at": utc_iso(now)}))])
        self._waves.discard((exam, academie))
        if made:
            log.info("SMS alerts for %s %s: %d queued", exam, academie, made)
        return made

    # -- the outbox -------------------------------------------------------------------

    def _queue(self, key: bytes, delay: float = 0.0) -> None:
        if delay > 0:  # the link's tick looks at these every second
            heapq.heappush(self._later, (self.clock.monotonic() + delay, key))
            return
        (self._alerts if key.startswith(b"A:") else self._replies).append(key)
        if self.on_work is not None:
            self.on_work()

    @property
    def backlog(self) -> int:
        return len(self._replies) + len(self._alerts) + len(self._later)

    def next_part(self) -> Part | None:
        """The next part to submit (parts of entries under way first, then replies
        before alerts), or None."""
        while self._unfinished:
            key = self._unfinished[0]
            sending = self._sending.get(key)
            if sending is not None and sending.todo:
                part = sending.take(key)
                if not sending.todo:
                    self._unfinished.popleft()
                return part
            self._unfinished.popleft()
        now = self.clock.monotonic()
        while self._later and self._later[0][0] <= now:
            self._replies.append(heapq.heappop(self._later)[1])
        while self._replies or self._alerts:
            key = (self._replies or self._alerts).popleft()
            if key in self._sending:
                continue
            entry = self.store.get("out", key)
            if entry is None or entry.get("state") != "due":
                continue
            sending = _Sending(entry, self.config.receipts)
            self._sending[key] = sending
            part = sending.take(key)
            if sending.todo:  # more parts: they go next
                self._unfinished.append(key)
            return part
        return None

    def submitted(self, part_key: str, message_id: str) -> None:
        key, index = _split(part_key)
        sending = self._sending.get(key)
        if sending is None:
            return
        sending.entry["ids"][index] = message_id
        self._ids[message_id] = key  # until the "sent" write is on disk (receipts)
        sending.unanswered.discard(index)
        if sending.todo or sending.unanswered:
            return
        del self._sending[key]
        entry = sending.entry
        entry["state"] = "sent"
        self.stats["mt_sent"] += 1
        ops: list[Op] = [("out", key, dumps(entry)), ("due", key, None)]
        ops.extend(("smscid", mid.encode(), key) for mid in entry["ids"] if mid)
        record = None
        if entry["kind"] == "alert" and entry.get("charged") and self.ledger is not None:
            record = self._record(f"sms-{key.decode()}", entry["dst"],
                                  parse_iso(entry["at"]), self._price("alert_price"),
                                  True, 1, "alert sent")
            ops.append(("unbilled", b"out:" + key, b""))
        fut = self._entry_write(key, ops, tuple(m for m in entry["ids"] if m))
        if record is not None:
            rec = record

            def bill(f: asyncio.Future[None]) -> None:
                if f.exception() is None:  # else "unbilled" was not written either
                    self._bill(b"out:" + key, rec)

            fut.add_done_callback(bill)

    def refused(self, part_key: str, status: int, transient: bool) -> None:
        key, index = _split(part_key)
        sending = self._sending.get(key)
        if sending is None:
            return
        if transient:  # throttled or full: the same part again, after the link's pause
            sending.unanswered.discard(index)
            sending.todo.appendleft(index)
            self._unfinished.appendleft(key)
            return
        del self._sending[key]
        self.stats["mt_failed"] += 1
        entry = sending.entry
        entry["state"] = "failed"
        entry["status"] = status
        log.warning("SMS to %s refused by the SMSC: status 0x%02x", entry["dst"], status)
        self._entry_write(key, [("out", key, dumps(entry)), ("due", key, None)])

    def requeue(self, part_keys: tuple[str, ...]) -> None:
        """The link went down with these parts unanswered: they go again (same keys)."""
        for part_key in part_keys:
            key, index = _split(part_key)
            sending = self._sending.get(key)
            if sending is not None and index in sending.unanswered:
                sending.unanswered.discard(index)
                sending.todo.appendleft(index)
                self._unfinished.appendleft(key)

    def receipt_in(self, receipt: ReceiptIn) -> asyncio.Future[int]:
        """Record a delivery receipt on its entry; acknowledge once written. A receipt may
        overtake the write that records its part as sent (or the other parts' answers):
        it waits for that write; receipts of one entry are written one after the other."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        self.stats["receipts"] += 1
        mid = receipt.message_id
        key = self._ids.get(mid) or self.store.get_raw("smscid", mid.encode())
        if key is None:  # a receipt for nothing we know: acknowledged, kept in no entry
            self.stats["receipts_unknown"] += 1
            done.set_result(_OK)
            return done
        if key in self._sending:  # other parts still out: after the "sent" write
            self._early.setdefault(key, []).append((receipt, done))
            return done
        self._after_writes(key, lambda: self._record_receipt(key, receipt, done))
        return done

    def _after_writes(self, key: bytes, then: Callable[[], None]) -> None:
        pending = self._writing.get(key)
        if pending is None:
            then()
        else:
            pending.add_done_callback(lambda f: self._after_writes(key, then))

    def _record_receipt(self, key: bytes, receipt: ReceiptIn, done: asyncio.Future[int]) -> None:
        entry = self.store.get("out", key)
        if entry is None:
            done.set_result(_OK)
            return
        receipts = entry.setdefault("receipts", {})
        receipts[receipt.message_id] = receipt.state
        if all(receipts.get(mid) == "DELIVRD" for mid in entry["ids"] if mid):
            entry["state"] = "delivered"
        fut = self._entry_write(key, [("out", key, dumps(entry))])
        fut.add_done_callback(lambda f: _settle(done, f))

    def _entry_write(self, key: bytes, ops: list[Op], ids: tuple[str, ...] = ()
                     ) -> asyncio.Future[None]:
        """Write ops about outbox entry ``key``; later receipts of it wait for this."""
        fut = self._write(ops)
        self._writing[key] = fut

        def written(f: asyncio.Future[None]) -> None:
            if self._writing.get(key) is f:
                del self._writing[key]
            for mid in ids:
                self._ids.pop(mid, None)
            for receipt, done in self._early.pop(key, ()):
                self._after_writes(key, _bound(self._record_receipt, key, receipt, done))

        fut.add_done_callback(written)
        return fut

    def _write(self, ops: list[Op]) -> asyncio.Future[None]:
        fut = self.store.write(ops)
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)
        return fut

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait for the writes and ledger records under way (shutdown); False if some
        were still going after ``timeout`` s (a restart finishes them: ``unbilled``)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)
        return not self._pending


class _Sending:
    """An outbox entry whose parts are being submitted."""

    __slots__ = ("entry", "registered", "todo", "unanswered")

    def __init__(self, entry: dict[str, Any], receipts: bool) -> None:
        self.entry = entry
        self.registered = 1 if receipts else 0
        self.todo: deque[int] = deque(i for i, mid in enumerate(entry["ids"]) if mid is None)
        self.unanswered: set[int] = set()

    def take(self, key: bytes) -> Part:
        index = self.todo.popleft()
        self.unanswered.add(index)
        e = self.entry
        return Part(f"{key.decode()}#{index}", e["src"], e["dst"], bytes.fromhex(e["parts"][index]),
                    e["dc"], e["esm"], self.registered)


def _split(part_key: str) -> tuple[bytes, int]:
    key, _, index = part_key.rpartition("#")
    return key.encode(), int(index)


def _bound(fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: fn(*args)


def _settle(done: asyncio.Future[int], f: asyncio.Future[Any]) -> None:
    if done.done():
        return
    done.set_result(_OK if f.exception() is None else _TRANSIENT)

