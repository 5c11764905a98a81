"""JSON Web Tokens: ``encode``/``decode``, ``Signer``/``Verifier`` (RFC 7519, RFC 8725).

A thin public face. A token is verified by the pipeline in ``jwtkit._pipeline`` (split, header
rules, key, signature) and then the claims rules in ``jwtkit._claims`` (required claims, times,
issuer and subject, audience), under the options held by one ``VerifyRules``
(``jwtkit._rules``): read those two files top to bottom for the whole path from a token
string to its claims. Time is a parameter (``now``) at every public entry point; nothing
below reads the clock.

Slightly over 400 lines: four public entry points whose signatures and docstrings are the API
(each lists the verify options, which only ``VerifyRules`` checks); the logic is elsewhere.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from jwtkit._b64 import b64encode
from jwtkit._claims import check as check_claims
from jwtkit._claims import check_times, numeric_dates, timestamp
from jwtkit._json import DEFAULT_MAX_DEPTH, dumps, loads_object
from jwtkit._pipeline import (
    CheckedHeader,
    KeySource,
    Resolver,
    checked_header,
    decode_unverified,
    remember,
    split,
    verify,
)
from jwtkit._rules import (
    DEFAULT_MAX_TOKEN_SIZE,
    DEFAULT_REQUIRE,
    Names,
    Seconds,
    Time,
    VerifyRules,
    seconds,
)
from jwtkit._signing import default_header, header_segment, signing_algorithm
from jwtkit.errors import MalformedTokenError
from jwtkit.jwk import Key, KeySet

__all__ = [
    "KeySource",
    "Signer",
    "SigningKeySource",
    "Verifier",
    "VerifyRules",
    "decode",
    "decode_unverified",
    "encode",
]


class SigningKeySource(Protocol):
    """Anything that can hand a ``Signer`` the key to sign with now (cheaply, from a cache)."""

    def signing_key(self) -> Key:
        """Return the key that signs now."""
        ...


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
    algorithm = signing_algorithm(key, alg)
    sign = key._signer(algorithm)
    if headers is None:
        segment = default_header(key, algorithm)
    else:
        segment = header_segment(key, algorithm, headers)
    signing_input = segment + b"." + b64encode(dumps(numeric_dates(claims)))
    return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")


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

    Tokens from one issuer share their header segment, so every verifier keeps the last few
    headers (16, each under 1 KiB) that passed its header rules, keyed by the exact segment
    text (issue 18). A token whose header is found there skips decoding and re-checking it;
    everything else (the key chosen by ``kid``, the signature, every claim) runs for every
    token. A header that fails is never kept, so it is refused every time. Headers are public
    token data: no secret is kept.

    Example::

        verifier = Verifier(keys, algorithms=["ES256"], issuer="https://id.example",
                            audience="api")
        claims = verifier.verify(token)
    """

    __slots__ = ("_bound", "_cache", "_cache_size", "_headers", "_resolver", "_rules")

    _cache: dict[str, tuple[dict[str, Any], dict[str, Any], KeySet]] | None
    _headers: dict[bytes, CheckedHeader] | None
    _bound: tuple[KeySet, Resolver] | None  # the key set last given to verify_with

    def __init__(
        self,
        keys: Key | KeySet | KeySource,
        *,
        algorithms: Collection[str],
        issuer: Names | None = None,
        audience: Names | None = None,
        subject: str | None = None,
        leeway: Seconds = 0,
        require: Collection[str] = DEFAULT_REQUIRE,
        max_age: Seconds | None = None,
        typ: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
        cache_size: int = 0,
    ) -> None:
        rules = VerifyRules(
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            subject=subject,
            leeway=leeway,
            require=require,
            max_age=max_age,
            typ=typ,
            max_token_size=max_token_size,
            max_depth=max_depth,
        )
        self._setup(keys, rules, cache_size)

    @classmethod
    def from_rules(
        cls, keys: Key | KeySet | KeySource, rules: VerifyRules, *, cache_size: int = 0
    ) -> Verifier:
        """A verifier for ``keys`` under ``rules`` made once (``decode``, ``KeyManager.verifier``
        and ``AsyncVerifier`` share their options this way).

        Raises:
            TypeError, ValueError: ``keys`` or ``cache_size`` are malformed.
        """
        self = object.__new__(cls)
        self._setup(keys, rules, cache_size)
        return self

    def _setup(
        self,
        keys: Key | KeySet | KeySource,
        rules: VerifyRules,
        cache_size: int,
        header_cache: bool = True,
    ) -> None:
        if type(cache_size) is not int or cache_size < 0:
            raise ValueError("cache_size must be a non-negative integer")
        self._resolver = Resolver(keys)
        self._rules = rules
        self._cache_size = cache_size
        self._cache = {} if cache_size else None
        self._headers = {} if header_cache else None
        self._bound = None

    @property
    def rules(self) -> VerifyRules:
        """The rules every token is checked against."""
        return self._rules

    def verify(self, token: str, *, now: Time | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
        """
        _, claims, shared = self._run(token, now, self._resolver)
        return dict(claims) if shared else claims

    def verify_complete(
        self, token: str, *, now: Time | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Verify ``token`` and return its header and claims.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
        """
        header, claims, shared = self._run(token, now, self._resolver)
        return dict(header), dict(claims) if shared else claims

    def read_kid(self, token: str) -> str | None:
        """Return the ``kid`` of ``token``'s header once the header has passed every header
        rule of this verifier (size, encoding, ``crit``, ``typ``, ``alg`` allowed), so that an
        async caller can fetch the keys for it before ``verify_with``. Nothing is verified: the
        ``kid`` only chooses keys. The checked header is kept (see the header cache in the
        class docstring), so ``verify_with`` does not decode it again.

        Raises:
            InvalidTokenError: the header fails a rule.
        """
        rules = self._rules
        segment = split(token, rules.max_token_size)[1]
        headers = self._headers
        checked = headers.get(segment) if headers is not None else None
        if checked is None:
            checked = checked_header(segment, rules.allowed, rules.typ, rules.max_depth, headers)
        kid: str | None = checked[2]
        return kid

    def verify_with(self, keyset: KeySet, token: str, *, now: Time | None = None) -> dict[str, Any]:
        """Verify ``token`` with the keys of ``keyset`` instead of this verifier's own, and
        return its claims. Does no I/O: an async caller awaits its key source for the set,
        then calls this (``jwtkit.client.AsyncVerifier`` does).

        Every check of ``verify`` runs, and the prepared keys of ``keyset`` are kept, so
        calling this with the same set again costs no more than ``verify``.

        Raises:
            InvalidTokenError: a subclass saying why the token is rejected.
        """
        bound = self._bound
        if bound is None or bound[0] is not keyset:
            if not isinstance(keyset, KeySet):
                raise TypeError(f"keyset must be a KeySet, not {type(keyset).__name__}")
            bound = self._bound = (keyset, Resolver(keyset))
        _, claims, shared = self._run(token, now, bound[1])
        return dict(claims) if shared else claims

    def _run(
        self, token: str, now: Time | None, resolver: Resolver
    ) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """Verify; the flag says the claims are shared with the cache (the caller copies)."""
        when = time.time() if now is None else timestamp(now)
        rules = self._rules
        cache = self._cache
        if cache is not None:
            entry = cache.get(token)
            if entry is not None:
                header, claims, keyset = entry
                # A hit stands only while the key set it was verified against is still the
                # one in force: a rotation, revocation or JWKS refresh drops it.
                if resolver.keyset(header.get("kid")) is keyset:
                    check_times(claims, rules, when)
                    return header, claims, True
                cache.pop(token, None)
        header, payload, keyset = verify(
            token,
            resolver,
            rules.allowed,
            rules.typ,
            rules.max_token_size,
            rules.max_depth,
            self._headers,
        )
        try:
            claims = loads_object(payload, max_depth=rules.max_depth)
        except ValueError as exc:
            raise MalformedTokenError(f"claims: {exc}") from None
        check_claims(claims, rules, when)
        if cache is None:
            return header, claims, False
        remember(cache, token, (header, claims, keyset), self._cache_size)
        return header, claims, True


def decode(
    token: str,
    key: Key | KeySet | KeySource,
    *,
    algorithms: Collection[str],
    issuer: Names | None = None,
    audience: Names | None = None,
    subject: str | None = None,
    leeway: Seconds = 0,
    require: Collection[str] = DEFAULT_REQUIRE,
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
    rules = VerifyRules(
        algorithms=algorithms,
        issuer=issuer,
        audience=audience,
        subject=subject,
        leeway=leeway,
        require=require,
        max_age=max_age,
        typ=typ,
    )
    # A verifier for one token: a header cache could never be hit, so it has none.
    verifier = object.__new__(Verifier)
    verifier._setup(key, rules, 0, header_cache=False)
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
        self._lifetime = int(seconds(lifetime, "lifetime"))
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
        algorithm = signing_algorithm(key, self._alg)
        sign = key._signer(algorithm)
        prefix = header_segment(key, algorithm, self._headers) + b"."
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
        iat = int(time.time() if now is None else timestamp(now))
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
            payload.update(numeric_dates(claims))
        signing_input = prefix + b64encode(dumps(payload))
        return (signing_input + b"." + b64encode(sign(signing_input))).decode("ascii")
