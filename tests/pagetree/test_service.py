"""The demo tree as a caller sees it: the session runs sans-IO, the emulator is the
Minitel, assertions are on the screen (and on what the session believes it shows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal_emu import Key
from tests.helpers.harness import Caller
from tests.pagetree.conftest import DEMO, SAMPLES, page_bytes, write_tree
from videotex.codec.cellmodel import compare
from videotex.pagetree import PageTree, PageTreeService, load_tree
from videotex.teletel import FakeClock, SessionConfig


@pytest.fixture(scope="module")
def demo() -> PageTree:
    return load_tree(DEMO, cache=False)


@pytest.fixture
def caller(demo: PageTree, clock: FakeClock) -> Caller:
    return Caller(PageTreeService(demo), clock)


def _same_as_believed(c: Caller) -> None:
    """The Minitel shows what the session composed (row 0's terminal corner aside)."""
    want = c.session.compose().to_cell_dicts()[1:]
    assert not compare(want, c.minitel.snapshot()["cells"][1:])


def _text(c: Caller, row: int) -> str:
    return c.row(row).rstrip()


def test_the_first_page_is_the_menu_with_its_choice_field(caller: Caller) -> None:
    assert caller.row(0).startswith(" 3615 DEMO  00:00")
    assert caller.shows("BIENVENUE") and "La météo du jour" in caller.text
    assert _text(caller, 20).startswith(" Votre choix : .")
    assert caller.minitel.cursor == (20, 16) and caller.minitel.cursor_visible
    _same_as_believed(caller)


def test_a_typed_choice_then_envoi_leads_to_its_page(caller: Caller) -> None:
    caller.type("1")
    assert _text(caller, 20).startswith(" Votre choix : 1")
    caller.press(Key.ENVOI)
    assert caller.shows("METEO") and "Marseille" in caller.text
    assert "Votre choix" not in caller.text
    assert not caller.minitel.cursor_visible
    _same_as_believed(caller)


def test_a_wrong_choice_shows_the_tree_s_message_and_clears_the_field(caller: Caller) -> None:
    caller.type("7")
    caller.press(Key.ENVOI)
    assert _text(caller, 22) == " Choix inconnu : tapez 1 ou 2"
    assert _text(caller, 20).startswith(" Votre choix : .")
    _same_as_believed(caller)
    caller.type("2")  # typing puts the message away
    assert _text(caller, 22) == ""
    caller.press(Key.ENVOI)
    assert caller.shows("NOUS ECRIRE")


def test_an_empty_choice_is_a_wrong_one_and_letters_beep(caller: Caller) -> None:
    caller.press(Key.ENVOI)
    assert "Choix inconnu" in caller.text
    caller.type("A")
    assert caller.last == b"\x07"


def test_page_links_and_the_standard_sommaire(caller: Caller) -> None:
    caller.type("1")
    caller.press(Key.ENVOI)
    caller.press(Key.RETOUR)  # meteo links retour to the menu
    assert caller.shows("BIENVENUE")
    caller.type("1")
    caller.press(Key.ENVOI)
    caller.press(Key.SOMMAIRE)  # no link: the tree's first page
    assert caller.shows("BIENVENUE")
    _same_as_believed(caller)


def test_guide_shows_the_help_page_and_retour_comes_back_as_left(caller: Caller) -> None:
    caller.type("2")
    caller.press(Key.GUIDE)
    assert caller.shows("AIDE") and "SOMMAIRE ramène au menu" in caller.text
    caller.press(Key.RETOUR)
    assert caller.shows("BIENVENUE")
    assert _text(caller, 20).startswith(" Votre choix : 2")  # the page as it was left
    caller.press(Key.GUIDE)
    caller.press(Key.GUIDE)  # Guide on the help page goes back too
    assert caller.shows("BIENVENUE")
    _same_as_believed(caller)


def test_the_form_wants_its_required_fields_then_goes_on(caller: Caller) -> None:
    caller.type("2")
    caller.press(Key.ENVOI)
    assert caller.minitel.cursor == (10, 16)
    caller.press(Key.ENVOI)
    assert _text(caller, 22) == " Ce champ est obligatoire"
    caller.type("75001")
    caller.press(Key.ENVOI)  # the name is still missing: the cursor goes there
    assert caller.minitel.cursor == (12, 16)
    assert "Ce champ est obligatoire" in caller.text
    caller.type("1")  # digits refused in a letters field
    assert caller.last == b"\x07"
    caller.type("dupont")
    assert _text(caller, 12).startswith(" Nom         : DUPONT..............")
    caller.press(Key.CORRECTION)
    assert _text(caller, 12).startswith(" Nom         : DUPON...............")
    caller.press(Key.RETOUR)  # back to the previous field
    assert caller.minitel.cursor == (10, 20)  # on the last cell of a full field
    _same_as_believed(caller)
    caller.press(Key.ENVOI)
    assert caller.shows("MERCI")
    caller.press(Key.ENVOI)
    assert caller.shows("BIENVENUE")


def test_repetition_redraws_the_page_whole_keeping_what_was_typed(caller: Caller) -> None:
    caller.type("2")
    caller.press(Key.ENVOI)
    caller.type("69")
    caller.minitel.feed(b"\x0c")  # line noise wiped the screen
    caller.press(Key.REPETITION)
    assert caller.shows("NOUS ECRIRE") and _text(caller, 10).startswith(" Code postal : 69...")
    assert caller.minitel.cursor == (10, 18)
    _same_as_believed(caller)


def test_connexion_fin_is_the_session_s_standard(demo: PageTree, clock: FakeClock) -> None:
    c = Caller(PageTreeService(demo), clock)
    clock.advance(65)
    c.press(Key.CONNEXION_FIN)
    assert c.session.closed and c.session.close_reason == "caller"
    assert c.shows("AU REVOIR") and "1 min 05 s" in c.text
    kiosk = Caller(PageTreeService(demo), clock, config=SessionConfig(fin_leaves=True))
    kiosk.press(Key.CONNEXION_FIN)
    assert kiosk.session.close_reason == "fin"


def test_standard_help_and_a_tree_goodbye_page(tmp_path: Path, clock: FakeClock) -> None:
    toml = """name = "T"\nfirst = "a"\ngoodbye = "bye"\n[pages.a]\nvdt = "a.vdt"\n
[pages.bye]\nvdt = "bye.vdt"\n"""
    tree = load_tree(write_tree(tmp_path, toml, {"a.vdt": page_bytes("A"),
                                                 "bye.vdt": page_bytes("BYE")}))
    c = Caller(PageTreeService(tree, "3615 ESSAI"), clock)
    assert c.row(0).startswith(" 3615 ESSAI")
    c.press(Key.GUIDE)
    assert c.shows("AIDE") and "terminer l'appel" in c.text
    c.press(Key.RETOUR)
    assert "Page A" in c.text
    c.press(Key.ENVOI)  # no link, no choice: the standard beep
    assert c.last == b"\x07"
    c.press(Key.CONNEXION_FIN)
    assert "Page BYE" in c.text and c.session.closed


def test_edit_keys_follow_their_link_only_with_nothing_to_erase(tmp_path: Path,
                                                                 clock: FakeClock) -> None:
    toml = """name = "T"\nfirst = "a"\n[pages.a]\nvdt = "a.vdt"\n
[[pages.a.fields]]\nname = "x"\nrow = 12\ncol = 2\nlength = 4\n
[pages.a.keys]\ncorrection = "b"\nsuite = "b"\n[pages.b]\nvdt = "b.vdt"\n"""
    tree = load_tree(write_tree(tmp_path, toml, {"a.vdt": page_bytes("A"),
                                                 "b.vdt": page_bytes("B")}))
    c = Caller(PageTreeService(tree), clock)
    c.type("Z")
    c.press(Key.CORRECTION)  # erases
    assert "Page A" in c.text and _text(c, 12) == " ...."
    c.press(Key.CORRECTION)  # nothing left: the link
    assert "Page B" in c.text


# --- fields on real pages -------------------------------------------------------------

SAMPLE_PAGES = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")


@pytest.mark.skipif(not SAMPLE_PAGES, reason=f"no sample pages in {SAMPLES}")
@pytest.mark.parametrize(("row", "col"), [(12, 10), (20, 2), (5, 30), (23, 35)])
def test_fields_on_real_pages_show_what_the_session_composed(tmp_path: Path, row: int,
                                                              col: int) -> None:
    """Where the loader does not warn that a field covers the page's drawing, what is
    typed shows exactly as composed, and the rest of the page stays as it was."""
    lines = ['name = "F"', 'first = "p00"']
    for i, page in enumerate(SAMPLE_PAGES):
        lines += [f"[pages.p{i:02d}]", f"vdt = {json.dumps(str(page))}",
                  f"[[pages.p{i:02d}.fields]]", 'name = "f"', f"row = {row}", f"col = {col}",
                  "length = 5"]
        if i + 1 < len(SAMPLE_PAGES):
            lines += [f"[pages.p{i:02d}.keys]", f'suite = "p{i + 1:02d}"']
    tree = load_tree(write_tree(tmp_path, "\n".join(lines)))
    covered = {w.message.split("'")[1] for w in tree.warnings if "covers" in w.message}
    c = Caller(PageTreeService(tree), FakeClock())
    checked = 0
    for i in range(len(SAMPLE_PAGES)):
        name = f"p{i:02d}"
        if i:
            c.press(Key.SUITE)
        assert c.session.page.name == name
        if name in covered:
            continue
        for step in (lambda: None, lambda: c.type("AB"), lambda: c.press(Key.CORRECTION),
                     lambda: c.type("XYZW")):
            step()
            want = c.session.compose().to_cell_dicts()[1:]
            diff = compare(want, c.minitel.snapshot()["cells"][1:], 3)
            assert not diff, f"{SAMPLE_PAGES[i].name}: " + "; ".join(diff)
        checked += 1
    assert checked >= 20  # pages with room there
