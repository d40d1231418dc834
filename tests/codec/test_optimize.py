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


def _screen(data: bytes, model: str) -> tuple[list[list[dict[str, object]]], dict[str, object]]:
    from terminal_emu import Minitel

    m = Minitel(model)
    m.feed(data)
    snap = m.snapshot()
    cells = [list(r) for r in snap["cells"]]
    for c in TERMINAL_COLS:
        cells[0][c - 1] = BLANK_SPACE.to_dict()
    return cells, snap["cursor"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_optimized_page_draws_the_same_screen_in_no_more_bytes(page: Path) -> None:
    """On a Minitel 1B and a Minitel 2 alike; the cursor is handed over where the
    original left it, hidden or not."""
    data = page.read_bytes()
    result = optimize_page(data)
    assert len(result.data) <= len(data)
    for model in ("1B", "2"):
        before, after = _screen(data, model), _screen(result.data, model)
        assert_same_screen(before[0], after[0], f"{page.name} on a Minitel {model}")
        assert before[1] == after[1], f"{page.name} on a Minitel {model}"
    assert result.optimized or result.data == data


def test_a_hidden_cursor_is_handed_over_where_the_page_left_it() -> None:
    # a page that ends with its (hidden) cursor at r12c5, after text elsewhere
    data = b"\x0c\x14" + b"\x1f\x45\x41" + b"Bonjour tout le monde" * 3 + b"\x1f\x4c\x45"
    result = optimize_page(data)
    assert result.optimized
    assert _screen(result.data, "1B")[1] == {"row": 12, "col": 5, "visible": False}


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


def test_page_with_downloaded_characters_is_copied() -> None:
    # a 1B draws no DRCS (vector 74), a Minitel 2 does: re-encoding from the 1B's screen
    # would change what a Minitel 2 shows, so the page is kept as it is
    drcs = SAMPLES / "miedit-minitel-wants-you.vdt"
    data = drcs.read_bytes()
    result = optimize_page(data)
    assert not result.optimized and result.data == data and "Minitel 2" in result.reason
