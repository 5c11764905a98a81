"""JSON Web Tokens: ``encode``/``decode``, ``Signer``/``Verifier`` and claims checks.

Registered claims are validated as RFC 7519 §4.1 and RFC 8725 advise: ``exp`` is required by
default, numeric dates must be real numbers, ``iss``/``aud``/``sub`` are compared exactly, and a
token that names an audience is rejected when the caller expects none (RFC 7519 §4.1.3). Time is
a parameter (``now``) at every public entry point; nothing below reads the clock.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from jwtkit._b64 import b64encode
from jwtkit._compact import decode_unverified
from jwtkit._json import DEFAULT_MAX_DEPTH, dumps, loads_object
from jwtkit.errors import (
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
)
from jwtkit.jwa import Algorithm
from jwtkit.jwk import Key, KeySet, _short
from jwtkit.jws import (
    DEFAULT_MAX_TOKEN_SIZE,
    KeySource,
    _allowed_algorithms,
    _header_segment,
    _normalize_typ,
    _Resolver,
    _signing_alg,
    _verify,
)

__all__ = [
    "KeySource",
    "Signer",
    "SigningKeySource",
    "Verifier",
    "decode",
    "decode_unverified",
    "encode",
]

Time = int | float | datetime
Seconds = int | float | timedelta
_NUMERIC_DATES = ("exp", "nbf", "iat")
_DEFAULT_REQUIRE = ("exp",)


class SigningKeySource(Protocol):
    """Anything that can hand a ``Signer`` the key to sign with now (cheaply, from a cache)."""

    def signing_key(self) -> Key:
        """Return the key that signs now."""
        ...


def _timestamp(value: Time) -> float:
    """Seconds since the epoch as a float; naive datetimes are taken as UTC."""
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


def _seconds(value: Seconds, name: str) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"{name} must be a non-negative number of seconds or a timedelta")
    return float(seconds)


def _numeric_dates(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Copy ``claims``, turning ``datetime`` values of exp/nbf/iat into NumericDate integers."""
    out = dict(claims)
    for name in _NUMERIC_DATES:
        value = out.get(name)
        if isinstance(value, datetime):
            out[name] = int(_timestamp(value))
    return out


def _names(value: str | Collection[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    if type(value) is str:
        return frozenset((value,))
    names = frozenset(value)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(f"{what} must be a string or a non-empty collection of strings")
    return names


def encode(
    claims: Mapping[str, Any],
    key: Key,
    *,
    alg: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` as a compact JWT; ``alg`` defaults to the key's.

    The header carries ``kid`` when the key has one and ``typ: "JWT"`` unless ``headers``
    overrides it. ``datetime`` values of ``exp``, ``nbf`` and ``iat`` become NumericDates;
    claims are serialized compactly with sorted names, so equal claims give equal tokens.

    Raises:
        UnsupportedAlgorithmError, InvalidKeyError: the key cannot sign with ``alg``.
        TypeError, ValueError: the claims are not JSON-serializable.

    Example::

        token = encode({"sub": "alice", "exp": now + 900}, key)
    """
    if not isinstance(key, Key):
        raise TypeError(f"key must be a Key, not {type(key).__name__}")
    algorithm = _signing_alg(key, alg)
    sign = key._signer(algorithm)
    if headers is None:
        header_segment = _default_header(key, algorithm)
    else:
        header_segment = _header_segment(key, algorithm, headers)
    signing_input = header_segment + b"." + b64encode(dumps(_numeric_dates(claims)))
    return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")


def _default_header(key: Key, algorithm: Algorithm) -> bytes:
    """The default header segment, cached on the key (keys are immutable)."""
    segment = key._headers.get(algorithm.name)
    if segment is None:
        segment = key._headers[algorithm.name] = _header_segment(key, algorithm, None)
    return segment


class Verifier:
    """Verify tokens against fixed rules, with all configuration parsed once (for hot paths).

    ``keys`` is a ``Key``, a ``KeySet`` or any ``KeySource`` (a key manager or a JWKS client)
    that is asked for the current keys on each token. ``algorithms`` is required: it is the
    allow-list that stops algorithm substitution. ``issuer`` and ``audience`` may each be one
    string or several. ``require`` names claims that must be present (``exp`` by default).

    ``cache_size`` (off by default) keeps up to that many verified tokens, keyed by the whole
    token string, for resource servers that see the same token many times. A hit re-checks
    ``exp``/``nbf``/``iat``/``max_age`` against ``now`` and stands only while the key set it
    was verified with is still in force (any rotation, revocation or JWKS refresh drops it).
    The trade-off: memory for up to ``cache_size`` tokens and their claims, and a revoked
    *token* (as opposed to key) stays accepted from the cache until it expires, exactly as it
    would be by an uncached verifier without an online revocation check.

    Example::

        verifier = Verifier(keys, algorithms=["ES256"], issuer="https://id.example",
                            audience="api")
        claims = verifier.verify(token)
    """

    __slots__ = (
        "_allowed",
        "_audience",
        "_cache",
        "_cache_size",
        "_issuer",
        "_leeway",
        "_max_age",
        "_max_depth",
        "_max_size",
        "_require",
        "_resolver",
        "_subject",
        "_typ",
    )

    def __init__(
        self,
        keys: Key | KeySet | KeySource,
        *,
        algorithms: Collection[str],
        issuer: str | Collection[str] | None = None,
        audience: str | Collection[str] | None = None,
        subject: str | None = None,
        leeway: Seconds = 0,
        require: Collection[str] = _DEFAULT_REQUIRE,
        max_age: Seconds | None = None,
        typ: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        cache_size: int = 0,
    ) -> None:
        self._resolver = _Resolver(keys)
        self._allowed = _allowed_algorithms(algorithms)
        self._issuer = _names(issuer, "issuer")
        self._audience = _names(audience, "audience")
        if subject is not None and not isinstance(subject, str):
            raise TypeError("subject must be a string")
        self._subject = subject
        self._leeway = _seconds(leeway, "leeway")
        self._max_age = None if max_age is None else _seconds(max_age, "max_age")
        if require is not _DEFAULT_REQUIRE or self._max_age is not None:
            required = set(require)
            if not all(isinstance(name, str) for name in required):
                raise TypeError("require must be a collection of claim names")
            if self._max_age is not None:
                required.add("iat")
            require = tuple(sorted(required))
        self._require = tuple(require)
        self._typ = None if typ is None else _normalize_typ(typ)
        self._max_size, self._max_depth = max_token_size, max_depth
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError("cache_size must be a non-negative integer")
        self._cache_size = cache_size
        self._cache: dict[str, tuple[dict[str, Any], dict[str, Any], KeySet]] | None = (
            {} if cache_size else None
        )

    def verify(self, token: str, *, now: Time | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
        """
        _, claims, shared = self._run(token, now)
        return dict(claims) if shared else claims

    def verify_complete(
        self, token: str, *, now: Time | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Verify ``token`` and return its header and claims.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
        """
        header, claims, shared = self._run(token, now)
        return (dict(header), dict(claims)) if shared else (header, claims)

    def _run(self, token: str, now: Time | None) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """Verify; the flag says the dicts are shared with the cache (the caller copies)."""
        timestamp = time.time() if now is None else _timestamp(now)
        cache = self._cache
        if cache is not None:
            entry = cache.get(token)
            if entry is not None:
                header, claims, keyset = entry
                # A hit stands only while the key set it was verified against is still the
                # one in force: a rotation, revocation or JWKS refresh drops it.
                if self._resolver.keyset(header.get("kid")) is keyset:
                    self._check_times(claims, timestamp)
                    return header, claims, True
                cache.pop(token, None)
        header, payload, keyset = _verify(
            token,
            self._resolver,
            self._allowed,
            typ=self._typ,
            max_size=self._max_size,
            max_depth=self._max_depth,
        )
        try:
            claims = loads_object(payload, max_depth=self._max_depth)
        except ValueError as exc:
            raise MalformedTokenError(f"claims: {exc}") from None
        self._check_claims(claims, timestamp)
        if cache is None:
            return header, claims, False
        if len(cache) >= self._cache_size:
            cache.pop(next(iter(cache)), None)  # evict the oldest entry
        cache[token] = (header, claims, keyset)
        return header, claims, True

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        for name in self._require:
            if name not in claims:
                raise MissingClaimError(f"required claim {name!r} is missing", claim=name)
        self._check_times(claims, now)
        if self._issuer is not None:
            _check_issuer(claims, self._issuer)
        _check_audience(claims, self._audience)
        if self._subject is not None:
            if "sub" not in claims:
                raise MissingClaimError("required claim 'sub' is missing", claim="sub")
            if claims["sub"] != self._subject:
                raise InvalidClaimError("subject does not match", claim="sub")

    def _check_times(self, claims: dict[str, Any], now: float) -> None:
        """The checks that depend on the clock (re-run on every verified-token cache hit).

        ``now`` is a float, so each difference converts the claim to a float, and an integer
        claim too large for one raises OverflowError: that is an invalid claim (issue 19, F9).
        The try costs nothing on the path where no claim overflows.
        """
        leeway = self._leeway
        try:
            if "exp" in claims and now - _number(claims, "exp") >= leeway:
                raise ExpiredTokenError("token has expired", claim="exp")
            if "nbf" in claims and _number(claims, "nbf") - now > leeway:
                raise NotYetValidError("token is not valid yet (nbf)", claim="nbf")
            if "iat" in claims:
                age = now - _number(claims, "iat")
                if -age > leeway:
                    raise NotYetValidError("token was issued in the future (iat)", claim="iat")
                if self._max_age is not None and age > self._max_age + leeway:
                    raise ExpiredTokenError("token is older than max_age", claim="iat")
        except OverflowError:
            name = next(name for name in _NUMERIC_DATES if _overflows(claims.get(name)))
            raise InvalidClaimError(
                f"claim {name!r} is out of range for a time", claim=name
            ) from None


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
        shown = _short(iss) if type(iss) is str else type(iss).__name__
        raise InvalidIssuerError(f"issuer {shown!r} is not trusted", claim="iss")


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
        shown = ", ".join(repr(_short(item)) for item in audiences[:5])
        raise InvalidAudienceError(f"wrong audience {shown}", claim="aud")


def decode(
    token: str,
    key: Key | KeySet | KeySource,
    *,
    algorithms: Collection[str],
    issuer: str | Collection[str] | None = None,
    audience: str | Collection[str] | None = None,
    subject: str | None = None,
    leeway: Seconds = 0,
    require: Collection[str] = _DEFAULT_REQUIRE,
    max_age: Seconds | None = None,
    typ: str | None = None,
    now: Time | None = None,
) -> dict[str, Any]:
    """Verify ``token`` and return its claims; the same checks as ``Verifier.verify``.

    With a ``KeySet``, the key is chosen by ``kid``; with no ``kid``, each key that fits the
    algorithm is tried. ``algorithms`` has no default on purpose.

    Raises:
        InvalidTokenError: a subclass saying why the token is rejected.

    Example::

        claims = decode(token, key, algorithms=["ES256"], audience="api")
    """
    verifier = Verifier(
        key,
        algorithms=algorithms,
        issuer=issuer,
        audience=audience,
        subject=subject,
        leeway=leeway,
        require=require,
        max_age=max_age,
        typ=typ,
    )
    return verifier.verify(token, now=now)


class Signer:
    """Sign tokens with fixed defaults: ``iat``, ``exp`` (iat + lifetime), a random 128-bit
    ``jti``, and ``iss``/``aud`` when set; claims passed to ``sign`` win over defaults.

    ``key`` is a ``Key`` or a ``SigningKeySource`` (a key manager that rotates keys).

    Example::

        signer = Signer(key, issuer="https://id.example", audience="api", lifetime=900)
        token = signer.sign({"sub": "alice"})
    """

    __slots__ = (
        "_alg",
        "_audience",
        "_headers",
        "_issuer",
        "_jti",
        "_lifetime",
        "_not_before",
        "_prepared",
        "_source",
    )

    def __init__(
        self,
        key: Key | SigningKeySource,
        *,
        issuer: str | None = None,
        audience: str | Collection[str] | None = None,
        lifetime: Seconds = 900,
        not_before: bool = False,
        jti: bool = True,
        typ: str | None = "JWT",
        headers: Mapping[str, Any] | None = None,
        alg: str | None = None,
    ) -> None:
        if not isinstance(key, Key) and not callable(getattr(key, "signing_key", None)):
            raise TypeError(f"expected a Key or SigningKeySource, not {type(key).__name__}")
        self._source = key
        self._issuer = issuer
        self._audience = (
            audience if audience is None or isinstance(audience, str) else list(audience)
        )
        self._lifetime = int(_seconds(lifetime, "lifetime"))
        self._not_before, self._jti, self._alg = not_before, jti, alg
        self._headers = {**(headers or {}), "typ": typ}
        self._prepared: tuple[Key, bytes, Any] | None = None
        if isinstance(key, Key):
            self._prepare(key)

    @property
    def key(self) -> Key:
        """The key that signs now."""
        source = self._source
        return source if isinstance(source, Key) else source.signing_key()

    def _prepare(self, key: Key) -> tuple[Key, bytes, Any]:
        algorithm = _signing_alg(key, self._alg)
        sign = key._signer(algorithm)
        prefix = _header_segment(key, algorithm, self._headers) + b"."
        self._prepared = (key, prefix, sign)
        return self._prepared

    def sign(self, claims: Mapping[str, Any] | None = None, *, now: Time | None = None) -> str:
        """Return a signed token carrying the defaults and ``claims``.

        Raises:
            TypeError, ValueError: the claims are not JSON-serializable.
        """
        key = self.key
        prepared = self._prepared
        if prepared is None or prepared[0] is not key:
            prepared = self._prepare(key)
        _, prefix, sign = prepared
        iat = int(time.time() if now is None else _timestamp(now))
        payload: dict[str, Any] = {"iat": iat, "exp": iat + self._lifetime}
        if self._not_before:
            payload["nbf"] = iat
        if self._jti:
            payload["jti"] = b64encode(os.urandom(16)).decode("ascii")
        if self._issuer is not None:
            payload["iss"] = self._issuer
        if self._audience is not None:
            payload["aud"] = self._audience
        if claims:
            payload.update(_numeric_dates(claims))
        signing_input = prefix + b64encode(dumps(payload))
        return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")
