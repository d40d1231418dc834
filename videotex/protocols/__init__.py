"""Sans-IO protocol code: bytes in, events or bytes out; no sockets, no serial, no event loop.

- ``telnet``      the telnet option codec once the opening negotiation is over
- ``hayes``       the Hayes (AT) dialogue with a modem, as a state machine
- ``framing``     7E1 serial framing: parity bits added, checked and stripped
- ``proxyproto``  the PROXY protocol header (v1 and v2) HAProxy puts before a connection
- ``gate``        who may call: concurrent calls and call rate per caller

Nothing here imports asyncio, socket, serial, selectors, threading or subprocess
(``tests/protocols/test_sans_io.py`` checks every module of this package, so new ones are
covered when they land): the channel adapters of :mod:`videotex.channels` drive it.
"""
