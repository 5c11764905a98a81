"""PyJWT's ``JWKSetCache`` (``jwt.jwk_set_cache``), kept in jwtkit's JWKS cache state.

The cached ``PyJWKSet`` is kept beside a ``jwtkit._jwks.JWKSCache``, the I/O-free JWKS core of
jwtkit's own clients, which decides: keys are fresh for ``lifespan`` seconds, an unknown ``kid``
may trigger a refetch only after the cooldown, nothing stale is served.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from jwtkit._jwks import CachePolicy, CacheState, JWKSCache, keyset_from_document
from jwtkit.compat.pyjwt.api_jwk import PyJWKSet, PyJWTSetWithTimestamp
from jwtkit.compat.pyjwt.exceptions import PyJWKSetError
from jwtkit.errors import JWKSFetchError
from jwtkit.jwk import KeySet

__all__ = ["JWKSetCache", "jwtkit_keyset"]

# PyJWT's lifespan of -1 means "never expires"; the policy wants a finite bound.
_FOREVER = 1e15


def jwtkit_keyset(jwk_set: PyJWKSet) -> KeySet:
    """The verification keys jwtkit's JWKS rules accept from ``jwk_set`` (made once).

    Symmetric keys, keys for encryption or without ``verify`` in ``key_ops`` are left out and
    private members are stripped, as for any fetched JWKS (see ``jwtkit.client``).
    """
    keyset: KeySet | None = getattr(jwk_set, "_jwtkit_keyset", None)
    if keyset is None:
        document = {"keys": [key._jwk_data for key in jwk_set.keys]}
        try:
            keyset = keyset_from_document(document)
        except JWKSFetchError:
            keyset = KeySet([])
        jwk_set._jwtkit_keyset = keyset  # type: ignore[attr-defined]
    return keyset


class JWKSetCache:
    """One cached ``PyJWKSet`` and how long it stays fresh."""

    def __init__(self, lifespan: float, *, cooldown: float = 0.0) -> None:
        """Keep a set for ``lifespan`` seconds (``-1``: forever); ``cooldown`` bounds how
        often an unknown ``kid`` may cause a refetch (used by ``PyJWKClient``)."""
        self.lifespan = lifespan
        ttl = _FOREVER if lifespan <= -1 else max(float(lifespan), 0.0)
        policy = CachePolicy(
            cache_ttl=ttl,
            min_refetch_interval=min(max(float(cooldown), 0.0), ttl),
            stale_ttl=0.0,
            max_cache_ttl=ttl,
        )
        self._cache = JWKSCache(policy)
        self.jwk_set_with_timestamp: PyJWTSetWithTimestamp | None = None

    def put(self, jwk_set: PyJWKSet | dict[str, Any] | None) -> None:
        """Cache ``jwk_set`` (parsed if it is a JWKS dict), or clear the cache with ``None``.

        Raises:
            PyJWKSetError: neither a ``PyJWKSet`` nor a JWKS dict with usable keys.
        """
        if jwk_set is None:
            self.jwk_set_with_timestamp, self._cache.state = None, CacheState()
            return
        if not isinstance(jwk_set, PyJWKSet):
            if not isinstance(jwk_set, dict):
                raise PyJWKSetError("Invalid JWK Set value")
            jwk_set = PyJWKSet.from_dict(jwk_set)
        self._cache.store(jwtkit_keyset(jwk_set), time.monotonic())
        self.jwk_set_with_timestamp = PyJWTSetWithTimestamp(jwk_set)

    def failed(self, reason: str) -> None:
        """Record a failed fetch: the cached set stays, and the cooldown starts again, so an
        unreachable issuer is not asked again for every unknown ``kid``."""
        self._cache.record_failure(JWKSFetchError(reason), time.monotonic())

    def get(self) -> PyJWKSet | None:
        """The cached set while it is fresh, else ``None``."""
        if self.jwk_set_with_timestamp is None or self.is_expired():
            return None
        return self.jwk_set_with_timestamp.get_jwk_set()

    def is_expired(self) -> bool:
        """Whether a set is cached but no longer fresh."""
        if self.jwk_set_with_timestamp is None:
            return False
        try:
            fresh = self._cache.lookup(None, time.monotonic())
        except JWKSFetchError:
            fresh = None
        return fresh is None

    def may_refetch(self, kid: str | None) -> bool:
        """Whether the policy allows a fetch now for a token naming ``kid``."""
        try:
            return self._cache.lookup(kid, time.monotonic()) is None
        except JWKSFetchError:
            return False

    @property
    def last_fetch(self) -> float | None:
        """When the set was last fetched (``time.monotonic``), or ``None``."""
        attempt = self._cache.state.last_attempt
        return None if attempt == -float("inf") else attempt

    @last_fetch.setter
    def last_fetch(self, value: float | None) -> None:
        attempt = -float("inf") if value is None else float(value)
        self._cache.state = replace(self._cache.state, last_attempt=attempt)
