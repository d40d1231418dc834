"""The session's hook for pages that bring their own videotex (``Page.wire``) and
``Encoder.assume``: verbatim bytes when a page is shown whole, then a diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal_emu import Key
from tests.helpers.harness import Caller
from videotex.cli.page import page_frame
from videotex.codec import Color, Encoder, Frame, FunctionKey
from videotex.teletel import Action, Context, Field, Goto, Page, SessionConfig, TerminalLink

METEO = Path("/work/shared/vdt-samples/minitel-server-3610_vdts_meteo.vdt")

#: Row 0 cleared, FF, cursor off, "HELLO WORLD" at r5c2: what ``Verbatim.draw`` draws.
WIRE = b"\x1f\x40\x41\x18\x0a\x0c\x14\x1f\x45\x42HELLO WORLD"


class Verbatim(Page):
    name = "verbatim"
    fields = (Field("f", row=10, col=5, length=3),)
    wire_bytes = WIRE

    def draw(self, frame: Frame, ctx: Context) -> None:
        frame.text(5, 2, "HELLO WORLD")

    def wire(self, ctx: Context) -> bytes | None:
        return self.wire_bytes

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        return Goto(Plain()) if key is FunctionKey.ENVOI else None


class Commands(Verbatim):
    """Its bytes hold a PRO2 command (roll mode on, then off)."""

    wire_bytes = WIRE + b"\x1b\x3a\x69\x43\x1b\x3a\x6a\x43"


class Plain(Page):
    name = "plain"

    def draw(self, frame: Frame, ctx: Context) -> None:
        frame.fill(1, 1, 40, bg=Color.RED)
        for row in range(3, 20):
            frame.text(row, 1, "x" * 40)

    def on_key(self, key: FunctionKey, ctx: Context) -> Action | None:
        return Goto(Verbatim()) if key is FunctionKey.ENVOI else None


class Service:
    def __init__(self, home: type[Page] = Verbatim) -> None:
        self._home = home

    def home(self, ctx: Context) -> Page:
        return self._home()

    def summary(self, ctx: Context) -> Page:
        return Plain()

    def help_page(self, page: Page, ctx: Context) -> Page:
        return Plain()

    def goodbye(self, ctx: Context, reason: str) -> Page:
        return Plain()

    def status_line(self, ctx: Context) -> str:
        return " 3615 TEST"

    def status_interval(self, ctx: Context) -> float:
        return 60.0


def _row(c: Caller, n: int) -> str:
    return c.row(n).rstrip()


def _shows_verbatim(c: Caller) -> None:
    assert c.row(0).startswith(" 3615 TEST")
    assert _row(c, 5) == " HELLO WORLD"
    assert _row(c, 10) == "    ..."
    assert all(_row(c, r) == "" for r in range(1, 25) if r not in (5, 10))
    assert c.minitel.cursor == (10, 5) and c.minitel.cursor_visible


def test_a_page_without_wire_bytes_keeps_the_encoder() -> None:
    assert Page().wire(None) is None  # type: ignore[arg-type]


def test_first_page_goes_out_verbatim_then_fields_and_status_as_a_diff(clock) -> None:
    c = Caller(Service(), clock)
    config = SessionConfig()
    assert c.last.startswith(config.link.echo_off + b"\x1b\x39\x7b" + WIRE)
    _shows_verbatim(c)
    assert c.session.shown is not None and c.session.shown.row(5)[1].char == "H"


def test_goto_and_repetition_send_the_bytes_again_typing_does_not(clock) -> None:
    c = Caller(Service(), clock)
    c.type("12")
    assert WIRE not in c.last and _row(c, 10) == "    12."
    c.press(Key.ENVOI)  # to a page drawn by the encoder
    assert WIRE not in c.last and "x" * 40 in c.text
    c.press(Key.ENVOI)  # back: shown whole, from its own bytes, over the busy screen
    assert c.last.startswith(WIRE)
    _shows_verbatim(c)
    c.press(Key.REPETITION)
    assert c.last.startswith(WIRE)
    _shows_verbatim(c)


def test_the_status_tick_after_verbatim_bytes_is_a_diff(clock) -> None:
    c = Caller(Service(), clock)
    clock.advance(61)
    c.session.tick()
    c.pump()
    assert WIRE not in c.last and c.last
    _shows_verbatim(c)


def test_terminal_commands_in_the_bytes_are_followed_by_the_echo_command(clock) -> None:
    for link in TerminalLink:
        c = Caller(Service(Commands), clock, config=SessionConfig(link=link, identify=False))
        assert c.last.startswith(link.echo_off + Commands.wire_bytes + link.echo_off)
        _shows_verbatim(c)
        c.type("7")  # echoed once, by the server
        assert _row(c, 10) == "    7.."


def test_assume_leaves_the_state_frame_leaves() -> None:
    a, b = Frame(), Frame()
    a.text(3, 2, "AVANT", fg=Color.YELLOW)
    a.fill(8, 1, 40, bg=Color.BLUE)
    b.text(3, 2, "APRES")
    b.text(0, 1, " status")
    b.cursor = (12, 4)
    drawn, assumed = Encoder(), Encoder()
    drawn.frame(a)
    assumed.assume(a)
    assert drawn.shown == assumed.shown
    assert drawn.update(b) == assumed.update(b)
    # after other output too: row 0 is what the terminal holds then
    drawn.frame(a)
    assumed.assume(a)
    assert drawn.update(b) == assumed.update(b)


@pytest.mark.skipif(not METEO.exists(), reason="no sample pages")
def test_assume_takes_every_row_as_shown_even_those_the_encoder_draws_its_own_way() -> None:
    """A real page whose doubled characters the encoder cannot store as it planned: drawn
    by the encoder, an update redraws those rows; assumed (drawn by the page's own bytes),
    an update writes the status row only."""
    page = page_frame(METEO.read_bytes())
    page.clear_row(0)
    page.cursor = None
    status = page.copy()
    status.text(0, 1, " 3615 TEST")
    drawn, assumed = Encoder(), Encoder()
    drawn.frame(page)
    assumed.assume(page)
    assert len(drawn.update(status)) > len(b"\x1f\x40\x42" + b"3615 TEST")
    assert assumed.update(status) == b"\x1f\x40\x42" + b"3615 TEST"
