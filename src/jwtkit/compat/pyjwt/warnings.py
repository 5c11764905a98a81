"""PyJWT's warning classes (``jwt.warnings``).

``InsecureKeyLengthWarning`` is also a ``jwtkit.errors.SecurityWarning``: it is what a short
HMAC secret emits on every use through the façade (jwtkit's one exception to its key-length
rule, ``Key.from_secret(..., allow_weak=True)``), so one filter on ``SecurityWarning`` covers
both APIs.
"""

from __future__ import annotations

from jwtkit.errors import SecurityWarning

__all__ = ["InsecureKeyLengthWarning", "RemovedInPyjwt3Warning"]


class RemovedInPyjwt3Warning(DeprecationWarning):
    """A feature PyJWT 3 removes (here: extra keyword arguments to ``decode``)."""


class InsecureKeyLengthWarning(SecurityWarning):
    """A key is shorter than the minimum for its algorithm (RFC 7518 §3.2)."""
