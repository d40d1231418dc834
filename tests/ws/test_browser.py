"""The bundled page in a real headless Chromium (Playwright driving Debian's browser):
the home page appears on the canvas, typing and the on-page keys produce a result.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing.
CI installs them with ``apt-get install -y chromium`` and ``pip install playwright``
(never ``playwright install``: the system browser is used).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
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
    replies = {r.kind: r.data for r in call.session.ctx.facts.get("replies", [])}
    assert replies.get("enqrom") == b"Cu<"  # ENQROM answered 01 43 75 3C 04
    await page.close()


SAMPLES = Path("/work/shared/vdt-samples")


def _python_pixels(data: bytes) -> tuple[bytes, bool]:
    """RGB pixels of the emulator's PNG render (scale 1), and whether DRCS were drawn."""
    from terminal_emu import Minitel
    from terminal_emu.render.png import render_image

    m = Minitel()
    m.feed(data)
    drcs = any(c.drcs for row in m.screen.cells for c in row)
    return render_image(m.screen, scale=1).tobytes(), drcs


async def test_canvas_draws_every_sample_page_like_the_png_render(
        ws_server: WsServer, browser: Any) -> None:
    """The page's JS Minitel and the Python emulator, two implementations of the reference,
    draw the same pixels for every real page (pages with downloaded glyphs excepted:
    the browser page does not draw DRCS)."""
    import base64

    pages = sorted(p for p in SAMPLES.glob("*") if p.name != "README.md")
    if not pages:
        pytest.skip(f"no sample pages in {SAMPLES}")
    page = await browser.new_page()
    await page.goto(ws_server.http + "/")
    await page.wait_for_function("!!window.minitel")
    compared, differ = 0, []
    for sample in pages:
        data = sample.read_bytes()
        expected, drcs = _python_pixels(data)
        if drcs:
            continue
        rgba = base64.b64decode(await page.evaluate("(b) => window.minitel.renderBytes(b)",
                                                    list(data)))
        rgb = bytes(b for i, b in enumerate(rgba) if i % 4 != 3)
        compared += 1
        if rgb != expected:
            wrong = sum(rgb[i:i + 3] != expected[i:i + 3] for i in range(0, len(rgb), 3))
            differ.append(f"{sample.name}: {wrong} pixels differ")
    print(f"compared {compared} of {len(pages)} pages")
    assert compared >= 40, compared
    assert differ == [], "\n".join(differ)
