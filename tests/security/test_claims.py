"""Registered-claim rules (RFC 7519 §4.1, RFC 8725), with an injected clock.

``exp``/``nbf``/``iat`` must be numbers (not bool, NaN or infinity); expiry beyond the leeway is
``ExpiredTokenError``; ``nbf``/``iat`` in the future beyond the leeway is ``NotYetValidError``;
``max_age`` bounds now - iat; ``iss`` must match; a token with ``aud`` is rejected when no audience
is configured; ``typ`` is compared case-insensitively with an optional ``application/`` prefix;
missing required claims give ``MissingClaimError``. Every check runs through ``decode``, which
is ``Verifier(...).verify``: running both would compare the pipeline with itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from jwtkit import Key, decode, encode
from jwtkit.errors import (
    ClaimsError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidTokenError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
)
from tests.support.forge import forge

NOW = 1_700_000_000


@pytest.fixture
def key(key_for: Callable[[str], Key]) -> Key:
    """The session's HS256 key."""
    return key_for("HS256")


def accepts(token: str, key: Key, **options: Any) -> dict[str, Any]:
    """Return the claims ``decode`` gives with these options (``now`` defaults to ``NOW``)."""
    now = options.pop("now", NOW)
    algorithms = options.pop("algorithms", ["HS256"])
    return decode(token, key, algorithms=algorithms, now=now, **options)


def rejects(
    exc: type[Exception] | tuple[type[Exception], ...], token: str, key: Key, **options: Any
) -> Exception:
    """``decode`` with these options raises ``exc``; return the exception."""
    now = options.pop("now", NOW)
    algorithms = options.pop("algorithms", ["HS256"])
    with pytest.raises(exc) as info:
        decode(token, key, algorithms=algorithms, now=now, **options)
    return info.value


# --------------------------------------------------------------------- NumericDate types


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize(
    "value",
    [True, False, "1700000600", None, [NOW + 600], {"t": NOW}],
    ids=["true", "false", "str", "null", "list", "object"],
)
def test_numeric_date_must_be_a_number(claim: str, value: Any, key: Key) -> None:
    """bool, str, null, list and object values for exp/nbf/iat are invalid claims."""
    claims: dict[str, Any] = {"sub": "a", "exp": NOW + 600, claim: value}
    token = forge({"alg": "HS256"}, claims, key)
    exc = rejects(InvalidClaimError, token, key, require=())
    assert isinstance(exc, ClaimsError) and exc.claim == claim


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_numeric_date_nan_and_infinity_rejected(claim: str, literal: str, key: Key) -> None:
    """NaN and infinities (1e400 parses to inf in Python) never pass as NumericDates."""
    base = f'{{"sub":"a","exp":{NOW + 600}' if claim != "exp" else '{"sub":"a"'
    payload = f'{base},"{claim}":{literal}}}'.encode()
    token = forge({"alg": "HS256"}, payload, key)
    rejects((InvalidClaimError, MalformedTokenError), token, key, require=())


def test_numeric_date_float_accepted(key: Key) -> None:
    """Non-integer NumericDates are valid (RFC 7519 §2)."""
    claims = {"sub": "a", "exp": NOW + 0.5, "nbf": NOW - 0.5, "iat": NOW - 1.25}
    assert accepts(forge({"alg": "HS256"}, claims, key), key) == claims


# ------------------------------------------------------------------------------- exp / nbf


def test_expired_token_rejected(key: Key) -> None:
    """exp <= now is expired; the error names the claim."""
    for exp in (NOW, NOW - 1, NOW - 86400):
        exc = rejects(ExpiredTokenError, encode({"exp": exp}, key), key)
        assert isinstance(exc, ClaimsError) and exc.claim == "exp"
    assert accepts(encode({"exp": NOW + 1}, key), key) == {"exp": NOW + 1}


def test_expired_beyond_leeway_rejected(key: Key) -> None:
    """A leeway (seconds or timedelta) tolerates clock skew, and no more."""
    token = encode({"exp": NOW - 30}, key)
    for leeway in (31, 60, dt.timedelta(seconds=31), 30.5):
        assert accepts(token, key, leeway=leeway) == {"exp": NOW - 30}
    for leeway in (0, 30, 29.9, dt.timedelta(seconds=30)):
        rejects(ExpiredTokenError, token, key, leeway=leeway)


def test_nbf_in_future_rejected(key: Key) -> None:
    """nbf later than now (beyond the leeway) is not yet valid."""
    token = encode({"exp": NOW + 600, "nbf": NOW + 10}, key)
    exc = rejects(NotYetValidError, token, key)
    assert isinstance(exc, ClaimsError) and exc.claim == "nbf"
    assert accepts(token, key, leeway=10)["nbf"] == NOW + 10
    rejects(NotYetValidError, token, key, leeway=9)
    assert accepts(encode({"exp": NOW + 600, "nbf": NOW}, key), key)["nbf"] == NOW


def test_iat_in_future_rejected(key: Key) -> None:
    """iat later than now (beyond the leeway) is not yet valid."""
    token = encode({"exp": NOW + 600, "iat": NOW + 60}, key)
    exc = rejects(NotYetValidError, token, key)
    assert isinstance(exc, ClaimsError) and exc.claim == "iat"
    assert accepts(token, key, leeway=60)["iat"] == NOW + 60


def test_now_accepts_datetime(key: Key) -> None:
    """``now`` may be a timezone-aware datetime."""
    token = encode({"exp": NOW + 60}, key)
    when = dt.datetime.fromtimestamp(NOW, tz=dt.UTC)
    assert decode(token, key, algorithms=["HS256"], now=when) == {"exp": NOW + 60}
    later = when + dt.timedelta(seconds=61)
    with pytest.raises(ExpiredTokenError):
        decode(token, key, algorithms=["HS256"], now=later)


# ---------------------------------------------------------------------------------- max_age


def test_max_age_bounds_token_age(key: Key) -> None:
    """now - iat > max_age is rejected as expired; max_age requires iat."""
    token = encode({"exp": NOW + 600, "iat": NOW - 100}, key)
    assert accepts(token, key, max_age=100)["iat"] == NOW - 100
    assert accepts(token, key, max_age=dt.timedelta(minutes=5))["iat"] == NOW - 100
    exc = rejects(ExpiredTokenError, token, key, max_age=99)
    assert isinstance(exc, ClaimsError) and exc.claim == "iat"
    assert accepts(token, key, max_age=90, leeway=10)["iat"] == NOW - 100
    no_iat = encode({"exp": NOW + 600}, key)
    exc = rejects(MissingClaimError, no_iat, key, max_age=100)
    assert isinstance(exc, ClaimsError) and exc.claim == "iat"


# ---------------------------------------------------------------------------------- issuer


def test_issuer_single_and_list(key: Key) -> None:
    """iss must equal the issuer, or one of several."""
    token = encode({"exp": NOW + 600, "iss": "https://b.example"}, key)
    assert accepts(token, key, issuer="https://b.example")["iss"] == "https://b.example"
    assert accepts(token, key, issuer=["https://a.example", "https://b.example"])
    assert accepts(token, key, issuer=("https://b.example",))
    exc = rejects(InvalidIssuerError, token, key, issuer="https://a.example")
    assert isinstance(exc, ClaimsError) and exc.claim == "iss"
    rejects(InvalidIssuerError, token, key, issuer=["https://a.example", "https://c.example"])
    rejects(InvalidIssuerError, token, key, issuer="https://B.example")


def test_issuer_missing_or_not_string_rejected(key: Key) -> None:
    """With an issuer configured, a token without iss (or with a non-string iss) fails."""
    no_iss = encode({"exp": NOW + 600}, key)
    exc = rejects(ClaimsError, no_iss, key, issuer="https://a.example")
    assert isinstance(exc, ClaimsError) and exc.claim == "iss"
    for bad in (["https://a.example"], 1, None):
        token = forge({"alg": "HS256"}, {"exp": NOW + 600, "iss": bad}, key)
        exc = rejects(ClaimsError, token, key, issuer="https://a.example")
        assert isinstance(exc, ClaimsError) and exc.claim == "iss"


# -------------------------------------------------------------------------------- audience


def test_aud_without_configured_audience_rejected(key: Key) -> None:
    """RFC 7519 §4.1.3: a token with aud is rejected when the verifier names no audience."""
    for aud in ("api", ["api"], ["api", "other"]):
        token = encode({"exp": NOW + 600, "aud": aud}, key)
        exc = rejects(InvalidAudienceError, token, key)
        assert isinstance(exc, ClaimsError) and exc.claim == "aud"


def test_aud_string_or_list(key: Key) -> None:
    """aud may be a string or a list; one configured audience must appear in it."""
    for aud in ("api", ["api"], ["other", "api"]):
        token = encode({"exp": NOW + 600, "aud": aud}, key)
        assert accepts(token, key, audience="api")["aud"] == aud
        assert accepts(token, key, audience=["x", "api"])["aud"] == aud
        rejects(InvalidAudienceError, token, key, audience="nope")
        rejects(InvalidAudienceError, token, key, audience=["API"])


def test_aud_missing_or_malformed_when_required(key: Key) -> None:
    """With an audience configured, a token without aud, or with a bad aud, fails."""
    exc = rejects(ClaimsError, encode({"exp": NOW + 600}, key), key, audience="api")
    assert isinstance(exc, ClaimsError) and exc.claim == "aud"
    for bad in ([], [1], 1, None, {"api": True}, ["api", 2]):
        token = forge({"alg": "HS256"}, {"exp": NOW + 600, "aud": bad}, key)
        exc = rejects(ClaimsError, token, key, audience="api")
        assert isinstance(exc, ClaimsError) and exc.claim == "aud"


# ------------------------------------------------------------------------------------- sub


def test_subject_checked_when_configured(key: Key) -> None:
    """``subject=`` requires an exactly equal ``sub``."""
    token = encode({"exp": NOW + 600, "sub": "alice"}, key)
    assert accepts(token, key, subject="alice")["sub"] == "alice"
    exc = rejects(ClaimsError, token, key, subject="bob")
    assert isinstance(exc, ClaimsError) and exc.claim == "sub"


# ------------------------------------------------------------------------------------- typ


@pytest.mark.parametrize(
    ("expected", "header_typ"),
    [
        ("JWT", "JWT"),
        ("JWT", "jwt"),
        ("JWT", "application/jwt"),
        ("JWT", "Application/JWT"),
        ("jwt", "JWT"),
        ("at+jwt", "application/at+jwt"),
        ("application/at+jwt", "AT+JWT"),
    ],
)
def test_typ_case_insensitive_with_application_prefix(
    expected: str, header_typ: str, key: Key
) -> None:
    """typ matches case-insensitively, ``application/`` optional on either side."""
    token = forge({"alg": "HS256", "typ": header_typ}, {"exp": NOW + 600}, key)
    assert accepts(token, key, typ=expected) == {"exp": NOW + 600}


@pytest.mark.parametrize("header_typ", ["at+jwt", "JWS", "application/jwt+x", "", None, 1])
def test_typ_mismatch_rejected(header_typ: Any, key: Key) -> None:
    """A different (or missing, or non-string) typ is rejected when typ is configured."""
    header: dict[str, Any] = {"alg": "HS256"}
    if header_typ is not None:
        header["typ"] = header_typ
    token = forge(header, {"exp": NOW + 600}, key)
    rejects(InvalidTokenError, token, key, typ="JWT")


def test_typ_not_checked_by_default(key: Key) -> None:
    """Without ``typ=``, any typ passes (cross-JWT confusion is the caller's opt-in check)."""
    token = forge({"alg": "HS256", "typ": "at+jwt"}, {"exp": NOW + 600}, key)
    assert accepts(token, key) == {"exp": NOW + 600}


# ------------------------------------------------------------------------- required claims


def test_missing_required_claims_rejected(key: Key) -> None:
    """exp is required by default; ``require`` names others; ``require=()`` drops exp."""
    no_exp = encode({"sub": "a"}, key)
    exc = rejects(MissingClaimError, no_exp, key)
    assert isinstance(exc, ClaimsError) and exc.claim == "exp"
    assert accepts(no_exp, key, require=()) == {"sub": "a"}
    token = encode({"exp": NOW + 600}, key)
    exc = rejects(MissingClaimError, token, key, require=("exp", "sub"))
    assert isinstance(exc, ClaimsError) and exc.claim == "sub"
    assert exc.reason == "missing"
    assert accepts(encode({"exp": NOW + 600, "sub": "a", "jti": "j"}, key), key,
                require=["exp", "sub", "jti"])["jti"] == "j"  # fmt: skip
