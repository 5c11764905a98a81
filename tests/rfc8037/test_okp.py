"""RFC 8037 Appendix A (Ed25519 JWK and JWS), plus the fully-specified ``Ed25519`` name (RFC 9864).

A.1/A.2: the private JWK imports, its public half exports exactly the A.2 JWK. A.4: Ed25519 is
deterministic, so ``jws.sign_compact`` reproduces the printed token byte for byte.
"""

from __future__ import annotations

import pytest

from jwtkit import Key, jws
from jwtkit.errors import InvalidKeyError, InvalidSignatureError
from tests.support.vectors import b64url_decode, rfc_example

#: ``sign_compact`` adds ``typ: JWT`` by default; a ``None`` value removes it, so the
#: protected header is exactly ``{"alg":...}`` as printed in the RFC.
NO_TYP: dict[str, None] = {"typ": None}


def test_rfc8037_a1_private_jwk_imports() -> None:
    """A.1 imports as a private OKP Ed25519 key and exports back to the same members."""
    ex = rfc_example("rfc8037_A.1_Ed25519_private_jwk")
    key = Key.from_jwk(ex["jwk"])
    assert key.kty == "OKP"
    assert key.crv == "Ed25519"
    assert key.has_private
    assert key.to_jwk(private=True) == ex["jwk"]
    assert bytes.fromhex(ex["d_hex"]) == b64url_decode(ex["jwk"]["d"])


def test_rfc8037_a2_public_jwk() -> None:
    """A.2: the public half of A.1 is exactly the printed public JWK."""
    private = Key.from_jwk(rfc_example("rfc8037_A.1_Ed25519_private_jwk")["jwk"])
    public_jwk = rfc_example("rfc8037_A.2_Ed25519_public_jwk")["jwk"]
    assert private.public().to_jwk() == public_jwk
    assert private.to_jwk() == public_jwk
    assert Key.from_jwk(public_jwk) == private.public()


def test_rfc8037_a1_mismatched_x_refused() -> None:
    """A private OKP JWK whose ``x`` does not belong to ``d`` is refused (issue 2)."""
    jwk = dict(rfc_example("rfc8037_A.1_Ed25519_private_jwk")["jwk"])
    other = Key.generate("Ed25519").to_jwk()
    jwk["x"] = other["x"]
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(jwk)


def test_rfc8037_a4_sign_byte_for_byte() -> None:
    """A.4: signing the payload with the A.1 key reproduces the printed token exactly."""
    ex = rfc_example("rfc8037_A.4_EdDSA_Ed25519")
    key = Key.from_jwk(ex["jwk"])
    token = jws.sign_compact(ex["payload"].encode("utf-8"), key, alg="EdDSA", headers=NO_TYP)
    assert token == ex["token"]
    sig = jws.sign_bytes("EdDSA", key, ex["signing_input"].encode("ascii"))
    assert sig.hex() == ex["signature_hex"]


def test_rfc8037_a4_verifies() -> None:
    """A.4's token verifies with the public key under ``EdDSA`` and fails when altered."""
    ex = rfc_example("rfc8037_A.4_EdDSA_Ed25519")
    public = Key.from_jwk(rfc_example("rfc8037_A.2_Ed25519_public_jwk")["jwk"])
    header, payload = jws.verify_compact(ex["token"], public, algorithms=["EdDSA"])
    assert header == {"alg": "EdDSA"}
    assert payload == ex["payload"].encode("utf-8")
    tampered = ex["signing_input"] + "." + ex["signature_b64u"][:-2] + "AA"
    with pytest.raises(InvalidSignatureError):
        jws.verify_compact(tampered, public, algorithms=["EdDSA"])


def test_rfc8037_fully_specified_ed25519_name() -> None:
    """The same key signs under the RFC 9864 name ``Ed25519`` with identical signature bytes."""
    ex = rfc_example("rfc8037_A.4_EdDSA_Ed25519")
    key = Key.from_jwk(ex["jwk"])
    data = ex["signing_input"].encode("ascii")
    assert jws.sign_bytes("Ed25519", key, data) == jws.sign_bytes("EdDSA", key, data)
    token = jws.sign_compact(b"payload", key, alg="Ed25519")
    header, payload = jws.verify_compact(token, key.public(), algorithms=["Ed25519"])
    assert header["alg"] == "Ed25519"
    assert payload == b"payload"
