"""Sans-IO parts: 7E1 framing tables and the Hayes dialogue, with an injected time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_emu.client import ConnectError
from terminal_emu.transport_serial import even_parity, open_serial, strip_parity
from tests.helpers.serial_line import with_parity
from videotex.channels.serial_line import SerialLine, SerialLineError
from videotex.protocols.framing import (
    SUB,
    HardwareDecoder,
    SoftwareCodec,
    add_parity,
    check_parity,
    parity_errors,
)
from videotex.protocols.hayes import (
    AnswerFailed,
    CallEnded,
    Connected,
    Data,
    Hayes,
    HayesError,
    ModemState,
    Ready,
    Ring,
    Unresponsive,
    parse_init,
)
from videotex.runtime.config import ListenerConfig


@pytest.mark.parametrize(("value", "wire"), [(0x00, 0x00), (0x41, 0x41), (0x43, 0xC3),
                                             (0x1A, 0x9A), (0x7F, 0xFF), (0x1B, 0x1B)])
def test_parity_vectors(value: int, wire: int) -> None:
    assert add_parity(bytes((value,))) == bytes((wire,))
    assert check_parity(bytes((wire,))) == bytes((value,))
    assert check_parity(bytes((wire ^ 0x80,))) == bytes((SUB,))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.sets(st.integers(0, 63), max_size=8))
def test_software_codec_round_trip_and_errors(data: bytes, flips: set[int]) -> None:
    seven = bytes(b & 0x7F for b in data)
    wire = bytearray(add_parity(seven))
    assert bytes(wire) == with_parity(seven) == even_parity(seven)  # two implementations
    flips = {i for i in flips if i < len(wire)}
    for i in flips:
        wire[i] ^= 0x80
    codec = SoftwareCodec()
    out = codec.decode(bytes(wire))
    assert codec.errors == len(flips) == parity_errors(bytes(wire))
    assert out == strip_parity(bytes(wire))
    assert all(out[i] == SUB for i in flips)
    assert all(out[i] == seven[i] for i in range(len(seven)) if i not in flips)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8))
def test_hardware_marks_split_anywhere(cut: int) -> None:
    wire = b"AB\xff\x00\x31C\xff\xffD"
    dec = HardwareDecoder()
    cut = min(cut, len(wire))
    assert dec.decode(wire[:cut]) + dec.decode(wire[cut:]) == b"AB\x1aC\xffD"
    assert dec.errors == 1


def drive(modem: Hayes, text: str, now: float = 0.0) -> list:
    return modem.receive_data(text.encode(), now)


def test_hayes_whole_cycle_with_caller_id() -> None:
    m = Hayes()
    m.start(0.0)
    assert m.data_to_send() == b"ATZ\r"
    assert drive(m, "ATZ\r\r\nOK\r\n") == []  # echo ignored
    assert m.data_to_send() == b"ATE0V1Q0X4&C1&D2S0=0\r"
    assert drive(m, "\r\nOK\r\n") == [Ready()]
    assert m.state is ModemState.IDLE and not m.auto_answer
    assert drive(m, "\r\nRING\r\n\r\nNMBR = 0320123456\r\n") == [Ring(None)]
    assert m.data_to_send() == b"ATA\r"
    events = drive(m, "\r\nCONNECT 1200/75\r\n\x13\x53")
    assert events == [Connected(1200, "0320123456", "CONNECT 1200/75"), Data(b"\x13\x53")]
    assert drive(m, "12\r\nNO CARR") == [Data(b"12\r\nNO CARR")]
    assert drive(m, "IER\r\n", 5.0) == [CallEnded("carrier")]
    # a caller can type NO CARRIER: the line is hung up for sure before the init commands
    assert m.state is ModemState.ESCAPING and m.caller is None
    assert m.data_to_send() == b""
    m.tick(6.0)
    assert m.data_to_send() == b"+++"
    m.tick(7.0)
    assert m.data_to_send() == b"ATH\r" and m.state is ModemState.HANGING_UP
    assert drive(m, "\r\nOK\r\n", 7.1) == [CallEnded("hangup")]
    assert m.state is ModemState.RESET and m.data_to_send() == b"ATZ\r"


def test_hayes_no_carrier_when_already_in_command_mode() -> None:
    """A real carrier loss: the modem is in command mode, "+++ATH" is an ERROR to it;
    ATH is sent again and the line resets as usual."""
    m = Hayes(guard=1.0, timeout=2.0, retries=3)
    m.start(0.0)
    drive(m, "OK\r")
    drive(m, "OK\r")
    drive(m, "RING\r")
    drive(m, "CONNECT\r")
    m.data_to_send()
    assert drive(m, "\r\nNO CARRIER\r\n", 1.0) == [CallEnded("carrier")]
    m.tick(2.0)
    m.tick(3.0)
    assert m.data_to_send() == b"+++ATH\r"
    assert drive(m, "\r\nERROR\r\n", 3.1) == []
    m.tick(5.0)
    assert m.data_to_send() == b"ATH\r"
    assert drive(m, "\r\nOK\r\n", 5.1) == [CallEnded("hangup")]
    assert m.state is ModemState.RESET and m.data_to_send() == b"ATZ\r"


def test_hayes_escape_hang_up_and_retries() -> None:
    m = Hayes(guard=1.0, timeout=2.0, retries=2)
    m.start(0.0)
    drive(m, "OK\r")
    drive(m, "OK\r")
    drive(m, "RING\r")
    drive(m, "CONNECT\r")
    m.data_to_send()
    m.hangup(10.0)
    assert m.state is ModemState.ESCAPING and m.next_deadline() == 11.0
    assert m.tick(10.5) == [] and m.data_to_send() == b""
    m.tick(11.0)
    assert m.data_to_send() == b"+++"
    m.tick(12.0)
    assert m.data_to_send() == b"ATH\r" and m.state is ModemState.HANGING_UP
    assert drive(m, "\r\nOK\r\n", 12.1) == [CallEnded("hangup")]
    assert m.data_to_send() == b"ATZ\r"
    m.tick(14.1)
    assert m.data_to_send() == b"ATZ\r"  # retried once
    assert m.tick(16.1) == [Unresponsive("ATZ", 2)] and m.state is ModemState.DEAD


def test_hayes_auto_answer_and_failures() -> None:
    m = Hayes(parse_init("ATZ; ATS0=2"), answer_timeout=30.0)
    assert m.auto_answer
    m.start(0.0)
    drive(m, "OK\r")
    drive(m, "0\r")  # numeric OK
    assert m.data_to_send() == b"ATZ\rATS0=2\r"
    drive(m, "RING\r", 1.0)
    assert m.data_to_send() == b"" and m.state is ModemState.ANSWERING
    assert m.tick(31.0) == [AnswerFailed("no CONNECT in time")]
    assert m.state is ModemState.RESET


@pytest.mark.parametrize("bad", ["", " ; ", "reset", "ATZ;hello", "ATZ;\x07"])
def test_bad_init_strings_are_named(bad: str) -> None:
    with pytest.raises(HayesError, match="init"):
        parse_init(bad)


@pytest.mark.parametrize(("options", "what"), [({"mode": "fax"}, "mode"),
                                                ({"parity": "odd"}, "parity"),
                                                ({"guard": "soon"}, "guard"),
                                                ({"init": "hello"}, "init")])
def test_bad_line_options_are_named(options: dict, what: str) -> None:
    with pytest.raises(SerialLineError, match=what):
        SerialLine(ListenerConfig("serial", "/dev/ttyS9", 0, options=options), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("url", "what"), [("serial://host/dev/x", "expected"),
                                           ("serial:///dev/x?baud=fast", "baud"),
                                           ("serial:///dev/x?baud=2400", "baud"),
                                           ("serial:///dev/x?speed=1", "speed"),
                                           ("serial:///dev/does-not-exist", "cannot open")])
async def test_client_url_errors_are_named(url: str, what: str) -> None:
    with pytest.raises(ConnectError, match=what):
        await open_serial(url, 2.0)
