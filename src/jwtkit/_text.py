"""Text helpers: shortening untrusted text for messages and logs (one helper for the whole
package), and UTF-8 encoding of key text.

A token, a JWKS or a key file may carry very long strings; messages quote them, bounded, so an
attacker cannot fill a log line or an error response with them.
"""

from __future__ import annotations

from jwtkit.errors import InvalidKeyError

__all__ = ["quoted", "short", "utf8"]


def short(text: str, limit: int = 64) -> str:
    """Return ``text``, or its start and ``...`` in at most ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def quoted(value: object, limit: int = 64) -> str:
    """``repr(value)`` shortened as ``short`` does: for log lines that quote what a peer sent."""
    return short(repr(value), limit)


def utf8(text: str, what: str) -> bytes:
    """Encode ``text`` as UTF-8; a lone surrogate (which UTF-8 cannot carry) is a key error.

    Raises:
        InvalidKeyError: naming ``what`` (the secret, the password, the JWK).
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(f"{what} is not valid Unicode text (unpaired surrogate)") from None
