"""Every page and every function key of the results service, through the emulator.

The session runs sans-IO; the emulator is the caller's Minitel. Assertions are on what
the screen shows, never on raw bytes (two encodings of one screen both pass).
"""

from __future__ import annotations

import pytest

from terminal_emu import Key
from tests.helpers.harness import Caller
from tests.helpers.results import ELODIE, LILLE, MARIE_AJOURNEE, PAUL_PARIS
from videotex.teletel import SessionConfig, TerminalLink


@pytest.fixture
def caller(service, clock) -> Caller:
    return Caller(service, clock)


def test_home_page_states_price_and_focuses_number(caller: Caller) -> None:
    text = caller.text
    # a Minitel has no uppercase accents: the terminal shows the base letter
    assert "RESULTATS DES EXAMENS" in text
    assert "0,34 EUR la minute" in text
    assert "résultat ou non" in text
    # the cursor waits in the number field, row 10, column 15
    assert caller.minitel.cursor == (10, 15)
    assert caller.minitel.cursor_visible
    assert caller.row(10)[14:24] == ".........."


def test_local_echo_is_turned_off_with_the_connected_state_command(caller: Caller) -> None:
    caller.type("12")
    # the server echoes: exactly one copy of what was typed in the field
    assert caller.row(10)[14:24] == "12........"


def test_local_link_uses_the_local_echo_command(service, clock) -> None:
    c = Caller(service, clock, config=SessionConfig(link=TerminalLink.LOCAL))
    assert c.session  # started
    assert TerminalLink.LOCAL.echo_off == b"\x1b\x3b\x60\x5a\x51"


def test_search_by_number_shows_full_result_with_mention(caller: Caller) -> None:
    caller.search(*ELODIE)
    text = caller.text
    assert "DUPONT" in text and "Elodie" in text
    assert "Lille" in text
    assert caller.shows("ADMIS")
    assert "Mention Très bien" in text
    assert "Lycée Faidherbe, jury J12" in text
    assert caller.session.ctx.facts.result_found is True


def test_ajourne_sees_own_result(caller: Caller) -> None:
    caller.search(*MARIE_AJOURNEE)
    assert caller.shows("AJOURNE")


def test_wrong_birth_date_is_not_found_and_reveals_nothing(caller: Caller) -> None:
    caller.search(ELODIE[0], "04071987")
    text = caller.text
    assert "AUCUN RESULTAT" in text
    assert "DUPONT" not in text and "ADMIS" not in text


def test_not_yet_published_gives_the_official_hour(caller: Caller) -> None:
    caller.search(*PAUL_PARIS)
    text = caller.text
    assert "PAS ENCORE PUBLIE" in text
    assert "Paris" in text
    assert "14h00" in text  # 12:00 UTC is 14:00 in Paris in July
    assert "DURAND" not in text and "ADMIS" not in text


def test_unknown_number_is_not_found(caller: Caller) -> None:
    caller.search("9999999999", "01011987")
    assert "AUCUN RESULTAT" in caller.text


def test_retour_from_result_keeps_what_was_typed(caller: Caller) -> None:
    caller.search(ELODIE[0], "04071987")
    caller.press(Key.RETOUR)
    assert caller.row(10)[14:24] == ELODIE[0]
    caller.press(Key.ANNULATION)  # clears the focused field (birth date)
    assert caller.row(13)[14:22] == "........"
    caller.type(ELODIE[1])
    caller.press(Key.ENVOI)
    assert "Très bien" in caller.text


def test_correction_erases_last_character(caller: Caller) -> None:
    caller.type("123")
    caller.press(Key.CORRECTION)
    assert caller.row(10)[14:24] == "12........"
    assert caller.minitel.cursor == (10, 17)


def test_annulation_clears_the_field(caller: Caller) -> None:
    caller.type("123")
    caller.press(Key.ANNULATION)
    assert caller.row(10)[14:24] == ".........."


def test_suite_and_retour_move_between_fields(caller: Caller) -> None:
    caller.press(Key.SUITE)
    assert caller.minitel.cursor == (13, 15)
    caller.press(Key.RETOUR)
    assert caller.minitel.cursor == (10, 15)


def test_letters_refused_in_number_field_with_a_beep(caller: Caller) -> None:
    caller.type("A")
    assert caller.last == b"\x07"
    assert caller.row(10)[14:24] == ".........."


def test_oversized_input_stops_at_field_length(caller: Caller) -> None:
    caller.type("1234567890123")
    assert caller.row(10)[14:24] == "1234567890"
    assert caller.row(10)[24] == " "


def test_incomplete_number_and_bad_date_explain(caller: Caller) -> None:
    caller.type("123")
    caller.press(Key.ENVOI)
    assert "10 chiffres" in caller.text
    caller.type("4567890")
    caller.press(Key.SUITE)
    caller.type("31021987")
    caller.press(Key.ENVOI)
    assert "Date invalide" in caller.text


def test_repetition_redraws_whole_screen(caller: Caller) -> None:
    before = caller.text
    caller.press(Key.REPETITION)
    assert caller.last.startswith(b"\x0c") or b"\x0c" in caller.last
    assert caller.text == before


def test_guide_shows_help_and_retour_comes_back(caller: Caller) -> None:
    caller.type("12")
    caller.press(Key.GUIDE)
    assert "AIDE" in caller.text
    assert "convocation" in caller.text
    caller.press(Key.RETOUR)
    assert caller.row(10)[14:24] == "12........"


def test_sommaire_from_home_lists_exams_and_status(caller: Caller) -> None:
    caller.press(Key.SOMMAIRE)
    text = caller.text
    assert "SOMMAIRE" in text
    assert "Brevet" in text and "BTS" in text
    assert "1/2 acad. publi" in text  # bac: Lille published, Paris later


def test_sommaire_elsewhere_returns_home(caller: Caller) -> None:
    caller.search(*ELODIE)
    caller.press(Key.SOMMAIRE)
    assert "0,34 EUR la minute" in caller.text


def test_search_by_name_lists_consenting_homonyms_only(caller: Caller) -> None:
    caller.press(Key.SOMMAIRE)
    caller.type("1")  # bac
    caller.press(Key.ENVOI)
    assert "ACADEMIE" in caller.text
    caller.press(Key.SUITE)  # second page of académies: Lille is 11th
    caller.press(Key.RETOUR)
    caller.type("11")
    caller.press(Key.ENVOI)
    assert "RECHERCHE PAR NOM" in caller.text
    caller.type("dupont")
    caller.press(Key.ENVOI)
    text = caller.text
    assert "CANDIDATS" in text
    assert "Elodie" in text and "Jean-François" in text
    assert "Marie" not in text  # ajournée: not on public lists by name
    caller.type("1")
    caller.press(Key.ENVOI)
    assert caller.shows("ADMIS")
    assert "Très bien" not in caller.text  # no mention by name


def test_search_by_name_is_accent_insensitive_and_consent_only(caller: Caller) -> None:
    caller.press(Key.SOMMAIRE)
    caller.type("1")
    caller.press(Key.ENVOI)
    caller.type("11")
    caller.press(Key.ENVOI)
    caller.type("LEFEVRE")
    caller.press(Key.ENVOI)
    assert "François" in caller.text
    caller.press(Key.SOMMAIRE)  # back to the name form
    caller.press(Key.ANNULATION)
    caller.type("MARTIN")
    caller.press(Key.ENVOI)
    assert "Aucun candidat" in caller.text  # Zoé Martin did not consent


def test_unpublished_academie_in_name_search_shows_hour(caller: Caller) -> None:
    caller.press(Key.SOMMAIRE)
    caller.type("1")
    caller.press(Key.ENVOI)
    caller.press(Key.SUITE)
    caller.type("19")  # Paris
    caller.press(Key.ENVOI)
    assert "PAS ENCORE PUBLIE" in caller.text


def test_connexion_fin_says_goodbye_and_hangs_up(caller: Caller) -> None:
    caller.press(Key.CONNEXION_FIN)
    assert "AU REVOIR" in caller.text
    assert caller.session.closed
    assert caller.session.close_reason == "caller"


def test_connexion_fin_leaves_a_service_reached_from_a_kiosk_without_goodbye(
        service, clock) -> None:
    c = Caller(service, clock, config=SessionConfig(fin_leaves=True))
    c.press(Key.CONNEXION_FIN)
    assert c.session.closed and c.session.close_reason == "fin"
    assert "AU REVOIR" not in c.text  # the kiosk draws its own page next


def test_status_row_shows_connected_time(caller: Caller, clock) -> None:
    assert "00:00" in caller.row(0)
    clock.advance(75)
    caller.session.tick()
    caller.pump()
    assert "01:15" in caller.row(0)


def test_clock_tick_redraws_the_status_row_only_and_keeps_the_page(caller: Caller, clock) -> None:
    caller.type("12345")
    before = caller.text.splitlines()[1:]
    clock.advance(60)
    caller.session.tick()
    caller.pump()
    assert "01:00" in caller.row(0)
    assert caller.text.splitlines()[1:] == before  # typed digits and page untouched
    assert 0 < len(caller.last) <= 12  # a few characters of row 0, not a page
    composed = caller.session.compose()  # what a full redraw would have shown
    assert composed.render_text() == caller.session.shown.render_text()
    caller.type("6")  # the field goes on where it was
    assert "123456" in caller.row(10)


def _count_draws(page) -> list[int]:
    drawn = [0]
    draw = page.draw

    def counting(frame, ctx) -> None:
        drawn[0] += 1
        draw(frame, ctx)

    page.draw = counting
    return drawn


def test_clock_tick_on_a_live_page_draws_it_again(caller: Caller, clock) -> None:
    home = _count_draws(caller.session.page)
    clock.advance(60)
    caller.session.tick()
    assert home == [0]  # the home page does not change with time
    caller.press(Key.SOMMAIRE)  # the calendar: publication status may change any minute
    assert caller.session.page.live
    calendar = _count_draws(caller.session.page)
    clock.advance(60)
    caller.session.tick()
    caller.pump()
    assert calendar == [1]
    assert "02:00" in caller.row(0)


def test_home_page_drawn_once_for_all_callers_and_exactly(service, clock) -> None:
    from pages.home import HomePage
    from videotex.codec import Frame
    from videotex.teletel import session as session_module

    session_module._DRAWN.clear()
    draws = [0]
    draw = HomePage.draw

    def counting(self, frame, ctx) -> None:
        draws[0] += 1
        draw(self, frame, ctx)

    HomePage.draw = counting  # type: ignore[method-assign]
    try:
        first, second = Caller(service, clock), Caller(service, clock)
        second.type("42")
        assert draws == [1]  # one drawing, two callers, a keystroke
        second.press(Key.ENVOI)  # an error message: another drawing, shared too
        assert "10 chiffres" in second.text
        assert draws == [2]
        for c in (first, second):  # the shared drawing is the page, exactly
            fresh = Frame()
            draw(c.session.page, fresh, c.session.ctx)
            c.session.page.draw_fields(fresh)
            fresh.text(0, 1, c.session.service.status_line(c.session.ctx)[:36])
            assert c.session.compose() == fresh
    finally:
        HomePage.draw = draw  # type: ignore[method-assign]


def test_updates_send_only_what_changed(caller: Caller) -> None:
    caller.type("1")
    # one digit echoed: a handful of bytes, not a page
    assert 0 < len(caller.last) <= 8


def test_random_bytes_keep_the_session_usable(caller: Caller) -> None:
    import random

    rng = random.Random(7)
    for _ in range(200):
        caller.send_raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30))))
        if caller.session.closed:
            return  # ended cleanly (a Connexion/Fin among the noise)
    caller.press(Key.SOMMAIRE)
    caller.press(Key.SOMMAIRE)
    assert caller.session.page.name in ("home", "summary")


def test_numbers_of_unpublished_batch_reveal_nothing_even_with_right_birth(caller) -> None:
    caller.search(*PAUL_PARIS)
    assert "Paul" not in caller.text
    assert LILLE  # fixture sanity: lille prefix built from the store's codes
