"""Renders of a :class:`~terminal_emu.screen.Screen`: text, JSON cell model, ANSI, PNG."""

from __future__ import annotations

__all__: list[str] = []
