"""Transports and the call driver: the only part of the server that does I/O.

- ``connection``  the byte-pipe interface every transport adapts to, and output pacing
- ``interact``    the one coroutine that drives a :class:`~videotex.teletel.Session`
- ``switchboard`` live calls: start, hooks (billing), graceful shutdown
- ``telnet``      telnet listener (telnetlib3 protocol, binary, character at a time)
- ``raw``         raw TCP listener (bare videotex, no negotiation)
- ``config``      TOML configuration and command-line listeners
- ``serve``       ``videotex serve``
"""
