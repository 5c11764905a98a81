"""Error paths and defaults of the core that the broader suites do not reach."""

from __future__ import annotations

from datetime import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from jwtkit import Key, KeySet, Signer, Verifier, decode, encode
from jwtkit.errors import InvalidKeyError, MalformedTokenError, MissingClaimError
from jwtkit.jws import sign_bytes

NOW = 1_700_000_000


def test_keys_are_made_by_the_class_methods_only() -> None:
    with pytest.raises(TypeError, match=r"Key\.generate"):
        Key()


def test_a_public_key_cannot_sign() -> None:
    public = Key.generate("ES256").public()
    with pytest.raises(InvalidKeyError, match="public key cannot sign"):
        sign_bytes("ES256", public, b"data")
    with pytest.raises(InvalidKeyError):
        encode({"sub": "a"}, public)


@pytest.mark.parametrize(
    ("alg", "size", "message"),
    [("ES256", 256, "size does not apply"), ("HS256", 128, "at least 256 bits")],
)
def test_generate_refuses_sizes_that_do_not_fit(alg: str, size: int, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Key.generate(alg, size=size)


def test_pem_on_an_unsupported_curve_is_refused() -> None:
    private = ec.generate_private_key(ec.SECP224R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKeyError, match="unsupported elliptic curve"):
        Key.from_pem(pem)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ([], "must be a JSON object"),
        ({"kty": "oct", "k": "a" * 43, "use": 1}, "'use' must be a string"),
        ({"kty": "oct", "k": "a" * 43, "key_ops": "sign"}, "'key_ops' must be a list"),
        ({"kty": "oct", "k": "a" * 43, "alg": 256}, "'alg' must be a string"),
        ({"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}, "unsupported EC curve"),
        ({"kty": "AKP", "alg": "ML-DSA-00", "pub": "AA"}, "unsupported AKP algorithm"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AA"}, "must be 32 bytes"),
    ],
)
def test_malformed_jwk_members_are_refused(jwk: object, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Key.from_jwk(jwk)  # type: ignore[arg-type]


def test_multi_prime_rsa_is_refused_and_d_alone_is_enough() -> None:
    jwk = Key.generate("RS256").to_jwk(private=True)
    with pytest.raises(InvalidKeyError, match="more than two primes"):
        Key.from_jwk({**jwk, "oth": []})
    minimal = {name: jwk[name] for name in ("kty", "n", "e", "d")}
    key = Key.from_jwk(minimal)
    token = encode({"exp": NOW + 60}, key.with_alg("RS256"))
    assert decode(token, key.public().with_alg("RS256"), algorithms=["RS256"], now=NOW)


def test_an_unbound_ec_key_signs_with_its_curves_algorithm() -> None:
    jwk = Key.generate("ES384").to_jwk(private=True)
    del jwk["alg"]
    key = Key.from_jwk(jwk)
    assert key.alg is None
    token = encode({"exp": NOW + 60}, key)
    assert decode(token, key, algorithms=["ES384"], now=NOW)["exp"] == NOW + 60


def test_key_equality_with_other_types_is_not_implemented() -> None:
    key = Key.generate("HS256")
    assert key != "secret"
    assert key == Key.from_jwk(key.to_jwk(private=True))


def test_jwks_members_must_be_objects_and_odd_key_ops_are_skipped() -> None:
    public = Key.generate("ES256", kid="a").public().to_jwk()
    with pytest.raises(InvalidKeyError, match="member must be a JSON object"):
        KeySet.from_jwks({"keys": [public, "x"]})
    wrapping = {**public, "kid": "b", "key_ops": ["wrapKey"]}
    assert KeySet.from_jwks({"keys": [public, wrapping]}).kids == ("a",)


def test_oversized_bytes_tokens_are_malformed() -> None:
    key = Key.generate("HS256")
    with pytest.raises(MalformedTokenError, match="longer than"):
        Verifier(key, algorithms=["HS256"], max_token_size=16).verify(b"a" * 17)  # type: ignore[arg-type]


def test_naive_datetimes_are_utc() -> None:
    key = Key.generate("HS256")
    token = Signer(key).sign(now=datetime(2023, 11, 14, 22, 13, 20))
    claims = decode(token, key, algorithms=["HS256"], now=datetime(2023, 11, 14, 22, 14))
    assert claims["iat"] == NOW


def test_now_must_be_a_number_or_datetime() -> None:
    key = Key.generate("HS256")
    token = encode({"exp": NOW + 60}, key)
    with pytest.raises(TypeError, match="number or datetime"):
        decode(token, key, algorithms=["HS256"], now="now")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="number or datetime"):
        decode(token, key, algorithms=["HS256"], now=True)


def test_require_takes_claim_names_only() -> None:
    with pytest.raises(TypeError, match="claim names"):
        Verifier(Key.generate("HS256"), algorithms=["HS256"], require=["exp", 1])  # type: ignore[list-item]


def test_expected_subject_missing_is_a_missing_claim() -> None:
    key = Key.generate("HS256")
    token = encode({"exp": NOW + 60}, key)
    with pytest.raises(MissingClaimError) as info:
        decode(token, key, algorithms=["HS256"], subject="alice", now=NOW)
    assert info.value.claim == "sub"
