"""The measurements behind the phone line's library choice (docs/phone.md), in a scratch venv:

    python3.11 -m venv /tmp/sipeval && /tmp/sipeval/bin/pip install aiosipua==0.7.1 \\
        aiortp==0.8.0 pyVoIP==1.6.8
    /tmp/sipeval/bin/python bench/phone_libeval.py [--inputs 50000] [--calls 500]

Printed, never asserted:

1. parser throughput on one INVITE with SDP (and one RTP packet): aiosipua, pyVoIP, aiortp,
   and ours (``videotex.protocols``);
2. robustness: mutated INVITEs and random bytes, counted by what the parser raised
   (the documented ``ValueError``/``SipError`` or anything else);
3. aiosipua's UAS fed the same mutated INVITEs: tracebacks logged, INVITEs left unanswered;
   and the same INVITE twice (a UDP retransmission) before and after the 200;
4. the media of ``--calls`` calls for 5 s: aiortp sessions (paced senders, one frame each per
   20 ms) against one 20 ms tick sending on a socket per call, in CPU per call-second.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import random
import resource
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SDP = ("v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\nm=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n")
INVITE = ("INVITE sip:3615@127.0.0.1:5060 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport\r\n"
          'From: "Minitel" <sip:0320123456@127.0.0.1:5061>;tag=1\r\n'
          "To: <sip:3615@127.0.0.1:5060>\r\nCall-ID: 1-12345@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
          "Contact: <sip:0320123456@127.0.0.1:5061>\r\nMax-Forwards: 70\r\n"
          "P-Asserted-Identity: <sip:+33320123456@trunk.example>\r\n"
          f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}").encode()
RTP = bytes([0x80, 8, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4]) + bytes(160)


def rate(fn: Callable[[Any], Any], arg: Any, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn(arg)
    return n / (time.perf_counter() - t)


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and b:
            del b[rng.randrange(len(b)):rng.randrange(len(b) + 1)]
        elif op == 2:
            b[rng.randrange(len(b) + 1):0] = rng.randbytes(rng.randint(1, 10))
        elif op == 3:
            at = rng.randrange(len(b) + 1)
            b[at:at] = rng.choice([b":", b"\r\n", b";", b"<", b">", b"=", b" ", b'"', b"-1",
                                   b"99999999999999999999", b"m=audio x RTP/AVP",
                                   b"a=rtpmap:x y"])
        else:
            lines = bytes(b).split(b"\r\n")
            rng.shuffle(lines)
            b = bytearray(b"\r\n".join(lines))
    return bytes(b)


def robust(name: str, fn: Callable[[bytes], Any], seed: bytes, n: int,
           documented: tuple[type[BaseException], ...]) -> None:
    rng = random.Random(1)
    kinds: collections.Counter[str] = collections.Counter()
    where: dict[str, str] = {}
    for i in range(n):
        data = mutate(rng, seed) if i % 2 else rng.randbytes(rng.randrange(200))
        try:
            fn(data)
            kinds["ok"] += 1
        except documented as e:
            kinds[f"documented {type(e).__name__}"] += 1
        except Exception as e:
            kinds[type(e).__name__] += 1
            where.setdefault(type(e).__name__,
                             traceback.format_exception(e)[-2].strip().splitlines()[0])
    print(f"  {name:<40} {n} inputs: {dict(kinds)}")
    for k, v in where.items():
        print(f"      {k}: {v}")


def parsers(n: int) -> None:
    import pyVoIP.VoIP  # noqa: F401  (pyVoIP.SIP imports it circularly)
    from aiortp.packet import RtpPacket
    from aiosipua import SipMessage, parse_sdp
    from pyVoIP.SIP import SIPMessage

    from videotex.protocols.rtp import RtpError, parse_rtp
    from videotex.protocols.sdp import SdpError
    from videotex.protocols.sdp import parse_sdp as our_sdp
    from videotex.protocols.sip import SipError, parse_message, parse_name_addr, parse_via

    def aiosipua_full(d: bytes) -> None:
        m = SipMessage.parse(d)
        m.via, m.from_addr, m.cseq, m.to_addr, m.contact  # noqa: B018
        if m.body:
            parse_sdp(m.text)

    def ours_full(d: bytes) -> None:
        m = parse_message(d)
        parse_via(m.header("Via") or "")
        parse_name_addr(m.header("From") or "")
        parse_name_addr(m.header("To") or "")
        if m.body:
            our_sdp(m.body)

    print("1. throughput (messages/s, one INVITE with SDP):")
    print(f"  aiosipua SipMessage.parse                {rate(SipMessage.parse, INVITE, 20000):9.0f}")
    print(f"  aiosipua parse + Via/From/To/CSeq + SDP  {rate(aiosipua_full, INVITE, 20000):9.0f}")
    print(f"  pyVoIP SIPMessage                        {rate(SIPMessage, INVITE, 5000):9.0f}")
    print(f"  ours parse_message                       {rate(parse_message, INVITE, 20000):9.0f}")
    print(f"  ours parse + Via/From/To + SDP           {rate(ours_full, INVITE, 20000):9.0f}")
    print(f"  aiortp RtpPacket.parse (RTP)             {rate(RtpPacket.parse, RTP, 100000):9.0f}")
    print(f"  ours parse_rtp (RTP)                     {rate(parse_rtp, RTP, 100000):9.0f}")
    print("2. robustness (mutated INVITEs and random bytes):")
    robust("aiosipua parse + accessors + SDP", aiosipua_full, INVITE, n, (ValueError,))
    robust("pyVoIP SIPMessage", SIPMessage, INVITE, n // 5, ())
    robust("aiortp RtpPacket.parse", RtpPacket.parse, RTP, n, (ValueError,))
    robust("ours parse + Via/From/To + SDP", ours_full, INVITE, n, (SipError, SdpError))
    robust("ours parse_rtp", parse_rtp, RTP, n, (RtpError,))


async def aiosipua_uas(n: int) -> None:
    from aiosipua import SipUAS, UdpSipTransport, build_sdp

    class Count(logging.Handler):
        tracebacks = 0

        def emit(self, record: logging.LogRecord) -> None:
            Count.tracebacks += record.exc_info is not None

    lg = logging.getLogger("aiosipua")
    lg.addHandler(Count())
    lg.setLevel(logging.DEBUG)
    lg.propagate = False
    transport = UdpSipTransport(local_addr=("127.0.0.1", 0))
    sent: list[Any] = []
    transport.send = lambda msg, addr: sent.append(msg)  # type: ignore[method-assign]
    uas = SipUAS(transport, retransmit_2xx=False)
    calls: list[Any] = []
    uas.on_invite = lambda call: calls.append(call) or call.reject(486)
    transport.on_message = uas._on_message
    rng = random.Random(2)
    invites = unanswered = 0
    for _ in range(n):
        data = mutate(rng, INVITE)
        before = len(sent)
        transport._dispatch(data, ("127.0.0.1", 5061))
        if data.startswith(b"INVITE "):
            invites += 1
            unanswered += len(sent) == before
    print(f"3. aiosipua SipUAS, {n} mutated INVITEs ({invites} still 'INVITE ...'): "
          f"{Count.tracebacks} tracebacks logged, {unanswered} INVITEs without any answer")
    from videotex.channels.phone.ua import UserAgent

    ours = UserAgent(lambda peer: ("127.0.0.1", 5060))
    rng = random.Random(2)
    unanswered = raised = 0
    for i in range(n):
        data = mutate(rng, INVITE)
        try:
            ours.receive(data, ("udp", "127.0.0.1", 5061), i * 0.01)
        except Exception:
            raised += 1
        unanswered += data.startswith(b"INVITE ") and not ours.outbox
        for call_id in list(ours.dialogs):
            ours.reject(call_id, 486, i * 0.01)
        ours.outbox.clear()
    print(f"   ours (videotex.channels.phone.ua), the same INVITEs: {raised} exceptions, "
          f"{unanswered} INVITEs without any answer (no Via, From, To, Call-ID or CSeq left)")
    uas = SipUAS(transport, retransmit_2xx=False)
    calls.clear()
    uas.on_invite = calls.append
    transport.on_message = uas._on_message
    transport._dispatch(INVITE, ("127.0.0.1", 5061))
    transport._dispatch(INVITE, ("127.0.0.1", 5061))
    print(f"   the same INVITE twice before the answer: on_invite called {len(calls)} times")
    calls[-1].accept(build_sdp("127.0.0.1", 4000, 8, "PCMA"))
    n0 = len(sent)
    transport._dispatch(INVITE, ("127.0.0.1", 5061))
    print(f"   the INVITE again after the 200 (its ACK not yet come): answered "
          f"{[f'{m.status_code} {m.reason_phrase}' for m in sent[n0:]]}")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def media(calls: int, seconds: float = 5.0) -> None:
    logging.disable(logging.CRITICAL)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))  # never read: the kernel drops what overflows
    dst = sink.getsockname()
    loop = asyncio.get_running_loop()
    payload = bytes(160)

    async def measure(name: str, tasks: int) -> None:
        await asyncio.sleep(1)
        c0, t0 = cpu(), time.perf_counter()
        await asyncio.sleep(seconds)
        c1, t1 = cpu(), time.perf_counter()
        share = (c1 - c0) / (t1 - t0)
        print(f"   {name}: {tasks} asyncio tasks, {100 * share:.1f} % of a core, "
              f"{1e6 * share / calls:.0f} us CPU per call-second")

    from aiortp import RTPSession

    sessions = [await RTPSession.create(("127.0.0.1", 0), dst, 8, paced=True)
                for _ in range(calls)]

    async def feed() -> None:
        t = loop.time()
        while True:
            for s in sessions:
                s._paced_sender.enqueue(payload)
            t += 0.02
            await asyncio.sleep(max(0.0, t - loop.time()))

    print(f"4. media of {calls} calls, one 20 ms frame each way... sent only (a sink never read):")
    feeder = asyncio.ensure_future(feed())
    await measure("aiortp sessions (paced, one feeder task)", len(asyncio.all_tasks()))
    feeder.cancel()
    for s in sessions:
        await s.close()
    socks = []
    for _ in range(calls):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)

    async def tick() -> None:
        from videotex.protocols.rtp import RtpSender

        senders = [RtpSender(8) for _ in socks]
        t = loop.time()
        while True:
            for s, sender in zip(socks, senders, strict=True):
                s.sendto(sender.packet(payload), dst)
            t += 0.02
            await asyncio.sleep(max(0.0, t - loop.time()))

    ticker = asyncio.ensure_future(tick())
    await measure("one 20 ms tick, a socket per call", len(asyncio.all_tasks()))
    ticker.cancel()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=50_000)
    ap.add_argument("--calls", type=int, default=500)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # aiosipua logs each body/Content-Length mismatch
    parsers(args.inputs)
    logging.disable(logging.NOTSET)
    asyncio.run(aiosipua_uas(args.inputs // 2))
    asyncio.run(media(args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
