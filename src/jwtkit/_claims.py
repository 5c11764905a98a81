"""The claims rules, run after the signature has verified (RFC 7519 §4.1, RFC 8725 §3.8-3.9).

``check`` runs them in this order, and the first failure is the one raised:

1. every claim in ``require`` is present (``exp`` by default);
2. the times (RFC 7519 §4.1.4-4.1.6): ``exp`` has not passed, ``nbf`` and ``iat`` are not in
   the future, and ``iat`` is not older than ``max_age``, each within ``leeway``; numeric
   dates must be real numbers;
3. issuer and subject (RFC 8725 §3.8): ``iss`` is one of the trusted issuers, ``sub`` the
   expected subject, compared exactly;
4. audience (RFC 8725 §3.9): ``aud`` names an expected audience, and a token that names an
   audience is refused when none is expected (RFC 7519 §4.1.3).

Time is a parameter: ``now`` comes from the public entry point; nothing here reads the clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jwtkit._rules import Time, VerifyRules
from jwtkit._text import short
from jwtkit.errors import (
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    MissingClaimError,
    NotYetValidError,
)

__all__ = ["NUMERIC_DATES", "check", "check_times", "numeric_dates", "timestamp"]

NUMERIC_DATES = ("exp", "nbf", "iat")


def check(claims: dict[str, Any], rules: VerifyRules, now: float) -> None:
    """Apply every claims rule of ``rules`` (in the order of the module docstring).

    Raises:
        ClaimsError: a subclass naming the claim and why.
    """
    for name in rules.require:
        if name not in claims:
            raise MissingClaimError(f"required claim {name!r} is missing", claim=name)
    check_times(claims, rules, now)
    if rules.issuer is not None:
        _check_issuer(claims, rules.issuer)
    if rules.subject is not None:
        _check_subject(claims, rules.subject)
    _check_audience(claims, rules.audience)


def check_times(claims: dict[str, Any], rules: VerifyRules, now: float) -> None:
    """The checks that depend on the clock (re-run on every verified-token cache hit).

    ``now`` is a float, so each difference converts the claim to a float, and an integer
    claim too large for one raises OverflowError: that is an invalid claim (issue 19, F9).
    The try costs nothing on the path where no claim overflows.

    Raises:
        ExpiredTokenError, NotYetValidError, InvalidClaimError: as the claim says.
    """
    leeway = rules.leeway
    try:
        if "exp" in claims and now - _number(claims, "exp") >= leeway:
            raise ExpiredTokenError("token has expired", claim="exp")
        if "nbf" in claims and _number(claims, "nbf") - now > leeway:
            raise NotYetValidError("token is not valid yet (nbf)", claim="nbf")
        if "iat" in claims:
            age = now - _number(claims, "iat")
            if -age > leeway:
                raise NotYetValidError("token was issued in the future (iat)", claim="iat")
            if rules.max_age is not None and age > rules.max_age + leeway:
                raise ExpiredTokenError("token is older than max_age", claim="iat")
    except OverflowError:
        name = next(name for name in NUMERIC_DATES if _overflows(claims.get(name)))
        raise InvalidClaimError(f"claim {name!r} is out of range for a time", claim=name) from None


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims[name]
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    raise InvalidClaimError(f"claim {name!r} must be a number", claim=name)


def _overflows(value: object) -> bool:
    """Whether ``value`` is an integer that no float can hold."""
    if type(value) is not int:
        return False
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _check_issuer(claims: Mapping[str, Any], expected: frozenset[str]) -> None:
    if "iss" not in claims:
        raise MissingClaimError("required claim 'iss' is missing", claim="iss")
    iss = claims["iss"]
    if type(iss) is not str or iss not in expected:
        shown = short(iss) if type(iss) is str else type(iss).__name__
        raise InvalidIssuerError(f"issuer {shown!r} is not trusted", claim="iss")


def _check_subject(claims: Mapping[str, Any], expected: str) -> None:
    if "sub" not in claims:
        raise MissingClaimError("required claim 'sub' is missing", claim="sub")
    if claims["sub"] != expected:
        raise InvalidClaimError("subject does not match", claim="sub")


def _check_audience(claims: Mapping[str, Any], expected: frozenset[str] | None) -> None:
    if "aud" not in claims:
        if expected is not None:
            raise MissingClaimError("required claim 'aud' is missing", claim="aud")
        return
    if expected is None:
        # RFC 7519 §4.1.3: a token meant for someone must not be accepted by a party that
        # does not know who it is.
        raise InvalidAudienceError(
            "token has an audience but no audience was expected", claim="aud"
        )
    aud = claims["aud"]
    audiences = (aud,) if type(aud) is str else aud
    if type(audiences) is not list and type(audiences) is not tuple:
        raise InvalidClaimError("claim 'aud' must be a string or a list", claim="aud")
    if not all(type(item) is str for item in audiences):
        raise InvalidClaimError("claim 'aud' must contain only strings", claim="aud")
    if expected.isdisjoint(audiences):
        shown = ", ".join(repr(short(item)) for item in audiences[:5])
        raise InvalidAudienceError(f"wrong audience {shown}", claim="aud")


# -- producing claims -------------------------------------------------------------------------


def timestamp(value: Time) -> float:
    """Seconds since the epoch as a float; naive datetimes are taken as UTC.

    Raises:
        TypeError: not a number or ``datetime``.
        ValueError: not finite.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number or datetime, not {type(value).__name__}")
    # Always a float: the time checks then overflow on a claim too large for one (issue 19).
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        raise ValueError("now must be a finite number of seconds")
    return seconds


def numeric_dates(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Copy ``claims``, turning ``datetime`` values of exp/nbf/iat into NumericDate integers."""
    out = dict(claims)
    for name in NUMERIC_DATES:
        value = out.get(name)
        if isinstance(value, datetime):
            out[name] = int(timestamp(value))
    return out
