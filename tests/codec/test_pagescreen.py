"""The optimizer's quick reading of the emulator's screen (``videotex.cli.pagescreen``)
is the JSON snapshot's reading, cell for cell: on every real sample page, on both
models, and on any bytes; the Minitel 2 is only skipped where it cannot differ; Frames
compare as their cell dicts do."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu import Minitel
from videotex.cli.page import decide
from videotex.cli.pagescreen import frame_from_screen, models_may_differ, show
from videotex.codec import Frame, encode_frame
from videotex.codec.cellmodel import compare

from .strategies import frames

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "vdt-samples"
PAGES = sorted(p for p in SAMPLES.glob("*") if p.is_file() and p.name != "README.md")

#: Pieces that reach the corners of the screen model: sizes, masking and revealing,
#: serial attributes, REP, row 00, insert mode, downloadable characters, PRO commands.
PIECES = [
    b"\x0c", b"\x1b\x4c", b"\x1b\x4d", b"\x1b\x4e", b"\x1b\x4f", b"\x1b\x58", b"\x1b\x5f",
    b"\x1b\x23\x20\x5f", b"\x1b\x23\x20\x58", b"\x1b\x5a", b"\x1b\x59", b"\x1b\x5d",
    b"\x1b\x41", b"\x1b\x54", b"\x0e", b"\x0f", b"\x12\x45", b"\x1f\x40\x45", b"\x0a",
    b"\x1f\x4c\x4a", b"\x1b[4h", b"\x1b[4l", b"\x1b[2@", b"\x1f\x23\x20\x20\x20\x42\x49",
    b"\x1f\x23\x41\x30\x41\x42\x43\x44\x45\x46", b"\x1b\x28\x20\x42", b"\x1b\x28\x40",
    b"\x11", b"\x14", b"\x18", b"\x19\x41e", b"\x1b\x3a\x69\x43", b"ABC def", b" ", b"\x7f",
    b"\x1b\x58 hid", b"\x1b\x58 hid\x1b\x23\x20\x5f", b"\x1b\x5a\x1b\x54 x", b"\x1b\x4e\x1b\x5d AB", b"\x1b\x4f\x1b\x44 C",
]
page_bytes = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=6)),
                      max_size=40).map(b"".join)


def _slow(data: bytes, model: str) -> tuple[Frame | str, tuple[object, ...]]:
    """The reading the optimizer made before: JSON snapshot, then Frame.from_snapshot."""
    m = Minitel(model)
    m.feed(data)
    snap = m.snapshot()
    try:
        frame: Frame | str = Frame.from_snapshot(snap)
    except ValueError as exc:
        frame = f"ValueError: {exc}"
    cur, saved = snap["cursor"], m.screen._saved
    return frame, (cur["row"], cur["col"], cur["visible"], saved[:2] if saved else None)


def _fast(data: bytes, model: str) -> tuple[Frame | str, tuple[object, ...]]:
    try:
        shown = show(data, model)
    except ValueError as exc:
        return f"ValueError: {exc}", ()
    return shown.frame, shown.cursor


pytestmark = pytest.mark.skipif(not PAGES, reason=f"no sample pages in {SAMPLES}")


@pytest.mark.parametrize("model", ["1B", "2"])
def test_the_quick_frame_is_from_snapshot_s_on_every_sample_page(model: str) -> None:
    assert len(PAGES) == 61
    for page in PAGES:
        data = page.read_bytes()
        slow, fast = _slow(data, model), _fast(data, model)
        assert fast == slow, f"{page.name} on a Minitel {model}"
        # and row for row the same objects for equal cells: frames compare by identity
        assert isinstance(fast[0], Frame)
        cells = {id(c): c for row in fast[0].cells for c in row}
        assert len(cells) == len(set(cells.values())), page.name


@settings(max_examples=300, deadline=None)
@given(page_bytes, st.sampled_from(["1B", "2"]))
def test_the_quick_frame_is_from_snapshot_s_for_any_bytes(data: bytes, model: str) -> None:
    slow, fast = _slow(data, model), _fast(data, model)
    if isinstance(slow[0], str):  # a cell outside the model: refused both ways
        assert isinstance(fast[0], str)
    else:
        assert fast == slow


def test_frame_from_screen_reads_a_revealed_screen() -> None:
    m = Minitel()
    m.feed(b"\x0c\x1f\x45\x41\x1b\x58 secret\x1b\x23\x20\x5f")
    assert frame_from_screen(m.screen) == Frame.from_snapshot(m.snapshot())
    assert not any(c.masked for c in frame_from_screen(m.screen).row(5))


def _models_show_the_same(data: bytes) -> bool:
    return _slow(data, "1B") == _slow(data, "2")


def test_the_minitel_2_is_skipped_only_where_it_cannot_differ_samples() -> None:
    skipped = [p for p in PAGES if not models_may_differ(p.read_bytes())]
    assert len(skipped) > len(PAGES) // 2  # most pages: one emulation saved per screen
    for page in skipped:
        assert _models_show_the_same(page.read_bytes()), page.name
    drcs = SAMPLES / "miedit-minitel-wants-you.vdt"
    assert models_may_differ(drcs.read_bytes())


@settings(max_examples=300, deadline=None)
@given(page_bytes)
def test_the_minitel_2_is_skipped_only_where_it_cannot_differ(data: bytes) -> None:
    if not models_may_differ(data):
        assert _models_show_the_same(data)


def test_what_tells_the_models_apart_is_seen_through_parity_and_nul() -> None:
    assert models_may_differ(b"A\x1b[4hB")
    assert models_may_differ(b"A\x9b\xdb4hB")  # 8th bit set: parity, dropped
    assert models_may_differ(b"A\x1f\x00\x23")  # NUL is dropped before parsing
    assert not models_may_differ(b"\x0cHELLO\x1b\x4d\x1f\x41\x41")


def test_frames_compare_as_their_cell_dicts() -> None:
    for page in PAGES[:20]:
        data = page.read_bytes()
        frame, _result = decide(data)
        try:
            out = encode_frame(frame)
        except ValueError:
            continue
        a, b = show(data).frame, show(out).frame
        for limit in (3, 20):
            assert compare(a, b, limit) == compare(a.to_cell_dicts(), b.to_cell_dicts(),
                                                   limit), page.name


@settings(max_examples=100, deadline=None)
@given(frames(), frames())
def test_any_frames_compare_as_their_cell_dicts(a: Frame, b: Frame) -> None:
    assert compare(a, b, 5) == compare(a.to_cell_dicts(), b.to_cell_dicts(), 5)
    assert compare(a, a.copy()) == []
