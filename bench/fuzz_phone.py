"""Fuzz the phone line's parsers, a million inputs each (``bench/bench_fuzz.py`` runs them too).

    .venv/bin/python bench/fuzz_phone.py [--inputs 1000000] [--only sip,sdp] [--seed 1]

Same conventions as ``bench_fuzz.py`` (``bench/fuzzing.py``): mutated seeds and one input in
five of plain random bytes, from a fixed seed; "unexpected" is any exception other than the
documented one, a broken invariant, an ERROR record, or an input over a second. Targets:

- ``sip``: :func:`parse_message`, then the user agent core fed the same datagram (answers
  must be SIP, its transactions bounded); a parsed message must round-trip;
- ``sip_stream``: the TCP framer, fed whole and split elsewhere by a twin: same messages;
- ``sdp``: :func:`parse_sdp`, the codec choice and the answer (as many m= as the offer);
- ``rtp``: :func:`parse_rtp` (round trip), then the jitter buffer fed the packet's numbers;
- ``audiosocket``: the frame reader and its split twin.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fuzzing import Target, check, run  # noqa: E402

_INVITE = (b"INVITE sip:3615@127.0.0.1:5060 SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0;rport\r\n"
           b'From: "Minitel" <sip:0320123456@127.0.0.1:5061>;tag=1\r\n'
           b"To: <sip:3615@127.0.0.1:5060>\r\nCall-ID: 1-1@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
           b"Contact: <sip:0320123456@127.0.0.1:5061>\r\nMax-Forwards: 70\r\n"
           b"P-Asserted-Identity: <sip:+33320123456@trunk>\r\n"
           b"Content-Type: application/sdp\r\nContent-Length: 136\r\n\r\n"
           b"v=0\r\no=u 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           b"m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n")
_DIALOG = (b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-2\r\nFrom: <sip:a@h>;tag=1\r\n"
           b"To: <sip:3615@h>;tag=x\r\nCall-ID: 1-1@127.0.0.1\r\n")
SIP_SEEDS = [_INVITE, b"ACK sip:3615@h SIP/2.0\r\n" + _DIALOG + b"CSeq: 1 ACK\r\n\r\n",
             b"BYE sip:3615@h SIP/2.0\r\n" + _DIALOG + b"CSeq: 2 BYE\r\n\r\n",
             b"CANCEL sip:3615@h SIP/2.0\r\n" + _DIALOG.replace(b"-2", b"-1-0")
             + b"CSeq: 1 CANCEL\r\n\r\n",
             b"OPTIONS sip:3615@h SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK3\r\nf: <sip:p@h>;"
             b"tag=9\r\nt: <sip:3615@h>\r\ni: o1\r\nCSeq: 7 OPTIONS\r\nl: 0\r\n\r\n",
             b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKr\r\nCSeq: 1 REGISTER"
             b'\r\nWWW-Authenticate: Digest realm="r", nonce="n", qop="auth"\r\n\r\n']


def sip() -> Target:
    from videotex.channels.phone.ua import UserAgent
    from videotex.protocols.sip import SipError, parse_message

    rng = random.Random(3)
    box: dict[str, UserAgent] = {}
    now = [0.0]

    def target(data: bytes) -> bool | None:
        agent = box.get("ua")
        if agent is None or rng.random() < 0.001:
            agent = box["ua"] = UserAgent(lambda peer: ("127.0.0.1", 5060))
        try:
            message = parse_message(data)
        except SipError:
            message = None
        else:
            check(parse_message(bytes(message)) == message, "a message did not round-trip")
        agent.receive(data, ("udp", "127.0.0.1", 5061), now[0])
        for call_id in list(agent.dialogs)[:2]:
            if rng.random() < 0.5:
                agent.answer(call_id, b"v=0\r\n", now[0])
            else:
                agent.hangup(call_id, now[0])
        now[0] += rng.choice([0.0, 0.01, 0.6, 40.0])
        agent.tick(now[0])
        for out, _peer in agent.outbox:
            parse_message(out)  # everything we send is SIP
        agent.outbox.clear()
        check(agent.transactions < 20_000, f"{agent.transactions} transactions held")
        return message is not None

    return Target(SIP_SEEDS, target)


def sip_stream() -> Target:
    from videotex.protocols.sip import SipError, SipStream

    rng = random.Random(5)
    pair: list[SipStream] = []

    def target(data: bytes) -> bool | None:
        if not pair or rng.random() < 0.01:
            pair[:] = [SipStream(), SipStream()]
        whole, split = pair
        try:
            got = whole.feed(data)
        except SipError:
            pair.clear()
            return False
        cut = rng.randrange(len(data) + 1)
        twin = split.feed(data[:cut]) + split.feed(data[cut:])
        check(got == twin and whole.buffered == split.buffered, "a split changed the messages")
        check(whole.buffered <= 65_535, f"{whole.buffered} bytes buffered")
        return True if got else None

    return Target([s + s[:30] for s in SIP_SEEDS], target, (SipError,))


def sdp() -> Target:
    from videotex.protocols.sdp import SdpError, build_answer, choose_audio, parse_sdp

    def target(data: bytes) -> bool | None:
        offer = parse_sdp(data)
        choice = choose_audio(offer)
        answer = parse_sdp(build_answer(offer, choice, "127.0.0.1", 20000, "1"))
        check(len(answer.media) == len(offer.media), "the answer's m= lines differ")
        return True

    body = _INVITE.split(b"\r\n\r\n", 1)[1]
    return Target([body, body.replace(b"8 0 101", b"0"), body.replace(b"IP4 127.0.0.1", b"IP6 ::1"),
                   b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\n"
                   b"m=audio 7 RTP/AVP 18 8\r\nc=IN IP4 10.0.0.1\r\na=sendonly\r\n"],
                  target, (SdpError,))


def rtp() -> Target:
    from videotex.protocols.jitter import JitterBuffer
    from videotex.protocols.rtp import RtpError, RtpSender, parse_rtp

    buf = JitterBuffer(prefetch=2, max_frames=25)
    rng = random.Random(9)

    def target(data: bytes) -> bool | None:
        packet = parse_rtp(data)
        check(parse_rtp(bytes(packet)).payload == packet.payload, "a packet did not round-trip")
        buf.push(packet.sequence, packet.ssrc, packet.payload)
        if rng.random() < 0.5:
            buf.pop()
        check(buf.depth <= 25, f"the jitter buffer holds {buf.depth} frames")
        return True

    sender = RtpSender(8, ssrc=1, sequence=65530)
    return Target([sender.packet(bytes(160)) for _ in range(8)]
                  + [bytes.fromhex("b0e500010000000a0000000bbede000110010000") + b"\x05\x00\x00\xa0"],
                  target, (RtpError,))


def audiosocket() -> Target:
    from videotex.protocols.audiosocket import AudioSocketError, FrameReader

    rng = random.Random(11)
    pair: list[FrameReader] = []

    def target(data: bytes) -> bool | None:
        if not pair or rng.random() < 0.01:
            pair[:] = [FrameReader(), FrameReader()]
        whole, split = pair
        try:
            got = whole.feed(data)
        except AudioSocketError:
            pair.clear()
            return False
        cut = rng.randrange(len(data) + 1)
        check(split.feed(data[:cut]) + split.feed(data[cut:]) == got, "a split changed frames")
        check(whole.buffered <= 65_538, f"{whole.buffered} bytes buffered")
        return True if got else None

    return Target([b"\x01\x00\x10" + bytes(range(16)), b"\x10\x01\x40" + bytes(320),
                   b"\x03\x00\x01" + b"5", b"\x00\x00\x00", b"\xff\x00\x01\x02"],
                  target, (AudioSocketError,))


#: name -> target maker (``bench_fuzz.py`` adds these to its own).
PARSERS: dict[str, Callable[[], Target]] = {
    "sip": sip, "sip_stream": sip_stream, "sdp": sdp, "rtp": rtp, "audiosocket": audiosocket}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=1_000_000)
    ap.add_argument("--only", help="comma-separated parser names")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(PARSERS)
    unknown = [n for n in names if n not in PARSERS]
    if unknown:
        ap.error(f"unknown parser {', '.join(unknown)}; known: {', '.join(PARSERS)}")
    from bench.fuzz_loop import _ErrorLog

    root = logging.getLogger()
    root.handlers[:] = [_ErrorLog(logging.ERROR)]
    root.setLevel(logging.WARNING)
    failures = 0
    for name in names:
        r = run(name, PARSERS[name](), args.inputs, args.seed)
        failures += r["unexpected"]
        print(f"{name:<14} {r['inputs']:>9} inputs {r['seconds']:>8.1f} s {r['per_s']:>8.0f}/s"
              f"  accepted {r['accepted']:>8}  rejected {r['rejected']:>8}"
              f"  neither {r['neither']:>8}  unexpected {r['unexpected']}"
              f"  slowest {r['slowest_ms']:.1f} ms  peak RSS +{r['peak_rss_growth_mib']:.1f} MiB",
              flush=True)
        for ex in r["examples"]:
            print("   ", ex.replace("\n", "\n    "), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
