"""``videotex call sip:3617@HOST:PORT --keys 1110000001#,03071987``: dial the voice service
as a person with a telephone would, for testers.

The call is the emulator's own SIP user agent and RTP (``terminal_emu.transport_sip``), with
a keypad and an ear instead of a Minitel's modem (:class:`KeypadPhone`): each group of keys
(``,`` separates groups) is typed as in-band DTMF tones once the server has stopped talking
(the end of its question), and everything heard is written to a WAV file (8 kHz, mono,
16-bit). With ``--log FILE`` (the server's JSON log), the prompts the server says it played
on this call are printed, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["KeypadPhone", "register"]

RATE = 8000
_FREQS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209),
    "5": (770, 1336), "6": (770, 1477), "7": (852, 1209), "8": (852, 1336),
    "9": (852, 1477), "*": (941, 1209), "0": (941, 1336), "#": (941, 1477),
}
#: A key is 100 ms of its two tones (each at -10 dBFS) and 100 ms of silence.
TONE_MS, GAP_MS = 100, 100
QUIET = 64  # samples under this are silence


def _key_audio(key: str) -> np.ndarray:
    low, high = _FREQS[key]
    t = np.arange(RATE * TONE_MS // 1000) / RATE
    tone = 0.3 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)) * 32767
    return np.concatenate([tone.astype(np.int16), np.zeros(RATE * GAP_MS // 1000, np.int16)])


class KeypadPhone:
    """A telephone's keypad and ear where the emulator's SIP line expects a modem: it
    never connects a carrier; what it hears is kept, keys go out as tones."""

    def __init__(self) -> None:
        from terminal_emu.modem.receiver import LineState

        self.state = LineState.CONNECTED
        self.heard: list[np.ndarray] = []
        self.last_sound = 0.0
        self._out = np.zeros(0, dtype=np.int16)

    def receive_audio(self, samples: Any) -> list[Any]:
        frame = np.asarray(samples, dtype=np.int16).copy()
        self.heard.append(frame)
        if frame.size and int(np.abs(frame.astype(np.int32)).max()) > QUIET:
            self.last_sound = time.monotonic()
        return []

    def audio_out(self, n: int) -> np.ndarray:
        out, self._out = self._out[:n], self._out[n:]
        if len(out) < n:
            out = np.concatenate([out, np.zeros(n - len(out), np.int16)])
        return out

    def send(self, data: bytes) -> None:
        keys = [chr(b) for b in data if chr(b) in _FREQS]
        if keys:
            self._out = np.concatenate([self._out, *(_key_audio(k) for k in keys)])

    @property
    def typing(self) -> bool:
        return bool(len(self._out))

    def hang_up(self) -> None:
        from terminal_emu.modem.receiver import LineState

        self.state = LineState.DISCONNECTED


async def _quiet(phone: KeypadPhone, seconds: float, timeout: float) -> bool:
    """Until the far end has spoken and then been silent ``seconds`` (False: timed out)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if phone.last_sound > start - 60 and not phone.typing and \
                phone.last_sound and time.monotonic() - phone.last_sound >= seconds:
            return True
        await asyncio.sleep(0.05)
    return False


async def _call(args: argparse.Namespace) -> int:
    from terminal_emu.transport_sip import SipTransport, parse_sip_url

    target = parse_sip_url(args.url)
    phone = KeypadPhone()
    line = SipTransport(target, modem=phone)  # type: ignore[arg-type]
    try:
        await line.dial(args.timeout)
    except Exception as e:  # ConnectError and SIP refusals: say why, exit 1
        print(f"videotex call: {e}", file=sys.stderr)
        return 1
    print(f"answered: {line.status}")
    try:
        for group in [g for g in args.keys.split(",") if g]:
            if not await _quiet(phone, args.pause, args.timeout):
                print("videotex call: the server did not stop talking", file=sys.stderr)
                break
            line.write(group.encode("ascii"))
            print(f"typed {group}")
        await _quiet(phone, args.pause * 2, args.listen)
    finally:
        await line.close()
    heard = np.concatenate(phone.heard) if phone.heard else np.zeros(0, np.int16)
    with wave.open(str(args.wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(heard.astype("<i2").tobytes())
    print(f"heard {len(heard) / RATE:.1f} s: {args.wav}")
    if args.log:
        for said in _said(Path(args.log), target.caller):
            print(f"  said: {said}")
    return 0


def _said(log: Path, caller: str) -> list[str]:
    """The prompts the server logged for ``caller``'s calls (``voice said`` records)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if '"voice said"' not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("caller") == caller:
            out.append(" + ".join(rec.get("items", [])))
    return out


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_call(args))


def register(sub: Any) -> None:
    p = sub.add_parser("call", help="dial the voice service: keys as DTMF, what is heard "
                       "to a WAV file", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="sip:NUMBER@HOST:PORT (the terminal-emu connect options apply)")
    p.add_argument("--keys", default="", help="keys to type, groups separated by commas, "
                   "each typed once the server stops talking: 1110000001#,03071987")
    p.add_argument("--wav", type=Path, default=Path("call.wav"), help="what was heard")
    p.add_argument("--log", help="the server's JSON log: print the prompts it played")
    p.add_argument("--pause", type=float, default=0.8, help="silence (s) that ends a prompt")
    p.add_argument("--listen", type=float, default=20.0, help="seconds to listen at the end")
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(handler=main)
