"""Deprecated alias of ``jwtkit.server._accesslog``, the access-log filter (issue 15)."""

from __future__ import annotations

from jwtkit.server._accesslog import (
    REDACTED,
    RedactQuery,
    install,
    redact_query,
)
from jwtkit.server._deprecated import warn_moved

__all__ = ["REDACTED", "RedactQuery", "install", "redact_query"]

warn_moved(__name__, "jwtkit.server._accesslog")
