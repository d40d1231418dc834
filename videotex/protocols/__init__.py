"""Sans-IO protocol code: DSP and parsers fed with samples or bytes, no asyncio, sockets or serial."""
