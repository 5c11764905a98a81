"""Header rules: ``kid`` is only a lookup string, ``crit`` is refused, embedded keys are ignored.

Issue 2: ``kid`` must be a string and is only ever a lookup key; unknown ``crit`` members are
rejected (RFC 7515 §4.1.11), as is ``crit`` naming registered parameters; ``jku``, ``x5u``, ``jwk``
and ``x5c`` in a token never select or supply a key (the attacker-embedded-key attack,
CVE-2018-0114 style).
"""

from __future__ import annotations

import base64
import datetime as dt
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
    InvalidSignatureError,
    InvalidTokenError,
    KeyNotFoundError,
    MalformedTokenError,
)
from tests.support.forge import forge

NOW = 1_700_000_000
CLAIMS: dict[str, Any] = {"sub": "admin", "exp": NOW + 600}


# ------------------------------------------------------------------------------------- kid


@pytest.mark.parametrize("kid", [123, 1.5, True, ["a"], {"k": "a"}, None], ids=repr)
def test_kid_not_a_string_rejected(kid: Any, key_for: Callable[[str], Key]) -> None:
    """A non-string ``kid`` (including null) makes a correctly signed token malformed."""
    key = key_for("HS256").with_kid("a")
    token = forge({"alg": "HS256", "kid": kid}, CLAIMS, key)
    for keys in (key, KeySet([key])):
        with pytest.raises(MalformedTokenError):
            decode(token, keys, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize(
    "kid", ["../../../dev/null", "' OR '1'='1", "b" * 5000, "", "A\u0000B", "a\nb"], ids=repr
)
def test_kid_is_only_a_lookup_key(kid: str, key_for: Callable[[str], Key]) -> None:
    """Hostile ``kid`` values just fail to match (KeyNotFoundError); nothing else happens."""
    key = key_for("HS256").with_kid("a")
    token = forge({"alg": "HS256", "kid": kid}, CLAIMS, key)
    with pytest.raises(KeyNotFoundError):
        decode(token, KeySet([key]), algorithms=["HS256"], now=NOW)


def test_kid_selects_the_key_in_a_keyset(key_for: Callable[[str], Key]) -> None:
    """With a KeySet the key is chosen by ``kid``; another key's kid fails the signature."""
    a = key_for("ES256").with_kid("a")
    b = Key.generate("ES256", kid="b")
    keys = KeySet([a.public(), b.public()])
    assert decode(encode(CLAIMS, a), keys, algorithms=["ES256"], now=NOW) == CLAIMS
    assert decode(encode(CLAIMS, b), keys, algorithms=["ES256"], now=NOW) == CLAIMS
    lying = encode(CLAIMS, a, headers={"kid": "b"})
    with pytest.raises(InvalidSignatureError):
        decode(lying, keys, algorithms=["ES256"], now=NOW)


# ------------------------------------------------------------------------------------ crit


@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["x-custom"], "x-custom": 1},
        {"crit": ["x-custom"]},
        {"crit": []},
        {"crit": "x-custom", "x-custom": 1},
        {"crit": [1]},
        {"crit": ["b64"], "b64": False},
        {"crit": ["exp"], "exp": NOW + 600},
    ],
    ids=["unknown", "unknown-absent", "empty", "not-a-list", "non-string", "b64", "exp"],
)
def test_unknown_crit_rejected(extra: dict[str, Any], key_for: Callable[[str], Key]) -> None:
    """A ``crit`` jwtkit does not understand (or a malformed one) rejects the token."""
    key = key_for("HS256")
    token = forge({"alg": "HS256", **extra}, CLAIMS, key)
    with pytest.raises(MalformedTokenError):
        decode(token, key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedTokenError):
        jws.verify_compact(token, key, algorithms=["HS256"])


@pytest.mark.parametrize("name", ["alg", "kid", "typ", "jwk", "x5c", "cty"])
def test_crit_with_registered_names_rejected(name: str, key_for: Callable[[str], Key]) -> None:
    """``crit`` must not list names registered by RFC 7515/7518 (RFC 7515 §4.1.11)."""
    key = key_for("HS256").with_kid("k")
    header: dict[str, Any] = {"alg": "HS256", "kid": "k", "typ": "JWT", "cty": "JWT"}
    header["crit"] = [name]
    token = forge(header, CLAIMS, key)
    with pytest.raises(MalformedTokenError):
        decode(token, key, algorithms=["HS256"], now=NOW)


def test_encode_refuses_crit_and_b64(key_for: Callable[[str], Key]) -> None:
    """jwtkit never produces a token it would itself refuse."""
    key = key_for("HS256")
    for headers in ({"crit": ["x"], "x": 1}, {"b64": False}):
        with pytest.raises((ValueError, TypeError)):
            encode(CLAIMS, key, headers=headers)


# ---------------------------------------------------------------- embedded keys never used


def _attacker() -> Key:
    """A fresh ES256 key the attacker controls."""
    return Key.generate("ES256", kid="attacker")


def _self_signed_cert_der(key: Key) -> bytes:
    """A self-signed certificate for ``key`` (what an attacker would put into ``x5c``)."""
    private = ec.derive_private_key(
        int.from_bytes(base64.urlsafe_b64decode(key.to_jwk(private=True)["d"] + "=="), "big"),
        ec.SECP256R1(),
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def test_embedded_jwk_header_never_supplies_key(key_for: Callable[[str], Key]) -> None:
    """A token signed by an attacker key embedded as ``jwk`` is rejected (CVE-2018-0114)."""
    victim = key_for("ES256").with_kid("victim")
    attacker = _attacker()
    for header_kid in (None, "victim", "attacker"):
        header: dict[str, Any] = {"alg": "ES256", "jwk": attacker.public().to_jwk()}
        if header_kid:
            header["kid"] = header_kid
        token = forge(header, CLAIMS, attacker)
        with pytest.raises(InvalidTokenError):
            decode(token, victim.public(), algorithms=["ES256"], now=NOW)
        with pytest.raises(InvalidTokenError):
            decode(token, KeySet([victim.public()]), algorithms=["ES256"], now=NOW)
        with pytest.raises(InvalidTokenError):
            Verifier(KeySet([victim.public()]), algorithms=["ES256"]).verify(token, now=NOW)


def test_embedded_jwk_with_empty_keyset_rejected() -> None:
    """Even with no key configured, an embedded ``jwk`` is not used."""
    attacker = _attacker()
    token = forge({"alg": "ES256", "jwk": attacker.public().to_jwk()}, CLAIMS, attacker)
    with pytest.raises(KeyNotFoundError):
        decode(token, KeySet([]), algorithms=["ES256"], now=NOW)


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_jku_and_x5u_never_fetched(member: str, key_for: Callable[[str], Key]) -> None:
    """``jku``/``x5u`` pointing at an attacker URL neither fetch nor select a key."""
    victim = key_for("ES256").with_kid("victim")
    attacker = _attacker()
    # Port 9 on loopback ("discard"): nothing listens there, so any fetch attempt would raise
    # a network error, which is not an InvalidTokenError.
    header = {"alg": "ES256", "kid": "victim", member: "http://127.0.0.1:9/jwks.json"}
    token = forge(header, CLAIMS, attacker)
    with pytest.raises(InvalidSignatureError):
        decode(token, KeySet([victim.public()]), algorithms=["ES256"], now=NOW)


def test_x5c_never_supplies_key(key_for: Callable[[str], Key]) -> None:
    """A self-signed attacker certificate in ``x5c`` is ignored."""
    victim = key_for("ES256")
    attacker = _attacker()
    x5c = [base64.b64encode(_self_signed_cert_der(attacker)).decode("ascii")]
    token = forge({"alg": "ES256", "x5c": x5c}, CLAIMS, attacker)
    with pytest.raises(InvalidSignatureError):
        decode(token, victim.public(), algorithms=["ES256"], now=NOW)


def test_embedded_keys_do_not_disturb_a_valid_token(key_for: Callable[[str], Key]) -> None:
    """The victim's own token with junk ``jwk``/``jku`` members still verifies with its key:
    the members are ignored, not trusted and not fatal."""
    victim = key_for("ES256")
    header = {"alg": "ES256", "jwk": _attacker().public().to_jwk(), "jku": "http://127.0.0.1:9/"}
    token = forge(header, CLAIMS, victim)
    assert decode(token, victim.public(), algorithms=["ES256"], now=NOW) == CLAIMS
