"""Minitel-compatible Teletel server publishing exam results.

Layout (see README "Architecture"):

- ``videotex.codec``   sans-IO videotex: codes, character sets, frames, encoder, keyboard decoder
- ``videotex.store``   sealed result files, publication, LMDB results store
- ``videotex.cli``     the ``videotex`` command and its subcommands
"""
