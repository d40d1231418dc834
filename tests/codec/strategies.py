"""Hypothesis strategies building Frames through the Frame API."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from videotex.codec import Color, Frame, Size

TEXT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789 .,:-'éèàçùôœ£°«»€É{}"
colors = st.sampled_from(list(Color))
rows = st.integers(0, 24)
cols = st.integers(1, 40)


@st.composite
def frame_ops(draw: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    kind = draw(st.sampled_from(["text", "text", "mosaic", "fill"]))
    row, col = draw(rows), draw(cols)
    if kind == "text":
        kw = {
            "fg": draw(colors),
            "bg": draw(colors),
            "size": draw(st.sampled_from(list(Size))),
            "blink": draw(st.booleans()),
            "inverse": draw(st.booleans()),
            "underline": draw(st.booleans()),
            "masked": draw(st.booleans()),
        }
        return kind, (row, col, draw(st.text(TEXT_ALPHABET, max_size=12))), kw
    if kind == "mosaic":
        kw = {"fg": draw(colors), "bg": draw(colors), "separated": draw(st.booleans()),
              "blink": draw(st.booleans())}
        return kind, (row, col, draw(st.integers(0, 63))), kw
    return kind, (row, col, draw(st.integers(0, 40))), {"bg": draw(colors),
                                                         "masked": draw(st.booleans())}


@st.composite
def frames(draw: Any, max_ops: int = 12) -> Frame:
    """Any frame the API can build (it may ask for what the wire cannot draw)."""
    f = Frame()
    for kind, args, kw in draw(st.lists(frame_ops(), max_size=max_ops)):
        getattr(f, kind)(*args, **kw)
    f.cursor = draw(st.none() | st.tuples(st.integers(1, 24), cols))
    return f


@st.composite
def exact_frames(draw: Any) -> Frame:
    """Frames the wire can draw exactly: per row, segments left to right, each zone
    change opened by a blank cell (a delimiter) or carried by mosaics."""
    f = Frame()
    for row in draw(st.lists(st.integers(1, 24), max_size=6, unique=True)):
        col = draw(st.integers(1, 10))
        while col <= 38:
            bg = draw(colors)
            if draw(st.booleans()):
                pattern = draw(st.lists(st.integers(1, 63), min_size=1, max_size=6))
                col = f.mosaics(row, col, pattern, fg=draw(colors), bg=bg,
                                separated=draw(st.booleans()))
            else:
                masked = draw(st.booleans())
                col = f.fill(row, col, 1, bg=bg, masked=masked)
                text = draw(st.text(TEXT_ALPHABET.replace(" ", ""), min_size=1, max_size=8))
                col = f.text(row, col, text, fg=draw(colors), bg=bg, blink=draw(st.booleans()),
                             inverse=draw(st.booleans()), underline=draw(st.booleans()),
                             masked=masked)
                if masked and col <= 40:
                    col = f.fill(row, col, 1, bg=bg)  # end the masked zone before a mosaic
            col += draw(st.integers(0, 3))
    f.cursor = draw(st.none() | st.tuples(st.integers(1, 24), cols))
    return f


@st.composite
def scattered_frames(draw: Any, max_pieces: int = 14) -> Frame:
    """US-heavy layouts the wire can draw exactly: short pieces of text in any colour,
    size, inverse and blink (and a few mosaics) scattered over the screen, far enough
    apart that the encoder jumps between them (US, which resets every attribute: §12
    vector 9), never overlapping, on a black background."""
    f = Frame()
    used: set[tuple[int, int]] = set()
    for _ in range(draw(st.integers(1, max_pieces))):
        trial = f.copy()
        row, col = draw(st.integers(1, 24)), draw(st.integers(1, 39))
        if draw(st.integers(0, 4)) == 0:
            trial.mosaics(row, col, draw(st.lists(st.integers(1, 63), min_size=1, max_size=3)),
                          fg=draw(colors), blink=draw(st.booleans()))
        else:
            trial.text(row, col, draw(st.text(TEXT_ALPHABET.replace(" ", ""), min_size=1,
                                              max_size=4)),
                       fg=draw(colors), size=draw(st.sampled_from(list(Size))),
                       blink=draw(st.booleans()), inverse=draw(st.booleans()))
        covered = {(r, c) for r in range(25) for c in range(1, 41)
                   if trial.cell(r, c) != f.cell(r, c)}
        around = {(r + dr, c + dc) for r, c in covered for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
        if around & used:
            continue
        f = trial
        used |= covered
    f.cursor = draw(st.none() | st.tuples(st.integers(1, 24), cols))
    return f
