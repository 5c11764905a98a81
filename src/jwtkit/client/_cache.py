"""The JWKS cache policy shared by the sync and async clients (private).

All decisions (serve, fetch, serve stale, fail) live here as plain functions of the cached
state and ``now``, so both clients behave identically and tests drive them with a fake clock.
The state is one immutable snapshot replaced whole, so a reader without the lock never sees
new keys with an old expiry or the reverse.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

from jwtkit import KeySet
from jwtkit.errors import JWKSFetchError

__all__ = ["CachePolicy", "CacheState", "FetchResult"]

logger = logging.getLogger("jwtkit.client")


@dataclass(frozen=True)
class FetchResult:
    """What one successful round trip produced (after 304 Not Modified: the cached keys)."""

    keyset: KeySet
    max_age: float | None
    etag: str | None


@dataclass(frozen=True)
class CacheState:
    """A snapshot of the cache: the keys, until when they are fresh and usable, last attempt."""

    keyset: KeySet | None = None
    fresh_until: float = -math.inf
    stale_until: float = -math.inf
    last_attempt: float = -math.inf
    last_error: JWKSFetchError | None = None
    etag: str | None = None


@dataclass(frozen=True)
class CachePolicy:
    """The time bounds of the cache, in seconds, validated once at construction."""

    cache_ttl: float
    min_refetch_interval: float
    stale_ttl: float
    max_cache_ttl: float

    def __post_init__(self) -> None:
        for name in ("cache_ttl", "min_refetch_interval", "stale_ttl", "max_cache_ttl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number of seconds")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0")

    def lifetime(self, max_age: float | None) -> float:
        """Return how long fetched keys stay fresh: max-age if given, bounded to sane limits.

        The lower bound is the refetch cooldown, so an issuer sending ``max-age=0`` cannot turn
        every verification into a fetch; the upper bound keeps a huge max-age from pinning keys.
        """
        ttl = self.cache_ttl if max_age is None else min(max_age, self.max_cache_ttl)
        return max(ttl, self.min_refetch_interval)

    def lookup(self, state: CacheState, kid: str | None, now: float) -> KeySet | None:
        """Return the keys to use now, or None when the caller should fetch.

        Fresh keys that know ``kid`` (or any fresh keys when ``kid`` is None) are served. An
        unknown ``kid`` triggers a fetch only once the cooldown since the last attempt has
        passed, so random kids cannot flood the issuer; meanwhile the fresh keys are served and
        the verifier reports the missing key.

        Raises:
            JWKSFetchError: no usable keys and the cooldown after a failed fetch is running.
        """
        keyset = state.keyset
        cooled = now - state.last_attempt >= self.min_refetch_interval
        if keyset is not None and now < state.fresh_until:
            if kid is None or kid in keyset or not cooled:
                return keyset
            return None
        if cooled:
            return None
        return self._stale_or_raise(state, now, just_failed=False)

    def succeeded(
        self, state: CacheState, result: FetchResult, now: float
    ) -> tuple[CacheState, KeySet]:
        """Record a successful fetch; return the new state and the keys to use.

        The KeySet object stays the same when the fetched keys equal the cached ones.
        """
        keyset = result.keyset
        if (
            state.keyset is not None
            and keyset is not state.keyset
            and keyset.to_jwks() == state.keyset.to_jwks()
        ):
            # The Verifier caches prepared keys by KeySet identity; keep the identity stable.
            keyset = state.keyset
        fresh_until = now + self.lifetime(result.max_age)
        new_state = CacheState(
            keyset=keyset,
            fresh_until=fresh_until,
            stale_until=fresh_until + self.stale_ttl,
            last_attempt=now,
            last_error=None,
            etag=result.etag,
        )
        return new_state, keyset

    def failed(self, state: CacheState, error: JWKSFetchError, now: float) -> CacheState:
        """Return the state after a failed fetch: same keys, attempt time and error recorded."""
        return replace(state, last_attempt=now, last_error=error)

    def after_failure(self, state: CacheState, now: float) -> KeySet:
        """Return the keys to use right after a failed fetch, or raise the fetch error."""
        if state.keyset is not None and now < state.fresh_until:
            # An unknown-kid refetch failed while the cached keys are still fresh.
            logger.warning("JWKS refresh failed (%s); keeping the current keys", state.last_error)
            return state.keyset
        return self._stale_or_raise(state, now, just_failed=True)

    @staticmethod
    def _stale_or_raise(state: CacheState, now: float, *, just_failed: bool) -> KeySet:
        """Serve expired keys within stale_ttl, or raise; the cache is not fresh here."""
        keyset, error = state.keyset, state.last_error
        if keyset is not None and now < state.stale_until:
            if just_failed:
                # Logged once per failed attempt (at most once per cooldown), not per token.
                logger.warning(
                    "JWKS refresh failed (%s); serving the last good keys for up to %.0f s more",
                    error,
                    state.stale_until - now,
                )
            return keyset
        if keyset is not None:
            raise JWKSFetchError(
                "the JWKS could not be refreshed and the last good keys are past stale_ttl"
            ) from error
        if error is not None and just_failed:
            raise error
        raise JWKSFetchError(
            "the JWKS is unavailable; the next fetch waits for min_refetch_interval"
        ) from error
