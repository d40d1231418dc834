"""The ``terminal-emu render`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal_emu.cli import main

PAGE = Path("/work/shared/vdt-samples/pynitel-E.ANNUAIRE.vtx")


def test_render_text_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(PAGE)]) == 0
    out = capsys.readouterr().out
    assert "RUBRIQUE" in out and len(out.splitlines()) == 25


def test_render_json_and_png(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    assert main(["render", str(PAGE), "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["rows"] == 25
    png = tmp_path / "p.png"
    assert main(["render", str(PAGE), "-f", "png", "-o", str(png), "--grey", "--model", "2"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_missing_file_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.vdt"
    assert main(["render", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such file" in err


def test_png_needs_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(PAGE), "-f", "png"]) == 2
    assert "-o" in capsys.readouterr().err


def test_disassemble_example() -> None:
    from terminal_emu import disassemble

    assert disassemble(bytes.fromhex("1F 45 59 1B 41 41 42 43 12 43")) == [
        "US r5 c25", "ESC fg red", 'TEXT "ABC"', "REP 3"]
