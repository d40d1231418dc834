"""The phone line: a Minitel behind an internet box or a VoIP adapter dials the server.

- ``sip_listener``          the ``sip`` listener (SIP over UDP/TCP, RTP on a port range)
- ``audiosocket_listener``  the ``audiosocket`` listener (Asterisk hands calls over TCP)
- ``ua``, ``events``, ``salvage``  the SIP user agent core, sans-IO, and what it reports
- ``register``              registration with a SIP trunk (digest credentials)
- ``media``                 the one 20 ms media tick: every call on one V.23 answer bank
- ``lines``, ``ports``      a call's audio and byte pipe; the RTP ports
- ``options``               the listeners' options

Audio → V.23 modem → bytes → the session as on every other channel: nothing above this
package knows a call came by phone (see docs/phone.md).
"""

from __future__ import annotations

import os

# OpenBLAS's threads busy-wait on the modem bank's small matrix products and double the
# process's CPU for nothing (docs/phone.md); set before numpy loads, which is here in
# ``videotex serve`` (a value set by the operator wins).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
