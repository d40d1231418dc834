"""Page trees: a Teletel service made of ``.vdt`` pages and one ``tree.toml``, no code.

- ``model``     the tree as loaded: :class:`PageTree`, :class:`TreePage`, the
  :class:`Rendering` of each ``.vdt``, :class:`PageTreeError` and its :class:`Problem`\\ s
- ``load``      :func:`load_tree`: read, check (file and line for each problem), decode
- ``render``    a ``.vdt`` decoded once, the smaller right bytes chosen, framed to draw
  from any screen, decisions cached by hash
- ``optimize``  :class:`~.optimize.Optimizer`: the decisions a tree loaded with
  ``optimize=False`` still has to make, put in place page by page
- ``tomllines`` line numbers for TOML keys (``tomllib`` gives none)
- ``service``   :class:`PageTreeService`, the :class:`~videotex.teletel.session.Service`
  of a tree, and its pages

The format is documented in ``docs/page-trees.md``; ``videotex page check DIR`` checks
a tree and says what each page costs on the wire. Like the session, nothing here does
I/O at call time: files are read once, by :func:`load_tree`, and the cache file is
written by it or by the optimizer, which the server runs in a thread of its own.
"""

from __future__ import annotations

from .load import TREE_FILE, load_tree
from .model import Choice, Messages, PageTree, PageTreeError, Problem, Rendering, TreePage
from .optimize import Optimizer
from .service import PageTreeService, TreeView

__all__ = [
    "TREE_FILE",
    "Choice",
    "Messages",
    "Optimizer",
    "PageTree",
    "PageTreeError",
    "PageTreeService",
    "Problem",
    "Rendering",
    "TreePage",
    "TreeView",
    "load_tree",
]
