"""Deprecated alias of ``jwtkit.server._cors``, the CORS middleware (private since issue 15)."""

from __future__ import annotations

from jwtkit.server._cors import (
    CORS_PATHS,
    CORSMiddleware,
    PathRule,
)
from jwtkit.server._deprecated import warn_moved

__all__ = ["CORS_PATHS", "CORSMiddleware", "PathRule"]

warn_moved(__name__, "jwtkit.server._cors")
