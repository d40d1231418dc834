"""The Teletel gateway: callers reach other services through this server.

- ``minipavi_call``  one caller on a MiniPavi service (HTTP + JSON), sans-IO: the runtime
  performs its :class:`HttpPost` and :class:`Bridge` effects and reports back
"""

from __future__ import annotations

from .minipavi_call import (
    MAX_DIRECT,
    Bridge,
    CallState,
    Effect,
    GatewayFacts,
    HttpPost,
    HttpResult,
    MiniPaviCall,
)

__all__ = [
    "MAX_DIRECT",
    "Bridge",
    "CallState",
    "Effect",
    "GatewayFacts",
    "HttpPost",
    "HttpResult",
    "MiniPaviCall",
]
