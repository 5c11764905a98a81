"""RFC 7518 (plus RFC 8037, RFC 8812, RFC 9864 and JOSE ML-DSA) algorithms, checked against an
independent oracle.

* The algorithm table holds what the RFCs say (key type, curve, hash, minimum size, signature
  length) and nothing else (no ``none``).
* For every algorithm, a signature made by jwtkit verifies with pyca/cryptography (or the
  standard library's ``hmac``) used directly with the parameters the RFC fixes: PKCS#1 v1.5,
  PSS with MGF1 and a salt as long as the hash (§3.5), ECDSA raw R||S (§3.4), pure EdDSA, ML-DSA
  with an empty context. Deterministic algorithms must give the oracle's exact bytes.
* Round trips for every algorithm: encode -> decode, Signer -> Verifier, sign_compact ->
  verify_compact.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwtkit import Key, Signer, Verifier, decode, encode, jws
from jwtkit.errors import InvalidSignatureError
from jwtkit.jwa import ALGORITHMS
from tests.support.vectors import NOW, b64url_decode

#: name -> (family, kty, hash, crv, min_size, sig_size) as the RFCs define them.
EXPECTED: dict[str, tuple[str, str, str | None, str | None, int, int]] = {
    "HS256": ("HMAC", "oct", "sha256", None, 32, 0),
    "HS384": ("HMAC", "oct", "sha384", None, 48, 0),
    "HS512": ("HMAC", "oct", "sha512", None, 64, 0),
    "RS256": ("RSA", "RSA", "sha256", None, 2048, 0),
    "RS384": ("RSA", "RSA", "sha384", None, 2048, 0),
    "RS512": ("RSA", "RSA", "sha512", None, 2048, 0),
    "PS256": ("PSS", "RSA", "sha256", None, 2048, 0),
    "PS384": ("PSS", "RSA", "sha384", None, 2048, 0),
    "PS512": ("PSS", "RSA", "sha512", None, 2048, 0),
    "ES256": ("EC", "EC", "sha256", "P-256", 0, 64),
    "ES384": ("EC", "EC", "sha384", "P-384", 0, 96),
    "ES512": ("EC", "EC", "sha512", "P-521", 0, 132),
    "ES256K": ("EC", "EC", "sha256", "secp256k1", 0, 64),
    "EdDSA": ("OKP", "OKP", None, None, 0, 0),
    "Ed25519": ("OKP", "OKP", None, "Ed25519", 0, 0),
    "Ed448": ("OKP", "OKP", None, "Ed448", 0, 0),
    "ML-DSA-44": ("AKP", "AKP", None, "ML-DSA-44", 0, 0),
    "ML-DSA-65": ("AKP", "AKP", None, "ML-DSA-65", 0, 0),
    "ML-DSA-87": ("AKP", "AKP", None, "ML-DSA-87", 0, 0),
}

#: Exact signature lengths (octets) for the algorithms that fix one.
SIG_LENGTH = {
    "HS256": 32, "HS384": 48, "HS512": 64,
    "RS256": 256, "RS384": 256, "RS512": 256, "PS256": 256, "PS384": 256, "PS512": 256,
    "ES256": 64, "ES384": 96, "ES512": 132, "ES256K": 64,
    "EdDSA": 64, "Ed25519": 64, "Ed448": 114,
    "ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627,
}  # fmt: skip

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}

DETERMINISTIC = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "EdDSA", "Ed25519", "Ed448"}

ALGS = list(EXPECTED)
DATA = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"


def test_table_matches_the_rfcs() -> None:
    """Each entry carries the RFC's key type, curve, hash, minimum size and signature size."""
    assert list(ALGORITHMS) == ALGS
    for name, (family, kty, hash_name, crv, min_size, sig_size) in EXPECTED.items():
        alg = ALGORITHMS[name]
        assert alg.name == name
        assert (alg.family, alg.kty, alg.hash, alg.crv) == (family, kty, hash_name, crv)
        assert (alg.min_size, alg.sig_size) == (min_size, sig_size)
    assert not {"none", "None", "NONE"} & set(ALGORITHMS)


def _oracle_verify(alg: str, key: Key, data: bytes, sig: bytes) -> None:
    """Verify ``sig`` with cryptography/hmac directly (raises on failure)."""
    if alg.startswith("HS"):
        secret = b64url_decode(key.to_jwk(private=True)["k"])
        digest = getattr(hashlib, f"sha{alg[2:]}")
        assert hmac.compare_digest(hmac.new(secret, data, digest).digest(), sig)
        return
    if alg.startswith("ML-DSA"):
        cls: Any = {
            "ML-DSA-44": mldsa.MLDSA44PublicKey,
            "ML-DSA-65": mldsa.MLDSA65PublicKey,
            "ML-DSA-87": mldsa.MLDSA87PublicKey,
        }[alg]
        raw = b64url_decode(key.to_jwk()["pub"])
        cls.from_public_bytes(raw).verify(sig, data)  # empty context, as JOSE requires
        return
    public: Any = serialization.load_pem_public_key(key.to_pem())
    if alg.startswith("RS"):
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(sig, data, padding.PKCS1v15(), HASHES[alg[2:]]())
    elif alg.startswith("PS"):
        assert isinstance(public, rsa.RSAPublicKey)
        h = HASHES[alg[2:]]()
        pss = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
        public.verify(sig, data, pss, h)
    elif alg.startswith("ES"):
        assert isinstance(public, ec.EllipticCurvePublicKey)
        size = len(sig) // 2
        der = encode_dss_signature(
            int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
        )
        h = HASHES[alg[2:5]]()
        public.verify(der, data, ec.ECDSA(h))
    else:
        assert isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
        public.verify(sig, data)


@pytest.mark.parametrize("alg", ALGS)
def test_signature_verifies_with_oracle(alg: str, key_for: Callable[[str], Key]) -> None:
    """jwtkit's signature has the RFC length and verifies with the primitive used directly."""
    key = key_for(alg)
    sig = jws.sign_bytes(alg, key, DATA)
    assert len(sig) == SIG_LENGTH[alg]
    _oracle_verify(alg, key, DATA, sig)
    if alg in DETERMINISTIC:
        assert jws.sign_bytes(alg, key, DATA) == sig


@pytest.mark.parametrize("alg", ["PS256", "PS384", "PS512"])
def test_pss_salt_length_is_hash_length(alg: str, key_for: Callable[[str], Key]) -> None:
    """RFC 7518 §3.5: a PSS signature with a different salt length is invalid."""
    public: Any = serialization.load_pem_public_key(key_for(alg).to_pem())
    private: Any = serialization.load_pem_private_key(key_for(alg).to_pem(private=True), None)
    h = HASHES[alg[2:]]()
    for salt in (0, h.digest_size - 1, h.digest_size + 1):
        pss = padding.PSS(mgf=padding.MGF1(h), salt_length=salt)
        sig = private.sign(DATA, pss, h)
        public.verify(sig, DATA, pss, h)  # the oracle accepts its own salt length
        with pytest.raises(InvalidSignatureError):
            jws.verify_bytes(alg, key_for(alg).public(), DATA, sig)


@pytest.mark.parametrize("alg", ALGS)
def test_round_trip_every_algorithm(alg: str, key_for: Callable[[str], Key]) -> None:
    """encode -> decode, Signer -> Verifier and sign_compact -> verify_compact all agree."""
    key = key_for(alg).with_kid(f"kid-{alg}")
    verifier_key = key if key.kty == "oct" else key.public()
    claims = {"sub": "alice", "exp": NOW + 60, "n": [1, 2.5, None, True, "é"]}
    token = encode(claims, key)
    assert decode(token, verifier_key, algorithms=[alg], now=NOW) == claims
    signed = Signer(key, issuer="iss", audience="aud").sign({"sub": "bob"}, now=NOW)
    got = Verifier(verifier_key, algorithms=[alg], issuer="iss", audience="aud").verify(
        signed, now=NOW
    )
    assert got["sub"] == "bob"
    assert got["exp"] == NOW + 900
    compact = jws.sign_compact(b"\x00binary\xff", key)
    header, payload = jws.verify_compact(compact, verifier_key, algorithms=[alg])
    assert payload == b"\x00binary\xff"
    assert header == {"alg": alg, "kid": f"kid-{alg}", "typ": "JWT"}
