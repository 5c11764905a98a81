"""Interoperability with PyJWT and jwcrypto (test-only dependencies).

For every algorithm each library shares with jwtkit: a token it signs verifies in jwtkit, and a
token jwtkit signs verifies in it. JWKs move both ways between jwtkit and jwcrypto (private and
public, with equal RFC 7638 thumbprints), and PEMs move between jwtkit and PyJWT.

PyJWT and jwcrypto read the real clock, so the claims here expire in 2096 (``FAR``) and were issued
at the fixed ``NOW``; jwtkit is still given ``now`` explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws

from jwtkit import Key, decode, encode, jws
from jwtkit.errors import AlgorithmNotAllowedError, InvalidSignatureError, MalformedTokenError
from tests.support.vectors import NOW, b64url_decode

FAR = 4_000_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "iat": NOW, "exp": FAR, "roles": ["a", "b"], "n": 1.5}

#: PyJWT 2.x has EdDSA (both curves) but not the RFC 9864 names nor ML-DSA.
PYJWT_ALGS = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES256K", "EdDSA",
]  # fmt: skip
#: jwcrypto 1.6 implements every jwtkit algorithm.
JWCRYPTO_ALGS = [*PYJWT_ALGS, "Ed25519", "Ed448", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87"]


def _pyjwt_keys(key: Key) -> tuple[Any, Any]:
    """The (signing, verifying) key material PyJWT expects: raw secret or PEM."""
    if key.kty == "oct":
        secret = b64url_decode(key.to_jwk(private=True)["k"])
        return secret, secret
    return key.to_pem(private=True), key.to_pem()


def _verifier(key: Key) -> Key:
    return key if key.kty == "oct" else key.public()


# ------------------------------------------------------------------------------------ PyJWT


@pytest.mark.parametrize("alg", PYJWT_ALGS)
def test_pyjwt_token_verifies_in_jwtkit(alg: str, key_for: Callable[[str], Key]) -> None:
    """PyJWT signs, jwtkit verifies (kid header included)."""
    key = key_for(alg)
    signing, _ = _pyjwt_keys(key)
    token = pyjwt.encode(CLAIMS, signing, algorithm=alg, headers={"kid": "py"})
    assert decode(token, _verifier(key), algorithms=[alg], now=NOW) == CLAIMS
    tampered = pyjwt.encode(dict(CLAIMS, sub="mallory"), signing, algorithm=alg)
    forged = ".".join([*tampered.split(".")[:2], token.split(".")[2]])
    with pytest.raises(InvalidSignatureError):
        decode(forged, _verifier(key), algorithms=[alg], now=NOW)


@pytest.mark.parametrize("alg", PYJWT_ALGS)
def test_jwtkit_token_verifies_in_pyjwt(alg: str, key_for: Callable[[str], Key]) -> None:
    """jwtkit signs, PyJWT verifies and reads the same claims and header."""
    key = key_for(alg).with_kid("kit")
    _, verifying = _pyjwt_keys(key)
    token = encode(CLAIMS, key)
    assert pyjwt.decode(token, verifying, algorithms=[alg]) == CLAIMS
    assert pyjwt.get_unverified_header(token) == {"alg": alg, "kid": "kit", "typ": "JWT"}


def test_pyjwt_ed448_via_eddsa(key_for: Callable[[str], Key]) -> None:
    """PyJWT's EdDSA with an Ed448 key interoperates with jwtkit's EdDSA."""
    key = key_for("Ed448").with_alg(None)
    token = pyjwt.encode(CLAIMS, key.to_pem(private=True), algorithm="EdDSA")
    assert decode(token, key.public(), algorithms=["EdDSA"], now=NOW) == CLAIMS
    ours = encode(CLAIMS, key, alg="EdDSA")
    assert pyjwt.decode(ours, key.to_pem(), algorithms=["EdDSA"]) == CLAIMS


# --------------------------------------------------------------------------------- jwcrypto


def _jc_key(key: Key, *, private: bool) -> jc_jwk.JWK:
    """The jwcrypto JWK for a jwtkit key (through the JWK JSON both sides speak)."""
    return jc_jwk.JWK(**key.to_jwk(private=private or key.kty == "oct"))


@pytest.mark.parametrize("alg", JWCRYPTO_ALGS)
def test_jwcrypto_token_verifies_in_jwtkit(alg: str, key_for: Callable[[str], Key]) -> None:
    """jwcrypto signs a compact JWS with JWT claims; jwtkit verifies it."""
    key = key_for(alg)
    signer = jc_jws.JWS(json.dumps(CLAIMS).encode())
    signer.add_signature(
        _jc_key(key, private=True), alg=alg, protected=json.dumps({"alg": alg, "typ": "JWT"})
    )
    token = signer.serialize(compact=True)
    assert decode(token, _verifier(key), algorithms=[alg], now=NOW) == CLAIMS
    header, payload = jws.verify_compact(token, _verifier(key), algorithms=[alg])
    assert header == {"alg": alg, "typ": "JWT"}
    assert json.loads(payload) == CLAIMS


@pytest.mark.parametrize("alg", JWCRYPTO_ALGS)
def test_jwtkit_token_verifies_in_jwcrypto(alg: str, key_for: Callable[[str], Key]) -> None:
    """jwtkit signs; jwcrypto verifies with the public JWK jwtkit exported."""
    key = key_for(alg).with_kid("kit")
    token = encode(CLAIMS, key)
    checker = jc_jws.JWS()
    checker.deserialize(token)
    checker.verify(_jc_key(key, private=False), alg=alg)
    assert json.loads(checker.payload) == CLAIMS
    bad = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    checker = jc_jws.JWS()
    checker.deserialize(bad)
    with pytest.raises(jc_jws.InvalidJWSSignature):
        checker.verify(_jc_key(key, private=False), alg=alg)


@pytest.mark.parametrize("alg", JWCRYPTO_ALGS)
def test_jwk_export_to_jwcrypto_and_back(alg: str, key_for: Callable[[str], Key]) -> None:
    """jwtkit JWK -> jwcrypto -> JWK -> jwtkit gives the same key and thumbprint."""
    key = key_for(alg).with_kid("rt")
    theirs = _jc_key(key, private=True)
    assert theirs.thumbprint() == key.thumbprint()
    back = Key.from_jwk(theirs.export(private_key=True))
    assert back.with_alg(key.alg) == key
    if key.kty != "oct":
        public = Key.from_jwk(theirs.export_public())
        assert public.with_alg(key.alg) == key.public()


@pytest.mark.parametrize(
    ("params", "alg"),
    [
        ({"kty": "EC", "crv": "P-256"}, "ES256"),
        ({"kty": "EC", "crv": "P-521"}, "ES512"),
        ({"kty": "EC", "crv": "secp256k1"}, "ES256K"),
        ({"kty": "OKP", "crv": "Ed25519"}, "Ed25519"),
        ({"kty": "OKP", "crv": "Ed448"}, "Ed448"),
        ({"kty": "RSA", "size": 2048}, "PS256"),
        ({"kty": "oct", "size": 384}, "HS384"),
        ({"kty": "AKP", "alg": "ML-DSA-65"}, "ML-DSA-65"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_jwcrypto_generated_jwk_imports(params: dict[str, Any], alg: str) -> None:
    """A key generated by jwcrypto imports into jwtkit (private and public) and signs there."""
    theirs = jc_jwk.JWK.generate(kid="jc", **params)
    key = Key.from_jwk(theirs.export(private_key=True))
    assert key.kid == "jc"
    assert key.has_private
    assert key.thumbprint() == theirs.thumbprint()
    token = encode(CLAIMS, key, alg=alg)
    if key.kty == "oct":
        assert decode(token, key, algorithms=[alg], now=NOW) == CLAIMS
        return
    public = Key.from_jwk(theirs.export_public())
    assert not public.has_private
    assert decode(token, public, algorithms=[alg], now=NOW) == CLAIMS
    checker = jc_jws.JWS()
    checker.deserialize(token)
    checker.verify(jc_jwk.JWK(**theirs.export_public(as_dict=True)), alg=alg)


def test_pyjwt_unsecured_token_rejected(key_for: Callable[[str], Key]) -> None:
    """An ``alg: none`` token produced by PyJWT is rejected by jwtkit."""
    token = pyjwt.encode(CLAIMS, "", algorithm="none")
    with pytest.raises(AlgorithmNotAllowedError):
        decode(token, key_for("HS256"), algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("alg", ["ES256", "Ed25519", "HS256"])
def test_jwcrypto_json_serialization_rejected(alg: str, key_for: Callable[[str], Key]) -> None:
    """A valid JWS in jwcrypto's JSON serialization is refused: jwtkit is compact-only."""
    key = key_for(alg)
    signer = jc_jws.JWS(json.dumps(CLAIMS).encode())
    signer.add_signature(_jc_key(key, private=True), alg=alg, protected=json.dumps({"alg": alg}))
    for text in (signer.serialize(), signer.serialize(compact=False)):
        with pytest.raises(MalformedTokenError):
            decode(text, _verifier(key), algorithms=[alg], now=NOW)
