"""The token API as written in the contract: encode / decode / decode_unverified, Signer,
Verifier, and the KeySource / SigningKeySource protocols.

Every call passes ``now`` explicitly (the fixed clock); time is never patched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from jwtkit import (
    Key,
    KeySet,
    KeySource,
    Signer,
    SigningKeySource,
    Verifier,
    decode,
    decode_unverified,
    encode,
)
from jwtkit.errors import (
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    KeyNotFoundError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    UnsupportedAlgorithmError,
)
from jwtkit.jws import sign_bytes
from tests.support.vectors import NOW, b64url_decode

CLAIMS: dict[str, Any] = {"sub": "alice", "exp": NOW + 600}


def _header(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0]))
    return header


def _payload_text(token: str) -> bytes:
    return b64url_decode(token.split(".")[1])


# ---------------------------------------------------------------------------------- encode


def test_encode_header_defaults(key_for: Callable[[str], Key]) -> None:
    """alg comes from the key, kid when the key has one, typ JWT by default."""
    key = key_for("ES256")
    assert _header(encode(CLAIMS, key)) == {"alg": "ES256", "typ": "JWT"}
    named = key.with_kid("k1")
    assert _header(encode(CLAIMS, named)) == {"alg": "ES256", "kid": "k1", "typ": "JWT"}


def test_encode_headers_override_and_extend(key_for: Callable[[str], Key]) -> None:
    """``headers`` may override typ, add members, or drop typ with None; not change alg."""
    key = key_for("HS256").with_kid("h")
    header = _header(encode(CLAIMS, key, headers={"typ": "at+jwt", "cty": "x"}))
    assert header == {"alg": "HS256", "kid": "h", "typ": "at+jwt", "cty": "x"}
    assert "typ" not in _header(encode(CLAIMS, key, headers={"typ": None}))
    with pytest.raises(ValueError):
        encode(CLAIMS, key, headers={"alg": "HS512"})


def test_encode_alg_argument(key_for: Callable[[str], Key]) -> None:
    """``alg=`` picks one of the key's algorithms; an unbound RSA key needs it."""
    unbound = key_for("RS256").with_alg(None)
    with pytest.raises(InvalidKeyError):
        encode(CLAIMS, unbound)
    for alg in ("RS384", "PS512"):
        token = encode(CLAIMS, unbound, alg=alg)
        assert _header(token)["alg"] == alg
        assert decode(token, unbound.public(), algorithms=[alg], now=NOW) == CLAIMS


def test_encode_datetime_claims_become_numeric_dates(key_for: Callable[[str], Key]) -> None:
    """Aware datetimes for exp/nbf/iat become integer NumericDates."""
    key = key_for("HS256")
    base = dt.datetime.fromtimestamp(NOW, tz=dt.UTC)
    claims = {
        "sub": "a",
        "iat": base,
        "nbf": base - dt.timedelta(seconds=5),
        "exp": base + dt.timedelta(minutes=10, microseconds=900_000),
    }
    token = encode(claims, key)
    raw = json.loads(_payload_text(token))
    assert raw == {"sub": "a", "iat": NOW, "nbf": NOW - 5, "exp": NOW + 600}
    assert all(type(raw[c]) is int for c in ("iat", "nbf", "exp"))
    assert decode(token, key, algorithms=["HS256"], now=NOW) == raw


def test_encode_claims_compact_and_deterministic(key_for: Callable[[str], Key]) -> None:
    """Claims are compact JSON with sorted names: equal claims give equal tokens."""
    key = key_for("HS256")
    a = {"sub": "alice", "exp": NOW + 600, "name": "Zoë", "roles": ["a", "b"]}
    b = {"roles": ["a", "b"], "name": "Zoë", "exp": NOW + 600, "sub": "alice"}
    assert encode(a, key) == encode(b, key) == encode(dict(a), key)
    text = _payload_text(encode(a, key))
    assert text == json.dumps(a, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    assert b" " not in text


def test_encode_refuses_non_json_claims(key_for: Callable[[str], Key]) -> None:
    """Claims that are not JSON (sets, bytes, NaN) are TypeError/ValueError, never a token."""
    key = key_for("HS256")
    for bad in ({"x": {1, 2}}, {"x": b"raw"}, {"x": float("nan")}, {"x": float("inf")}):
        with pytest.raises((TypeError, ValueError)):
            encode(dict(CLAIMS, **bad), key)
    with pytest.raises(TypeError):
        encode(CLAIMS, "secret")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- decode


def test_decode_with_keyset_by_kid_and_without_kid(key_for: Callable[[str], Key]) -> None:
    """kid selects the key; without kid every key fitting the alg is tried."""
    a = key_for("ES256")
    b = Key.generate("ES256")
    by_kid = KeySet([a.public().with_kid("a"), b.public().with_kid("b")])
    assert decode(encode(CLAIMS, b.with_kid("b")), by_kid, algorithms=["ES256"], now=NOW)
    with pytest.raises(KeyNotFoundError):
        decode(encode(CLAIMS, b.with_kid("zz")), by_kid, algorithms=["ES256"], now=NOW)
    unnamed = KeySet([a.public(), b.public(), key_for("Ed25519").public()])
    assert decode(encode(CLAIMS, b), unnamed, algorithms=["ES256"], now=NOW) == CLAIMS
    stranger = Key.generate("ES256")
    with pytest.raises(InvalidSignatureError):
        decode(encode(CLAIMS, stranger), unnamed, algorithms=["ES256"], now=NOW)


def test_decode_unverified_checks_nothing(key_for: Callable[[str], Key]) -> None:
    """decode_unverified returns header and claims of an expired, foreign token; its
    docstring says plainly that nothing is verified."""
    token = encode({"sub": "x", "exp": 1}, Key.generate("ES256").with_kid("other"))
    header, claims = decode_unverified(token)
    assert header == {"alg": "ES256", "kid": "other", "typ": "JWT"}
    assert claims == {"sub": "x", "exp": 1}
    doc = (decode_unverified.__doc__ or "").upper()
    assert "WITHOUT VERIFYING" in doc or "NOT VERIF" in doc


# ---------------------------------------------------------------------------------- Signer


def test_signer_defaults(key_for: Callable[[str], Key]) -> None:
    """iat = now, exp = iat + lifetime, a random 128-bit jti, iss and aud; typ JWT, kid."""
    key = key_for("ES256").with_kid("s1")
    signer = Signer(key, issuer="https://id.example", audience="api", lifetime=300)
    assert signer.key is key
    token = signer.sign({"sub": "alice"}, now=NOW)
    assert _header(token) == {"alg": "ES256", "kid": "s1", "typ": "JWT"}
    claims = decode(token, key.public(), algorithms=["ES256"], audience="api", now=NOW)
    assert claims["iat"] == NOW
    assert claims["exp"] == NOW + 300
    assert claims["iss"] == "https://id.example"
    assert claims["aud"] == "api"
    assert claims["sub"] == "alice"
    assert "nbf" not in claims
    assert len(b64url_decode(claims["jti"])) == 16
    other = decode(signer.sign({}, now=NOW), key, algorithms=["ES256"], audience="api", now=NOW)
    assert other["jti"] != claims["jti"]


def test_signer_passed_claims_win(key_for: Callable[[str], Key]) -> None:
    """Claims given to sign() override every default."""
    key = key_for("HS256")
    signer = Signer(key, issuer="a", audience=["x", "y"], lifetime=60)
    claims = {"iss": "b", "aud": "z", "exp": NOW + 5, "iat": NOW - 1, "jti": "fixed"}
    token = signer.sign(claims, now=NOW)
    got = decode(token, key, algorithms=["HS256"], audience="z", issuer="b", now=NOW)
    assert {k: got[k] for k in claims} == claims


def test_signer_options(key_for: Callable[[str], Key]) -> None:
    """not_before adds nbf = iat; jti=False drops jti; typ and lifetime as timedelta work."""
    key = key_for("Ed25519")
    signer = Signer(key, not_before=True, jti=False, typ="at+jwt", lifetime=dt.timedelta(hours=1))
    token = signer.sign({"sub": "a"}, now=dt.datetime.fromtimestamp(NOW, tz=dt.UTC))
    assert _header(token)["typ"] == "at+jwt"
    claims = decode(token, key.public(), algorithms=["Ed25519"], typ="at+jwt", now=NOW)
    assert claims == {"sub": "a", "iat": NOW, "nbf": NOW, "exp": NOW + 3600}
    assert audience_list_round_trip(key)


def audience_list_round_trip(key: Key) -> bool:
    """A list audience is carried as a list."""
    token = Signer(key, audience=["a", "b"]).sign(now=NOW)
    claims = decode(token, key.public(), algorithms=["Ed25519"], audience="b", now=NOW)
    return bool(claims["aud"] == ["a", "b"])


class _RotatingSource:
    """A minimal SigningKeySource whose key can be swapped (what a key manager does)."""

    def __init__(self, key: Key) -> None:
        self.current = key

    def signing_key(self) -> Key:
        return self.current


def test_signer_with_signing_key_source(key_for: Callable[[str], Key]) -> None:
    """A Signer over a SigningKeySource signs with whatever key the source returns now."""
    first = key_for("ES256").with_kid("one")
    second = Key.generate("ES256", kid="two")
    source = _RotatingSource(first)
    typed: SigningKeySource = source  # structural: mypy checks the protocol
    signer = Signer(typed)
    assert _header(signer.sign(now=NOW))["kid"] == "one"
    source.current = second
    assert signer.key is second
    token = signer.sign(now=NOW)
    assert _header(token)["kid"] == "two"
    keys = KeySet([first.public(), second.public()])
    assert decode(token, keys, algorithms=["ES256"], now=NOW)["exp"] == NOW + 900


def test_signer_rejects_non_keys() -> None:
    """A Signer needs a Key or a SigningKeySource."""
    with pytest.raises(TypeError):
        Signer("secret")  # type: ignore[arg-type]


def test_a_public_key_cannot_sign() -> None:
    public = Key.generate("ES256").public()
    with pytest.raises(InvalidKeyError, match="public key cannot sign"):
        sign_bytes("ES256", public, b"data")
    with pytest.raises(InvalidKeyError):
        encode({"sub": "a"}, public)


def test_naive_datetimes_are_utc() -> None:
    key = Key.generate("HS256")
    token = Signer(key).sign(now=dt.datetime(2023, 11, 14, 22, 13, 20))
    claims = decode(token, key, algorithms=["HS256"], now=dt.datetime(2023, 11, 14, 22, 14))
    assert claims["iat"] == NOW


# -------------------------------------------------------------------------------- Verifier


_GOOD: dict[str, Any] = {"sub": "a", "iss": "i", "aud": "x", "exp": NOW + 60, "iat": NOW - 10}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"issuer": "i", "audience": "x"}, None),
        ({"issuer": "j", "audience": "x"}, (InvalidIssuerError, "iss")),
        ({"issuer": "i"}, (InvalidAudienceError, "aud")),
        ({"audience": ["x", "y"], "max_age": 5}, (ExpiredTokenError, "iat")),
        ({"audience": "x", "leeway": 100, "now": NOW + 150}, None),
        ({"audience": "x", "now": NOW + 60}, (ExpiredTokenError, "exp")),
        ({"audience": "x", "subject": "b"}, (InvalidClaimError, "sub")),
        ({"audience": "x", "typ": "JWT"}, None),
        ({"audience": "x", "require": ("exp", "nbf")}, (MissingClaimError, "nbf")),
    ],
    ids=[
        "issuer-and-audience",
        "other-issuer",
        "aud-without-audience",
        "max-age",
        "leeway",
        "expired",
        "other-subject",
        "typ",
        "required-nbf",
    ],
)
def test_each_verify_option_reaches_the_checks(
    options: dict[str, Any],
    expected: tuple[type[Exception], str] | None,
    key_for: Callable[[str], Key],
) -> None:
    """decode and a Verifier built with the same option accept or reject as that option says.

    (decode is ``Verifier(...).verify``, so comparing the two with each other could not fail;
    each is compared with the outcome the option must have instead.)
    """
    key = key_for("HS256")
    token = encode(_GOOD, key)
    options = dict(options)
    now = options.pop("now", NOW)
    verifier = Verifier(key, algorithms=["HS256"], **options)
    if expected is None:
        assert decode(token, key, algorithms=["HS256"], now=now, **options) == _GOOD
        assert verifier.verify(token, now=now) == _GOOD
        return
    cls, claim = expected
    with pytest.raises(cls) as by_decode:
        decode(token, key, algorithms=["HS256"], now=now, **options)
    with pytest.raises(cls) as by_verifier:
        verifier.verify(token, now=now)
    assert getattr(by_decode.value, "claim", None) == claim
    assert getattr(by_verifier.value, "claim", None) == claim


def test_verifier_reusable_and_complete(key_for: Callable[[str], Key]) -> None:
    """One Verifier verifies many tokens; verify_complete also returns the header."""
    key = key_for("PS256").with_kid("p")
    verifier = Verifier(KeySet([key.public()]), algorithms=["PS256", "ES256"], issuer="i")
    for n in range(3):
        token = encode({"n": n, "iss": "i", "exp": NOW + 60}, key)
        header, claims = verifier.verify_complete(token, now=NOW)
        assert header == {"alg": "PS256", "kid": "p", "typ": "JWT"}
        assert claims == {"n": n, "iss": "i", "exp": NOW + 60}
    with pytest.raises(ExpiredTokenError):
        verifier.verify(encode({"iss": "i", "exp": NOW}, key), now=NOW)
    with pytest.raises(InvalidIssuerError):
        verifier.verify(encode({"iss": "j", "exp": NOW + 1}, key), now=NOW)


class _CountingSource:
    """A KeySource that records the kids it was asked for."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.asked: list[str | None] = []

    def get_keyset(self, kid: str | None) -> KeySet:
        self.asked.append(kid)
        return self.keys


def test_verifier_with_key_source(key_for: Callable[[str], Key]) -> None:
    """Verifier and decode accept a KeySource and ask it once per token with the kid."""
    key = key_for("ES384").with_kid("src")
    source = _CountingSource(KeySet([key.public()]))
    typed: KeySource = source  # structural: mypy checks the protocol
    verifier = Verifier(typed, algorithms=["ES384"], audience="api")
    token = encode({"aud": "api", "exp": NOW + 60}, key)
    assert verifier.verify(token, now=NOW)["aud"] == "api"
    assert decode(token, source, algorithms=["ES384"], audience="api", now=NOW)["aud"] == "api"
    assert source.asked == ["src", "src"]
    with pytest.raises(InvalidAudienceError):
        verifier.verify(encode({"aud": "web", "exp": NOW + 60}, key), now=NOW)


def test_verifier_rejects_bad_configuration(key_for: Callable[[str], Key]) -> None:
    """Configuration mistakes fail when the Verifier is built, not per token."""
    key = key_for("HS256")
    with pytest.raises(TypeError):
        Verifier(key, algorithms="HS256")
    with pytest.raises(TypeError):
        Verifier(object(), algorithms=["HS256"])  # type: ignore[arg-type]


class _SwitchableSource:
    """A KeySource whose KeySet can be replaced (a rotation or a JWKS refresh)."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys

    def get_keyset(self, kid: str | None) -> KeySet:
        return self.keys


@pytest.mark.parametrize("cache_size", [0, 16])
def test_verifier_follows_key_source_changes(
    cache_size: int, key_for: Callable[[str], Key]
) -> None:
    """When the source's KeySet changes, tokens of a removed key stop verifying at once, even
    when the Verifier caches prepared keys or results."""
    old = key_for("ES256").with_kid("old")
    new = Key.generate("ES256", kid="new")
    source = _SwitchableSource(KeySet([old.public()]))
    verifier = Verifier(source, algorithms=["ES256"], cache_size=cache_size)
    old_token = encode(CLAIMS, old)
    assert verifier.verify(old_token, now=NOW) == CLAIMS
    assert verifier.verify(old_token, now=NOW) == CLAIMS
    source.keys = KeySet([new.public()])
    with pytest.raises(KeyNotFoundError):
        verifier.verify(old_token, now=NOW)
    assert verifier.verify(encode(CLAIMS, new), now=NOW) == CLAIMS


def test_verifier_result_cache_still_checks_time(key_for: Callable[[str], Key]) -> None:
    """A cached verification is not a pass: exp/nbf are checked against each call's now."""
    key = key_for("HS256")
    verifier = Verifier(key, algorithms=["HS256"], cache_size=8)
    token = encode({"sub": "a", "exp": NOW + 10, "nbf": NOW - 10}, key)
    assert verifier.verify(token, now=NOW)["sub"] == "a"
    with pytest.raises(ExpiredTokenError):
        verifier.verify(token, now=NOW + 10)
    with pytest.raises(NotYetValidError):
        verifier.verify(token, now=NOW - 11)
    first = verifier.verify(token, now=NOW)
    first["sub"] = "mallory"
    assert verifier.verify(token, now=NOW)["sub"] == "a"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"leeway": -1}, ValueError),
        ({"leeway": True}, ValueError),
        ({"max_age": -5}, ValueError),
        ({"leeway": "10"}, ValueError),
        ({"issuer": 123}, TypeError),
        ({"issuer": []}, TypeError),
        ({"audience": [1]}, TypeError),
        ({"subject": 1}, TypeError),
        ({"algorithms": []}, ValueError),
        ({"algorithms": ["none"]}, UnsupportedAlgorithmError),
        ({"algorithms": "HS256"}, TypeError),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else v.__name__,
)
def test_verifier_configuration_errors(
    options: dict[str, Any], error: type[Exception], key_for: Callable[[str], Key]
) -> None:
    """Bad configuration is a TypeError/ValueError when the Verifier is built (and in decode)."""
    key = key_for("HS256")
    kwargs: dict[str, Any] = {"algorithms": ["HS256"], **options}
    with pytest.raises(error):
        Verifier(key, **kwargs)
    with pytest.raises(error):
        decode(encode(CLAIMS, key), key, now=NOW, **kwargs)


def test_oversized_bytes_tokens_are_malformed() -> None:
    key = Key.generate("HS256")
    with pytest.raises(MalformedTokenError, match="longer than"):
        Verifier(key, algorithms=["HS256"], max_token_size=16).verify(b"a" * 17)  # type: ignore[arg-type]


def test_now_must_be_a_number_or_datetime() -> None:
    key = Key.generate("HS256")
    token = encode({"exp": NOW + 60}, key)
    with pytest.raises(TypeError, match="number or datetime"):
        decode(token, key, algorithms=["HS256"], now="now")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="number or datetime"):
        decode(token, key, algorithms=["HS256"], now=True)


def test_require_takes_claim_names_only() -> None:
    with pytest.raises(TypeError, match="claim names"):
        Verifier(Key.generate("HS256"), algorithms=["HS256"], require=["exp", 1])  # type: ignore[list-item]


def test_expected_subject_missing_is_a_missing_claim() -> None:
    key = Key.generate("HS256")
    token = encode({"exp": NOW + 60}, key)
    with pytest.raises(MissingClaimError) as info:
        decode(token, key, algorithms=["HS256"], subject="alice", now=NOW)
    assert info.value.claim == "sub"
