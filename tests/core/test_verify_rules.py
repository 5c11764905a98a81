"""``VerifyRules`` and ``Verifier.verify_with`` (issue 15, step 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jwtkit import Key, KeySet, Signer, Verifier, decode
from jwtkit.errors import (
    InvalidSignatureError,
    KeyNotFoundError,
    UnsupportedAlgorithmError,
)
from jwtkit.jwt import VerifyRules
from tests.support.vectors import NOW


def test_rules_are_normalized_once() -> None:
    rules = VerifyRules(
        algorithms=["ES256", "EdDSA"],
        issuer="https://id.example",
        audience=["a", "b"],
        leeway=timedelta(seconds=5),
        max_age=60,
        typ="application/AT+JWT",
    )
    assert rules.algorithms == ("ES256", "EdDSA")
    assert rules.issuer == frozenset({"https://id.example"})
    assert rules.audience == frozenset({"a", "b"})
    assert rules.leeway == 5.0
    assert rules.max_age == 60.0
    assert rules.require == ("exp", "iat")  # max_age needs iat
    assert rules.typ == "at+jwt"
    assert set(rules.allowed) == {"ES256", "EdDSA"}


def test_rules_are_frozen_and_compare_by_value() -> None:
    rules = VerifyRules(algorithms=["ES256"], audience="api")
    with pytest.raises(AttributeError):
        rules.audience = frozenset({"other"})
    with pytest.raises(AttributeError):
        del rules.audience
    same = VerifyRules(algorithms=("ES256",), audience=["api"])
    assert rules == same
    assert hash(rules) == hash(same)
    assert rules != VerifyRules(algorithms=["ES256"], audience="web")
    assert "audience=frozenset({'api'})" in repr(rules)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"algorithms": "ES256"}, TypeError),
        ({"algorithms": []}, ValueError),
        ({"algorithms": ["none"]}, UnsupportedAlgorithmError),
        ({"algorithms": ["ES256"], "require": "exp"}, TypeError),
        ({"algorithms": ["ES256"], "issuer": []}, TypeError),
        ({"algorithms": ["ES256"], "subject": 3}, TypeError),
        ({"algorithms": ["ES256"], "leeway": -1}, ValueError),
    ],
)
def test_bad_options_fail_at_construction(options: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        VerifyRules(**options)  # type: ignore[arg-type]
    with pytest.raises(error):
        Verifier(KeySet([]), **options)  # type: ignore[arg-type]


def test_from_rules_checks_what_the_options_say() -> None:
    key = Key.generate("ES256", kid="k1")
    token = Signer(key, audience="api").sign({"sub": "alice"}, now=NOW)
    verifier = Verifier.from_rules(key.public(), VerifyRules(algorithms=["ES256"], audience="api"))
    assert verifier.verify(token, now=NOW)["sub"] == "alice"
    assert verifier.rules == VerifyRules(algorithms=["ES256"], audience="api")
    assert decode(token, key.public(), algorithms=["ES256"], audience="api", now=NOW) == (
        verifier.verify(token, now=NOW)
    )
    with pytest.raises(ValueError):
        Verifier.from_rules(key, verifier.rules, cache_size=-1)


def test_verify_with_uses_the_key_set_it_is_given() -> None:
    k1, k2 = Key.generate("ES256", kid="k1"), Key.generate("ES256", kid="k2")
    one, both = KeySet([k1.public()]), KeySet([k1.public(), k2.public()])
    verifier = Verifier.from_rules(KeySet([]), VerifyRules(algorithms=["ES256"]))
    old, new = (Signer(k).sign({"sub": k.kid}, now=NOW) for k in (k1, k2))
    assert verifier.verify_with(one, old, now=NOW)["sub"] == "k1"
    with pytest.raises(KeyNotFoundError):
        verifier.verify_with(one, new, now=NOW)
    assert verifier.verify_with(both, new, now=NOW)["sub"] == "k2"
    assert verifier.verify_with(both, old, now=NOW)["sub"] == "k1"
    with pytest.raises(KeyNotFoundError):  # its own (empty) set is not used by verify_with
        verifier.verify(old, now=NOW)
    forged = KeySet([Key.generate("ES256", kid="k1").public()])
    with pytest.raises(InvalidSignatureError):
        verifier.verify_with(forged, old, now=NOW)
    with pytest.raises(TypeError):
        verifier.verify_with(k1, old, now=NOW)  # type: ignore[arg-type]


def test_verify_with_and_the_token_cache_follow_the_key_set() -> None:
    k1 = Key.generate("ES256", kid="k1")
    token = Signer(k1).sign({"sub": "alice"}, now=NOW)
    verifier = Verifier.from_rules(KeySet([]), VerifyRules(algorithms=["ES256"]), cache_size=8)
    first = KeySet([k1.public()])
    assert verifier.verify_with(first, token, now=NOW)["sub"] == "alice"
    other = KeySet([Key.generate("ES256", kid="k1").public()])
    # The cached result stood for ``first`` only: with another set the token is checked anew.
    with pytest.raises(InvalidSignatureError):
        verifier.verify_with(other, token, now=NOW)
