"""The typed record of a call's facts: bounded, and a misspelt fact is an error."""

from __future__ import annotations

import pytest

from terminal_emu import Minitel
from videotex.codec import KeyboardDecoder, ProtocolReplyEvent
from videotex.teletel import CallFacts


def test_replies_keep_the_last_of_each_kind_whatever_the_call_length() -> None:
    facts = CallFacts()
    for i in range(10_000):
        facts.reply(ProtocolReplyEvent("enqrom" if i % 2 else "status_terminal",
                                       bytes((0x20 + i % 90,))))
    assert sorted(facts.replies) == ["enqrom", "status_terminal"]
    assert facts.replies["enqrom"].data == bytes((0x20 + 9_999 % 90,))


def test_replies_from_the_decoder_are_kept_by_kind() -> None:
    m = Minitel()
    m.feed(b"\x1b\x39\x7b" * 50)  # ask for the terminal's identification, 50 times
    facts = CallFacts()
    for event in KeyboardDecoder().feed(m.take_output()):
        if isinstance(event, ProtocolReplyEvent):
            facts.reply(event)
    assert len(facts.replies) == 1


def test_a_misspelt_fact_is_an_error() -> None:
    facts = CallFacts()
    facts.lookups += 1
    with pytest.raises(AttributeError):
        facts.lookup = 1  # type: ignore[attr-defined]
    assert (facts.lookups, facts.result_found, facts.failures, facts.offers) == (1, False, 0, None)
