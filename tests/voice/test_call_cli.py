"""``videotex call`` against a real ``videotex serve --sip ... --voice 3617`` process: the
keypad's tones reach the voice menu, what was heard is in the WAV file, and the prompts
the server played on this call are printed from its log."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from tests.helpers.processes import VIDEOTEX
from tests.helpers.results import ELODIE
from tests.phone.conftest import free_rtp_range

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng (Debian) is needed for the voice prompts")


def test_videotex_call_consults_by_voice(store_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    store = tmp_path / "store"
    shutil.copytree(store_dir, store)
    server = subprocess.Popen(
        [VIDEOTEX, "serve", "--store", str(store), "--log", "json",
         "--sip", f"127.0.0.1:0,transport=udp,rtp_ports={free_rtp_range()}",
         "--voice", "3617", "--metrics-dir", str(tmp_path / "m")],
        stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    try:
        assert server.stdout is not None
        port = 0
        for line in server.stdout:
            if line.startswith("listening sip://"):
                port = int(line.split(":")[-1].split(";")[0])
                break
        assert port, log.read_text()
        wav = tmp_path / "heard.wav"
        done = subprocess.run(
            [VIDEOTEX, "call", f"sip:3617@127.0.0.1:{port}?from=0320999999",
             "--keys", f"{ELODIE[0]}#,{ELODIE[1]}", "--wav", str(wav), "--log", str(log),
             "--listen", "10"],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert f"typed {ELODIE[0]}#" in out and f"typed {ELODIE[1]}" in out
        assert "said: welcome + ask_number" in out
        assert "said: ask_birth" in out
        assert "said: result_intro + Élodie Dupont. + outcome_admis + mention_tb" in out, out
        with wave.open(str(wav)) as w:
            assert w.getframerate() == 8000 and w.getnframes() > 8000 * 5
    finally:
        server.terminate()
        server.wait(30)
