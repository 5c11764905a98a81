"""The one exception to the HMAC key-length rule: ``Key.from_secret(..., allow_weak=True)``.

Issue 16: deployments migrating from PyJWT (which only warns) may keep a short secret while they
rotate it, but only by asking for it, and every sign and verify with such a key then emits
``SecurityWarning``. Public-key material and empty secrets stay refused, and a secret that is
long enough is a normal key whatever the flag says.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from jwtkit import Key, KeySet, Signer, Verifier, decode, encode, jws
from jwtkit.errors import InvalidKeyError, InvalidSignatureError, SecurityWarning

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "exp": NOW + 600}
SHORT = b"my-16-byte-token"


def test_short_secret_still_refused_without_the_opt_in() -> None:
    with pytest.raises(InvalidKeyError):
        Key.from_secret(SHORT)
    with pytest.raises(InvalidKeyError):
        Key.from_secret(SHORT, allow_weak=False)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_allow_weak_accepts_a_short_secret_and_warns_on_every_use(alg: str) -> None:
    key = Key.from_secret(SHORT, alg=alg, allow_weak=True)
    assert key.alg == alg
    assert key.size == len(SHORT) * 8
    with pytest.warns(SecurityWarning) as signed:
        token = encode(CLAIMS, key)
        Signer(key).sign(CLAIMS, now=NOW)
    assert len(signed) == 2
    with pytest.warns(SecurityWarning) as verified:
        assert decode(token, key, algorithms=[alg], now=NOW) == CLAIMS
        assert decode(token, key, algorithms=[alg], now=NOW) == CLAIMS
        Verifier(KeySet([key]), algorithms=[alg]).verify(token, now=NOW)
    assert len(verified) == 3
    message = str(verified[0].message)
    assert alg in message and "16 bytes" in message and "below" in message
    assert SHORT.decode() not in message


def test_the_warning_points_at_the_callers_code() -> None:
    key = Key.from_secret(SHORT, allow_weak=True)
    with pytest.warns(SecurityWarning) as record:
        encode(CLAIMS, key)
    assert record[0].filename == __file__


def test_weak_key_signatures_are_still_checked() -> None:
    key = Key.from_secret(SHORT, allow_weak=True)
    other = Key.from_secret(b"another short one", allow_weak=True)
    with pytest.warns(SecurityWarning):
        token = encode(CLAIMS, other)
        with pytest.raises(InvalidSignatureError):
            decode(token, key, algorithms=["HS256"], now=NOW)
        with pytest.raises(InvalidSignatureError):
            jws.verify_bytes("HS256", key, b"data", jws.sign_bytes("HS256", other, b"data"))


def test_copies_of_a_weak_key_keep_warning() -> None:
    key = Key.from_secret(SHORT, allow_weak=True).with_kid("old")
    with pytest.warns(SecurityWarning):
        token = encode(CLAIMS, key)
    with pytest.warns(SecurityWarning):
        decode(token, KeySet([key]), algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize(
    "secret",
    [
        b"",
        "",
        b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
        "ssh-rsa AAAAB3NzaC1yc2E",
        '{"kty":"RSA","n":"AQAB","e":"AQAB"}',
    ],
    ids=["empty-bytes", "empty-str", "pem", "ssh", "jwk"],
)
def test_allow_weak_never_admits_empty_or_public_key_material(secret: bytes | str) -> None:
    with pytest.raises(InvalidKeyError):
        Key.from_secret(secret, allow_weak=True)


def test_allow_weak_is_hmac_only() -> None:
    with pytest.raises(InvalidKeyError):
        Key.from_secret(SHORT, alg="RS256", allow_weak=True)


def test_the_flag_warns_only_where_the_secret_is_short() -> None:
    """A 32-byte secret is strong for HS256 (no warning) and weak for HS512 (warning)."""
    key = Key.from_secret(b"s" * 32, allow_weak=True)
    assert key == Key.from_secret(b"s" * 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = encode(CLAIMS, key)
        assert decode(token, key, algorithms=["HS256"], now=NOW) == CLAIMS
    long_hash = key.with_alg("HS512")
    with pytest.warns(SecurityWarning, match="HS512"):
        encode(CLAIMS, long_hash)
    with pytest.raises(InvalidKeyError):
        Key.from_secret(b"s" * 32).with_alg("HS512")
