"""Deprecated alias of ``jwtkit.server._ratelimit``, the limiter (private since issue 15)."""

from __future__ import annotations

from jwtkit.server._deprecated import warn_moved
from jwtkit.server._ratelimit import (
    Attempt,
    Limiter,
    Policy,
    TooManyAttemptsError,
    address_key,
    policies,
)

__all__ = ["Attempt", "Limiter", "Policy", "TooManyAttemptsError", "address_key", "policies"]

warn_moved(__name__, "jwtkit.server._ratelimit")
