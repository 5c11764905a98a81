"""RFC 7517 JWK / JWK Set format rules (§4, §5) on top of the cookbook and generated keys.

Unknown JWK members are ignored (§4); ``kid`` is a string (§4.5); ``use``/``key_ops`` are kept
and exported (§4.2, §4.3); a JWK Set is an object with a ``keys`` array whose unknown members are
ignored and whose keys of unknown ``kty`` are skipped (§5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jwtkit import Key, KeySet
from jwtkit.errors import InvalidKeyError
from tests.support.vectors import cookbook


def test_unknown_jwk_members_ignored(key_for: Callable[[str], Key]) -> None:
    """Members jwtkit does not know (``ext``, private extensions) do not stop the import."""
    jwk = key_for("ES256").public().to_jwk()
    key = Key.from_jwk(dict(jwk, ext=True, **{"x-vendor": {"a": 1}}))
    assert key == Key.from_jwk(jwk)
    assert "ext" not in key.to_jwk()


@pytest.mark.parametrize("kid", [1, True, None, ["a"], {"a": 1}], ids=repr)
def test_jwk_kid_must_be_a_string(kid: Any, key_for: Callable[[str], Key]) -> None:
    """§4.5: ``kid`` is a string; anything else is refused rather than coerced."""
    jwk = dict(key_for("ES256").public().to_jwk(), kid=kid)
    if kid is None:
        # An explicit null is treated like an absent kid or refused; never stored as a value.
        try:
            key = Key.from_jwk(jwk)
        except InvalidKeyError:
            return
        assert key.kid is None
        return
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(jwk)


def test_jwk_use_and_key_ops_kept(key_for: Callable[[str], Key]) -> None:
    """§4.2/§4.3: ``use`` and ``key_ops`` survive import and export; public() keeps verify."""
    jwk = dict(key_for("Ed25519").to_jwk(private=True), use="sig", key_ops=["sign", "verify"])
    key = Key.from_jwk(jwk)
    assert key.use == "sig"
    assert key.key_ops == ("sign", "verify")
    assert key.to_jwk(private=True) == jwk
    public = key.public()
    assert public.key_ops == ("verify",)
    assert public.to_jwk()["key_ops"] == ["verify"]


@pytest.mark.parametrize(
    "jwk_file",
    ["3_1.ec_public_key", "3_2.ec_private_key", "3_3.rsa_public_key", "3_4.rsa_private_key"],
)
def test_cookbook_keys_in_a_jwk_set(jwk_file: str) -> None:
    """Each cookbook key forms a one-key JWK Set that round-trips (unknown set members too)."""
    jwk = cookbook(f"jwk/{jwk_file}.json")
    private = "d" in jwk
    jwks = {"keys": [jwk], "x-extra": "ignored"}
    ks = KeySet.from_jwks(json.dumps(jwks))
    assert ks.kids == (jwk["kid"],)
    assert ks.to_jwks(private=private) == {"keys": [jwk]}


def test_jwk_set_requires_keys_array() -> None:
    """§5: the ``keys`` member is required and is an array."""
    bad_sets: list[dict[str, Any]] = [{}, {"keys": None}, {"key": []}, {"keys": "abc"}]
    for bad in bad_sets:
        with pytest.raises(InvalidKeyError):
            KeySet.from_jwks(bad)
    assert len(KeySet.from_jwks({"keys": []})) == 0
