"""RFC 7638 JWK thumbprints: the §3.1 RSA example, RFC 8037 A.3 (OKP), and their invariants."""

from __future__ import annotations

import hashlib

import pytest

from jwtkit import Key
from tests.support.vectors import b64url_encode, rfc_example

THUMBPRINT_FILES = ["rfc7638_3.1_thumbprint_RSA", "rfc8037_A.3_Ed25519_thumbprint"]


@pytest.mark.parametrize("name", THUMBPRINT_FILES, ids=lambda n: n.replace("_", "-"))
def test_rfc7638_thumbprint_matches_example(name: str) -> None:
    """The thumbprint equals the published value and the hash of the canonical input."""
    ex = rfc_example(name)
    key = Key.from_jwk(ex["jwk"])
    assert key.thumbprint() == ex["thumbprint_b64u"]
    digest = hashlib.sha256(ex["thumbprint_input"].encode("utf-8")).digest()
    assert b64url_encode(digest) == ex["thumbprint_b64u"]
    assert digest.hex() == ex["thumbprint_sha256_hex"]


def test_rfc7638_thumbprint_ignores_optional_members() -> None:
    """``alg`` and ``kid`` (and other non-required members) do not enter the thumbprint."""
    ex = rfc_example("rfc7638_3.1_thumbprint_RSA")
    bare = {k: ex["jwk"][k] for k in ("kty", "n", "e")}
    with_meta = dict(bare, alg="RS256", kid="other", use="sig")
    assert Key.from_jwk(bare).thumbprint() == Key.from_jwk(with_meta).thumbprint()
    assert Key.from_jwk(bare).thumbprint() == ex["thumbprint_b64u"]


def test_rfc7638_private_and_public_share_thumbprint() -> None:
    """The private key of RFC 8037 A.1 has the thumbprint of its public key (A.3)."""
    private = Key.from_jwk(rfc_example("rfc8037_A.1_Ed25519_private_jwk")["jwk"])
    expected = rfc_example("rfc8037_A.3_Ed25519_thumbprint")["thumbprint_b64u"]
    assert private.thumbprint() == expected
    assert private.public().thumbprint() == expected
