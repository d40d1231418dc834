"""The RTP the server sends on a phone call, as a caller's socket receives it: one stream per
call, numbered without a gap (sequence +1, timestamp +160 each 20 ms), one SSRC, the payload
type of the codec chosen, and after a re-INVITE that changes the codec the new payload type
with the numbering going on (the media tick numbers every line's packets as one array)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import struct
from typing import Any

from tests.phone.caller import PhoneLine, Phones
from videotex.protocols.sdp import build_offer
from videotex.protocols.sip import SipRequest


class RecordingPhones(Phones):
    """Phones that keep every datagram the server sent them (header fields), in order."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.seen: dict[str, list[tuple[int, int, int, int, int]]] = {}
        #: Set whenever a datagram is kept (what the tests wait on).
        self.arrived = asyncio.Event()

    def _read(self, line: PhoneLine) -> None:  # type: ignore[override]
        seen = self.seen.setdefault(line.call_id, [])
        for _ in range(32):
            try:
                data, _addr = line.rtp.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            flags, pt, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
            seen.append((flags, pt, seq, ts, ssrc))
            self.arrived.set()
            assert len(data) == 172, len(data)
            line.jitter.push(seq, ssrc, data[12:])


def check_numbering(packets: list[tuple[int, int, int, int, int]], pt: int) -> None:
    assert packets, "no packet"
    assert packets[-1][:2] == (0x80, pt)
    for (flags, ptm, seq, ts, ssrc), (_, _, seq2, ts2, ssrc2) in itertools.pairwise(packets):
        assert flags == 0x80 and ptm == pt
        assert seq2 == (seq + 1) & 0xFFFF, (seq, seq2)
        assert ts2 == (ts + 160) & 0xFFFFFFFF, (ts, ts2)
        assert ssrc2 == ssrc


async def until(phones: RecordingPhones, predicate: Any, timeout: float = 10.0) -> None:
    """Until ``predicate()`` holds, checked each time a datagram is kept."""
    async with asyncio.timeout(timeout):
        while not predicate():
            phones.arrived.clear()
            await phones.arrived.wait()


async def test_each_call_is_one_stream_numbered_without_a_gap(make_server: Any) -> None:
    server = await make_server()
    phones = await RecordingPhones(server.address, capacity=2).open()
    try:
        alaw = await phones.call("0320000001", codecs=("PCMA",))
        await until(phones, lambda: len(phones.seen.get(alaw.call_id, [])) >= 10)
        # the second joins a clock already running: its very first packet is numbered
        # from its own start (a slot's packet is made a tick before it is sent)
        ulaw = await phones.call("0320000002", codecs=("PCMU",))
        await until(phones, lambda: all(len(phones.seen.get(ln.call_id, [])) >= 60
                                for ln in (alaw, ulaw)))
        a, u = phones.seen[alaw.call_id], phones.seen[ulaw.call_id]
        check_numbering(a, 8)
        check_numbering(u, 0)
        assert a[0][4] != u[0][4]  # two streams, two SSRCs
    finally:
        await phones.close()
    await server.stop()


async def test_a_reinvite_to_another_codec_keeps_the_numbering(make_server: Any) -> None:
    server = await make_server()
    phones = await RecordingPhones(server.address).open()
    try:
        line = await phones.call("0320000001", codecs=("PCMA", "PCMU"))
        await until(phones, lambda: len(phones.seen.get(line.call_id, [])) >= 30)
        # the same call, its offer now PCMU only (CSeq 2 INVITE, the dialog's tags)
        line.cseq += 1
        headers = phones._headers(line, "INVITE", "z9hG4bK" + secrets.token_hex(6), line.cseq,
                                  f"{line.to_header};tag={line.remote_tag}")
        phones._send(SipRequest((*headers, ("Content-Type", "application/sdp")),
                                build_offer(phones.local, line.port, ("PCMU",)), "INVITE",
                                line.target))
        await until(phones, lambda: any(p[1] == 0 for p in phones.seen[line.call_id]))
        count = len(phones.seen[line.call_id])
        await until(phones, lambda: len(phones.seen[line.call_id]) >= count + 30)
        packets = phones.seen[line.call_id]
        switch = next(i for i, p in enumerate(packets) if p[1] == 0)
        check_numbering(packets[:switch], 8)
        check_numbering(packets[switch:], 0)
        before, after = packets[switch - 1], packets[switch]
        assert after[2] == (before[2] + 1) & 0xFFFF and after[4] == before[4]
        assert after[3] == (before[3] + 160) & 0xFFFFFFFF
        await phones.hangup(line)
    finally:
        await phones.close()
    await server.stop()
