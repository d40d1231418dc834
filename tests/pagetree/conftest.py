"""Helpers for page-tree tests: a folder holding a ``tree.toml`` and small pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from videotex.codec import Color, Frame, encode_frame

DEMO = Path(__file__).resolve().parents[2] / "pages" / "trees" / "demo"
SAMPLES = Path("/work/shared/vdt-samples")


def page_bytes(title: str, *, bg: Color = Color.BLUE) -> bytes:
    """A small page, as an editor would save it: a band and a title."""
    f = Frame()
    f.fill(1, 1, 40, bg=bg)
    f.text(1, 2, title, fg=Color.YELLOW, bg=bg)
    f.text(10, 2, f"Page {title}")
    return encode_frame(f)


def write_tree(folder: Path, toml: str, pages: dict[str, bytes] | None = None) -> Path:
    """``folder`` with ``tree.toml`` holding ``toml`` and the given ``.vdt`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tree.toml").write_text(toml, encoding="utf-8")
    for name, data in (pages or {}).items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def two_pages() -> dict[str, bytes]:
    return {"a.vdt": page_bytes("A"), "b.vdt": page_bytes("B", bg=Color.RED)}
