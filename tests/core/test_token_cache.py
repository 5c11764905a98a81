"""The opt-in verified-token cache on ``Verifier`` (issue 6)."""

from __future__ import annotations

import pytest

from jwtkit import Key, KeySet, Verifier, encode
from jwtkit.errors import ExpiredTokenError, InvalidSignatureError, KeyNotFoundError

NOW = 1_700_000_000


class SwitchableSource:
    """A minimal key source whose key set the test replaces, as a rotation would."""

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset
        self.calls = 0

    def get_keyset(self, kid: str | None) -> KeySet:
        self.calls += 1
        return self.keyset


@pytest.fixture
def key() -> Key:
    return Key.generate("ES256", kid="k1")


def _token(key: Key, **claims: object) -> str:
    return encode({"sub": "alice", "exp": NOW + 60, **claims}, key)


def test_cache_is_off_by_default(key: Key) -> None:
    verifier = Verifier(key.public(), algorithms=["ES256"])
    assert verifier._cache is None


def test_hit_returns_equal_claims_that_callers_cannot_poison(key: Key) -> None:
    verifier = Verifier(key.public(), algorithms=["ES256"], cache_size=8)
    token = _token(key)
    first = verifier.verify(token, now=NOW)
    first["sub"] = "mallory"
    second = verifier.verify(token, now=NOW)
    assert second["sub"] == "alice"
    header, claims = verifier.verify_complete(token, now=NOW)
    assert header["kid"] == "k1" and claims["sub"] == "alice"


def test_hit_rechecks_expiry(key: Key) -> None:
    verifier = Verifier(key.public(), algorithms=["ES256"], cache_size=8)
    token = _token(key)
    verifier.verify(token, now=NOW)
    with pytest.raises(ExpiredTokenError):
        verifier.verify(token, now=NOW + 61)


def test_entry_dropped_when_the_key_leaves_the_set(key: Key) -> None:
    other = Key.generate("ES256", kid="k2")
    source = SwitchableSource(KeySet([key.public(), other.public()]))
    verifier = Verifier(source, algorithms=["ES256"], cache_size=8)
    token = _token(key)
    verifier.verify(token, now=NOW)
    source.keyset = KeySet([other.public()])  # k1 revoked
    with pytest.raises(KeyNotFoundError):
        verifier.verify(token, now=NOW)


def test_entry_dropped_when_the_kid_now_names_another_key(key: Key) -> None:
    source = SwitchableSource(KeySet([key.public()]))
    verifier = Verifier(source, algorithms=["ES256"], cache_size=8)
    token = _token(key)
    verifier.verify(token, now=NOW)
    source.keyset = KeySet([Key.generate("ES256", kid="k1").public()])
    with pytest.raises(InvalidSignatureError):
        verifier.verify(token, now=NOW)


def test_cache_is_bounded(key: Key) -> None:
    verifier = Verifier(key.public(), algorithms=["ES256"], cache_size=3)
    tokens = [_token(key, n=i) for i in range(10)]
    for token in tokens:
        verifier.verify(token, now=NOW)
    assert verifier._cache is not None
    assert len(verifier._cache) == 3
    assert set(verifier._cache) == set(tokens[-3:])


def test_rejected_tokens_are_not_cached(key: Key) -> None:
    verifier = Verifier(key.public(), algorithms=["ES256"], cache_size=8)
    with pytest.raises(ExpiredTokenError):
        verifier.verify(_token(key, exp=NOW - 1), now=NOW)
    assert verifier._cache == {}


@pytest.mark.parametrize("size", [-1, 1.5, True])
def test_bad_cache_size_is_refused(key: Key, size: object) -> None:
    with pytest.raises(ValueError, match="cache_size"):
        Verifier(key, algorithms=["ES256"], cache_size=size)  # type: ignore[arg-type]
