"""The bundled page in a real headless Chromium (Playwright driving Debian's browser):
the home page appears on the canvas, typing and the on-page keys produce a result.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing.
CI installs them with ``apt-get install -y chromium`` and ``pip install playwright``
(never ``playwright install``: the system browser is used).
"""

from __future__ import annotations

import base64
import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import ELODIE, WsServer

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Where the screenshots go (kept for a person to look at; pytest's tmp dir by default).
SHOTS = os.environ.get("WS_SCREENSHOTS")

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


async def screen_shows(page: Any, text: str, timeout: float = 10_000) -> None:
    """Wait until the page's decoded screen shows ``text`` (normal or double width)."""
    doubled = "".join(ch * 2 for ch in text)
    try:
        await page.wait_for_function(
            "([a, b]) => { const t = window.minitel && window.minitel.screenText();"
            " return !!t && (t.includes(a) || t.includes(b)); }",
            arg=[text, doubled], timeout=timeout)
    except playwright_api.TimeoutError:
        screen = await page.evaluate("window.minitel ? window.minitel.screenText() : ''")
        raise AssertionError(f"the page never showed {text!r}; screen:\n{screen}") from None


async def cursor_at(page: Any, row: int, col: int) -> None:
    await page.wait_for_function(
        "([r, c]) => { const k = window.minitel && window.minitel.cursor();"
        " return !!k && k.row === r && k.col === c; }", arg=[row, col], timeout=10_000)


def shot(tmp_path: Path, name: str) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


async def test_home_page_then_result_in_the_browser(ws_server: WsServer, browser: Any,
                                                    tmp_path: Path) -> None:
    page = await browser.new_page(viewport={"width": 800, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(ws_server.http + "/")
    await screen_shows(page, "RESULTATS DES EXAMENS")
    await cursor_at(page, 10, 15)
    assert await page.evaluate("window.minitel.connected()")
    await page.locator("canvas.screen").screenshot(path=str(shot(tmp_path, "home.png")))

    numero, birth = ELODIE
    await page.keyboard.type(numero)
    await screen_shows(page, numero)
    await page.click("button[data-key=SUITE]")
    await page.keyboard.type(birth)
    await screen_shows(page, birth)
    await page.click("button[data-key=ENVOI]")
    await screen_shows(page, "Mention Très bien")
    await screen_shows(page, "ADMIS")
    await page.locator("canvas.screen").screenshot(path=str(shot(tmp_path, "result.png")))

    # the physical keyboard: Enter is Envoi, F9 Connexion/Fin
    await page.keyboard.press("F9")
    await screen_shows(page, "AU REVOIR")
    await page.wait_for_function("!window.minitel.connected()", timeout=10_000)
    stats = await page.evaluate("window.minitel.stats()")
    assert stats["received"] > 0 and stats["sent"] > 0
    assert errors == [], errors


async def test_page_answers_the_protocol_like_a_minitel_1b(ws_server: WsServer,
                                                          browser: Any) -> None:
    page = await browser.new_page()
    await page.goto(ws_server.http + "/")
    await screen_shows(page, "RESULTATS")
    await cursor_at(page, 10, 15)
    await page.keyboard.type("1")
    # the echo comes after the server has read everything the page sent before the digit
    await screen_shows(page, "1.........")
    (call,) = ws_server.board.calls
    replies = {k: r.data for k, r in call.session.ctx.facts.replies.items()}
    assert replies.get("enqrom") == b"Cu<"  # ENQROM answered 01 43 75 3C 04
    await page.close()


SAMPLES = Path("/work/shared/vdt-samples")


@dataclass
class Seen:
    """What one implementation made of a byte stream."""

    pixels: bytes
    cursor: tuple[int, int]
    visible: bool
    replies: bytes
    text: str


def python_sees(data: bytes) -> tuple[Seen, bool]:
    """The emulator's view (PNG render at scale 1), and whether DRCS glyphs were drawn."""
    from terminal_emu import Minitel
    from terminal_emu.render.png import render_image

    m = Minitel()
    m.feed(data)
    drcs = any(c.drcs for row in m.screen.cells for c in row)
    seen = Seen(render_image(m.screen, scale=1).tobytes(), m.cursor, m.cursor_visible,
                m.take_output(), m.render_text())
    return seen, drcs


async def browser_sees(page: Any, data: bytes) -> Seen:
    got = await page.evaluate("(b) => window.minitel.probe(b)", list(data))
    rgba = base64.b64decode(got["pixels"])
    from PIL import Image

    rgb = Image.frombytes("RGBA", (320, 250), rgba).convert("RGB").tobytes()
    return Seen(rgb, tuple(got["cursor"]), got["visible"], bytes(got["replies"]), got["text"])


def differences(ours: Seen, theirs: Seen) -> list[str]:
    out = []
    if ours.pixels != theirs.pixels:
        wrong = sum(ours.pixels[i:i + 3] != theirs.pixels[i:i + 3]
                    for i in range(0, len(ours.pixels), 3))
        out.append(f"{wrong} pixels differ")
    for name in ("cursor", "visible", "replies", "text"):
        if getattr(ours, name) != getattr(theirs, name):
            out.append(f"{name}: page {getattr(theirs, name)!r} != emulator "
                       f"{getattr(ours, name)!r}")
    return out


@pytest.fixture
async def probe_page(ws_server: WsServer, browser: Any) -> AsyncIterator[Any]:
    page = await browser.new_page()
    await page.goto(ws_server.http + "/")
    await page.wait_for_function("!!window.minitel")
    yield page
    await page.close()


async def test_canvas_draws_every_sample_page_like_the_png_render(probe_page: Any) -> None:
    """The page's JS Minitel and the Python emulator, two implementations of the reference,
    draw the same pixels for every real page (pages with downloaded glyphs excepted:
    the browser page does not draw DRCS)."""
    pages = sorted(p for p in SAMPLES.glob("*") if p.name != "README.md")
    if not pages:
        pytest.skip(f"no sample pages in {SAMPLES}")
    compared, differ = 0, []
    for sample in pages:
        data = sample.read_bytes()
        ours, drcs = python_sees(data)
        if drcs:
            continue
        compared += 1
        problems = differences(ours, await browser_sees(probe_page, data))
        if problems:
            differ.append(f"{sample.name}: {'; '.join(problems)}")
    assert compared >= 40, f"only {compared} of {len(pages)} pages without DRCS"
    assert differ == [], "\n".join(differ)


async def test_reference_vectors_in_the_page(probe_page: Any) -> None:
    """The 76 vectors of the reference §12: cursor and replies as the table says, and the
    same screen as the emulator."""
    from tests.emu.test_vectors import VECTORS

    failed = []
    for num, hexes, _cells, cursor, reply in VECTORS:
        data = bytes.fromhex(hexes)
        theirs = await browser_sees(probe_page, data)
        problems = differences(python_sees(data)[0], theirs)
        if theirs.cursor != cursor:
            problems.append(f"cursor {theirs.cursor} != {cursor} in the table")
        if reply and theirs.replies != bytes.fromhex(reply):
            problems.append(f"reply {theirs.replies.hex(' ')} != {reply} in the table")
        if problems:
            failed.append(f"vector {num}: {'; '.join(problems)}")
    assert failed == [], "\n".join(failed)


#: Bytes that exercise the parser: every C0, ESC/US/SS2/REP/CSI introducers and their usual
#: arguments, PRO sequences, printable G0.
_INTERESTING = (list(range(0x00, 0x20)) + [0x1B, 0x1F, 0x19, 0x12, 0x0E, 0x0F] * 3
                + [0x39, 0x3A, 0x3B, 0x5B, 0x40, 0x41, 0x48, 0x4D, 0x4E, 0x4F, 0x54, 0x58,
                   0x5A, 0x5D, 0x5F, 0x61, 0x69, 0x7B, 0x7F, 0x20, 0x20, 0x30, 0x3B]
                + list(range(0x20, 0x80)))


async def test_random_streams_give_the_same_screen(probe_page: Any) -> None:
    """Differential fuzz, bounded (seeded, 150 streams): whatever the bytes, the page and
    the emulator agree on pixels, cursor and replies, and the page never throws."""
    rng = random.Random(1987)
    failed = []
    for i in range(150):
        data = b"\x0c" + bytes(rng.choice(_INTERESTING) for _ in range(rng.randrange(1, 120)))
        problems = differences(python_sees(data)[0], await browser_sees(probe_page, data))
        if problems:
            failed.append(f"stream {i} {data.hex(' ')}: {'; '.join(problems)}")
    assert failed == [], "\n".join(failed[:5])
