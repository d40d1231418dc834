"""``run_server`` belongs to the runtime: the workers call it with their index, and the
runtime imports nothing of the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from videotex.runtime import workers
from videotex.runtime.config import ServerConfig


def test_a_worker_runs_the_server_with_its_index(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    async def fake_run_server(config: ServerConfig, **kw: Any) -> None:
        seen.update(kw, config=config)
        kw["on_ready"]()

    monkeypatch.setattr(workers, "run_server", fake_run_server)
    monkeypatch.delenv("VIDEOTEX_WORKER", raising=False)
    config = ServerConfig()
    read_fd, write_fd = os.pipe()
    try:
        assert workers._worker_main(3, config, write_fd) == 0
        assert os.read(read_fd, 1) == b"r"  # ready, as the supervisor waits for
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert seen["config"] is config and seen["worker"] == 3 and seen["announce"] is False
    assert "VIDEOTEX_WORKER" not in os.environ  # the index is an argument, not a variable


def test_the_runtime_imports_no_command_line_code() -> None:
    code = ("import sys, videotex.runtime.workers, videotex.runtime.app; "
            "print(sorted(m for m in sys.modules if m.startswith('videotex.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
