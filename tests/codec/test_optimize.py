"""``videotex page optimize`` over every real sample page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cellmodel import assert_same_screen
from videotex.cli import main
from videotex.cli.page import TERMINAL_COLS, optimize_page
from videotex.codec.frame import BLANK_SPACE

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "vdt-samples"
PAGES = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")

pytestmark = pytest.mark.skipif(not PAGES, reason=f"no sample pages in {SAMPLES}")


def _screen(data: bytes) -> tuple[list[list[dict[str, object]]], dict[str, object]]:
    from terminal_emu import Minitel

    m = Minitel()
    m.feed(data)
    snap = m.snapshot()
    cells = [list(r) for r in snap["cells"]]
    for c in TERMINAL_COLS:
        cells[0][c - 1] = BLANK_SPACE.to_dict()
    cur = snap["cursor"]
    return cells, (cur if cur["visible"] else {"visible": False})


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_optimized_page_draws_the_same_screen_in_no_more_bytes(page: Path) -> None:
    data = page.read_bytes()
    result = optimize_page(data)
    assert len(result.data) <= len(data)
    before, after = _screen(data), _screen(result.data)
    assert_same_screen(before[0], after[0], page.name)
    assert before[1] == after[1]
    assert result.optimized or result.data == data


def test_total_output_is_at_most_90_percent_of_input() -> None:
    total_in = sum(len(p.read_bytes()) for p in PAGES)
    total_out = sum(len(optimize_page(p.read_bytes()).data) for p in PAGES)
    assert total_out <= 0.90 * total_in, f"{total_out} / {total_in}"


def test_cli_writes_output_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = SAMPLES / "minitel-server-3615_jcc_menu_menu.vdt"
    out = tmp_path / "menu.vdt"
    assert main(["page", "optimize", str(src), "-o", str(out)]) == 0
    assert out.exists() and len(out.read_bytes()) <= len(src.read_bytes())
    assert "menu_menu.vdt" in capsys.readouterr().out


def test_cli_names_the_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.vdt"
    assert main(["page", "optimize", str(missing), "-o", str(tmp_path / "o.vdt")]) == 2
    assert "nope.vdt" in capsys.readouterr().err


def test_cli_names_the_unwritable_output(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = SAMPLES / "miedit-0.vdt"
    assert main(["page", "optimize", str(src), "-o", str(tmp_path / "no" / "o.vdt")]) == 2
    assert "o.vdt" in capsys.readouterr().err


def test_page_the_emulator_cannot_hand_over_is_copied() -> None:
    # DRCS glyphs have no G0/G2 code: the page is kept as it is
    drcs = SAMPLES / "miedit-minitel-wants-you.vdt"
    data = drcs.read_bytes()
    result = optimize_page(data)
    assert not result.optimized and result.data == data and "re-encoded" in result.reason
