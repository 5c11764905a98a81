"""Every key form PyJWT takes works, each is converted to a jwtkit Key once (issue 16).

PyJWT re-parses a PEM string on every call; the façade keeps the converted key in a bounded
cache keyed by the text (or by the key object), so the common "PEM on every call" pattern
costs its parse once. The cache is observed directly: the same jwtkit ``Key`` object comes
back for equal key text, and old entries are evicted beyond the bound.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import jwtkit.compat.pyjwt as jwt
from jwtkit import Key
from jwtkit.compat.pyjwt import _keys
from jwtkit.jwa import ALGORITHMS
from tests.support.pyjwt import CLAIMS, SECRET, b64, pem, private_key, public_key


def _forms(alg: str) -> dict[str, tuple[Any, Any]]:
    """(signing, verifying) key in every form PyJWT accepts, plus JWK dicts and jwtkit Keys."""
    key, pub = private_key(alg), public_key(alg)
    der = (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8)
    forms: dict[str, tuple[Any, Any]] = {
        "objects": (key, pub),
        "pem-bytes": (pem(key), pem(pub)),
        "pem-str": (pem(key).decode(), pem(pub).decode()),
        "der": (
            key.private_bytes(*der, serialization.NoEncryption()),
            pub.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        ),
        "ssh-public": (
            key,
            pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        ),
        "jwk-dict": (
            jwt.algorithms.get_default_algorithms()[alg].to_jwk(key, as_dict=True),
            jwt.algorithms.get_default_algorithms()[alg].to_jwk(pub, as_dict=True),
        ),
        "jwtkit-key": (Key.from_pem(pem(key), alg=alg), Key.from_pem(pem(pub), alg=alg)),
    }
    jwk = jwt.algorithms.get_default_algorithms()[alg].to_jwk(pub, as_dict=True)
    forms["pyjwk"] = (key, jwt.PyJWK({**jwk, "alg": alg}))
    return forms


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
@pytest.mark.parametrize(
    "form",
    ["objects", "pem-bytes", "pem-str", "der", "ssh-public", "jwk-dict", "jwtkit-key", "pyjwk"],
)
def test_every_key_form_signs_and_verifies(alg: str, form: str) -> None:
    signing, verifying = _forms(alg)[form]
    token = jwt.encode(CLAIMS, signing, algorithm=alg)
    assert jwt.decode(token, verifying, algorithms=[alg]) == CLAIMS


def test_secrets_as_str_bytes_jwk_and_pyjwk() -> None:
    secret = (SECRET * 2).encode()
    jwk = {"kty": "oct", "k": b64(secret).decode()}
    for key in (secret, secret.decode(), jwk, jwt.PyJWK({**jwk, "alg": "HS384"})):
        token = jwt.encode(CLAIMS, key, algorithm="HS384")
        assert jwt.decode(token, secret, algorithms=["HS384"]) == CLAIMS
        assert jwt.decode(token, key, algorithms=["HS384"]) == CLAIMS


def test_a_pem_string_per_call_is_converted_once() -> None:
    text = pem(public_key("RS256")).decode()
    alg = ALGORITHMS["RS256"]
    first = _keys.key_for(text, alg)
    copy = "".join(list(text))  # an equal string that is another object, as read per request
    assert copy is not text
    assert _keys.key_for(copy, alg) is first
    assert _keys.key_for(text.encode(), alg) is not first  # bytes are their own entry
    token = jwt.encode(CLAIMS, private_key("RS256"), algorithm="RS256")
    for _ in range(3):
        assert jwt.decode(token, "".join(list(text)), algorithms=["RS256"]) == CLAIMS
    assert _keys.key_for(text, alg) is first


def test_key_objects_are_cached_by_identity() -> None:
    key = private_key("ES256")
    alg = ALGORITHMS["ES256"]
    assert _keys.key_for(key, alg) is _keys.key_for(key, alg)
    other = private_key("ES256K")
    assert _keys.key_for(other, ALGORITHMS["ES256K"]) is not _keys.key_for(key, alg)


def test_the_cache_is_bounded() -> None:
    alg = ALGORITHMS["HS256"]
    first = _keys.key_for("cache-probe-0" * 3, alg)
    for n in range(1, _keys._MAX_ENTRIES + 1):
        _keys.key_for(f"cache-probe-{n}" * 3, alg)
    assert len(_keys._by_value) <= _keys._MAX_ENTRIES
    assert _keys.key_for("cache-probe-0" * 3, alg) is not first  # evicted, converted again


def test_a_secret_is_read_only_as_a_secret_and_key_text_only_as_a_key() -> None:
    with pytest.raises(jwt.InvalidKeyError, match="Could not parse"):
        jwt.encode(CLAIMS, SECRET, algorithm="RS256")
    with pytest.raises(jwt.InvalidKeyError):
        jwt.encode(CLAIMS, pem(private_key("RS256")), algorithm="HS256")
    with pytest.raises(TypeError):
        jwt.encode(CLAIMS, private_key("RS256"), algorithm="HS256")
