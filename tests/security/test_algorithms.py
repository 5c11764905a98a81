"""Security rules about algorithms: ``none``, algorithm confusion, key/algorithm binding.

Issue 2: ``none`` is never accepted in any casing; a key is bound to its algorithm family (and to
its curve); a key with an ``alg`` is used only for that alg; public-key material is never an HMAC
secret; an algorithm/key mismatch met while verifying is a rejected token (an
``InvalidTokenError`` subclass), never a configuration error escaping at request time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from jwtkit import Key, KeySet, Verifier, decode, encode, jws
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    InvalidKeyError,
    InvalidTokenError,
    UnsupportedAlgorithmError,
)
from jwtkit.jwa import get_algorithm
from tests.support.forge import forge, hmac_token

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "mallory", "admin": True, "exp": NOW + 600}

ALL_ALGS = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448",
    "ML-DSA-44", "ML-DSA-65", "ML-DSA-87",
]  # fmt: skip

#: Key family (named by the alg used to generate it) -> the algorithms an alg-less key fits.
FITS: dict[str, set[str]] = {
    "HS512": {"HS256", "HS384", "HS512"},
    "RS256": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
    "ES256": {"ES256"},
    "ES384": {"ES384"},
    "ES512": {"ES512"},
    "ES256K": {"ES256K"},
    "Ed25519": {"EdDSA", "Ed25519"},
    "Ed448": {"EdDSA", "Ed448"},
    "ML-DSA-44": {"ML-DSA-44"},
    "ML-DSA-65": {"ML-DSA-65"},
    "ML-DSA-87": {"ML-DSA-87"},
}

NONE_CASINGS = ["none", "None", "NONE", "nOnE"]


def unbound(key: Key) -> Key:
    """The same key material without an ``alg`` (AKP keys always carry theirs)."""
    if key.kty == "AKP":
        return key
    jwk = key.to_jwk(private=True)
    jwk.pop("alg", None)
    return Key.from_jwk(jwk)


def _cert_pem() -> bytes:
    """A throwaway self-signed P-256 certificate, made here with cryptography.x509."""
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwtkit-test")])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


# ---------------------------------------------------------------------------------- alg=none


@pytest.mark.parametrize("casing", NONE_CASINGS)
def test_alg_none_rejected(casing: str, key_for: Callable[[str], Key]) -> None:
    """``none`` in any casing is rejected, with or without a signature, Key or KeySet."""
    key = key_for("HS256")
    header = {"alg": casing, "typ": "JWT"}
    unsigned = forge(header, CLAIMS)
    signed = forge(header, CLAIMS, key, alg="HS256")
    assert unsigned.endswith(".")
    for token in (unsigned, signed):
        for keys in (key, KeySet([key.with_kid("k1")])):
            with pytest.raises(AlgorithmNotAllowedError):
                decode(token, keys, algorithms=["HS256"], now=NOW)
            with pytest.raises(AlgorithmNotAllowedError):
                jws.verify_compact(token, keys, algorithms=["HS256"])


@pytest.mark.parametrize("casing", NONE_CASINGS)
def test_alg_none_rejected_even_if_allowed(casing: str, key_for: Callable[[str], Key]) -> None:
    """Putting ``none`` into ``algorithms`` never makes an unsecured token pass."""
    token = forge({"alg": casing}, CLAIMS)
    with pytest.raises((AlgorithmNotAllowedError, UnsupportedAlgorithmError)):
        decode(token, key_for("HS256"), algorithms=[casing], now=NOW)
    with pytest.raises((AlgorithmNotAllowedError, UnsupportedAlgorithmError)):
        decode(token, key_for("HS256"), algorithms=["HS256", casing], now=NOW)


@pytest.mark.parametrize("casing", NONE_CASINGS)
def test_alg_none_cannot_be_produced(casing: str, key_for: Callable[[str], Key]) -> None:
    """jwtkit never signs, generates or looks up ``none``."""
    with pytest.raises(UnsupportedAlgorithmError):
        get_algorithm(casing)
    with pytest.raises(UnsupportedAlgorithmError):
        Key.generate(casing)
    with pytest.raises((UnsupportedAlgorithmError, InvalidKeyError)):
        encode(CLAIMS, key_for("HS256"), alg=casing)


# ------------------------------------------------------------------------- HMAC confusion


def test_hmac_public_key_confusion(key_for: Callable[[str], Key]) -> None:
    """An HS256 token MACed with the victim's RSA/EC public PEM as secret is rejected."""
    for alg in ("RS256", "ES256"):
        public = key_for(alg).public()
        pem = public.to_pem()
        for secret in (pem, pem.strip(), pem.decode("ascii").strip().encode()):
            token = hmac_token({"alg": "HS256", "typ": "JWT"}, CLAIMS, secret)
            for allowed in (["HS256"], ["HS256", alg]):
                for keys in (public, KeySet([public.with_kid("k")])):
                    with pytest.raises(InvalidTokenError):
                        decode(token, keys, algorithms=allowed, now=NOW)


def test_hmac_jwk_as_secret_confusion(key_for: Callable[[str], Key]) -> None:
    """An HS256 token MACed with the victim's public JWK text is rejected."""
    public = key_for("ES256").public()
    for text in (json.dumps(public.to_jwk()), json.dumps(public.to_jwk(), separators=(",", ":"))):
        token = hmac_token({"alg": "HS256"}, CLAIMS, text.encode())
        with pytest.raises(InvalidTokenError):
            decode(token, public, algorithms=["HS256", "ES256"], now=NOW)


def test_public_key_material_refused_as_hmac_secret(key_for: Callable[[str], Key]) -> None:
    """PEM (public, private, certificate), SSH keys and JWK text are not HMAC secrets."""
    rsa = key_for("RS256")
    candidates: list[bytes | str] = [
        rsa.public().to_pem(),
        rsa.to_pem(private=True),
        key_for("ES256").public().to_pem(),
        _cert_pem(),
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7" + "A" * 300 + " user@host",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl x@y",
        json.dumps(key_for("ES256").public().to_jwk()),
        json.dumps(rsa.public().to_jwk()).encode(),
    ]
    for secret in candidates:
        with pytest.raises(InvalidKeyError):
            Key.from_secret(secret, alg="HS256")


# --------------------------------------------------------------- key family / curve binding


@pytest.mark.parametrize("family", list(FITS))
@pytest.mark.parametrize("alg", ALL_ALGS)
def test_key_family_and_curve_binding(family: str, alg: str, key_for: Callable[[str], Key]) -> None:
    """An alg-less key signs/verifies only the algorithms of its family and curve."""
    key = unbound(key_for(family))
    data = b"header.payload"
    if alg in FITS[family]:
        sig = jws.sign_bytes(alg, key, data)
        jws.verify_bytes(alg, key, data, sig)
        return
    with pytest.raises(InvalidKeyError):
        jws.sign_bytes(alg, key, data)
    with pytest.raises(InvalidKeyError):
        jws.verify_bytes(alg, key, data, b"\x00" * 64)
    # At verify time the same mismatch is a rejected token, not a configuration error.
    token = forge({"alg": alg}, CLAIMS, signature=b"\x01" * 64)
    with pytest.raises(InvalidTokenError):
        decode(token, key if key.kty == "oct" else key.public(), algorithms=[alg], now=NOW)


def test_key_with_alg_used_only_for_that_alg(key_for: Callable[[str], Key]) -> None:
    """A key bound to RS256 refuses RS384/PS256 when signing and rejects such tokens."""
    bound = unbound(key_for("RS256")).with_alg("RS256")
    assert bound.algorithms() == ("RS256",)
    assert set(unbound(bound).algorithms()) == FITS["RS256"]
    for other in ("RS384", "PS256"):
        with pytest.raises(InvalidKeyError):
            jws.sign_bytes(other, bound, b"data")
        with pytest.raises(InvalidKeyError):
            encode(CLAIMS, bound, alg=other)
        token = encode(CLAIMS, unbound(bound), alg=other)
        with pytest.raises(InvalidTokenError):
            decode(token, bound.public(), algorithms=[other], now=NOW)
        with pytest.raises(InvalidTokenError):
            decode(token, KeySet([bound.public().with_kid("a")]), algorithms=[other], now=NOW)
    token = encode(CLAIMS, bound)
    assert decode(token, bound.public(), algorithms=["RS256"], now=NOW) == CLAIMS


def test_eddsa_bound_key_refuses_fully_specified_other_curve(key_for: Callable[[str], Key]) -> None:
    """An Ed448 key never verifies as ``Ed25519`` and vice versa (RFC 9864 names are curves)."""
    for family, wrong in (("Ed25519", "Ed448"), ("Ed448", "Ed25519")):
        key = unbound(key_for(family))
        with pytest.raises(InvalidKeyError):
            jws.sign_bytes(wrong, key, b"data")


# -------------------------------------------------------------------- allow-list handling


def test_alg_not_in_allow_list_rejected(key_for: Callable[[str], Key]) -> None:
    """A correctly signed ES256 token is rejected when only ES384/HS256 are allowed."""
    key = key_for("ES256")
    token = encode(CLAIMS, key)
    with pytest.raises(AlgorithmNotAllowedError):
        decode(token, key.public(), algorithms=["ES384"], now=NOW)
    with pytest.raises(AlgorithmNotAllowedError):
        Verifier(key.public(), algorithms=["HS256"]).verify(token, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"alg": ""},
        {"alg": 256},
        {"alg": None},
        {"alg": "XX999"},
        {"alg": "hs256"},
        {"alg": "HS256 "},
        {"alg": ["HS256"]},
    ],
)
def test_missing_or_unknown_alg_rejected(
    header: dict[str, Any], key_for: Callable[[str], Key]
) -> None:
    """A header without a usable ``alg`` (missing, wrong type, unknown, wrong case) is
    AlgorithmNotAllowedError: names are compared exactly."""
    token = forge(header, CLAIMS, key_for("HS256"), alg="HS256")
    with pytest.raises(AlgorithmNotAllowedError):
        decode(token, key_for("HS256"), algorithms=["HS256"], now=NOW)


def test_decode_without_algorithms_is_type_error(key_for: Callable[[str], Key]) -> None:
    """``algorithms`` has no default: forgetting it is a TypeError, not a silent default."""
    key = key_for("HS256")
    token = encode(CLAIMS, key)
    with pytest.raises(TypeError):
        decode(token, key, now=NOW)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Verifier(key)  # type: ignore[call-arg]


def test_unknown_algorithm_in_allow_list_is_config_error(key_for: Callable[[str], Key]) -> None:
    """Allowing an algorithm jwtkit does not implement is a configuration error."""
    key = key_for("HS256")
    token = encode(CLAIMS, key)
    with pytest.raises(UnsupportedAlgorithmError):
        decode(token, key, algorithms=["HS256", "XX999"], now=NOW)
    with pytest.raises(UnsupportedAlgorithmError):
        Verifier(key, algorithms=["RS1"])
