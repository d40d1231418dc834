"""The UDP ports of the calls' RTP: even ports of a configured range, one socket a call.

One socket per call (not one shared socket) because the port in our SDP answer is then the
call's alone: a packet's destination says which call it is for, a stale packet of an ended
call lands on a closed port, and ``docs/phone.md`` has the measurement of both. Ports are
handed out round-robin, so a port just freed is the last to be used again.
"""

from __future__ import annotations

import socket

__all__ = ["PortPool"]


class PortPool:
    def __init__(self, host: str, low: int, high: int) -> None:
        self.host = host or "0.0.0.0"
        self.family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.ports = list(range(low + (low % 2), high + 1, 2))
        if not self.ports:
            raise ValueError(f"RTP port range {low}-{high} holds no even port")
        self._next = 0

    def open(self) -> socket.socket:
        """A non-blocking UDP socket bound to the next free even port of the range."""
        last: OSError | None = None
        for _ in range(len(self.ports)):
            port = self.ports[self._next]
            self._next = (self._next + 1) % len(self.ports)
            sock = socket.socket(self.family, socket.SOCK_DGRAM)
            try:
                sock.bind((self.host, port))
            except OSError as e:
                sock.close()
                last = e
                continue
            sock.setblocking(False)
            return sock
        raise OSError(f"all {len(self.ports)} RTP ports of {self.ports[0]}-{self.ports[-1]} "
                      f"are in use ({last})")
