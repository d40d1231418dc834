"""``videotex page check DIR``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pagetree.conftest import DEMO, write_tree
from videotex.cli import main
from videotex.pagetree.render import CACHE_NAME


def test_check_prints_each_page_s_bytes_and_choice(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(CACHE_NAME))
    assert main(["page", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "tree 'DEMO', 5 pages, first page 'menu'" in out
    for name in ("menu", "meteo", "contact", "merci", "aide"):
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert f"{name}.vdt" in line and "framing" in line
        assert "original:" in line or "re-encoded:" in line
    assert "total:" in out
    assert (folder / CACHE_NAME).exists()
    assert main(["page", "check", "--no-cache", str(folder)]) == 0


def test_check_says_which_bytes_go_for_real_pages(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    samples = Path("/work/shared/vdt-samples")
    if not samples.exists():
        pytest.skip("no sample pages")
    toml = f"""name = "S"\nfirst = "a"\n[pages.a]\nvdt = "{samples}/minitel-server-3615_ulla_ulla.vdt"
[pages.a.keys]\nsuite = "b"\n[pages.b]\nvdt = "{samples}/miedit-france.vdt"\n"""
    assert main(["page", "check", str(write_tree(tmp_path, toml))]) == 0
    out = capsys.readouterr().out
    assert "re-encoded: 1011 -> 738 bytes" in out  # smaller, same screen: re-encoded
    assert "original: re-encoding is longer (549 > 517)" in out


def test_check_lists_errors_with_file_and_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_tree(tmp_path, 'name = "T"\nfirst = "zz"\n[pages.a]\nvdt = "a.vdt"\n')
    assert main(["page", "check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"error: {folder / 'tree.toml'}:2: first page 'zz'" in err
    assert f"error: {folder / 'tree.toml'}:4: page 'a': page file" in err
    assert "2 error(s)" in err
