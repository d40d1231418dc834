"""bench/mmsg.py (the lean telephones' batched sends and reads) on real loopback sockets."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import numpy as np
import pytest

from bench.mmsg import Receiver, Sender


@pytest.fixture
def udp() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for s in made:
        s.close()


def _bound(made: list[socket.socket]) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    made.append(s)
    return s


def _readable(sock: socket.socket) -> socket.socket:
    """``sock`` once a datagram waits on it (it fails after 5 s without one)."""
    ready, _, _ = select.select([sock], [], [], 5.0)
    assert ready, f"nothing arrived on {sock.getsockname()}"
    return sock


def _all(receiver: Receiver, count: int) -> list[tuple[bytes, int]]:
    """``count`` datagrams read in batches, as they come."""
    got: list[tuple[bytes, int]] = []
    while len(got) < count:
        _readable(receiver.sock)
        k, rows, lengths, ports = receiver.receive()
        got += [(rows[i, : lengths[i]].tobytes(), int(ports[i])) for i in range(k)]
    return got


def test_sender_sends_each_row_to_its_destination(udp: list[socket.socket]) -> None:
    ours = _bound(udp)
    peers = [_bound(udp) for _ in range(5)]
    packets = np.arange(5 * 7, dtype=np.uint8).reshape(5, 7)
    sender = Sender(ours, packets)
    # rows in another order than the matrix's, one peer given two rows
    rows, to = [3, 0, 4, 1], [p.getsockname() for p in (peers[0], peers[1], peers[1], peers[4])]
    sender.aim(rows, to)
    assert sender.send() == 4 and sender.errors == 0
    assert _readable(peers[0]).recvfrom(64) == (packets[3].tobytes(), ours.getsockname())
    assert _readable(peers[1]).recv(64) == packets[0].tobytes()
    assert _readable(peers[1]).recv(64) == packets[4].tobytes()
    assert _readable(peers[4]).recv(64) == packets[1].tobytes()
    for idle in (peers[2], peers[3]):
        with pytest.raises(BlockingIOError):
            idle.recv(64)
    # the rows are read at each send, as they are then
    packets[3] = 0xAA
    assert sender.send() == 4
    assert _readable(peers[0]).recv(64) == b"\xaa" * 7


def test_receiver_reads_every_datagram_with_its_source(udp: list[socket.socket]) -> None:
    ours = _bound(udp)
    peers = [_bound(udp) for _ in range(3)]
    receiver = Receiver(ours, batch=4, size=16)
    assert receiver.receive()[0] == 0  # nothing waiting: no wait either
    sent = []
    for i in range(10):  # more than a batch: read in three calls
        p = peers[i % 3]
        data = bytes([i]) * (i + 1)
        p.sendto(data, ours.getsockname())
        sent.append((data, p.getsockname()[1]))
    assert _all(receiver, len(sent)) == sent
    # a datagram longer than a row: cut to the row, its length as received
    peers[0].sendto(b"x" * 40, ours.getsockname())
    _readable(ours)
    k, rows, lengths, ports = receiver.receive()
    assert k == 1 and rows[0].tobytes() == b"x" * 16 and lengths[0] == 16
    assert ports[0] == peers[0].getsockname()[1]
    assert receiver.addresses[0] == 0x7F000001


def test_bad_arguments_say_what_is_wrong(udp: list[socket.socket]) -> None:
    ours = _bound(udp)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    udp.append(tcp)
    with pytest.raises(ValueError, match="IPv4 UDP socket"):
        Sender(tcp, np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="C-contiguous 2-D uint8"):
        Sender(ours, np.zeros((2, 4), dtype=np.int16))
    sender = Sender(ours, np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="2 rows for 1 destinations"):
        sender.aim([0, 1], [("127.0.0.1", 9)])
    with pytest.raises(ValueError, match="3 datagrams, room for 2"):
        sender.aim([0, 1, 0], [("127.0.0.1", 9)] * 3)
