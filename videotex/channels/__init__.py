"""I/O adapters, one package per channel (more move here from ``videotex.server``).

- ``phone``  SIP/RTP and Asterisk AudioSocket calls through the V.23 soft modem
"""
