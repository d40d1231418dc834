"""``load_tree``: a good tree loads; every problem names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pagetree.conftest import DEMO, page_bytes, write_tree
from videotex.codec import FunctionKey
from videotex.pagetree import PageTreeError, load_tree
from videotex.pagetree.render import CACHE_NAME, clear_memory
from videotex.teletel import DIGITS, LETTERS

BASE = """\
name = "T"
first = "a"

[pages.a]
vdt = "a.vdt"

[pages.a.keys]
suite = "b"

[pages.b]
vdt = "b.vdt"
"""


def _error(folder: Path, toml: str, pages: dict[str, bytes]) -> PageTreeError:
    write_tree(folder, toml, pages)
    with pytest.raises(PageTreeError) as info:
        load_tree(folder, cache=False)
    return info.value


def _at(exc: PageTreeError, line: int, *words: str) -> str:
    """The problem reported at ``line`` of tree.toml, which must say every word."""
    found = [str(p) for p in exc.problems if p.line == line and p.file.name == "tree.toml"]
    assert found, f"nothing at line {line}: {exc}"
    text = " | ".join(found)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert f"tree.toml:{line}: " in text
    return text


def test_the_demo_tree_loads_with_its_fields_choices_and_links() -> None:
    tree = load_tree(DEMO, cache=False)
    assert tree.name == "DEMO" and tree.first == "menu" and tree.help == "aide"
    assert set(tree.pages) == {"menu", "meteo", "contact", "merci", "aide"}
    assert tree.warnings == ()
    menu = tree.page("menu")
    assert menu.choices == {"1": "meteo", "2": "contact"}
    assert menu.fields[0].allowed == DIGITS and menu.choice_field == 0
    assert menu.message_row == 22 and menu.line == 13
    contact = tree.page("contact")
    assert [f.name for f in contact.fields] == ["code_postal", "nom"]
    assert contact.fields[1].allowed == LETTERS
    assert contact.required == {"code_postal", "nom"}
    assert contact.keys == {FunctionKey.ENVOI: "merci"}
    assert tree.messages.wrong_choice == "Choix inconnu : tapez 1 ou 2"
    for page in tree.pages.values():
        r = page.rendering
        assert r.original == page.vdt.read_bytes()
        assert r.body in r.wire and len(r.body) <= len(r.original)


def test_keys_are_named_in_any_case_with_or_without_accents(tmp_path: Path,
                                                            two_pages: dict[str, bytes]) -> None:
    toml = BASE.replace('suite = "b"', 'Suite = "b"\n"Répétition" = "b"\nSOMMAIRE = "a"')
    tree = load_tree(write_tree(tmp_path, toml, two_pages), cache=False)
    assert tree.page("a").keys == {FunctionKey.SUITE: "b", FunctionKey.REPETITION: "b",
                                   FunctionKey.SOMMAIRE: "a"}


def test_fields_take_allowed_sets_and_explicit_characters(tmp_path: Path,
                                                          two_pages: dict[str, bytes]) -> None:
    toml = BASE + """
[[pages.b.fields]]
name = "yn"
row = 5
col = 1
length = 1
chars = "ON"

[[pages.b.fields]]
name = "free"
row = 5
col = 3
length = 38
upper = false
filler = "_"
"""
    tree = load_tree(write_tree(tmp_path, toml, two_pages), cache=False)
    yn, free = tree.page("b").fields
    assert yn.allowed == frozenset("ON") and yn.upper
    assert "!" in free.allowed and "é" in free.allowed and not free.upper
    assert free.filler == "_"


@pytest.mark.parametrize(("edit", "line", "words"), [
    # a link to a page the tree does not have
    (lambda t: t.replace('suite = "b"', 'suite = "zz"'), 8, ("'zz'", "does not have")),
    # an unknown function key, and Connexion/Fin
    (lambda t: t.replace('suite = "b"', 'envoyer = "b"'), 8, ("unknown key name", "envoyer")),
    (lambda t: t.replace('suite = "b"', '"connexion/fin" = "b"'), 8, ("Connexion/Fin",)),
    # a missing .vdt
    (lambda t: t.replace('vdt = "b.vdt"', 'vdt = "nope.vdt"'), 11, ("nope.vdt", "does not exist")),
    # a key of the wrong type
    (lambda t: t.replace('vdt = "b.vdt"', "vdt = 3"), 11, ("'vdt'", "string", "a number")),
    (lambda t: t.replace('first = "a"', "first = true"), 2, ("'first'", "a boolean")),
    # unknown keys (typos) at every level
    (lambda t: t + 'nmae = "x"\n', 12, ("unknown key 'nmae'",)),
    (lambda t: t.replace('name = "T"', 'nmae = "T"'), 1, ("unknown key 'nmae'",)),
    # the first page missing or not a page
    (lambda t: t.replace('first = "a"', 'first = "nowhere"'), 2, ("first page", "'nowhere'")),
    (lambda t: t.replace('first = "a"\n', "\n"), 1, ("missing 'first'",)),
    (lambda t: t.replace('[pages.b]\nvdt = "b.vdt"\n', '[pages.b]\nvdt = "b.vdt"\n'
                         'keys = 3\n'), 12, ("'keys' must be a table",)),
    (lambda t: "help = 'nope'\n" + t, 1, ("help page 'nope'",)),
])
def test_each_problem_names_the_file_and_the_line(tmp_path: Path, two_pages: dict[str, bytes],
                                                  edit, line: int, words: tuple[str, ...]) -> None:
    exc = _error(tmp_path, edit(BASE), two_pages)
    _at(exc, line, *words)


FIELDS = BASE + """
[[pages.b.fields]]
name = "x"
row = {row}
col = {col}
length = {length}
allowed = "digits"

[[pages.b.fields]]
name = "{name2}"
row = 5
col = 10
length = 5
allowed = "{allowed2}"
"""


@pytest.mark.parametrize(("values", "line", "words"), [
    ({"row": 25}, 15, ("'row' is 25", "off screen")),
    ({"row": 0}, 15, ("'row' is 0", "off screen")),
    ({"col": 41}, 16, ("'col' is 41", "off screen")),
    ({"col": 30, "length": 12}, 17, ("columns 30–41", "off screen")),
    ({"length": 0}, 17, ("'length' is 0",)),
    ({"row": '"5"'}, 15, ("'row' must be a whole number", "a string")),
    ({"length": "true"}, 17, ("'length'", "a boolean")),
    # overlapping: x at row 5, columns 8-12, and the second field at 10-14
    ({"row": 5, "col": 8}, 20, ("overlaps field 'x'", "columns 10–14")),
    ({"name2": "x"}, 21, ("two fields are called 'x'",)),
    ({"allowed2": "numbers"}, 25, ("'allowed' is 'numbers'", "digits, letters, any")),
])
def test_fields_off_screen_overlapping_or_mistyped(tmp_path: Path, two_pages: dict[str, bytes],
                                                   values: dict[str, object], line: int,
                                                   words: tuple[str, ...]) -> None:
    given: dict[str, object] = {"row": 3, "col": 1, "length": 5, "name2": "y",
                                "allowed2": "any", **values}
    exc = _error(tmp_path, FIELDS.format(**given), two_pages)
    _at(exc, line, *words)


CHOICES = BASE + """
[[pages.b.fields]]
name = "choix"
row = 20
col = 30
length = 1
allowed = "digits"

[pages.b.choices]
{choice} = "a"
"""


@pytest.mark.parametrize(("choice", "words"), [
    ('"10"', ("choice '10' cannot be typed", "1 characters, digits")),
    ("X", ("choice 'X' cannot be typed",)),
    ('""', ("choice ''",)),
])
def test_choices_that_cannot_be_typed(tmp_path: Path, two_pages: dict[str, bytes],
                                      choice: str, words: tuple[str, ...]) -> None:
    exc = _error(tmp_path, CHOICES.format(choice=choice), two_pages)
    _at(exc, 21, *words)


def test_choices_need_a_field_and_a_known_choice_field(tmp_path: Path,
                                                       two_pages: dict[str, bytes]) -> None:
    exc = _error(tmp_path, BASE + '\n[pages.b.choices]\n1 = "a"\n', two_pages)
    _at(exc, 13, "has choices but no field")
    toml = CHOICES.format(choice="1").replace('vdt = "b.vdt"', 'vdt = "b.vdt"\nchoice = "nom"')
    exc = _error(tmp_path, toml, two_pages)
    _at(exc, 12, "'choice' names field 'nom'")


def test_a_page_file_that_cannot_be_read(tmp_path: Path, two_pages: dict[str, bytes]) -> None:
    (tmp_path / "dir.vdt").mkdir()
    exc = _error(tmp_path, BASE.replace('vdt = "b.vdt"', 'vdt = "dir.vdt"'), two_pages)
    _at(exc, 11, "dir.vdt", "is not readable")


def test_messages_must_fit_on_a_row(tmp_path: Path, two_pages: dict[str, bytes]) -> None:
    exc = _error(tmp_path, BASE + "[messages]\nwrong_choice = '" + "x" * 40 + "'\n", two_pages)
    _at(exc, 13, "'wrong_choice' is 40 characters long, at most 39")


def test_toml_syntax_errors_give_tomllib_s_line(tmp_path: Path,
                                                two_pages: dict[str, bytes]) -> None:
    exc = _error(tmp_path, BASE.replace('vdt = "b.vdt"', 'vdt = "b.vdt'), two_pages)
    _at(exc, 11, "not valid TOML")


def test_missing_tree_file_and_non_utf8_text(tmp_path: Path) -> None:
    with pytest.raises(PageTreeError, match=r"tree\.toml:1: cannot read"):
        load_tree(tmp_path)
    (tmp_path / "tree.toml").write_bytes(b'name = "T"\nfirst = "\xe9"\n')
    with pytest.raises(PageTreeError, match=r"tree\.toml:2: not UTF-8"):
        load_tree(tmp_path)


def test_every_problem_is_reported_at_once(tmp_path: Path, two_pages: dict[str, bytes]) -> None:
    toml = BASE.replace('suite = "b"', 'suite = "zz"').replace('"b.vdt"', '"nope.vdt"')
    exc = _error(tmp_path, toml, two_pages)
    _at(exc, 8, "'zz'")
    _at(exc, 11, "nope.vdt")
    assert str(exc).count("tree.toml:") == 2


def test_unreachable_pages_and_row0_writers_are_warnings(tmp_path: Path,
                                                         two_pages: dict[str, bytes]) -> None:
    row0 = b"\x0c\x1f\x40\x41HELLO\x0a" + page_bytes("C")[1:]
    toml = BASE + '\n[pages.c]\nvdt = "c.vdt"\n'
    tree = load_tree(write_tree(tmp_path, toml, {**two_pages, "c.vdt": row0}), cache=False)
    warnings = [str(w) for w in tree.warnings]
    assert any("tree.toml:13:" in w and "'c' cannot be reached" in w for w in warnings)
    assert any("tree.toml:14:" in w and "writes on row 0" in w for w in warnings)
    assert tree.page("c").rendering.writes_row0


def test_the_cache_file_keeps_decisions_and_is_refreshed(tmp_path: Path,
                                                        two_pages: dict[str, bytes]) -> None:
    folder = write_tree(tmp_path, BASE, two_pages)
    first = load_tree(folder)
    cache = folder / CACHE_NAME
    assert cache.exists()
    clear_memory()
    again = load_tree(folder)  # from the file alone
    for name, page in first.pages.items():
        r, s = page.rendering, again.page(name).rendering
        assert (r.frame, r.body, r.wire, r.reason) == (s.frame, s.body, s.wire, s.reason)
    # a broken cache file is ignored (and said), never fatal
    cache.write_text("{not json")
    clear_memory()
    tree = load_tree(folder)
    assert any(CACHE_NAME in str(w) for w in tree.warnings)
    assert cache.read_text().startswith('{"format"')  # written again
