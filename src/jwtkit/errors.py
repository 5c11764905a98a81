"""Every exception jwtkit raises, in one tree.

```
JWTError                             base; every class has a stable snake_case `code`
  InvalidTokenError                  "reject this token" (a server maps it to 401)
    MalformedTokenError              segments, base64url, JSON, header member types, size, depth
    AlgorithmNotAllowedError         alg missing, `none`, or not in the caller's allow-list
    InvalidSignatureError            the signature does not verify under the chosen key
    KeyNotFoundError                 no usable key for this kid/alg
    ClaimsError                      carries .claim and .reason ("missing", "mismatch", ...)
      ExpiredTokenError, NotYetValidError, InvalidIssuerError, InvalidAudienceError,
      MissingClaimError, InvalidClaimError
  UnsupportedAlgorithmError          jwtkit does not implement this alg (configuration problem)
  InvalidKeyError                    weak, mismatched or unusable key (configuration problem)
  KeyStoreError                      jwtkit.keys and the stores: storage and rotation state
    MasterKeyError                   missing or wrong master key
    CorruptStoreError                unreadable, truncated or tampered store or backup
    SchemaVersionError               store written by a newer jwtkit
    KeyStateError                    an operation the key's lifecycle state does not allow
    StoreUnavailableError            the database cannot be reached or did not answer in time
  JWKSFetchError                     jwtkit.client: network, non-200, bad JSON (unavailable)
    IntrospectionError               the RFC 7662 introspection endpoint failed or answered nonsense
```

One ``except InvalidTokenError`` catches every reason to reject a token. Messages never
contain key material or the full token.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmNotAllowedError",
    "ClaimsError",
    "CorruptStoreError",
    "ExpiredTokenError",
    "IntrospectionError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "InvalidTokenError",
    "JWKSFetchError",
    "JWTError",
    "KeyNotFoundError",
    "KeyStateError",
    "KeyStoreError",
    "MalformedTokenError",
    "MasterKeyError",
    "MissingClaimError",
    "NotYetValidError",
    "SchemaVersionError",
    "SecurityWarning",
    "StoreUnavailableError",
    "UnsupportedAlgorithmError",
]


class JWTError(Exception):
    """Base class of every jwtkit error; ``code`` is a stable machine-readable name."""

    code = "jwt_error"


class InvalidTokenError(JWTError):
    """The token must be rejected; the subclass says why."""

    code = "invalid_token"


class MalformedTokenError(InvalidTokenError):
    """The token is not a well-formed compact JWS/JWT (segments, base64url, JSON, limits)."""

    code = "malformed_token"


class AlgorithmNotAllowedError(InvalidTokenError):
    """The token's ``alg`` is missing, ``none``, or not in the caller's allow-list."""

    code = "algorithm_not_allowed"


class InvalidSignatureError(InvalidTokenError):
    """The signature does not verify, or the key cannot be used for this token."""

    code = "invalid_signature"


class KeyNotFoundError(InvalidTokenError):
    """No key in the key set fits the token's ``kid`` and ``alg``."""

    code = "key_not_found"


class ClaimsError(InvalidTokenError):
    """A registered claim failed validation; ``claim`` names it, ``reason`` says how."""

    code = "invalid_claims"
    reason = "invalid"

    def __init__(self, message: str, *, claim: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.claim = claim
        if reason is not None:
            self.reason = reason


class ExpiredTokenError(ClaimsError):
    """``exp`` is in the past beyond the allowed leeway, or the token is older than ``max_age``."""

    code = "token_expired"
    reason = "expired"


class NotYetValidError(ClaimsError):
    """``nbf`` or ``iat`` lies in the future beyond the allowed leeway."""

    code = "token_not_yet_valid"
    reason = "not_yet_valid"


class InvalidIssuerError(ClaimsError):
    """``iss`` is not the expected issuer."""

    code = "invalid_issuer"
    reason = "mismatch"


class InvalidAudienceError(ClaimsError):
    """``aud`` does not name the expected audience, or is present when none is expected."""

    code = "invalid_audience"
    reason = "mismatch"


class MissingClaimError(ClaimsError):
    """A required claim is absent."""

    code = "missing_claim"
    reason = "missing"


class InvalidClaimError(ClaimsError):
    """A claim has the wrong type or value (``exp`` not a number, wrong ``sub``, ...)."""

    code = "invalid_claim"
    reason = "invalid"


class UnsupportedAlgorithmError(JWTError, ValueError):
    """jwtkit does not implement the named algorithm (a configuration problem)."""

    code = "unsupported_algorithm"


class InvalidKeyError(JWTError, ValueError):
    """The key is weak, malformed, or does not fit the algorithm (a configuration problem)."""

    code = "invalid_key"


class KeyStoreError(JWTError):
    """A key store operation failed (jwtkit.keys)."""

    code = "key_store_error"


class MasterKeyError(KeyStoreError):
    """The master key is missing, malformed, or not the one the store was written with."""

    code = "master_key_error"


class CorruptStoreError(KeyStoreError):
    """The store or backup is unreadable, truncated or has been tampered with."""

    code = "corrupt_store"


class SchemaVersionError(KeyStoreError):
    """The store was written by a newer schema version than this jwtkit understands."""

    code = "schema_version"


class KeyStateError(KeyStoreError):
    """The operation is not allowed in the key's lifecycle state (or the key is unknown)."""

    code = "key_state"


class StoreUnavailableError(KeyStoreError):
    """The store did not answer in time or refused the connection (retry later).

    A transient condition, unlike the other store errors: the token service answers it with
    503 ``temporarily_unavailable`` and ``Retry-After``.
    """

    code = "store_unavailable"


class JWKSFetchError(JWTError):
    """A remote JWKS could not be fetched or parsed (the issuer is unavailable, not wrong)."""

    code = "jwks_fetch_error"


class IntrospectionError(JWKSFetchError):
    """Token introspection (RFC 7662) failed: unreachable, timed out, not 200, or an answer
    without a boolean ``active``.

    A subclass of ``JWKSFetchError`` (the issuer is unavailable, not the token invalid), so
    ``except JWKSFetchError`` and the 503 answer of the middleware cover it.
    """

    code = "introspection_error"


class SecurityWarning(UserWarning):
    """An allowed but weak use of jwtkit (for example a short-lived exception to a default)."""
