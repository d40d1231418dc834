"""Telnet after the opening negotiation: the steady codec, and the subnegotiation filter
that stands before telnetlib3 during it (the hand-over on a real socket: tests/channels)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videotex.protocols.telnet import (
    MAX_SUBNEGOTIATION,
    SteadyTelnet,
    SubnegotiationFilter,
    SubnegotiationTooLong,
    escape,
)

IAC, DONT, DO, WONT, WILL, SB, SE = 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0xFA, 0xF0
BINARY, ECHO, SGA, TTYPE, NAWS = 0, 1, 3, 24, 31


def agreed() -> SteadyTelnet:
    return SteadyTelnet({ECHO, SGA, BINARY}, {BINARY})


def test_data_and_doubled_iac() -> None:
    t = agreed()
    assert t.receive(b"12\xff\xff34") == (b"12\xff34", b"")
    assert escape(b"a\xffb") == b"a\xff\xffb"
    assert escape(b"plain") == b"plain"


def test_new_options_refused_agreed_ones_not_answered() -> None:
    t = agreed()
    assert t.receive(bytes((IAC, DO, TTYPE))) == (b"", bytes((IAC, WONT, TTYPE)))
    assert t.receive(bytes((IAC, WILL, NAWS))) == (b"", bytes((IAC, DONT, NAWS)))
    assert t.receive(bytes((IAC, DO, ECHO, IAC, WILL, BINARY))) == (b"", b"")  # RFC 1143
    assert t.receive(bytes((IAC, DONT, ECHO))) == (b"", bytes((IAC, WONT, ECHO)))
    assert ECHO not in t.local
    assert t.receive(bytes((IAC, DONT, ECHO))) == (b"", b"")  # already off: no loop
    assert t.receive(bytes((IAC, WONT, BINARY))) == (b"", bytes((IAC, DONT, BINARY)))
    assert t.remote == set()


def test_late_answers_to_what_we_asked_are_acknowledgements() -> None:
    t = SteadyTelnet({ECHO, SGA}, set(), asked_local={BINARY}, asked_remote={BINARY})
    assert t.receive(bytes((IAC, WILL, BINARY, IAC, DO, BINARY))) == (b"", b"")
    assert t.local == {ECHO, SGA, BINARY} and t.remote == {BINARY}
    t = SteadyTelnet({ECHO}, set(), asked_remote={BINARY})
    assert t.receive(bytes((IAC, WONT, BINARY))) == (b"", b"")
    assert t.remote == set() and not t.asked_remote


def test_subnegotiations_dropped_and_bounded() -> None:
    t = agreed()
    sb = bytes((IAC, SB, TTYPE, 0)) + b"xterm\xff\xff" + bytes((IAC, SE))
    assert t.receive(b"1" + sb + b"2") == (b"12", b"")
    with pytest.raises(SubnegotiationTooLong, match="over 512 bytes"):
        t.receive(bytes((IAC, SB, TTYPE)) + b"x" * MAX_SUBNEGOTIATION)


def test_other_commands_ignored() -> None:
    t = agreed()
    assert t.receive(bytes((IAC, 0xF1, IAC, 0xF6)) + b"5") == (b"5", b"")  # NOP, AYT


def test_nvt_cr_nul_when_binary_was_refused() -> None:
    t = SteadyTelnet({ECHO, SGA}, set())
    assert t.receive(b"a\r\x00b") == (b"a\rb", b"")
    assert t.receive(b"\r") == (b"\r", b"")
    assert t.receive(b"\x00c") == (b"c", b"")  # the NUL of a CR NUL cut in two
    assert agreed().receive(b"\r\x00") == (b"\r\x00", b"")  # binary: bytes are bytes


def test_binary_turned_off_in_the_middle_of_a_read_applies_to_the_rest_of_it() -> None:
    """Found by bench_fuzz: the CR NUL rule was chosen once per read, so a NUL after
    IAC WONT BINARY passed in one read and not when the read was cut after the WONT."""
    whole = agreed()
    assert whole.receive(bytes((IAC, WONT, BINARY)) + b"a\r\x00b") == (
        b"a\rb", bytes((IAC, DONT, BINARY)))


def test_starts_inside_a_cut_sequence() -> None:
    assert SteadyTelnet({ECHO}, set(), state=1).receive(b"\xff7") == (b"\xff7", b"")
    t = SteadyTelnet({ECHO}, set(), state=2, cmd=DO)  # IAC DO arrived, option did not
    assert t.receive(bytes((TTYPE,)) + b"8") == (b"8", bytes((IAC, WONT, TTYPE)))


_OPTION_BYTES = st.sampled_from([bytes((IAC, c, o)) for c in (WILL, WONT, DO, DONT)
                                  for o in (BINARY, ECHO, SGA, TTYPE)] + [b"\r", b"\x00"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=30) | _OPTION_BYTES, max_size=20).map(b"".join),
       st.lists(st.integers(1, 40), max_size=20), st.sets(st.sampled_from([BINARY, ECHO, SGA])))
def test_any_segmentation_gives_the_same_result(data: bytes, cuts: list[int],
                                                remote: set[int]) -> None:
    """Bytes whole or cut anywhere: same data, same replies, or the same refusal."""
    def run(chunks: list[bytes]) -> tuple[bytes, bytes] | str:
        t = SteadyTelnet({ECHO, SGA, BINARY}, remote)
        out, rep = b"", b""
        try:
            for c in chunks:
                o, r = t.receive(c)
                out, rep = out + o, rep + r
        except SubnegotiationTooLong:
            return "too long"
        return out, rep

    chunks, at = [], 0
    for n in cuts:
        chunks.append(data[at:at + n])
        at += n
    chunks.append(data[at:])
    assert run(chunks) == run([data])


def test_the_filter_drops_subnegotiations_and_keeps_the_rest() -> None:
    f = SubnegotiationFilter()
    sb = bytes((IAC, SB, TTYPE, 0)) + b"VT100" + bytes((IAC, SE))
    assert f.feed(b"12" + sb + bytes((IAC, WILL, BINARY)) + b"\xff\xff3") == (
        b"12" + bytes((IAC, WILL, BINARY)) + b"\xff\xff3")
    assert f.feed(b"plain") == b"plain"


@pytest.mark.parametrize(("data", "state", "cmd"), [
    (bytes((IAC,)), 1, 0), (bytes((IAC, DO)), 2, DO), (bytes((IAC, SB, TTYPE)), 3, 0),
    (bytes((IAC, SB, TTYPE, IAC)), 4, 0), (bytes((IAC, WILL, ECHO)), 0, WILL),
])
def test_the_filter_stops_where_the_steady_codec_starts(data: bytes, state: int,
                                                        cmd: int) -> None:
    f = SubnegotiationFilter()
    f.feed(data)
    assert (f.state, f.cmd if state == 2 else 0) == (state, cmd if state == 2 else 0)
    codec = SteadyTelnet({ECHO, SGA, BINARY}, {BINARY}, state=f.state, cmd=f.cmd,
                         sb_len=f.sb_len)
    rest = {1: bytes((DO, TTYPE)), 2: bytes((TTYPE,)), 3: bytes((IAC, SE)),
            4: bytes((SE,)), 0: b""}[state]
    assert codec.receive(rest + b"x")[0] == b"x"


def test_the_filter_bounds_a_subnegotiation() -> None:
    f = SubnegotiationFilter()
    with pytest.raises(SubnegotiationTooLong):
        f.feed(bytes((IAC, SB, TTYPE)) + b"x" * MAX_SUBNEGOTIATION)
