"""RFC 7519 §3.1 example JWT, with an injected clock (time is never patched).

The token's ``exp`` is 1300819380 (2011-03-22T18:43:00Z): the signature is valid, the claims are
valid only when ``now`` is before ``exp`` (plus leeway). The unregistered claim
``http://example.com/is_root`` must be preserved untouched.
"""

from __future__ import annotations

import pytest

from jwtkit import Key, decode, decode_unverified
from jwtkit.errors import ExpiredTokenError, InvalidIssuerError
from tests.support.vectors import rfc_example

EXP = 1300819380


def _example() -> tuple[str, Key, dict[str, object]]:
    """Return the token, its key, and the claims as printed in the RFC."""
    ex = rfc_example("rfc7519_3.1_JWT_HS256")
    assert ex["claims_check"]["exp"] == EXP
    return ex["token"], Key.from_jwk(ex["jwk"]), ex["claims"]


def test_rfc7519_3_1_decodes_before_exp() -> None:
    """One second before ``exp`` the JWT decodes to exactly the printed claims."""
    token, key, claims = _example()
    assert decode(token, key, algorithms=["HS256"], now=EXP - 1) == claims
    assert decode(token, key, algorithms=["HS256"], now=EXP - 1, issuer="joe") == claims


def test_rfc7519_3_1_expired_at_exp() -> None:
    """At ``exp`` (and after) the JWT is expired (RFC 7519 §4.1.4: now must be before exp)."""
    token, key, _ = _example()
    with pytest.raises(ExpiredTokenError) as info:
        decode(token, key, algorithms=["HS256"], now=EXP)
    assert info.value.claim == "exp"
    with pytest.raises(ExpiredTokenError):
        decode(token, key, algorithms=["HS256"], now=1_700_000_000)


def test_rfc7519_3_1_leeway() -> None:
    """With a leeway of L seconds, now < exp + L is accepted and now >= exp + L is not."""
    token, key, claims = _example()
    assert decode(token, key, algorithms=["HS256"], now=EXP + 9, leeway=10) == claims
    with pytest.raises(ExpiredTokenError):
        decode(token, key, algorithms=["HS256"], now=EXP + 10, leeway=10)


def test_rfc7519_3_1_other_issuer() -> None:
    """The example's issuer is "joe": expecting another issuer rejects it."""
    token, key, _ = _example()
    with pytest.raises(InvalidIssuerError):
        decode(token, key, algorithms=["HS256"], issuer="jane", now=EXP - 1)


def test_rfc7519_3_1_decode_unverified() -> None:
    """decode_unverified returns the header (with its CRLF layout parsed) and the claims."""
    token, _, claims = _example()
    header, got = decode_unverified(token)
    assert header == {"typ": "JWT", "alg": "HS256"}
    assert got == claims
