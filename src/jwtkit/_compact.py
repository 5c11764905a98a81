"""The compact serialization, split and decoded: step one of every verify (RFC 7515 §7.1).

Nothing here checks a signature or needs a key, so ``decode_unverified`` (and ``jwtkit
inspect``) runs without loading ``cryptography`` at all (issue 17).
"""

from __future__ import annotations

from typing import Any

from jwtkit._b64 import b64decode
from jwtkit._json import DEFAULT_MAX_DEPTH, loads_object
from jwtkit.errors import MalformedTokenError

__all__ = ["DEFAULT_MAX_TOKEN_SIZE", "decode_unverified"]

DEFAULT_MAX_TOKEN_SIZE = 256 * 1024


def _split(token: object, max_size: int) -> tuple[bytes, bytes, bytes, bytes]:
    """Return signing input, header, payload and signature segments of a compact JWS."""
    if isinstance(token, str):
        if len(token) > max_size:
            raise MalformedTokenError(f"token is longer than {max_size} characters")
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("token contains non-ASCII characters") from None
    elif isinstance(token, bytes | bytearray):
        if len(token) > max_size:
            raise MalformedTokenError(f"token is longer than {max_size} bytes")
        raw = bytes(token)
    else:
        raise MalformedTokenError(f"token must be a string, not {type(token).__name__}")
    signing_input, _, signature = raw.rpartition(b".")
    header, dot, payload = signing_input.partition(b".")
    if not dot or not header or b"." in payload:
        raise MalformedTokenError("token is not a compact JWS (three '.'-separated segments)")
    return signing_input, header, payload, signature


def _decode_json(segment: bytes, what: str, max_depth: int) -> dict[str, Any]:
    try:
        return loads_object(b64decode(segment), max_depth=max_depth)
    except ValueError as exc:  # JSONError and base64url errors alike
        raise MalformedTokenError(f"{what}: {exc}") from None


def _decode_signature(segment: bytes) -> bytes:
    try:
        return b64decode(segment)
    except ValueError as exc:
        raise MalformedTokenError(f"signature: {exc}") from None


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the header and claims of ``token`` WITHOUT VERIFYING ANYTHING.

    No signature, algorithm, expiry, issuer or audience check is made: never trust the
    result. Use it to debug a token or to read a ``kid`` before choosing a key.

    Raises:
        MalformedTokenError: the token is not a well-formed compact JWT.
    """
    _, header_segment, payload_segment, _ = _split(token, DEFAULT_MAX_TOKEN_SIZE)
    header = _decode_json(header_segment, "header", DEFAULT_MAX_DEPTH)
    return header, _decode_json(payload_segment, "claims", DEFAULT_MAX_DEPTH)
