"""Security rules about keys: weak keys, inconsistent private JWKs, empty keys, typed keys, reprs.

Issue 2: HMAC secrets shorter than the hash output are refused for signing *and* verifying; RSA
keys under 2048 bits are refused, and the error says how to make a strong key; a private JWK's
public members must match its private ones; empty keys are refused; decode takes typed keys only;
``repr``/``str`` never show secret material; a weak key met while verifying a token is a rejected
token (``InvalidTokenError``), never ``InvalidKeyError`` escaping at request time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtkit import Key, KeySet, Verifier, decode, encode, jws
from jwtkit.errors import InvalidKeyError, InvalidTokenError
from tests.support.forge import b64, hmac_token
from tests.support.vectors import b64url_decode as b64_decode
from tests.support.vectors import wycheproof_cases

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "exp": NOW + 600}
HASH_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
SECRET_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "priv")


@pytest.mark.parametrize("alg", list(HASH_BYTES))
def test_short_hmac_secret_refused_for_signing(alg: str) -> None:
    """A secret one byte shorter than the hash output is refused; the message helps."""
    size = HASH_BYTES[alg]
    with pytest.raises(InvalidKeyError) as info:
        Key.from_secret(b"k" * (size - 1), alg=alg)
    message = str(info.value)
    assert str(size) in message
    assert "k" * (size - 1) not in message
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({"kty": "oct", "alg": alg, "k": b64(b"\x07" * (size - 1))})
    key = Key.from_secret(hashlib.sha512(b"seed").digest()[:size], alg=alg)
    assert key.size == size * 8


def test_short_hmac_secret_refused_for_verifying() -> None:
    """A 32-byte key is too short for HS384/HS512: tokens are rejected as tokens."""
    secret = hashlib.sha256(b"32 byte secret").digest()
    key = Key.from_jwk({"kty": "oct", "k": b64(secret)})  # alg-less: fits HS256 only
    assert key.algorithms() == ("HS256",)
    for alg, digest in (("HS384", "sha384"), ("HS512", "sha512")):
        token = hmac_token({"alg": alg}, CLAIMS, secret, digest)
        with pytest.raises(InvalidTokenError):
            decode(token, key, algorithms=[alg], now=NOW)
        with pytest.raises(InvalidTokenError):
            Verifier(KeySet([key.with_kid("a")]), algorithms=[alg]).verify(token, now=NOW)
        with pytest.raises(InvalidKeyError):
            jws.sign_bytes(alg, key, b"data")
    # The same key is fine for HS256.
    token = hmac_token({"alg": "HS256"}, CLAIMS, secret)
    assert decode(token, key, algorithms=["HS256"], now=NOW) == CLAIMS


def test_short_hmac_jwk_refused_for_verifying() -> None:
    """A 16-byte JWK secret cannot be used to verify anything (refused on import or verify)."""
    secret = b"0123456789abcdef"
    token = hmac_token({"alg": "HS256"}, CLAIMS, secret)
    try:
        key = Key.from_jwk({"kty": "oct", "k": b64(secret)})
    except InvalidKeyError:
        return
    with pytest.raises(InvalidTokenError):
        decode(token, key, algorithms=["HS256"], now=NOW)


def _rsa_1024() -> rsa.RSAPrivateKey:
    """A 1024-bit RSA key made directly with cryptography (jwtkit must refuse to load it)."""
    # The weak size is the point of the test: jwtkit must refuse it.
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505


def test_rsa_key_under_2048_refused() -> None:
    """1024-bit RSA keys are refused as PEM (private, public) and JWK; generate refuses too."""
    weak = _rsa_1024()
    private_pem = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = weak.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for pem in (private_pem, public_pem):
        with pytest.raises(InvalidKeyError) as info:
            Key.from_pem(pem)
        assert "2048" in str(info.value)
    numbers = weak.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "n": b64(numbers.n.to_bytes(128, "big")),
        "e": b64(numbers.e.to_bytes(3, "big")),
    }
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(jwk)
    with pytest.raises(InvalidKeyError):
        Key.generate("RS256", size=1024)


def test_rsa_generate_size_bounds() -> None:
    """``size`` outside 2048-8192 is refused."""
    with pytest.raises(InvalidKeyError):
        Key.generate("PS256", size=2047)
    with pytest.raises(InvalidKeyError):
        Key.generate("PS256", size=8193)


# ------------------------------------------------------------- private JWK consistency


def _swap(jwk: dict[str, Any], other: dict[str, Any], members: tuple[str, ...]) -> dict[str, Any]:
    """Copy ``members`` from ``other`` into a copy of ``jwk``."""
    out = dict(jwk)
    for member in members:
        out[member] = other[member]
    return out


@pytest.mark.parametrize(
    ("alg", "members"),
    [
        ("RS256", ("n",)),
        ("ES256", ("x", "y")),
        ("ES256K", ("x", "y")),
        ("Ed25519", ("x",)),
        ("Ed448", ("x",)),
        ("ML-DSA-44", ("pub",)),
    ],
)
def test_private_jwk_with_mismatched_public_members_refused(
    alg: str, members: tuple[str, ...], key_for: Callable[[str], Key]
) -> None:
    """A private JWK whose public members belong to another key is refused (issue 2)."""
    mine = key_for(alg).to_jwk(private=True)
    theirs = Key.generate(alg if not alg.startswith("RS") else "RS256").to_jwk()
    Key.from_jwk(mine)  # the untouched JWK imports
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(_swap(mine, theirs, members))


def test_rsa_private_jwk_with_wrong_crt_refused(key_for: Callable[[str], Key]) -> None:
    """An RSA private JWK whose CRT members do not match is refused."""
    jwk = key_for("RS256").to_jwk(private=True)
    bad = dict(jwk, dp=jwk["dq"])
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(bad)


def test_ec_jwk_point_not_on_curve_refused(key_for: Callable[[str], Key]) -> None:
    """A public EC JWK whose point is not on the curve is refused."""
    jwk = key_for("ES256").to_jwk()
    y = bytearray(b64_decode(jwk["y"]))
    y[-1] ^= 1
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(dict(jwk, y=b64(bytes(y))))


# ----------------------------------------------------------------------------- empty keys


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": ""},
        {"kty": "oct"},
        {"kty": "oct", "k": ""},
        {"kty": "RSA"},
        {"kty": "RSA", "n": "", "e": ""},
        {"kty": "EC", "crv": "P-256"},
        {"kty": "EC", "crv": "P-256", "x": "", "y": ""},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": ""},
        {"kty": "AKP", "alg": "ML-DSA-44"},
        {"kty": "AKP", "alg": "ML-DSA-44", "pub": ""},
    ],
    ids=lambda j: "-".join(f"{k}={v}" for k, v in j.items()) or "empty",
)
def test_empty_keys_refused(jwk: dict[str, Any]) -> None:
    """Empty or memberless keys are refused on import."""
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(jwk)


def test_empty_secret_and_pem_refused() -> None:
    """An empty secret or empty PEM is refused."""
    for secret in (b"", ""):
        with pytest.raises(InvalidKeyError):
            Key.from_secret(secret)
    for pem in (b"", "", b"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"):
        with pytest.raises(InvalidKeyError):
            Key.from_pem(pem)


# ------------------------------------------------------------------------- typed keys only


def test_decode_refuses_raw_string_or_bytes_keys(key_for: Callable[[str], Key]) -> None:
    """Keys are typed objects: a raw str/bytes secret is a TypeError, never guessed."""
    key = key_for("HS256")
    token = encode(CLAIMS, key)
    secret = b64_decode(key.to_jwk(private=True)["k"])
    for raw in (secret, secret.decode("latin-1")):
        with pytest.raises(TypeError):
            decode(token, raw, algorithms=["HS256"], now=NOW)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Verifier(raw, algorithms=["HS256"])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- no leaks


@pytest.mark.parametrize(
    "alg", ["HS256", "RS256", "ES256", "ES256K", "Ed25519", "Ed448", "ML-DSA-44"]
)
def test_key_repr_and_str_hide_secret_material(alg: str, key_for: Callable[[str], Key]) -> None:
    """Neither repr nor str (nor format) of a private key shows any secret member."""
    key = key_for(alg).with_kid("kid-1")
    jwk = key.to_jwk(private=True)
    secrets = [jwk[m] for m in SECRET_MEMBERS if m in jwk]
    assert secrets, "a private key must have secret members"
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr(KeySet([key]))):
        for secret in secrets:
            assert secret not in text
            assert secret[:16] not in text
            assert b64_decode(secret).hex()[:32] not in text
    assert "kid-1" in repr(key)


def test_error_messages_hide_secret_material() -> None:
    """Refusing a bad secret or PEM never echoes it in the exception message."""
    weak = "correct horse battery"
    with pytest.raises(InvalidKeyError) as info:
        Key.from_secret(weak)
    assert weak not in str(info.value)
    pem = (
        b"-----BEGIN PRIVATE KEY-----\n"
        b"TUlJQ0lqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FnOEFNSUlDQ2dLQ0FnRUE=\n"
        b"-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(InvalidKeyError) as info2:
        Key.from_pem(pem)
    assert "TUlJQ0lqQU5CZ2tx" not in str(info2.value)


def test_weak_key_met_while_verifying_is_token_error(key_for: Callable[[str], Key]) -> None:
    """A weak key or a key/alg mismatch found while verifying is an InvalidTokenError that says
    why (a server answers 401), never an InvalidKeyError escaping at request time."""
    secret = hashlib.sha256(b"only 32 bytes").digest()
    weak = Key.from_jwk({"kty": "oct", "k": b64(secret)})
    token = hmac_token({"alg": "HS512"}, CLAIMS, secret, "sha512")
    mismatched = encode(CLAIMS, key_for("ES384"))
    cases: list[tuple[str, Key | KeySet, str]] = [
        (token, weak, "HS512"),
        (token, KeySet([weak]), "HS512"),
        (token, KeySet([weak.with_kid("a")]), "HS512"),
        (mismatched, key_for("ES256").public(), "ES384"),
        (mismatched, KeySet([key_for("RS256").public().with_kid("r")]), "ES384"),
    ]
    for tok, keys, alg in cases:
        with pytest.raises(InvalidTokenError) as info:
            decode(tok, keys, algorithms=[alg], now=NOW)
        assert not isinstance(info.value, InvalidKeyError)
        assert str(info.value)
    with pytest.raises(InvalidTokenError) as weak_info:
        decode(token, weak, algorithms=["HS512"], now=NOW)
    assert "64" in str(weak_info.value)


def test_weak_hmac_error_says_how_to_make_a_strong_key() -> None:
    """The refusal names the minimum size and how to generate a strong key."""
    with pytest.raises(InvalidKeyError) as info:
        Key.from_secret(b"s" * 20, alg="HS384")
    message = str(info.value)
    assert "48" in message
    assert "Key.generate" in message or "token_bytes" in message


def test_roca_vulnerable_rsa_key_refused() -> None:
    """An RSA modulus with the ROCA fingerprint (CVE-2017-15361) is refused on import."""
    case = next(c for c in wycheproof_cases("json_web_key_test.json") if c.tc_id == 7)
    assert case.group["comment"] == "jws_rsa_roca_key"
    for jwks in (case.group["public"], case.group["private"]):
        with pytest.raises(InvalidKeyError):
            KeySet.from_jwks(jwks)
        with pytest.raises(InvalidKeyError):
            Key.from_jwk(jwks["keys"][0])


def test_binary_hmac_secret_starting_with_brace_accepted() -> None:
    """Random secrets that merely start with '{' are not mistaken for JWK text (1 in 256
    random keys would be); real JWK text is still refused."""
    secret = bytes.fromhex("7bf9e536b66a215c22233fe2daaa743a898b9acb9f7802de70b40e3d6e43ef97")
    key = Key.from_jwk({"kty": "oct", "k": b64(secret)})
    assert Key.from_secret(secret) == key.with_alg("HS256")
    with pytest.raises(InvalidKeyError):
        Key.from_secret('{"kty":"oct","k":"' + "A" * 43 + '"}')
