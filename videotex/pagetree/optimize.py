"""The optimizer's decisions a tree still has to make, made page by page.

``load_tree(folder, optimize=False)`` returns as soon as every page is checked and
decoded: each page serves its original bytes, which draw the page (the re-encoding is
only ever chosen when it draws the same screen). The decisions that the cache did not
know are left in :attr:`PageTree.optimizer`, an :class:`Optimizer`: :meth:`Optimizer.run`
makes them one page after the other, each put in place as one value the moment it is
made (:meth:`~videotex.pagetree.model.Rendering.settle`), and writes the cache file once
the last is made, for the next load.

It owns no thread and no timer: whoever loaded the tree runs it where it fits.
``videotex serve`` calls :meth:`step` from its event loop, one decision (a few
milliseconds) between other work, so the optimizer and the sessions, which share the
encoder's tables, never run at once; ``page check`` runs it whole before it prints. It
may still be called from several threads: each page is decided once, and the cache is
written once, by whichever call makes the last decision.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from .render import Pending, RenderCache, settle

__all__ = ["Optimizer"]


class Optimizer:
    """Pending decisions of one tree (see the module docstring)."""

    def __init__(self, pending: Iterable[Pending], cache: RenderCache | None) -> None:
        self._todo = deque(pending)
        self._left = len(self._todo)
        self._total = self._left
        self._cache = cache
        self._lock = threading.Lock()
        self._done = threading.Event()
        #: Why the cache file was not written, if it was not (after the last decision).
        self.note = ""
        if not self._left:
            self._done.set()

    @property
    def total(self) -> int:
        """Decisions this optimizer had to make."""
        return self._total

    @property
    def remaining(self) -> int:
        """Decisions not made yet (being made included)."""
        return self._left

    @property
    def done(self) -> bool:
        """Every decision is made and in place (and the cache written, if any)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :attr:`done` (for a caller that runs :meth:`run` in a thread)."""
        return self._done.wait(timeout)

    def step(self) -> bool:
        """Make the next decision and put it in place; ``False`` when none is left."""
        with self._lock:
            if not self._todo:
                return False
            item = self._todo.popleft()
        settle(item, self._cache)
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            if self._cache is not None:
                self._cache.save()
                self.note = self._cache.note
            self._done.set()
        return True

    def run(self) -> None:
        """Make every decision left (then the cache file is written)."""
        while self.step():
            pass
