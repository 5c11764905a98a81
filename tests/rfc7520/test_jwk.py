"""RFC 7520 §3 JWK examples: import, export round trip, stable thumbprint.

3.1/3.2 EC P-521 public/private, 3.3/3.4 RSA public/private, 3.5 HMAC key. 3.6 is an AES key for
encryption (``use: enc``, ``alg: A256GCM``): jwtkit only signs, so it must refuse it.
"""

from __future__ import annotations

from typing import Any

import pytest

from jwtkit import Key, KeySet
from jwtkit.errors import InvalidKeyError, UnsupportedAlgorithmError
from tests.support.vectors import CookbookExample, cookbook, cookbook_files


def _signing_jwks() -> list[Any]:
    """The cookbook JWKs jwtkit must import (3.1-3.5)."""
    return [
        pytest.param(ex, id=f"rfc7520-{ex.section}")
        for ex in cookbook_files("jwk")
        if ex.section != "3.6"
    ]


@pytest.mark.parametrize("ex", _signing_jwks())
def test_rfc7520_jwk_import_export_round_trip(ex: CookbookExample) -> None:
    """Import, then export with the same privacy, gives back exactly the printed JWK."""
    jwk = ex.data
    key = Key.from_jwk(jwk)
    private = any(m in jwk for m in ("d", "k"))
    assert key.has_private == private
    assert key.kid == jwk["kid"]
    assert key.use == jwk.get("use")
    assert key.to_jwk(private=private) == jwk
    assert Key.from_jwk(key.to_jwk(private=private)) == key


@pytest.mark.parametrize("ex", _signing_jwks())
def test_rfc7520_jwk_thumbprint_stable(ex: CookbookExample) -> None:
    """The thumbprint survives export/import and equals the public half's thumbprint."""
    key = Key.from_jwk(ex.data)
    again = Key.from_jwk(key.to_jwk(private=key.has_private))
    assert again.thumbprint() == key.thumbprint()
    if key.kty != "oct":
        assert key.public().thumbprint() == key.thumbprint()


def test_rfc7520_public_private_pairs_match() -> None:
    """3.1 is the public half of 3.2, 3.3 the public half of 3.4."""
    for public_name, private_name in (
        ("3_1.ec_public_key", "3_2.ec_private_key"),
        ("3_3.rsa_public_key", "3_4.rsa_private_key"),
    ):
        public = Key.from_jwk(cookbook(f"jwk/{public_name}.json"))
        private = Key.from_jwk(cookbook(f"jwk/{private_name}.json"))
        assert private.public() == public
        assert private.public().to_jwk() == cookbook(f"jwk/{public_name}.json")


def test_rfc7520_jwks_round_trip() -> None:
    """A KeySet of the cookbook's EC key and a re-labelled RSA key round-trips through JWKS."""
    ec = Key.from_jwk(cookbook("jwk/3_1.ec_public_key.json"))
    rsa = Key.from_jwk(cookbook("jwk/3_3.rsa_public_key.json")).with_kid("rsa-3.3")
    keys = [ec, rsa]
    ks = KeySet(keys)
    jwks = ks.to_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [k.kid for k in keys]
    again = KeySet.from_jwks(jwks)
    assert len(again) == 2
    assert all(again.get(str(k.kid)) == k for k in keys)


def test_rfc7520_3_6_encryption_key_refused() -> None:
    """3.6 (AES key for A256GCM, ``use: enc``) is not a signing key: refused on import."""
    with pytest.raises((InvalidKeyError, UnsupportedAlgorithmError)):
        Key.from_jwk(cookbook("jwk/3_6.symmetric_key_encryption.json"))


def test_rfc7520_3_6_skipped_in_jwks() -> None:
    """In a JWKS the encryption key is skipped (``use: enc``), not fatal."""
    jwks = {
        "keys": [
            cookbook("jwk/3_6.symmetric_key_encryption.json"),
            cookbook("jwk/3_3.rsa_public_key.json"),
        ]
    }
    ks = KeySet.from_jwks(jwks)
    assert ks.kids == (cookbook("jwk/3_3.rsa_public_key.json")["kid"],)
