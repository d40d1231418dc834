"""What the attackers of the end-to-end fuzz send: key-like, telnet-like, serial and
WebSocket noise, cut in pieces as a network would."""

from __future__ import annotations

import random
import struct

from tests.helpers.results import ELODIE, PAUL_PARIS
from tests.helpers.serial_line import with_parity
from videotex.protocols.telnet import MAX_SUBNEGOTIATION

# -- noise ----------------------------------------------------------------------------------

SEP = 0x13
KEYS = [bytes((SEP, k)) for k in range(0x41, 0x49)]  # Envoi ... Suite (not Connexion/Fin)
HANGUP = b"\x13\x49"


def keyish(rng: random.Random, n: int, hangups: bool = True) -> bytes:
    """Noise that looks like a Minitel: digits, function keys, escape sequences, accents,
    protocol replies, a whole consultation now and then, and plain random bytes."""
    out = bytearray()
    while len(out) < n:
        r = rng.random()
        if r < 0.3:
            out += rng.randbytes(rng.randint(1, 12))
        elif r < 0.5:
            out += str(rng.randrange(10**12)).encode()
        elif r < 0.65:
            out += rng.choice(KEYS)
        elif r < 0.75:
            out += b"\x1b" + rng.choice([b"[", b"O", b":", b";", b")4", b"[4", b"9"])
            out += rng.randbytes(rng.randint(0, 4))
        elif r < 0.8:
            out += b"\x19" + bytes((rng.choice(b"ABCHKj"), rng.choice(b"aeEu1\x13")))
        elif r < 0.85:
            out += b"\x01" + rng.randbytes(3) + b"\x04"
        elif r < 0.9:
            numero, birth = rng.choice((ELODIE, PAUL_PARIS))
            out += numero.encode() + KEYS[7] + birth.encode() + KEYS[0]
        elif r < 0.93:
            out += b"\x00" * rng.randint(1, 20) + b"\x7f\x08\x09\x0a\x0b\x0d\x1e\x0c"
        elif r < 0.9305:  # now and then the noise ends the call itself
            if hangups:
                out += HANGUP
        else:
            out += bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(1, 16)))
    return bytes(out)


IAC, SB, SE = 0xFF, 0xFA, 0xF0


def telnetish(rng: random.Random, n: int, oversized: bool = False) -> bytes:
    """Key-like noise shot through with telnet commands, options and subnegotiations."""
    out = bytearray()
    while len(out) < n:
        r = rng.random()
        if r < 0.35:
            out += keyish(rng, rng.randint(1, 30))
        elif r < 0.55:  # WILL/WONT/DO/DONT any option
            out += bytes((IAC, rng.randrange(0xFB, 0xFF), rng.randrange(256)))
        elif r < 0.65:  # any command, IAC IAC, IAC at the very end of a segment
            out += bytes((IAC, rng.randrange(0xF0, 0x100)))
        elif r < 0.8:  # a short subnegotiation, with doubled IACs inside
            body = rng.randbytes(rng.randint(0, 40)).replace(b"\xff", b"\xff\xff")
            out += bytes((IAC, SB, rng.randrange(256))) + body + bytes((IAC, SE))
        elif r < 0.88:  # a truncated one: no IAC SE
            out += bytes((IAC, SB, rng.randrange(256))) + rng.randbytes(rng.randint(0, 60))
        elif r < 0.93:
            out += b"\r\x00\r\n" + bytes((IAC,)) * rng.randint(1, 7)
        else:
            out += rng.randbytes(rng.randint(1, 20))
    if oversized:  # longer than any subnegotiation we keep: the caller is dropped
        out += bytes((IAC, SB, 24)) + b"x" * (MAX_SUBNEGOTIATION + 50) + bytes((IAC, SE))
    return bytes(out)


def pieces(rng: random.Random, data: bytes, largest: int = 300) -> list[bytes]:
    """``data`` cut anywhere, as reads are."""
    out, i = [], 0
    while i < len(data):
        j = i + rng.randint(1, largest)
        out.append(data[i:j])
        i = j
    return out


def serial_noise(rng: random.Random, n: int) -> bytes:
    """Wire bytes for a 7E1 line: mostly good parity, some bad (SUB for the server), and,
    once the parity is stripped, never a Connexion/Fin (the test ends the call itself)."""
    seven = bytearray(keyish(rng, n, hangups=False) + rng.randbytes(n // 4))
    for i, b in enumerate(seven):
        b &= 0x7F
        seven[i] = 0x48 if b == 0x49 else 0x28 if b == 0x29 else b  # no SEP 49, ESC 29 34 0D
    wire = bytearray(with_parity(bytes(seven)))
    for _ in range(n // 20):
        wire[rng.randrange(len(wire))] ^= 0x80  # odd weight: a parity error
    return bytes(wire)


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
             mask: bytes | None = b"\x37\xfa\x21\x3d", length: int | None = None) -> bytes:
    """A client frame (masked unless ``mask`` is None); ``length`` may lie."""
    n = len(payload) if length is None else length
    bit = 0x80 if mask is not None else 0
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 15)])
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_frames(rng: random.Random, count: int, valid_first: int) -> bytes:
    """``valid_first`` text/binary/ping frames carrying key-like noise, then anything:
    reserved opcodes and bits, unmasked frames, fragments, bad UTF-8, bad close codes,
    lengths that lie or exceed the 4 KiB limit."""
    out = bytearray()
    for i in range(count):
        payload = keyish(rng, rng.randint(0, 120))
        if i < valid_first:
            kind = rng.random()
            if kind < 0.6:
                text = payload.decode("latin-1").encode("utf-8")
                out += ws_frame(1, text)
            elif kind < 0.9:
                out += ws_frame(2, payload)
            else:
                out += ws_frame(9, payload[:125])
            continue
        r = rng.random()
        if r < 0.15:
            out += ws_frame(rng.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload)
        elif r < 0.25:
            out += ws_frame(1, payload, rsv=rng.randint(1, 7))
        elif r < 0.35:
            out += ws_frame(1, payload, mask=None)
        elif r < 0.5:  # fragments, continuation without a start, interleaved control
            out += ws_frame(1, b"12", fin=False) + ws_frame(9, b"") + ws_frame(0, b"34")
            out += ws_frame(0, payload, fin=rng.random() < 0.5)
        elif r < 0.6:
            out += ws_frame(1, b"\xc3\x28\xed\xa0\x80" + payload)  # not UTF-8
        elif r < 0.7:
            out += ws_frame(8, struct.pack("!H", rng.randrange(65536)) + rng.randbytes(5))
        elif r < 0.8:
            out += ws_frame(2, rng.randbytes(rng.randint(4097, 6000)))
        elif r < 0.9:
            out += ws_frame(2, payload, length=rng.choice([126, 65535, 1 << 40]))
        else:
            out += ws_frame(9, rng.randbytes(rng.randint(126, 200)))  # control > 125
    return bytes(out)


def upgrade(path: bytes = b"/ws") -> bytes:
    return (b"GET " + path + b" HTTP/1.1\r\nHost: minitel\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n")
