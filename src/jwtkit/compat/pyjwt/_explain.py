"""Say why a token was rejected in PyJWT's words (private; runs only after a rejection).

Tokens go through jwtkit's verify pipeline. When it rejects one, this module replays PyJWT's
own checks, in PyJWT's order, over the token, and raises the exception PyJWT would have raised
(same class, same message). When PyJWT would have accepted the token, the rejection is one of
jwtkit's deliberate rules (strict base64url or JSON, ``crit``, ``b64: false``, sizes), and it is
raised as the nearest PyJWT class with jwtkit's message.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Collection
from typing import Any, NoReturn

from jwtkit import errors as core
from jwtkit.compat.pyjwt.exceptions import (
    DecodeError,
    InvalidAlgorithmError,
    InvalidSignatureError,
    InvalidTokenError,
    PyJWTError,
)
from jwtkit.compat.pyjwt.utils import base64url_decode, base64url_encode

__all__ = [
    "DETACHED_REFUSED",
    "check_detached",
    "check_headers",
    "explain_payload",
    "explain_token",
]

DETACHED_REFUSED = (
    "jwtkit.compat.pyjwt does not support unencoded, detached payloads "
    "(RFC 7797 b64: false): jwtkit refuses them"
)
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_SUPPORTED_CRIT = frozenset({"b64"})


def _segment(segment: bytes, name: str) -> bytes:
    """PyJWT's base64url rules: canonical, with optional correct padding."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    bad = (
        padding > 2
        or (padding and len(segment) % 4)
        or len(stripped) % 4 == 1
        or not _ALPHABET.issuperset(stripped)
    )
    if bad:
        raise DecodeError(f"Invalid {name} padding")
    try:
        decoded = base64url_decode(stripped)
    except (TypeError, binascii.Error) as err:
        raise DecodeError(f"Invalid {name} padding") from err
    if base64url_encode(decoded) != stripped:
        raise DecodeError(f"Invalid {name} padding")
    return decoded


def _load(token: object) -> dict[str, Any]:
    """Replay PyJWT's token parsing; return the header if PyJWT would accept the token."""
    if isinstance(token, str):
        token = token.encode("utf-8")
    if not isinstance(token, bytes):
        raise DecodeError(f"Invalid token type. Token must be a {bytes}")
    signing_input, dot, crypto = token.rpartition(b".")
    header_segment, dot2, payload_segment = signing_input.partition(b".")
    if not dot or not dot2:
        raise DecodeError("Not enough segments")
    try:
        header = json.loads(_segment(header_segment, "header"))
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"Invalid header string: {exc}") from exc
    if not isinstance(header, dict):
        raise DecodeError("Invalid header string: must be a json object")
    if header.get("b64", True) is False:
        if payload_segment:
            raise DecodeError("Payload segment must be empty when 'b64' is false.")
    else:
        _segment(payload_segment, "payload")
    _segment(crypto, "crypto")
    return header


def check_headers(header: dict[str, Any]) -> None:
    """PyJWT's header rules: ``kid`` is a string, ``crit`` lists supported names present.

    Raises:
        InvalidTokenError: with PyJWT's message.
    """
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidTokenError("Key ID header parameter must be a string")
    if "crit" not in header:
        return
    crit = header["crit"]
    if not isinstance(crit, list) or not crit:
        raise InvalidTokenError("Invalid 'crit' header: must be a non-empty list")
    for ext in crit:
        if not isinstance(ext, str):
            raise InvalidTokenError("Invalid 'crit' header: values must be strings")
        if ext not in _SUPPORTED_CRIT:
            raise InvalidTokenError(f"Unsupported critical extension: {ext}")
        if ext not in header:
            raise InvalidTokenError(f"Critical extension '{ext}' is missing from headers")


def check_detached(header: dict[str, Any], detached_payload: bytes | None) -> None:
    """PyJWT's ``b64``/``detached_payload`` rules, then jwtkit's refusal of ``b64: false``.

    Raises:
        DecodeError, InvalidTokenError: PyJWT's error for a misuse, or the refusal.
    """
    unencoded = header.get("b64", True) is False
    if detached_payload is not None and not unencoded:
        raise DecodeError(
            'It is only valid to pass "detached_payload" when the protected header has "b64" '
            "set to false."
        )
    if unencoded:
        crit = header.get("crit") or []
        if not isinstance(crit, list) or "b64" not in crit:
            raise InvalidTokenError(
                "The 'b64' header parameter requires 'b64' to be listed in 'crit'."
            )
        if detached_payload is None:
            raise DecodeError(
                'It is required that you pass in a value for the "detached_payload" argument '
                "to decode a message having the b64 header set to false."
            )
        raise DecodeError(DETACHED_REFUSED)


def _check_algorithm(
    header: dict[str, Any],
    algorithms: Collection[str] | None,
    supported: Collection[str],
    bound: str | None,
    key: object,
) -> None:
    if "alg" not in header:
        raise InvalidAlgorithmError("Algorithm not specified")
    alg = header["alg"]
    if not alg or (algorithms is not None and alg not in algorithms):
        raise InvalidAlgorithmError("The specified alg value is not allowed")
    if bound is not None and alg != bound:
        raise InvalidAlgorithmError(
            f"Token algorithm {alg!r} does not match the key's algorithm {bound!r}"
        )
    if alg == "none" and "none" in supported:
        from jwtkit.compat.pyjwt.algorithms import NoneAlgorithm

        NoneAlgorithm().prepare_key(key)  # type: ignore[arg-type]
        # PyJWT's NoneAlgorithm never verifies, and neither does jwtkit.
        raise InvalidSignatureError("Signature verification failed")
    if alg not in supported:
        raise InvalidAlgorithmError("Algorithm not supported")


_NEAREST: tuple[tuple[type[core.JWTError], type[PyJWTError]], ...] = (
    (core.InvalidSignatureError, InvalidSignatureError),
    (core.AlgorithmNotAllowedError, InvalidAlgorithmError),
    (core.MalformedTokenError, DecodeError),
)


def explain_token(
    token: object,
    error: core.JWTError,
    *,
    verify: bool,
    algorithms: Collection[str] | None = None,
    supported: Collection[str] = (),
    bound: str | None = None,
    key: object = None,
    detached_payload: bytes | None = None,
) -> NoReturn:
    """Raise what PyJWT raises for ``token``, or the nearest PyJWT class for ``error``."""
    header = _load(token)
    check_headers(header)
    check_detached(header, detached_payload)
    if verify:
        _check_algorithm(header, algorithms, supported, bound, key)
    if isinstance(error, core.InvalidSignatureError):
        raise InvalidSignatureError("Signature verification failed") from error
    for jwtkit_class, pyjwt_class in _NEAREST:
        if isinstance(error, jwtkit_class):
            raise pyjwt_class(str(error)) from error
    raise DecodeError(str(error)) from error


def explain_payload(payload: bytes, error: Exception) -> NoReturn:
    """Raise PyJWT's error for a payload jwtkit's strict JSON parser refused."""
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"Invalid payload string: {exc}") from exc
    if not isinstance(document, dict):
        raise DecodeError("Invalid payload string: must be a json object") from error
    raise DecodeError(f"Invalid payload string: {error}") from error
