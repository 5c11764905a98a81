"""What ``jwtkit inspect`` says about a token: times in words and a reviewer's warnings.

Nothing here verifies anything; the report is built from the token's own unverified claims
so that a developer can debug a token without pasting it into a web debugger.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from jwtkit.cli._parse import format_duration

__all__ = ["Report", "TimeClaim", "analyze", "luhn_valid", "utc_date"]

DAY = 86400
TIME_CLAIMS = {"iat": "issued", "nbf": "valid from", "exp": "expires", "auth_time": "authenticated"}
# Normalised claim names (lower case, letters and digits only) that suggest secret or personal data.
SENSITIVE_NAMES = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "ssn",
    "socialsecurity",
    "creditcard",
    "cardnumber",
    "ccnumber",
    "cvv",
    "cvc",
    "privatekey",
    "apikey",
)
SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
CARD = re.compile(r"^\d(?:[ -]?\d){12,18}$")


class TimeClaim(NamedTuple):
    """A NumericDate claim shown as a UTC date and relative to now."""

    claim: str
    value: int | float
    date: str
    relative: str


class Report(NamedTuple):
    """The decoded token with its times and warnings; nothing in it is verified.

    A NamedTuple rather than a dataclass: importing dataclasses (and the inspect module it
    needs) would cost ``jwtkit inspect`` about 5 ms of start-up (issue 17).
    """

    header: dict[str, Any]
    claims: dict[str, Any]
    times: list[TimeClaim]
    warnings: list[str]
    as_of: float | None = None  # the --now the report describes, when one was given

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (``jwtkit inspect --json``)."""
        as_of = (
            {}
            if self.as_of is None
            else {"as_of": {"value": self.as_of, "date": utc_date(self.as_of)}}
        )
        return {
            **as_of,
            "verified": False,
            "header": self.header,
            "claims": self.claims,
            "times": {
                t.claim: {"value": t.value, "date": t.date, "relative": t.relative}
                for t in self.times
            },
            "warnings": self.warnings,
        }


def luhn_valid(digits: str) -> bool:
    """Return whether the digit string passes the Luhn check used by payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def utc_date(value: float) -> str:
    """Return a NumericDate as a UTC date (``out of range`` where Python has none)."""
    try:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _relative(claim: str, delta: float) -> str:
    """Phrase ``delta`` (claim time minus now, in seconds) for ``claim``."""
    span = format_duration(delta)
    future = delta > 0
    if claim == "exp":
        return f"expires in {span}" if future else f"expired {span} ago"
    if claim == "nbf":
        return f"becomes valid in {span}" if future else f"valid since {span} ago"
    verb = TIME_CLAIMS.get(claim, claim)
    return f"{verb} in {span} (in the future)" if future else f"{verb} {span} ago"


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _times(claims: Mapping[str, Any], now: float) -> Iterator[TimeClaim]:
    for claim in TIME_CLAIMS:
        raw = claims.get(claim)
        value = _number(raw)
        if value is None:
            continue
        yield TimeClaim(
            claim,
            raw if isinstance(raw, int) else value,
            utc_date(value),
            _relative(claim, value - now),
        )


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _sensitive(claims: Mapping[str, Any]) -> Iterator[str]:
    for path, value in _walk(claims, ""):
        if not path:
            continue
        name = re.sub(r"[^a-z0-9]", "", path.rsplit(".", 1)[-1].split("[", 1)[0].lower())
        if any(word in name for word in SENSITIVE_NAMES) or name == "pin":
            yield f"claim {path!r} looks sensitive by its name: tokens are readable by anyone"
            continue
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if SSN.match(text):
            yield f"claim {path!r} looks like a US social security number"
        elif CARD.match(text) and luhn_valid(re.sub(r"\D", "", text)):
            yield f"claim {path!r} looks like a payment card number (passes the Luhn check)"
        elif "PRIVATE KEY-----" in text:
            yield f"claim {path!r} contains a private key"


def _header_warnings(header: Mapping[str, Any]) -> Iterator[str]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        yield "alg 'none' or missing: the token is unsigned and must never be accepted"
    elif alg.startswith("HS"):
        yield (
            f"alg {alg} uses a shared secret: every service that can verify this token can also "
            "forge one; use an asymmetric algorithm (ES256, EdDSA) for tokens that cross services"
        )
    for name in ("jku", "x5u"):
        if name in header:
            yield (
                f"header {name!r} points at a key URL: a verifier must never fetch keys from a URL "
                "the token itself names (key injection)"
            )
    for name in ("jwk", "x5c"):
        if name in header:
            yield (
                f"header {name!r} embeds a key: a verifier must never trust a key the token carries"
            )
    kid = header.get("kid")
    if isinstance(kid, str) and re.search(r"\.\.|[/\\'\";]", kid):
        yield f"kid {kid!r} contains path or quote characters (kid injection attempt?)"


def _claim_warnings(claims: Mapping[str, Any], now: float) -> Iterator[str]:
    exp, iat, nbf = (_number(claims.get(c)) for c in ("exp", "iat", "nbf"))
    if "exp" not in claims:
        yield "no 'exp': the token never expires"
    elif exp is None:
        yield "'exp' is not a number: verifiers must reject this token"
    else:
        if exp <= now:
            yield f"expired {format_duration(now - exp)} ago"
        start = iat if iat is not None else nbf
        if start is not None and exp - start > DAY:
            yield (
                f"lifetime is {format_duration(exp - start)} (longer than a day): a leaked token "
                "stays usable that long"
            )
        elif start is None and exp - now > DAY:
            yield f"expires in {format_duration(exp - now)} (more than a day from now)"
    if nbf is not None and nbf > now:
        yield f"not valid yet: becomes valid in {format_duration(nbf - now)}"
    if iat is not None and iat > now:
        yield f"issued in the future ({format_duration(iat - now)} from now): clock skew?"
    if "aud" not in claims:
        yield "no 'aud': any service that trusts the issuer would accept this token"


def analyze(header: Mapping[str, Any], claims: Mapping[str, Any], now: float) -> Report:
    """Return the report for an unverified token as of ``now`` (seconds since the epoch)."""
    warnings = [*_header_warnings(header), *_claim_warnings(claims, now), *_sensitive(claims)]
    return Report(dict(header), dict(claims), list(_times(claims, now)), warnings)
