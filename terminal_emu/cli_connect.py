"""``terminal-emu connect URL``: a Minitel in your terminal.

The screen is drawn with the ANSI render (24-bit colour) on the alternate screen and
redrawn when the server sends something. The local terminal is in raw mode; keys map to
the Minitel keyboard:

=================  =====================  ==================================
Minitel key        key                    alternative
=================  =====================  ==================================
Envoi              Enter                  F8
Retour             Shift+Tab              F4
Répétition         Ctrl+R                 F5
Guide              F1                     Ctrl+G
Annulation         Ctrl+X                 F3
Sommaire           F2                     Ctrl+O
Correction         Backspace              F7
Suite              Tab                    F6
Connexion/Fin      F10                    Ctrl+D
cursor keys        arrows                 (extended keyboard only)
quit the emulator  Ctrl+C                 (hangs up)
=================  =====================  ==================================

Printable text, accents included, is typed as on a Minitel (é becomes SS2 sequences).

``sip:NUMBER@HOST:PORT`` places a phone call, as a Minitel plugged into an internet
box's phone socket: SIP over UDP, RTP in G.711, the Minitel's own V.23 modem (answer tone,
then 1200 baud down, 75 baud up). Options: ``?from=NUMBER`` (the caller's number; default
0199000000, a number kept for fiction; ``anonymous`` hides it), ``pai=NUMBER``
(P-Asserted-Identity), ``codec=pcmu``, ``pcma`` or ``pcma,pcmu`` (offered in that order),
``bind=ADDRESS`` (local address), e.g. ``sip:3615@127.0.0.1:5060?from=0612345678``.
The call's progress (dialing, ringing, answer tone heard, connected, carrier lost) is
printed while dialing, then shown on the line under the screen. Connexion/Fin pressed
twice in a row hangs up (the first press goes to the server), so does Ctrl+C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import termios
import tty
from typing import Any

from .client import ConnectError, MinitelClient
from .keyboard import Key

__all__ = ["KEYMAP", "parse_keys", "register"]

#: Local terminal input → Minitel key. Longest sequences first when matching.
KEYMAP: dict[bytes, Key | None] = {
    b"\r": Key.ENVOI, b"\n": Key.ENVOI, b"\x1b[19~": Key.ENVOI,
    b"\x1b[Z": Key.RETOUR, b"\x1bOS": Key.RETOUR,
    b"\x12": Key.REPETITION, b"\x1b[15~": Key.REPETITION,
    b"\x1bOP": Key.GUIDE, b"\x07": Key.GUIDE,
    b"\x18": Key.ANNULATION, b"\x1bOR": Key.ANNULATION,
    b"\x1bOQ": Key.SOMMAIRE, b"\x0f": Key.SOMMAIRE,
    b"\x7f": Key.CORRECTION, b"\x08": Key.CORRECTION, b"\x1b[18~": Key.CORRECTION,
    b"\t": Key.SUITE, b"\x1b[17~": Key.SUITE,
    b"\x1b[21~": Key.CONNEXION_FIN, b"\x04": Key.CONNEXION_FIN,
    b"\x1b[A": Key.UP, b"\x1b[B": Key.DOWN, b"\x1b[C": Key.RIGHT, b"\x1b[D": Key.LEFT,
    b"\x03": None,  # Ctrl+C: quit
}
_SEQUENCES = sorted(KEYMAP, key=len, reverse=True)

HELP = ("Envoi=Enter Suite=Tab Retour=Shift+Tab Correction=Bksp Annulation=^X "
        "Guide=F1 Sommaire=F2 Répétition=^R Fin=F10  quit=^C")


def parse_keys(data: bytes) -> list[Key | str | None]:
    """Split local terminal input into Minitel keys, text, and ``None`` (quit)."""
    out: list[Key | str | None] = []
    text = bytearray()
    i = 0
    while i < len(data):
        for seq in _SEQUENCES:
            if data.startswith(seq, i):
                if text:
                    out.append(text.decode("utf-8", "replace"))
                    text.clear()
                out.append(KEYMAP[seq])
                i += len(seq)
                break
        else:
            b = data[i]
            if b == 0x1B:  # an unknown escape sequence: drop it whole
                j = i + 1
                if j < len(data) and data[j] in b"[O":
                    j += 1
                    while j < len(data) and not (0x40 <= data[j] <= 0x7E):
                        j += 1
                    j += 1
                i = j
                continue
            if b >= 0x20:
                text.append(b)
            i += 1
    if text:
        out.append(text.decode("utf-8", "replace"))
    return out


def register(sub: Any) -> None:
    p = sub.add_parser("connect", help="connect to a Minitel server and use it interactively",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="telnet://HOST:PORT, raw://HOST:PORT, ssh://USER@HOST:PORT, "
                   "ws://HOST:PORT/PATH, serial:///dev/PORT?baud=1200, "
                   "sip:NUMBER@HOST:PORT?from=NUMBER&codec=pcma&bind=ADDRESS")
    p.add_argument("--model", default="1B", choices=("1B", "2"))
    p.add_argument("--grey", action="store_true", help="the 8 grey levels of a monochrome CRT")
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty():
        print("terminal-emu connect: needs an interactive terminal "
              "(use the scripted client terminal_emu.client.MinitelClient otherwise)",
              file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args.url, args.model, args.grey))
    except ConnectError as e:
        print(f"terminal-emu connect: {e}", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _progress_on_stderr() -> Any:
    """A phone call's progress printed while dialing (before the screen takes the terminal)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    sip_log = logging.getLogger("terminal_emu.sip")
    level = sip_log.level
    sip_log.addHandler(handler)
    sip_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        sip_log.removeHandler(handler)
        sip_log.setLevel(level)


async def _run(url: str, model: str, grey: bool) -> int:
    with _progress_on_stderr():
        client = await MinitelClient.connect(url, model=model)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    out = sys.stdout
    dirty = asyncio.Event()
    quit_ = asyncio.Event()
    client.on_data = lambda _data: dirty.set()
    loop = asyncio.get_running_loop()

    def on_input() -> None:
        data = os.read(fd, 1024)
        for item in parse_keys(data):
            if item is None:
                quit_.set()
            elif isinstance(item, Key):
                client.minitel.press(item)
            else:
                client.minitel.type(item)
        client.flush_keys()
        dirty.set()

    try:
        tty.setraw(fd)
        out.write("\x1b[?1049h\x1b[?25l")
        loop.add_reader(fd, on_input)
        dirty.set()
        while not quit_.is_set() and not client.closed:
            waiter = asyncio.ensure_future(dirty.wait())
            stopper = asyncio.ensure_future(quit_.wait())
            await asyncio.wait({waiter, stopper}, timeout=1.0,
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
            dirty.clear()
            _draw(out, client, grey)
    finally:
        loop.remove_reader(fd)
        out.write("\x1b[0m\x1b[?25h\x1b[?1049l")
        out.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        with contextlib.suppress(Exception):
            await client.close()
    status = client.transport.status
    print(("disconnected" if client.closed else "hung up") + (f": {status}" if status else ""))
    return 0


def _draw(out: Any, client: MinitelClient, grey: bool) -> None:
    from .render.ansi import render_ansi

    lines = render_ansi(client.minitel.screen, grey=grey).split("\n")
    row, col = client.minitel.cursor
    status = client.transport.status
    frame = ("\x1b[H" + "\r\n".join(lines) + "\x1b[0m\r\n\x1b[2K" + HELP
             + (f"\r\n\x1b[2K[{status}]" if status else ""))
    if client.minitel.cursor_visible:
        frame += f"\x1b[{row + 1};{col}H\x1b[?25h"
    else:
        frame += "\x1b[?25l"
    out.write(frame)
    out.flush()
