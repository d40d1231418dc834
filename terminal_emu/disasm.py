"""A debug disassembler (pyte style): a byte stream as readable events."""

from __future__ import annotations

__all__ = ["disassemble"]


def disassemble(data: bytes) -> list[str]:
    """Placeholder replaced below."""
    return [data.hex(" ")]
