"""Explain in one line exactly why a token was rejected (``jwtkit verify``).

The library's errors carry data (class, ``claim``, ``reason``); this module turns that, plus
what the unverified token says about itself, into the sentence a developer needs: "token
expired 3 minutes ago", "wrong audience 'x' (expected 'y')".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from jwtkit._text import short
from jwtkit.cli._parse import format_duration
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    ClaimsError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    KeyNotFoundError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
)

__all__ = ["Expectations", "explain"]


class Expectations(NamedTuple):
    """What the verifier was asked for, so a message can say "expected ..."."""

    algorithms: Sequence[str] = ()
    issuer: str | None = None
    audience: str | None = None
    key_kids: Sequence[str] = ()
    subject: str | None = None
    typ: str | None = None


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return repr(short(value, 80))
    return json.dumps(value, default=str)[:80]


def _ago(seconds: float) -> str:
    return "just now" if abs(seconds) < 1 else f"{format_duration(seconds)} ago"


def _time_claim(exc: ClaimsError, claims: Mapping[str, Any], now: float) -> str:
    claim = exc.claim
    value = claims.get(claim)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(exc, ExpiredTokenError):
        if claim == "exp" and number is not None:
            return f"token expired {_ago(now - number)}"
        if claim == "iat" and number is not None:
            return f"token is too old: issued {_ago(now - number)} (over --max-age)"
        return f"token expired ({exc})"
    if number is not None:
        return f"token not valid yet: {claim} is {format_duration(number - now)} in the future"
    return f"token not valid yet ({exc})"


def _claims_message(
    exc: ClaimsError, claims: Mapping[str, Any], e: Expectations, now: float
) -> str:
    if isinstance(exc, ExpiredTokenError | NotYetValidError):
        return _time_claim(exc, claims, now)
    if isinstance(exc, MissingClaimError):
        return f"missing required claim {exc.claim!r}"
    if isinstance(exc, InvalidAudienceError):
        got = claims.get("aud")
        if e.audience is None:
            return f"token has audience {_quote(got)} but no --aud was given to check it against"
        if got is None:
            return f"token has no audience (expected {e.audience!r})"
        return f"wrong audience {_quote(got)} (expected {e.audience!r})"
    if isinstance(exc, InvalidIssuerError):
        got = claims.get("iss")
        if got is None:
            return f"token has no issuer (expected {e.issuer!r})"
        return f"wrong issuer {_quote(got)} (expected {e.issuer!r})"
    if exc.claim == "sub" and e.subject is not None and isinstance(claims.get("sub"), str):
        return f"wrong subject {_quote(claims['sub'])} (expected {e.subject!r})"
    text = str(exc)
    return (
        f"invalid claim: {text}"
        if repr(exc.claim) in text
        else f"invalid claim {exc.claim!r}: {text}"
    )


def explain(
    exc: InvalidTokenError,
    header: Mapping[str, Any],
    claims: Mapping[str, Any],
    expectations: Expectations,
    now: float,
) -> str:
    """Return the one-line reason why ``exc`` rejected the token described by header/claims."""
    alg, kid = header.get("alg"), header.get("kid")
    if isinstance(exc, ClaimsError) and exc.claim == "typ" and expectations.typ is not None:
        # typ is a header, checked (like a claim) against --typ, RFC 8725 §3.11.
        got = header.get("typ")
        if got is None:
            return f"token has no typ header (expected {expectations.typ!r})"
        return f"wrong token type {_quote(got)} (expected {expectations.typ!r})"
    if isinstance(exc, ClaimsError):
        return _claims_message(exc, claims, expectations, now)
    if isinstance(exc, AlgorithmNotAllowedError):
        if alg is None:
            return "token header has no alg"
        if isinstance(alg, str) and alg.lower() == "none":
            return "algorithm 'none' not allowed: the token is unsigned"
        allowed = ", ".join(expectations.algorithms) or "none given"
        return f"algorithm {_quote(alg)} not allowed (allowed: {allowed})"
    if isinstance(exc, InvalidSignatureError):
        name = kid if isinstance(kid, str) else None
        if name is None and len(expectations.key_kids) == 1:
            name = expectations.key_kids[0]
        target = f"key {name!r}" if name else "the key"
        return f"signature does not match {target}"
    if isinstance(exc, KeyNotFoundError):
        known = ", ".join(repr(k) for k in expectations.key_kids) or "none with a kid"
        if isinstance(kid, str):
            return f"no key with kid {kid!r} for alg {_quote(alg)} (known keys: {known})"
        return f"no key fits alg {_quote(alg)} (known keys: {known})"
    if isinstance(exc, MalformedTokenError):
        return f"malformed token: {exc}"
    return f"invalid token: {exc}"
