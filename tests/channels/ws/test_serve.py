"""``videotex serve --ws HOST:PORT`` as a real process: it announces the page and the
endpoint, serves a consultation over ws://, and SIGTERM says goodbye."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from terminal_emu.client import MinitelClient
from tests.helpers.callers import at_home, send_form
from videotex.channels.web.make_font import FONT_JS, font_js

from .conftest import ELODIE

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))


async def test_serve_ws_end_to_end(store_dir: Path, tmp_path: Path) -> None:
    with (tmp_path / "server.log").open("w") as err:
        proc = subprocess.Popen(
            [VIDEOTEX, "serve", "--store", str(store_dir), "--ws", "127.0.0.1:0",
             "--metrics-dir", str(tmp_path / "metrics")],
            stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert proc.stdout is not None
        urls: list[str] = []
        while not any(u.startswith("ws://") for u in urls):
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
            assert line, f"serve ended early: {(tmp_path / 'server.log').read_text()}"
            if line.startswith("listening "):
                urls.append(line.split()[1])
        http, ws = urls
        assert http.startswith("http://127.0.0.1:") and http.endswith("/")
        assert ws == http.replace("http://", "ws://") + "ws"
        t = await MinitelClient.connect(ws)
        await at_home(t)
        await send_form(t, *ELODIE)
        await t.wait_for_text("Mention Très bien")
        proc.send_signal(signal.SIGTERM)
        await t.wait_for_text("AU REVOIR", timeout=10)
        await t.wait_closed(timeout=10)
        assert await asyncio.wait_for(asyncio.to_thread(proc.wait), 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_committed_font_matches_the_emulator_glyphs() -> None:
    assert FONT_JS.read_text(encoding="utf-8") == font_js(), (
        "font.js is out of date: run .venv/bin/python -m videotex.channels.web.make_font")
