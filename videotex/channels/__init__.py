"""The I/O adapters, one per channel: they move bytes (or audio) and turn hang-ups into events.

- ``connection``   the byte-pipe interface every channel adapts to, and output pacing
- ``telnet``       telnet listener; ``telnet_negotiation`` is the only module touching
  telnetlib3 (the opening negotiation and the hand-over to :mod:`videotex.protocols.telnet`)
- ``raw``          raw TCP listener (bare videotex, optional PROXY header)
- ``ssh``          the service to SSH clients (asyncssh); ``ssh_host`` the host key,
  credentials and options shared with the SFTP inbox
- ``ws``           WebSocket endpoint and the browser Minitel (``web/``)
- ``serial_line``, ``serial_port``  a Minitel on a modem or a serial cable
- ``phone``        SIP/RTP and Asterisk AudioSocket calls through the V.23 soft modem

A channel hands every caller to ``Switchboard.handle`` (:mod:`videotex.runtime`); nothing
above the adapters knows how a caller arrived.
"""
