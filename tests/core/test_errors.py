"""The jwtkit.errors tree: stable codes, the hierarchy, and what each branch means.

Codes are part of the public contract (servers and CLIs print them), so the exact strings are
asserted here; changing one is a breaking change.
"""

from __future__ import annotations

import inspect

import pytest

from jwtkit import errors
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    ClaimsError,
    CorruptStoreError,
    ExpiredTokenError,
    IntrospectionError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidTokenError,
    JWKSFetchError,
    JWTError,
    KeyNotFoundError,
    KeyStateError,
    KeyStoreError,
    MalformedTokenError,
    MasterKeyError,
    MissingClaimError,
    NotYetValidError,
    SchemaVersionError,
    StoreUnavailableError,
    UnsupportedAlgorithmError,
)

CODES: dict[type[JWTError], str] = {
    JWTError: "jwt_error",
    InvalidTokenError: "invalid_token",
    MalformedTokenError: "malformed_token",
    AlgorithmNotAllowedError: "algorithm_not_allowed",
    InvalidSignatureError: "invalid_signature",
    KeyNotFoundError: "key_not_found",
    ClaimsError: "invalid_claims",
    ExpiredTokenError: "token_expired",
    NotYetValidError: "token_not_yet_valid",
    InvalidIssuerError: "invalid_issuer",
    InvalidAudienceError: "invalid_audience",
    MissingClaimError: "missing_claim",
    InvalidClaimError: "invalid_claim",
    UnsupportedAlgorithmError: "unsupported_algorithm",
    InvalidKeyError: "invalid_key",
    KeyStoreError: "key_store_error",
    MasterKeyError: "master_key_error",
    CorruptStoreError: "corrupt_store",
    SchemaVersionError: "schema_version",
    KeyStateError: "key_state",
    StoreUnavailableError: "store_unavailable",
    JWKSFetchError: "jwks_fetch_error",
    IntrospectionError: "introspection_error",
}

TOKEN_REJECTIONS = [
    MalformedTokenError,
    AlgorithmNotAllowedError,
    InvalidSignatureError,
    KeyNotFoundError,
    ClaimsError,
    ExpiredTokenError,
    NotYetValidError,
    InvalidIssuerError,
    InvalidAudienceError,
    MissingClaimError,
    InvalidClaimError,
]

CLAIM_ERRORS = [
    ExpiredTokenError,
    NotYetValidError,
    InvalidIssuerError,
    InvalidAudienceError,
    MissingClaimError,
    InvalidClaimError,
]

CONFIG_ERRORS = [
    UnsupportedAlgorithmError,
    InvalidKeyError,
    KeyStoreError,
    JWKSFetchError,
    IntrospectionError,
]


def _make(cls: type[JWTError]) -> JWTError:
    """Instantiate any error class with a plausible message (claims errors need ``claim``)."""
    if issubclass(cls, ClaimsError):
        return cls("bad claim", claim="exp")
    return cls("something went wrong")


def test_every_error_class_has_a_listed_code() -> None:
    """Every JWTError subclass exported by jwtkit.errors appears in CODES (none forgotten)."""
    exported = {
        obj
        for name in errors.__all__
        if inspect.isclass(obj := getattr(errors, name)) and issubclass(obj, JWTError)
    }
    assert exported == set(CODES)


@pytest.mark.parametrize("cls", list(CODES), ids=lambda c: c.__name__)
def test_error_code_is_stable(cls: type[JWTError]) -> None:
    """Class attribute and instance both carry the documented snake_case code."""
    assert cls.code == CODES[cls]
    exc = _make(cls)
    assert exc.code == CODES[cls]
    assert isinstance(exc, JWTError)


def test_codes_are_unique() -> None:
    """No two classes share a code (a code identifies one failure kind)."""
    assert len(set(CODES.values())) == len(CODES)


@pytest.mark.parametrize("cls", TOKEN_REJECTIONS, ids=lambda c: c.__name__)
def test_invalid_token_error_catches_every_rejection(cls: type[JWTError]) -> None:
    """One ``except InvalidTokenError`` catches every reason to reject a token."""
    with pytest.raises(InvalidTokenError):
        raise _make(cls)


@pytest.mark.parametrize("cls", CLAIM_ERRORS, ids=lambda c: c.__name__)
def test_claims_errors_share_a_branch(cls: type[ClaimsError]) -> None:
    """Expiry and friends are ClaimsError, carrying ``claim`` and a default ``reason``."""
    exc = cls("nope", claim="aud")
    assert isinstance(exc, ClaimsError)
    assert exc.claim == "aud"
    assert isinstance(exc.reason, str) and exc.reason
    assert str(exc) == "nope"


def test_claims_error_reason_override() -> None:
    """An explicit ``reason`` replaces the class default; the default stays per class."""
    exc = InvalidClaimError("exp is not a number", claim="exp", reason="type")
    assert exc.reason == "type"
    assert InvalidClaimError("x", claim="exp").reason == "invalid"
    assert MissingClaimError("x", claim="sub").reason == "missing"
    assert ExpiredTokenError("x", claim="exp").reason == "expired"


@pytest.mark.parametrize("cls", CONFIG_ERRORS, ids=lambda c: c.__name__)
def test_configuration_errors_are_outside_invalid_token(cls: type[JWTError]) -> None:
    """Configuration and store problems never pass for a rejected token (no 401 for a bug)."""
    exc = _make(cls)
    assert not isinstance(exc, InvalidTokenError)
    assert isinstance(exc, JWTError)


def test_store_errors_are_key_store_errors() -> None:
    """The key-store failures share KeyStoreError."""
    for cls in (
        MasterKeyError,
        CorruptStoreError,
        SchemaVersionError,
        KeyStateError,
        StoreUnavailableError,
    ):
        assert issubclass(cls, KeyStoreError)
        assert not issubclass(cls, InvalidTokenError)


def test_config_errors_are_value_errors() -> None:
    """UnsupportedAlgorithmError and InvalidKeyError are also ValueError (bad argument)."""
    assert issubclass(UnsupportedAlgorithmError, ValueError)
    assert issubclass(InvalidKeyError, ValueError)
