"""Property-based tests (hypothesis).

* Any JSON-safe claims dict survives encode -> decode unchanged (registered time claims are fixed
  so the claim checks pass; everything else is random).
* Flipping any single bit anywhere in a valid token makes jwtkit reject it with a ``JWTError``
  subclass (in practice ``InvalidTokenError``), for HS256, ES256 and Ed25519. This holds because
  base64url is canonical (so a changed character is changed bytes) and the signature covers the
  exact signing input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtkit import Key, KeySet, decode, decode_unverified, encode
from jwtkit.errors import InvalidTokenError, MalformedTokenError
from tests.support.vectors import NOW, b64url_encode

REGISTERED = {"exp", "nbf", "iat", "iss", "aud", "sub", "jti"}

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

text = st.text(st.characters(codec="utf-8"), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(text, children, max_size=5),
    max_leaves=25,
)
claims_strategy = st.dictionaries(
    text.filter(lambda name: name not in REGISTERED), json_values, max_size=8
)


@SETTINGS
@given(claims=claims_strategy)
def test_random_claims_round_trip(claims: dict[str, Any], key_for: Callable[[str], Key]) -> None:
    """encode -> decode returns exactly the claims that went in (the JSON layer does not
    depend on the algorithm, so HS256 stands for all; round trips per algorithm are in
    tests/rfc7518)."""
    alg = "HS256"
    key = key_for(alg)
    full = dict(claims, exp=NOW + 60)
    token = encode(full, key)
    verifier = key if key.kty == "oct" else key.public()
    assert decode(token, verifier, algorithms=[alg], now=NOW) == full
    assert decode_unverified(token)[1] == full


#: Smaller claims for the bit-flip test: the token's size, not the claims' shape, matters there.
small_claims = st.dictionaries(
    text.filter(lambda name: name not in REGISTERED), scalars, max_size=3
)


@pytest.mark.parametrize("alg", ["HS256", "ES256", "Ed25519"])
@SETTINGS
@given(data=st.data())
def test_any_single_bit_flip_is_rejected(
    alg: str, data: st.DataObject, key_for: Callable[[str], Key]
) -> None:
    """Flip one bit of one character anywhere in the token: the result never verifies."""
    key = key_for(alg)
    verifier = key if key.kty == "oct" else key.public()
    claims = data.draw(small_claims, label="claims")
    token = encode(dict(claims, exp=NOW + 60), key)
    raw = bytearray(token.encode("ascii"))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    bit = data.draw(st.integers(0, 7), label="bit")
    raw[index] ^= 1 << bit
    mutated = raw.decode("latin-1")
    assert mutated != token
    with pytest.raises(InvalidTokenError):
        decode(mutated, verifier, algorithms=[alg], now=NOW)


#: JSON-ish header members an attacker would play with, mixed with random ones.
header_values = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["HS256", "ES256", "none", "HS512", ""]) | json_values,
        "kid": text | json_values,
        "typ": st.sampled_from(["JWT", "jwt", "at+jwt"]) | json_values,
        "crit": st.lists(text, max_size=2) | json_values,
        "jwk": json_values,
        "b64": st.booleans(),
    },
)


@SETTINGS
@given(token=st.text(max_size=200))
def test_arbitrary_text_only_raises_invalid_token(
    token: str, key_for: Callable[[str], Key]
) -> None:
    """Any string at all is rejected with an InvalidTokenError, never another exception;
    decode_unverified either parses it or raises MalformedTokenError."""
    with pytest.raises(InvalidTokenError):
        decode(token, key_for("HS256"), algorithms=["HS256"], now=NOW)
    try:
        header, claims = decode_unverified(token)
    except MalformedTokenError:
        return
    assert isinstance(header, dict) and isinstance(claims, dict)


@SETTINGS
@given(
    header=header_values | json_values,
    claims=json_values,
    signature=st.binary(max_size=80),
    typ=st.sampled_from([None, "JWT"]),
)
def test_structured_garbage_only_raises_invalid_token(
    header: Any, claims: Any, signature: bytes, typ: str | None, key_for: Callable[[str], Key]
) -> None:
    """Well-encoded tokens with hostile headers/claims and random signatures are rejected with
    an InvalidTokenError subclass (never KeyError, TypeError, RecursionError, ...)."""
    parts = [json.dumps(header).encode(), json.dumps(claims).encode(), signature]
    token = ".".join(b64url_encode(p) for p in parts)
    for keys in (key_for("HS256"), KeySet([key_for("ES256").public().with_kid("k")])):
        with pytest.raises(InvalidTokenError):
            decode(token, keys, algorithms=["HS256", "ES256"], typ=typ, now=NOW)
