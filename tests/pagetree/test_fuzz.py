"""Whatever a ``tree.toml`` holds, ``load_tree`` gives a tree or a ``PageTreeError``
whose problems point at lines of the file; the line finder never fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pagetree.conftest import page_bytes, write_tree
from videotex.pagetree import PageTree, PageTreeError, load_tree
from videotex.pagetree.tomllines import TomlLines

NAMES = ["a", "b", "c", "menu", "é", "1", '"x y"', "'q'"]
KEYS = ["name", "first", "help", "goodbye", "message_row", "vdt", "row", "col", "length",
        "allowed", "chars", "required", "filler", "upper", "choice", "envoi", "suite",
        "retour", "guide", "sommaire", "fin", "Répétition", "wrong_choice", "1", "2", "x"]
HEADERS = ["[pages.{p}]", "[[pages.{p}.fields]]", "[pages.{p}.keys]", "[pages.{p}.choices]",
           "[messages]", "[pages]", "[pages.{p}.fields]", "[[pages]]"]

scalar = st.one_of(
    st.integers(-3, 45).map(str),
    st.sampled_from(['"a"', '"b"', '"a.vdt"', '"b.vdt"', '"nope.vdt"', '"."', '""', "true",
                     '"digits"', '"letters"', '"any"', '"ON"', "1.5", "1979-05-27",
                     '"' + "x" * 45 + '"', "'lit'", '"""multi\nline"""', '"\\u00e9"']),
)
value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=3).map(
        lambda kvs: "{ " + ", ".join(f"{k} = {v}" for k, v in kvs) + " }"),
), max_leaves=6)
line = st.one_of(
    st.tuples(st.sampled_from(KEYS), value).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.tuples(st.sampled_from(HEADERS), st.sampled_from(NAMES)).map(
        lambda hp: hp[0].format(p=hp[1])),
    st.sampled_from(["", "# comment", 'pages.a.vdt = "a.vdt"', "name = 'T'", 'first = "a"']),
    st.text(max_size=12),
)
lines_of_text = st.lists(line, max_size=25).map("\n".join)

page_name = st.sampled_from(["a", "b", "c"])
small = st.one_of(st.integers(-1, 42), st.sampled_from(['"3"', "true"]))
field_table = st.fixed_dictionaries(
    {"name": st.sampled_from(['"x"', '"y"']), "row": small, "col": small, "length": small},
    optional={"allowed": st.sampled_from(['"digits"', '"any"', '"words"']),
              "chars": st.sampled_from(['"ON"', '""']), "required": st.sampled_from(["true", "1"])},
)
page_table = st.fixed_dictionaries(
    {"vdt": st.sampled_from(['"a.vdt"', '"b.vdt"', '"nope.vdt"', "3"])},
    optional={
        "fields": st.lists(field_table, max_size=2),
        "keys": st.dictionaries(st.sampled_from(["envoi", "suite", "Guide", "fin", "zap"]),
                                page_name.map(lambda n: f'"{n}"'), max_size=3),
        "choices": st.dictionaries(st.sampled_from(["1", "2", '"10"', "A"]),
                                   page_name.map(lambda n: f'"{n}"'), max_size=2),
        "message_row": small,
    },
)


def _tree_text(top: dict[str, str], pages: dict[str, dict[str, object]]) -> str:
    """A well-formed TOML document (the checks, not the parser, have work to do)."""
    out = [f"{k} = {v}" for k, v in top.items()]
    for name, page in pages.items():
        out.append(f"[pages.{name}]")
        out += [f"{k} = {v}" for k, v in page.items() if isinstance(v, str)]
        for f in page.get("fields", []):  # type: ignore[attr-defined]
            out.append(f"[[pages.{name}.fields]]")
            out += [f"{k} = {v}" for k, v in f.items()]
        for table in ("keys", "choices"):
            if table in page:
                out.append(f"[pages.{name}.{table}]")
                out += [f"{k} = {v}" for k, v in page[table].items()]  # type: ignore[attr-defined]
    return "\n".join(out)


trees = st.builds(
    _tree_text,
    st.fixed_dictionaries({"name": st.just('"T"'), "first": page_name.map(lambda n: f'"{n}"')},
                          optional={"help": page_name.map(lambda n: f'"{n}"')}),
    st.dictionaries(page_name, page_table, min_size=1, max_size=3),
)
documents = st.one_of(lines_of_text, trees)

@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small pages; each example writes its own tree.toml there."""
    return write_tree(tmp_path_factory.mktemp("fuzz"), "",
                      {"a.vdt": page_bytes("A"), "b.vdt": page_bytes("B")})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents)
def test_any_document_gives_a_tree_or_a_page_tree_error(folder: Path, text: str) -> None:
    (folder / "tree.toml").write_text(text, encoding="utf-8")
    last = text.count("\n") + 1
    try:
        tree = load_tree(folder)
    except PageTreeError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert 1 <= problem.line <= last, problem
            assert str(problem).startswith(f"{problem.file}:{problem.line}: ")
        return
    assert isinstance(tree, PageTree) and tree.first in tree.pages


@settings(max_examples=300, deadline=None)
@given(st.one_of(documents, st.text()), st.lists(st.one_of(st.text(max_size=3),
                                                           st.integers(0, 3)), max_size=4))
def test_the_line_finder_never_fails(text: str, path: list[str | int]) -> None:
    lines = TomlLines(text)
    assert 1 <= lines.line_of(*path) <= text.count("\n") + 1


def test_lines_are_found_past_multi_line_values() -> None:
    text = 'a = """\n[pages.x]\n"""\nb = [\n  1,\n  2,\n]\n[pages.y]\nc = { d = 1 }\n'
    lines = TomlLines(text)
    assert lines.line_of("a") == 1 and lines.line_of("b") == 4 and lines.line_of("b", 1) == 6
    assert lines.line_of("pages", "x") == 1  # inside the string: not a table
    assert lines.line_of("pages", "y", "c", "d") == 9
