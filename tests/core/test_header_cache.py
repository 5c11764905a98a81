"""The Verifier's cache of checked headers (issue 18): a cached header still gets every check.

Tokens of one issuer share their header segment, so the Verifier keeps the headers that passed
its header rules, keyed by the exact segment text. These tests send the same header twice (or
more) and show that every rule that does not depend on the header alone (key by kid,
signature, claims) runs for every token, and that a header that fails is refused every time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from jwtkit import Key, KeySet, Verifier
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidSignatureError,
    KeyNotFoundError,
    MalformedTokenError,
)
from tests.support.vectors import NOW

SECRET = b"k" * 32
OTHER = b"o" * 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: dict[str, Any], claims: dict[str, Any], secret: bytes = SECRET) -> str:
    """An HS256 token with exactly this header (the library would refuse to make some)."""
    head = _b64(json.dumps(header, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{_b64(hmac.digest(secret, signing_input, hashlib.sha256))}"


HEADER = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
CLAIMS = {"sub": "alice", "aud": "api", "exp": NOW + 60}


def _verifier(**options: Any) -> Verifier:
    keys = KeySet([Key.from_secret(SECRET, kid="k1")])
    return Verifier(keys, algorithms=["HS256"], audience="api", **options)


def test_tokens_sharing_a_header_are_each_verified() -> None:
    verifier = _verifier()
    for sub in ("alice", "bob", "carol"):
        claims = verifier.verify(forge(HEADER, {**CLAIMS, "sub": sub}), now=NOW)
        assert claims["sub"] == sub


def test_a_bad_signature_is_refused_under_a_cached_header() -> None:
    verifier = _verifier()
    assert verifier.verify(forge(HEADER, CLAIMS), now=NOW)["sub"] == "alice"
    with pytest.raises(InvalidSignatureError):
        verifier.verify(forge(HEADER, CLAIMS, secret=OTHER), now=NOW)


def test_the_claims_are_checked_under_a_cached_header() -> None:
    verifier = _verifier()
    verifier.verify(forge(HEADER, CLAIMS), now=NOW)
    with pytest.raises(ExpiredTokenError):
        verifier.verify(forge(HEADER, {**CLAIMS, "exp": NOW - 1}), now=NOW)
    with pytest.raises(InvalidAudienceError):
        verifier.verify(forge(HEADER, {**CLAIMS, "aud": "other"}), now=NOW)


def test_an_algorithm_not_allowed_is_refused_on_every_token() -> None:
    verifier = Verifier(Key.from_secret(SECRET), algorithms=["HS384"], audience="api")
    token = forge(HEADER, CLAIMS)
    for _ in range(3):
        with pytest.raises(AlgorithmNotAllowedError):
            verifier.verify(token, now=NOW)


def test_crit_and_none_are_refused_on_every_token() -> None:
    verifier = _verifier()
    crit = forge({**HEADER, "crit": ["exp"], "exp": 1}, CLAIMS)
    none = forge({"alg": "none", "kid": "k1"}, CLAIMS)
    for _ in range(3):
        with pytest.raises(MalformedTokenError):
            verifier.verify(crit, now=NOW)
        with pytest.raises(AlgorithmNotAllowedError):
            verifier.verify(none, now=NOW)


def test_a_wrong_typ_is_refused_on_every_token() -> None:
    verifier = _verifier(typ="at+jwt")
    token = forge(HEADER, CLAIMS)
    for _ in range(3):
        with pytest.raises(InvalidClaimError) as info:
            verifier.verify(token, now=NOW)
        assert info.value.claim == "typ"
    assert verifier.verify(forge({**HEADER, "typ": "at+jwt"}, CLAIMS), now=NOW)["sub"] == "alice"


class _Rotating:
    """A key source whose set changes between tokens (a rotation, or a JWKS refresh)."""

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset

    def get_keyset(self, kid: str | None) -> KeySet:
        return self.keyset


def test_the_kid_is_resolved_for_every_token_under_a_cached_header() -> None:
    source = _Rotating(KeySet([Key.from_secret(SECRET, kid="k1")]))
    verifier = Verifier(source, algorithms=["HS256"], audience="api")
    token = forge(HEADER, CLAIMS)
    assert verifier.verify(token, now=NOW)["sub"] == "alice"
    source.keyset = KeySet([Key.from_secret(SECRET, kid="k2")])  # k1 is gone
    with pytest.raises(KeyNotFoundError):
        verifier.verify(token, now=NOW)
    source.keyset = KeySet([Key.from_secret(OTHER, kid="k1")])  # k1 is another key now
    with pytest.raises(InvalidSignatureError):
        verifier.verify(token, now=NOW)


def test_a_header_is_keyed_by_its_exact_text() -> None:
    verifier = _verifier()
    verifier.verify(forge(HEADER, CLAIMS), now=NOW)
    # The same members in another order or spacing are another segment, checked on its own.
    reordered = forge({"typ": "JWT", "kid": "k1", "alg": "HS384"}, CLAIMS)
    with pytest.raises(AlgorithmNotAllowedError):
        verifier.verify(reordered, now=NOW)


def test_the_header_handed_out_is_a_copy() -> None:
    verifier = _verifier()
    token = forge(HEADER, CLAIMS)
    header, _ = verifier.verify_complete(token, now=NOW)
    header["alg"] = "none"
    header["kid"] = "evil"
    again, claims = verifier.verify_complete(token, now=NOW)
    assert again == HEADER
    assert claims["sub"] == "alice"


def test_the_cache_is_bounded_in_entries_and_size() -> None:
    verifier = _verifier()
    for i in range(200):
        verifier.verify(forge({**HEADER, "n": i}, CLAIMS), now=NOW)
    headers = verifier._headers
    assert headers is not None
    assert 0 < len(headers) <= 16
    big = forge({**HEADER, "x": "a" * 2000}, CLAIMS)
    verifier.verify(big, now=NOW)
    assert all(len(segment) <= 1024 for segment in headers)


def test_read_kid_applies_the_header_rules_before_any_key_is_chosen() -> None:
    verifier = _verifier()
    assert verifier.read_kid(forge(HEADER, CLAIMS)) == "k1"
    assert verifier.read_kid(forge({"alg": "HS256"}, CLAIMS)) is None
    with pytest.raises(AlgorithmNotAllowedError):
        verifier.read_kid(forge({"alg": "none", "kid": "k1"}, CLAIMS))
    with pytest.raises(MalformedTokenError):
        verifier.read_kid(forge({**HEADER, "crit": ["b64"]}, CLAIMS))
    with pytest.raises(MalformedTokenError):
        verifier.read_kid("not a token")
