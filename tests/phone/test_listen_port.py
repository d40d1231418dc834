"""``--sip HOST:0`` with UDP and TCP: one port for both. The port the system gives the UDP
socket may be taken for TCP (another program's connection or listener on it): the listener
then tries another port instead of failing to start (a CI run once failed so)."""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

import pytest

from videotex.channels.phone.options import PhoneOptions
from videotex.channels.phone.sip_listener import SipListener
from videotex.runtime.config import ListenerConfig

from .conftest import free_rtp_range


def tcp_taken_udp_free() -> tuple[socket.socket, int]:
    """A TCP socket listening on a port whose UDP side is free."""
    while True:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        port = tcp.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                tcp.close()
                continue
        return tcp, port


def listener(board: Any) -> SipListener:
    cfg = ListenerConfig("sip", "127.0.0.1", 0, options={"rtp_ports": free_rtp_range()})
    return SipListener(cfg, board, PhoneOptions.parse("sip", str(cfg), cfg.options))


async def test_a_taken_tcp_port_gives_up_the_udp_socket_and_says_so(make_server: Any) -> None:
    server = await make_server()  # (for its switchboard)
    tcp, port = tcp_taken_udp_free()
    try:
        sip = listener(server.board)
        await sip._bind("127.0.0.1", port, None, last=False)  # not the last try: next one
        assert sip._udp is None and sip._tcp is None
        await asyncio.sleep(0)  # (a transport's socket is closed on the loop's next turn)
        with pytest.raises(OSError) as caught:  # the last try: the error as it is
            await sip._bind("127.0.0.1", port, None, last=True)
        assert caught.value.errno == errno.EADDRINUSE
        assert sip._udp is None and sip._tcp is None  # nothing left half-bound
    finally:
        tcp.close()
    await server.stop()


async def test_port_0_binds_both_transports_on_one_port(make_server: Any) -> None:
    server = await make_server()
    sip = listener(server.board)
    await sip.start()
    try:
        assert sip._udp is not None and sip._tcp is not None
        assert sip._udp.get_extra_info("sockname")[1] == sip.port
        assert sip._tcp.sockets[0].getsockname()[1] == sip.port
    finally:
        sip.close()
        await sip.wait_closed()
    await server.stop()
