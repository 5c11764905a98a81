"""Deprecated alias of ``jwtkit.server._guard``, the slow-client guard (private since issue 15)."""

from __future__ import annotations

from jwtkit.server._deprecated import warn_moved
from jwtkit.server._guard import (
    ensure_file_limit,
    guarded_protocol,
)

__all__ = ["ensure_file_limit", "guarded_protocol"]

warn_moved(__name__, "jwtkit.server._guard")
