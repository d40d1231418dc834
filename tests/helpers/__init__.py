"""What several test folders share: one copy each.

- ``results``      the known candidates and the small results store built from them
- ``callers``      a caller on the home page: ``at_home``, ``send_form``, ``consult``
- ``listeners``    loopback listeners (telnet, raw) on a switchboard, port 0
- ``harness``      a sans-IO caller: a session and an emulated Minitel, no socket
- ``serial_line``  pty pairs, a fake modem and 7E1 lines for the serial channel
- ``processes``    a ``videotex serve`` child process and its log lines, awaited

The fixtures built on them (``store_dir``, ``service``, ``clock``) are in
``tests/conftest.py``.
"""
