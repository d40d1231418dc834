"""Many UDP datagrams in one system call each way: ``sendmmsg(2)`` and ``recvmmsg(2)`` through
ctypes, on one IPv4 socket (Linux, x86-64 or any 64-bit glibc: the structures below are its).

For the load generator (``bench/telephones.py``): 500 telephones on one socket cost two system
calls a tick instead of a ``send`` and a ``recv`` each, and the Python around each. Python's
``socket`` has ``sendmsg``/``recvmsg`` but not their batched forms.

- :class:`Sender`: :meth:`Sender.aim` sets the datagrams (a row of a numpy packet matrix each,
  and its destination); :meth:`Sender.send` sends them all, the rows as they are then.
- :class:`Receiver`: :meth:`Receiver.receive` takes every datagram waiting, into a matrix of
  fixed-size rows, with each one's length and source port.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket

import numpy as np

__all__ = ["MMSG", "Receiver", "Sender"]

_libc = ctypes.CDLL(None, use_errno=True)
_sendmmsg = _libc.sendmmsg
_sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
_sendmmsg.restype = ctypes.c_int
_recvmmsg = _libc.recvmmsg
_recvmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                      ctypes.c_void_p]
_recvmmsg.restype = ctypes.c_int

#: ``struct mmsghdr`` (a ``struct msghdr`` and the length the kernel writes), 64-bit.
MMSG = np.dtype({
    "names": ["name", "namelen", "iov", "iovlen", "control", "controllen", "flags", "len"],
    "formats": [np.uint64, np.uint32, np.uint64, np.uint64, np.uint64, np.uint64, np.int32,
                np.uint32],
    "offsets": [0, 8, 16, 24, 32, 40, 48, 56], "itemsize": 64})
#: ``struct iovec``.
_IOV = np.dtype({"names": ["base", "len"], "formats": [np.uint64, np.uint64],
                 "offsets": [0, 8], "itemsize": 16})
#: ``struct sockaddr_in``: family (host order), port and address (network order), padding.
_SIN = np.dtype({"names": ["family", "port", "addr"], "formats": ["<u2", ">u2", ">u4"],
                 "offsets": [0, 2, 4], "itemsize": 16})

if ctypes.sizeof(ctypes.c_void_p) != 8:  # pragma: no cover
    raise ImportError("bench.mmsg: the structures are those of a 64-bit C library")


def _check(sock: socket.socket) -> None:
    if sock.family != socket.AF_INET or sock.type & socket.SOCK_DGRAM == 0:
        raise ValueError(f"bench.mmsg needs an IPv4 UDP socket, got {sock!r}")


class Sender:
    """Datagrams from rows of ``packets`` (a C-contiguous uint8 matrix, kept alive here)."""

    def __init__(self, sock: socket.socket, packets: np.ndarray) -> None:
        _check(sock)
        if packets.dtype != np.uint8 or packets.ndim != 2 or not packets.flags.c_contiguous:
            raise ValueError("Sender: packets must be a C-contiguous 2-D uint8 array")
        self.sock, self.packets = sock, packets
        self.errors = 0
        self._n = 0
        cap = len(packets)
        self._vec = np.zeros(cap, dtype=MMSG)
        self._iov = np.zeros(cap, dtype=_IOV)
        self._to = np.zeros(cap, dtype=_SIN)

    def aim(self, rows: list[int], to: list[tuple[str, int]]) -> None:
        """From now on :meth:`send` sends ``packets[rows[i]]`` to ``to[i]``, in this order."""
        if len(rows) != len(to):
            raise ValueError(f"Sender.aim: {len(rows)} rows for {len(to)} destinations")
        n = self._n = len(rows)
        if n > len(self._vec):
            raise ValueError(f"Sender.aim: {n} datagrams, room for {len(self._vec)}")
        if not n:
            return
        base = self.packets.ctypes.data
        width = self.packets.shape[1]
        self._iov["base"][:n] = base + np.asarray(rows, dtype=np.uint64) * width
        self._iov["len"][:n] = width
        self._to["family"][:n] = socket.AF_INET
        self._to["port"][:n] = [port for _host, port in to]
        self._to["addr"][:n] = [int.from_bytes(socket.inet_aton(host), "big")
                                for host, _port in to]
        vec = self._vec[:n]
        vec["name"] = self._to.ctypes.data + np.arange(n, dtype=np.uint64) * _SIN.itemsize
        vec["namelen"] = _SIN.itemsize
        vec["iov"] = self._iov.ctypes.data + np.arange(n, dtype=np.uint64) * _IOV.itemsize
        vec["iovlen"] = 1

    def send(self) -> int:
        """Send every datagram aimed; returns how many went (the others counted in
        :attr:`errors`: a full send buffer, or an error of one destination)."""
        fd, addr, size, n = self.sock.fileno(), self._vec.ctypes.data, MMSG.itemsize, self._n
        done = sent = 0
        while done < n:
            r = _sendmmsg(fd, addr + done * size, n - done, socket.MSG_DONTWAIT)
            if r > 0:
                done += r
                sent += r
                continue
            err = ctypes.get_errno()
            if err == errno.EINTR:
                continue
            if err in (errno.EAGAIN, errno.ENOBUFS):  # the send buffer is full: none go now
                self.errors += n - done
                break
            self.errors += 1  # this one cannot go (its destination's error): the rest may
            done += 1
        return sent


class Receiver:
    """Every datagram waiting on ``sock``, up to ``size`` bytes each, a batch of ``batch``
    per system call."""

    def __init__(self, sock: socket.socket, batch: int, size: int = 512) -> None:
        _check(sock)
        self.sock = sock
        self.data = np.zeros((batch, size), dtype=np.uint8)
        self._vec = np.zeros(batch, dtype=MMSG)
        self._iov = np.zeros(batch, dtype=_IOV)
        self._from = np.zeros(batch, dtype=_SIN)
        self._iov["base"] = self.data.ctypes.data + np.arange(batch, dtype=np.uint64) * size
        self._iov["len"] = size
        self._vec["name"] = self._from.ctypes.data + \
            np.arange(batch, dtype=np.uint64) * _SIN.itemsize
        self._vec["iov"] = self._iov.ctypes.data + np.arange(batch, dtype=np.uint64) * _IOV.itemsize
        self._vec["iovlen"] = 1

    def receive(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """One batch: ``(k, rows, lengths, ports)``, ``rows[:k]`` the datagrams (truncated to
        the row size), their lengths and source ports (and :attr:`addresses`); ``k`` 0 when
        none is waiting. Call again while ``k`` is the batch size."""
        vec = self._vec
        vec["namelen"] = _SIN.itemsize
        while True:
            k = _recvmmsg(self.sock.fileno(), vec.ctypes.data, len(vec), socket.MSG_DONTWAIT,
                          None)
            if k >= 0:
                break
            err = ctypes.get_errno()
            if err in (errno.EAGAIN, errno.EWOULDBLOCK):
                k = 0
                break
            if err != errno.EINTR:
                raise OSError(err, f"recvmmsg: {os.strerror(err)}")
        return (k, self.data, vec["len"][:k].astype(np.int64),
                self._from["port"][:k].astype(np.int64))

    @property
    def addresses(self) -> np.ndarray:
        """The source IPv4 addresses of the last batch's rows (as 32-bit numbers)."""
        return self._from["addr"]
