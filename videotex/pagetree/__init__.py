"""Page trees: a Teletel service made of ``.vdt`` pages and one ``tree.toml``, no code.

- ``model``     the tree as loaded: :class:`PageTree`, :class:`TreePage`, the
  :class:`Rendering` of each ``.vdt``, :class:`PageTreeError` and its :class:`Problem`\\ s
- ``load``      :func:`load_tree`: read, check (file and line for each problem), decode
- ``render``    a ``.vdt`` decoded once, the smaller right bytes chosen, framed to draw
  from any screen, decisions cached by hash
- ``tomllines`` line numbers for TOML keys (``tomllib`` gives none)
- ``service``   :class:`PageTreeService`, the :class:`~videotex.teletel.session.Service`
  of a tree, and its pages

The format is documented in ``docs/page-trees.md``; ``videotex page check DIR`` checks
a tree and says what each page costs on the wire. Like the session, nothing here does
I/O at call time: files are read once, by :func:`load_tree`.
"""

from __future__ import annotations

from .load import TREE_FILE, load_tree
from .model import Messages, PageTree, PageTreeError, Problem, Rendering, TreePage
from .service import PageTreeService, TreeView

__all__ = [
    "TREE_FILE",
    "Messages",
    "PageTree",
    "PageTreeError",
    "PageTreeService",
    "Problem",
    "Rendering",
    "TreePage",
    "TreeView",
    "load_tree",
]
