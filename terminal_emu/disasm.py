"""A debug disassembler (pyte style): a Vidéotex byte stream as readable events.

It is a separate, stateless-per-call tokenizer (it does not drive a screen), meant for
reading captures: ``disassemble(b"\\x1f\\x45\\x59\\x1b\\x41ABC\\x12\\x43")`` gives
``['US r5 c25', 'ESC fg red', 'TEXT "ABC"', 'REP 3']``.
"""

from __future__ import annotations

__all__ = ["disassemble"]

_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
_C0 = {
    0x07: "BEL", 0x08: "BS", 0x09: "HT", 0x0A: "LF", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR",
    0x0E: "SO", 0x0F: "SI", 0x11: "CON", 0x14: "COFF", 0x18: "CAN", 0x1A: "SUB", 0x1E: "RS",
}
_ESC = {
    0x48: "blink", 0x49: "steady", 0x4C: "normal size", 0x4D: "double height",
    0x4E: "double width", 0x4F: "double size", 0x58: "mask", 0x59: "lining off",
    0x5A: "lining on", 0x5C: "normal polarity", 0x5D: "inverse", 0x5F: "unmask",
    0x61: "cursor request",
}


def _esc_name(b: int) -> str:
    if 0x40 <= b <= 0x47:
        return f"ESC fg {_COLOURS[b - 0x40]}"
    if 0x50 <= b <= 0x57:
        return f"ESC bg {_COLOURS[b - 0x50]}"
    return f"ESC {_ESC.get(b, f'{b:02X}')}"


def disassemble(data: bytes) -> list[str]:
    """Readable events for ``data`` (never raises)."""
    out: list[str] = []
    text: list[str] = []
    i, n = 0, len(data)

    def flush() -> None:
        if text:
            out.append(f'TEXT "{"".join(text)}"')
            text.clear()

    def arg(k: int) -> int | None:
        return data[k] & 0x7F if k < n else None

    while i < n:
        b = data[i] & 0x7F
        if b >= 0x20:
            text.append(chr(b))
            i += 1
            continue
        flush()
        a1, a2 = arg(i + 1), arg(i + 2)
        if b == 0x1F and a1 is not None and a2 is not None:
            if 0x40 <= a1 <= 0x58 and 0x41 <= a2 <= 0x68:
                out.append(f"US r{a1 - 0x40} c{a2 - 0x40}")
            else:
                out.append(f"US {a1:02X} {a2:02X}")
            i += 3
        elif b == 0x12 and a1 is not None:
            out.append(f"REP {a1 - 0x40}" if a1 >= 0x40 else f"REP ?{a1:02X}")
            i += 2
        elif b in (0x19, 0x16) and a1 is not None:
            if a1 in (0x41, 0x42, 0x43, 0x48, 0x4B) and a2 is not None:
                out.append(f"SS2 {a1:02X} {chr(a2)!r}")
                i += 3
            else:
                out.append(f"SS2 {a1:02X}")
                i += 2
        elif b == 0x13 and a1 is not None:
            out.append(f"SEP {a1:02X}")
            i += 2
        elif b == 0x1B and a1 is not None:
            if 0x39 <= a1 <= 0x3B:
                count = a1 - 0x38
                args = " ".join(f"{x & 0x7F:02X}" for x in data[i + 2 : i + 2 + count])
                out.append(f"PRO{count} {args}")
                i += 2 + count
            elif a1 == 0x5B:
                j = i + 2
                while j < n and not 0x40 <= data[j] & 0x7F <= 0x7E:
                    j += 1
                body = bytes(x & 0x7F for x in data[i + 2 : j + 1]).decode("ascii", "replace")
                out.append(f"CSI {body}")
                i = j + 1
            else:
                out.append(_esc_name(a1))
                i += 2
        elif b == 0x00:
            i += 1
        else:
            out.append(_C0.get(b, f"C0 {b:02X}"))
            i += 1
    flush()
    return out
