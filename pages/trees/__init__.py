"""Page trees that come with the server: folders of ``.vdt`` pages and a ``tree.toml``,
served by :class:`videotex.pagetree.PageTreeService` (docs/page-trees.md).

``demo``: five pages, a menu of typed choices, a form, a help page; its pages are drawn
by ``make_demo.py``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO"]

#: The demo tree's folder.
DEMO = Path(__file__).resolve().parent / "demo"
