"""A tree made of the 61 real sample pages (../shared/vdt-samples, read in place): every
page the session shows draws the same screen as its ``.vdt`` on a fresh Minitel.

The session shows a page after another one (its bytes framed to draw from any screen),
with the status row on row 0: rows 1–24 must be the original's, cell for cell
(normalised), row 0 the status line, the cursor hidden (the pages have no fields).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal_emu import Key, Minitel
from tests.helpers.harness import Caller
from tests.pagetree.conftest import SAMPLES, write_tree
from videotex.codec.cellmodel import compare
from videotex.pagetree import PageTree, PageTreeService, load_tree
from videotex.teletel import FakeClock

PAGES = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")

pytestmark = pytest.mark.skipif(len(PAGES) < 2, reason=f"no sample pages in {SAMPLES}")


def sample_tree_toml(pages: list[Path]) -> str:
    """Pages p00, p01... in a chain: Suite to the next, Retour to the one before."""
    lines = ['name = "SAMPLES"', 'first = "p00"', ""]
    for i, page in enumerate(pages):
        lines += [f"[pages.p{i:02d}]", f"vdt = {json.dumps(str(page))}"]
        keys = []
        if i + 1 < len(pages):
            keys.append(f'suite = "p{i + 1:02d}"')
        if i > 0:
            keys.append(f'retour = "p{i - 1:02d}"')
        lines += [f"[pages.p{i:02d}.keys]", *keys, ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> PageTree:
    folder = write_tree(tmp_path_factory.mktemp("samples"), sample_tree_toml(PAGES))
    return load_tree(folder)


def _rows_1_24(screen: object) -> list[list[dict[str, object]]]:
    cells = screen["cells"] if isinstance(screen, dict) else screen.to_cell_dicts()  # type: ignore[attr-defined]
    return [list(r) for r in cells[1:]]


def _original(data: bytes, model: str) -> dict[str, object]:
    m = Minitel(model)
    m.feed(data)
    return m.snapshot()


def test_every_sample_page_is_in_the_tree_with_no_problem(tree: PageTree) -> None:
    assert len(tree.pages) == len(PAGES) == 61
    assert not [w for w in tree.warnings if "cannot be reached" in w.message]
    chosen = sum(len(p.rendering.body) for p in tree.pages.values())
    original = sum(len(p.rendering.original) for p in tree.pages.values())
    assert chosen <= 0.9 * original
    assert any(p.rendering.reencoded for p in tree.pages.values())
    assert any(not p.rendering.reencoded for p in tree.pages.values())


@pytest.mark.parametrize("model", ["1B", "2"])
def test_each_page_shown_by_the_session_draws_the_original_screen(tree: PageTree,
                                                                   model: str) -> None:
    c = Caller(PageTreeService(tree), FakeClock(), model=model)
    mismatches = []
    for i, path in enumerate(PAGES):
        if i:
            c.press(Key.SUITE)
        spec = tree.page(f"p{i:02d}")
        # after the start commands (echo off, ENQROM) for the first page
        assert spec.rendering.wire in c.last[:len(spec.rendering.wire) + 8], path.name
        snap = c.minitel.snapshot()
        diff = compare(_rows_1_24(_original(path.read_bytes(), model)), _rows_1_24(snap), 3)
        if diff:
            mismatches.append(f"{path.name} on a Minitel {model}: " + "; ".join(diff))
        assert c.row(0).startswith(" 3615 SAMPLES  00:00"), path.name
        assert not c.minitel.cursor_visible, path.name
    assert not mismatches, "\n".join(mismatches)


def test_repetition_and_retour_draw_the_page_again(tree: PageTree) -> None:
    c = Caller(PageTreeService(tree), FakeClock())
    for _ in range(20):
        c.press(Key.SUITE)
    for key, name in ((Key.REPETITION, "p20"), (Key.RETOUR, "p19"), (Key.RETOUR, "p18")):
        c.press(key)
        path = tree.page(name).vdt
        assert not compare(_rows_1_24(_original(path.read_bytes(), "1B")),
                           _rows_1_24(c.minitel.snapshot())), (key, name)
