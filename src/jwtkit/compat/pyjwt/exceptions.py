"""PyJWT's exception tree, with its names, bases and messages (``jwt.exceptions``).

The façade raises these, never jwtkit's own errors, so ``except jwt.InvalidTokenError`` and
friends keep working unchanged. The jwtkit error that caused one is chained as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "ExpiredSignatureError",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidIssuedAtError",
    "InvalidIssuerError",
    "InvalidJTIError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidSubjectError",
    "InvalidTokenError",
    "MissingCryptographyError",
    "MissingRequiredClaimError",
    "PyJWKClientConnectionError",
    "PyJWKClientError",
    "PyJWKError",
    "PyJWKSetError",
    "PyJWTError",
]


class PyJWTError(Exception):
    """Base class of every exception the façade raises."""


class InvalidTokenError(PyJWTError):
    """The token must be rejected; the subclass says why."""


class DecodeError(InvalidTokenError):
    """The token cannot be decoded: segments, base64url, JSON, or a bad claim type."""


class InvalidSignatureError(DecodeError):
    """The signature does not verify."""


class ExpiredSignatureError(InvalidTokenError):
    """``exp`` is in the past."""


class InvalidAudienceError(InvalidTokenError):
    """``aud`` does not match the expected audience."""


class InvalidIssuerError(InvalidTokenError):
    """``iss`` does not match the expected issuer."""


class InvalidIssuedAtError(InvalidTokenError):
    """``iat`` is not a number."""


class ImmatureSignatureError(InvalidTokenError):
    """``nbf`` or ``iat`` lies in the future."""


class InvalidKeyError(PyJWTError):
    """The key is malformed, weak, or does not fit the algorithm."""


class InvalidAlgorithmError(InvalidTokenError):
    """The token's algorithm is missing, not allowed, or not supported."""


class MissingRequiredClaimError(InvalidTokenError):
    """A claim named in ``require`` (or needed by ``audience``/``issuer``) is absent."""

    def __init__(self, claim: str) -> None:
        self.claim = claim

    def __str__(self) -> str:
        return f'Token is missing the "{self.claim}" claim'


class PyJWKError(PyJWTError):
    """A JWK cannot be used."""


class MissingCryptographyError(PyJWKError):
    """Kept for API compatibility: jwtkit always has ``cryptography``."""


class PyJWKSetError(PyJWTError):
    """A JWK Set is malformed or has no usable key."""


class PyJWKClientError(PyJWTError):
    """A JWKS endpoint gave no usable signing key."""


class PyJWKClientConnectionError(PyJWKClientError):
    """A JWKS endpoint could not be reached or read."""


class InvalidSubjectError(InvalidTokenError):
    """``sub`` is not a string or not the expected subject."""


class InvalidJTIError(InvalidTokenError):
    """``jti`` is not a string."""
