"""Real-time scheduling for the process that carries phone calls' audio (``media_priority``).

A phone call's audio goes out every 20 ms; a Minitel's modem forgives delay but not a gap, and
a voice caller hears one. When other processes keep the cores busy, a normal process may wait
several milliseconds for one after its timer falls due: the media tick then sends late. Media
servers run their audio at a real-time priority for that reason (``asterisk -p``,
``freeswitch -rp``); ``[runtime] media_priority = N`` (1-99, or ``serve --media-priority N``)
does the same for the process that runs the ``sip`` and ``audiosocket`` listeners: the event
loop's thread is scheduled ``SCHED_RR`` at priority N, so it runs as soon as it is ready.

Every Python thread of that process runs at that priority, not the loop's alone: a thread
holding the GIL at normal priority while other processes keep the cores busy would make the
loop wait for it to be scheduled (priority inversion). So :func:`enter` moves the threads already running (the
ledger's and the SMS store's writers), and the threads the server starts later for its own
work call :func:`join` (the speech workers).

What keeps this safe:

- Linux throttles real-time tasks to 95 % of each second (``sched_rt_runtime_us``): a process
  that spins cannot lock the machine;
- ``SCHED_RESET_ON_FORK``: the programs the server starts (espeak-ng) run at normal
  priority, and so do threads not started for the server's own work (``join``);
- :func:`check` runs in ``videotex serve`` before anything starts, so a machine that does not
  allow it (no ``CAP_SYS_NICE`` and no ``rtprio`` limit) is told at once, by name.
"""

from __future__ import annotations

import os

__all__ = ["RealtimeError", "check", "enter", "join"]

PRIORITY_MAX = 99
#: The priority :func:`enter` set in this process (0: none), for :func:`join`.
_priority = 0


class RealtimeError(Exception):
    """Real-time scheduling was asked for and cannot be had."""


def _policy() -> int:
    return os.SCHED_RR | getattr(os, "SCHED_RESET_ON_FORK", 0)


def check(priority: int, where: str = "media_priority") -> None:
    """Raise :class:`RealtimeError` unless this process may run at ``priority`` (then back)."""
    if not isinstance(priority, int) or isinstance(priority, bool) \
            or not 0 <= priority <= PRIORITY_MAX:
        raise RealtimeError(f"{where}: a priority from 1 to {PRIORITY_MAX} (0: off), "
                            f"got {priority!r}")
    if priority == 0:
        return
    if not hasattr(os, "sched_setscheduler"):
        raise RealtimeError(f"{where}: real-time scheduling is not available on this system")
    before = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        _set(0, priority, where)
    finally:
        os.sched_setscheduler(0, before[0], before[1])


def enter(priority: int, where: str = "media_priority") -> None:
    """Schedule every thread of this process ``SCHED_RR`` at ``priority`` (the calling thread
    first: if it may not, nothing changed)."""
    global _priority
    _set(0, priority, where)
    for tid in _threads():
        try:
            _set(tid, priority, where)
        except ProcessLookupError:  # (a thread that ended meanwhile)
            continue
    _priority = priority


def join() -> None:
    """A thread the server starts for its own work (a pool's initializer): at the priority
    :func:`enter` gave the process, if any."""
    if _priority:
        _set(0, _priority, "media_priority")


def _threads() -> list[int]:
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return []


def _set(tid: int, priority: int, where: str) -> None:
    try:
        os.sched_setscheduler(tid, _policy(), os.sched_param(priority))
    except PermissionError:
        raise RealtimeError(
            f"{where} = {priority}: this process may not use real-time scheduling (run it "
            f"with CAP_SYS_NICE, e.g. systemd's AmbientCapabilities=CAP_SYS_NICE, or raise "
            f"its rtprio limit: LimitRTPRIO={priority}); or set it to 0") from None
    except ProcessLookupError:
        raise
    except OSError as e:
        raise RealtimeError(f"{where} = {priority}: {e.strerror}") from None
