"""The running server: what ties channels, the session engine, billing and the store.

- ``app``          ``run_server``: store, hooks, switchboard, listeners, graceful stop
- ``switchboard``  live calls: start, hooks (billing, metrics), shutdown
- ``interact``     the one coroutine that drives a :class:`~videotex.teletel.Session`
- ``listeners``    listener kinds and their starters
- ``workers``      ``--workers N``: the supervisor and its worker processes
- ``config``       TOML configuration and command-line listeners
- ``metrics``, ``logs``, ``gcpolicy``  Prometheus metrics, JSON logs, garbage collection
- ``loop``, ``realtime``  the event loop whose media clock does not wait its turn, and
  real-time scheduling for phone audio (``media_priority``)
- ``demo``         the demo results store of ``videotex serve --demo``
"""
