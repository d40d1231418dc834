"""The sans-IO packages import no I/O: no event loop, socket, serial line, thread or
child process, and no command-line parsing. Every module under them is walked, so modules added later (the V.23 modem,
SIP/SDP/RTP and SMPP parsers) are checked without being listed here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Packages that must stay sans-IO.
SANS_IO = ("videotex/protocols", "videotex/codec", "videotex/teletel")
#: Top-level modules they may not import (nor any submodule of them); command-line code
#: (argparse) lives in videotex/cli/.
FORBIDDEN = ("asyncio", "socket", "serial", "serial_asyncio", "serial_asyncio_fast",
             "selectors", "threading", "subprocess", "multiprocessing", "concurrent",
             "argparse")


def modules() -> list[Path]:
    found = sorted(p for package in SANS_IO for p in (ROOT / package).rglob("*.py"))
    assert found, f"no module found under {SANS_IO}"
    return found


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in ``path``, however deep in the code."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_no_io(path: Path) -> None:
    bad = [f"{path.relative_to(ROOT)}:{line}: imports {module}"
           for line, module in imported(path) if forbidden(module)]
    assert not bad, "sans-IO module imports I/O:\n" + "\n".join(bad)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy as np\nimport asyncio.streams\n"
                      "from serial.tools import list_ports\n"
                      "def f():\n    import socket\n    from threading import Lock\n")
    found = [m for _line, m in imported(sample) if forbidden(m)]
    assert found == ["asyncio.streams", "serial.tools", "socket", "threading"]
    assert not forbidden("numpy") and not forbidden("serializer")
