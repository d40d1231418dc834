"""Sans-IO protocol code: DSP and parsers fed with samples or bytes, no asyncio, sockets or serial.

- ``telnet``      the telnet option codec once the opening negotiation is over
- ``hayes``       the Hayes (AT) dialogue with a modem, as a state machine
- ``framing``     7E1 serial framing: parity bits added, checked and stripped
- ``proxyproto``  the PROXY protocol header (v1 and v2) HAProxy puts before a connection
- ``gate``        who may call: concurrent calls and call rate per caller
- ``g711``        G.711 µ-law/A-law in numpy, with the 0 dBm0 level reference
- ``v23``         the V.23 soft modem (answer and originate sides, banks of calls)

You push bytes or samples in and get events out; time is a count of samples or an
injected clock. Nothing here imports asyncio, socket, serial, selectors, threading,
subprocess or argparse (``tests/protocols/test_sans_io.py`` walks every module of this
package, so new ones are covered when they land; numpy is allowed): the channel adapters
of :mod:`videotex.channels` drive it.
"""
