"""A tree loaded without waiting for the optimizer (``load_tree(optimize=False)``):
every page is served from the first call, as its author made it, drawing the page;
the optimizer's decisions then take effect page by page, each whole, and are written
to the cache for the next load."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from terminal_emu import Key, Minitel
from tests.helpers.harness import Caller
from tests.pagetree.conftest import SAMPLES, write_tree
from videotex.codec.cellmodel import compare
from videotex.gateway.directory import Directory, ServiceEntry
from videotex.gateway.setup import background_work, load_pages
from videotex.pagetree import PageTree, PageTreeService, load_tree
from videotex.pagetree.model import Choice
from videotex.pagetree.render import CACHE_NAME, clear_memory, frame_wire
from videotex.teletel import FakeClock

#: Re-encoded when decided (1011 -> 738 bytes), kept (re-encoding longer), re-encoded.
NAMES = ("minitel-server-3615_ulla_ulla.vdt", "miedit-france.vdt", "miedit-gigazertek.vdt")

pytestmark = pytest.mark.skipif(not all((SAMPLES / n).exists() for n in NAMES),
                                reason=f"no sample pages in {SAMPLES}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    lines = ['name = "LATER"', 'first = "p0"', ""]
    for i, name in enumerate(NAMES):
        (tmp_path / f"p{i}.vdt").write_bytes((SAMPLES / name).read_bytes())
        keys = [f'suite = "p{i + 1}"'] if i + 1 < len(NAMES) else []
        keys += [f'retour = "p{i - 1}"'] if i else []
        lines += [f"[pages.p{i}]", f'vdt = "p{i}.vdt"', f"[pages.p{i}.keys]", *keys, ""]
    clear_memory()  # decisions of other tests: not this one's
    return write_tree(tmp_path, "\n".join(lines))


def _rows_1_24(m: Minitel) -> list[list[dict[str, object]]]:
    return [list(r) for r in m.snapshot()["cells"][1:]]


def _original_screen(data: bytes, model: str) -> list[list[dict[str, object]]]:
    m = Minitel(model)
    m.feed(data)
    return _rows_1_24(m)


def _walk(tree: PageTree, model: str) -> list[bytes]:
    """A caller pages through the tree with Suite; each page must show its original
    screen. The bytes each page went out as."""
    c = Caller(PageTreeService(tree), FakeClock(), model=model)
    sent = []
    for i in range(len(NAMES)):
        if i:
            c.press(Key.SUITE)
        page = tree.page(f"p{i}")
        wire = page.rendering.wire
        assert wire in c.last, page.name
        assert not compare(_original_screen(page.rendering.original, model),
                           _rows_1_24(c.minitel)), page.name
        sent.append(wire)
    return sent


def _decisions(tree: PageTree) -> dict[str, Choice]:
    return {name: page.rendering.choice for name, page in tree.pages.items()}


def test_pages_are_served_as_made_at_once_then_as_decided(folder: Path) -> None:
    tree = load_tree(folder, optimize=False)
    optimizer = tree.optimizer
    assert optimizer is not None and optimizer.total == optimizer.remaining == 3
    assert not (folder / CACHE_NAME).exists()  # written once the decisions are made
    for page in tree.pages.values():
        r = page.rendering
        assert not r.decided and not r.reencoded and r.body == r.original
        assert r.wire == frame_wire(r.original, r.frame)[0]
        assert "not decided yet" in r.reason
    before = {model: _walk(tree, model) for model in ("1B", "2")}
    assert before["1B"] == before["2"] == [p.rendering.wire for p in tree.pages.values()]

    optimizer.run()
    assert optimizer.done and optimizer.remaining == 0
    decided = load_tree(folder, cache=False)  # the same decisions, made before returning
    assert decided.optimizer is None
    for name, page in tree.pages.items():
        r, s = page.rendering, decided.page(name).rendering
        assert r.decided and r.frame == s.frame
        assert (r.body, r.reencoded, r.reason, r.wire) == (s.body, s.reencoded, s.reason,
                                                           s.wire)
    assert [p.rendering.reencoded for p in tree.pages.values()] == [True, False, True]
    for model in ("1B", "2"):  # re-encoded pages go out smaller, drawing the same screen
        after = _walk(tree, model)
        assert [len(a) < len(b) for a, b in zip(after, before[model], strict=True)] == [
            True, False, True]

    # written for the next load, which has nothing left to decide
    pages = json.loads((folder / CACHE_NAME).read_text())["pages"]
    assert len(pages) == 3
    clear_memory()
    again = load_tree(folder, optimize=False)
    assert again.optimizer is None
    assert {n: c.wire for n, c in _decisions(again).items()} == {
        n: c.wire for n, c in _decisions(tree).items()}


def test_each_decision_takes_effect_alone_and_whole(folder: Path) -> None:
    tree = load_tree(folder, optimize=False)
    assert tree.optimizer is not None
    c = Caller(PageTreeService(tree), FakeClock())
    first = tree.page("p0").rendering
    held = first.choice  # what a reader took before the decision
    assert first.wire in c.last
    assert tree.optimizer.step()
    assert first.decided and first.reencoded and first.choice is not held
    assert not held.decided and held.body == first.original  # never edited
    assert [p.rendering.decided for p in tree.pages.values()] == [True, False, False]
    c.press(Key.REPETITION)  # the page again: now its decision
    assert first.wire in c.last and first.body != first.original
    assert not compare(_original_screen(first.original, "1B"), _rows_1_24(c.minitel))
    with pytest.raises(ValueError, match="decided already"):
        first.settle(first.choice)
    assert not (folder / CACHE_NAME).exists()
    tree.optimizer.run()
    assert (folder / CACHE_NAME).exists() and tree.optimizer.done


def test_two_threads_make_each_decision_once(folder: Path) -> None:
    tree = load_tree(folder, optimize=False)
    optimizer = tree.optimizer
    assert optimizer is not None
    failures: list[BaseException] = []

    def run() -> None:
        try:
            optimizer.run()
        except BaseException as exc:  # a second decision raises: the test reports it
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and optimizer.done and optimizer.wait(0)
    assert all(p.rendering.decided for p in tree.pages.values())
    assert len(json.loads((folder / CACHE_NAME).read_text())["pages"]) == 3


def test_the_server_leaves_the_decisions_to_background_work(folder: Path) -> None:
    service = load_pages(folder, "3615 LATER", "test")
    directory = Directory()
    directory.add(ServiceEntry("LATER", "Later", "pages", service, None, ""))
    work = background_work(directory)
    assert len(work) == 1
    assert not any(p.rendering.decided for p in service.tree.pages.values())
    assert work[0]()  # one decision a call, and more to make
    assert [p.rendering.decided for p in service.tree.pages.values()] == [True, False, False]
    while work[0]():
        pass
    assert all(p.rendering.decided for p in service.tree.pages.values())
    assert (folder / CACHE_NAME).exists()
    assert background_work(directory) == []
    assert background_work(None) == []
