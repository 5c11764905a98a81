"""Compact JWS: sign and verify bytes and compact tokens (RFC 7515).

A thin public face: verification is the package's one pipeline (``jwtkit._pipeline``, whose
docstring lists its steps in order), signing shares the header code of ``jwtkit._signing``.
Only the compact serialization is produced or accepted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jwtkit._b64 import b64encode
from jwtkit._pipeline import KeySource, Resolver, verify
from jwtkit._rules import DEFAULT_MAX_TOKEN_SIZE, allowed_algorithms
from jwtkit._signing import header_segment, signing_algorithm
from jwtkit.errors import InvalidSignatureError
from jwtkit.jwa import get_algorithm
from jwtkit.jwk import Key, KeySet

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "KeySource",
    "sign_bytes",
    "sign_compact",
    "verify_bytes",
    "verify_compact",
]


def sign_bytes(alg: str, key: Key, data: bytes) -> bytes:
    """Sign ``data`` with ``key`` under ``alg`` and return the raw JWS signature.

    Raises:
        UnsupportedAlgorithmError: unknown ``alg``.
        InvalidKeyError: the key cannot sign with ``alg`` (type, curve, size, public key).
    """
    return key._signer(get_algorithm(alg))(data)


def verify_bytes(alg: str, key: Key, data: bytes, signature: bytes) -> None:
    """Check a raw JWS signature over ``data``.

    Raises:
        UnsupportedAlgorithmError: unknown ``alg``.
        InvalidKeyError: the key cannot verify ``alg`` signatures.
        InvalidSignatureError: the signature does not verify.
    """
    if not key._verifier(get_algorithm(alg))(data, signature):
        raise InvalidSignatureError("signature verification failed")


def sign_compact(
    payload: bytes,
    key: Key,
    *,
    alg: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``payload`` and return a compact JWS (``alg`` defaults to the key's).

    ``headers`` are added to the protected header; a ``None`` value removes a default member.

    Raises:
        UnsupportedAlgorithmError, InvalidKeyError: see ``sign_bytes``.
    """
    algorithm = signing_algorithm(key, alg)
    sign = key._signer(algorithm)
    signing_input = header_segment(key, algorithm, headers) + b"." + b64encode(payload)
    return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")


def verify_compact(
    token: str,
    keys: Key | KeySet | KeySource,
    *,
    algorithms: Collection[str],
    max_size: int = DEFAULT_MAX_TOKEN_SIZE,
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS and return its header and raw payload (no JWT claim checks).

    Raises:
        InvalidTokenError: a subclass naming why the token is rejected.
    """
    resolver, allowed = Resolver(keys), allowed_algorithms(algorithms)
    header, payload, _ = verify(token, resolver, allowed, None, max_size)
    return header, payload
