"""``videotex serve`` as a child process, and its log lines awaited as they come.

The server's stderr is a pipe read by a thread into the event loop (and copied to a log
file for the assertion messages): a test awaits a line (``"call opened"``, the ledger's
``"ledger commit"`` at debug level) instead of reading a file over and over.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["VIDEOTEX", "Server", "ServerLog", "start_server"]

VIDEOTEX = str(Path(sys.executable).with_name("videotex"))


class ServerLog:
    """The lines a process writes to ``stream``, kept in order and appended to ``path``."""

    def __init__(self, stream: IO[str], path: Path) -> None:
        self.path = path
        self.lines: list[str] = []
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self.ended = threading.Event()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        with self.path.open("a") as copy:
            for line in stream:
                copy.write(line)
                copy.flush()
                self._loop.call_soon_threadsafe(self._add, line)
        self.ended.set()
        self._loop.call_soon_threadsafe(self._changed.set)

    def _add(self, line: str) -> None:
        self.lines.append(line)
        self._changed.set()

    def mark(self) -> int:
        """Where the log is now: :meth:`wait_for` ``after`` this sees only later lines."""
        return len(self.lines)

    async def wait_for(self, *texts: str, after: int = 0, timeout: float = 20.0) -> str:
        """The first line from ``after`` on that holds one of ``texts`` (awaited)."""
        seen = after
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines[seen:]:
                    if any(t in line for t in texts):
                        return line
                seen = len(self.lines)
                if self.ended.is_set():
                    raise AssertionError(f"the process ended before logging {texts}")
                self._changed.clear()
                await self._changed.wait()

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    log: ServerLog


def start_server(store: Path, config: Path, log: Path, *args: str,
                 ready: str = "listening telnet://") -> Server:
    """``videotex serve`` on a telnet port of its choosing, returned once its stdout
    has said ``ready`` (with ``--workers N``: ``"N workers"``)."""
    proc = subprocess.Popen([VIDEOTEX, "serve", "--store", str(store), "--config", str(config),
                             "--telnet", "127.0.0.1:0", "--metrics-dir", str(log.parent / "m"),
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    server_log = ServerLog(proc.stderr, log)
    url = ""
    for line in proc.stdout:
        if line.startswith("listening telnet://"):
            url = line.split()[1]
        if line.startswith(ready):
            return Server(proc, url, server_log)
    proc.wait(10)
    server_log.ended.wait(10)
    raise AssertionError(log.read_text())
