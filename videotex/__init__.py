"""Minitel-compatible Teletel server publishing exam results.

Layout (see README "Architecture"):

- ``videotex.protocols`` sans-IO protocol code: telnet option codec, Hayes dialogue, 7E1
  framing, PROXY protocol, the gate
- ``videotex.channels``  I/O adapters, one per channel: telnet, raw TCP, SSH, WebSocket, serial
- ``videotex.runtime``   the running server: ``run_server``, switchboard, call driver,
  workers, metrics, configuration
- ``videotex.inbox``     the providers' SFTP drop box
- ``videotex.codec``     sans-IO videotex: codes, character sets, frames, encoder, keyboard decoder
- ``videotex.teletel``   sans-IO session engine, pages framework, a call's facts
- ``videotex.store``     sealed result files, publication, LMDB results store
- ``videotex.billing``   tariffs, meter, call records (LMDB ledger), reports
- ``videotex.cli``       the ``videotex`` command and all its subcommands
"""
