"""Shortening untrusted text for messages and logs (one helper for the whole package).

A token, a JWKS or a key file may carry very long strings; messages quote them, bounded, so an
attacker cannot fill a log line or an error response with them.
"""

from __future__ import annotations

__all__ = ["short"]


def short(text: str, limit: int = 64) -> str:
    """Return ``text`` cut to ``limit`` characters, with ``...`` marking a cut."""
    return text if len(text) <= limit else text[:limit] + "..."
