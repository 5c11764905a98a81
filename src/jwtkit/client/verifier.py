"""``AsyncVerifier``: verify tokens with keys from an async key source, without blocking.

The core ``Verifier`` is synchronous and asks its ``KeySource`` for keys per token. An async
application must not block its event loop on a JWKS fetch, so ``AsyncVerifier`` first awaits
the keys (``get_keyset_async(kid)``), then verifies with a core ``Verifier`` bound to that
KeySet. The Verifier is rebuilt only when the KeySet object changes, which keeps the core's
per-KeySet prepared-key cache warm.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from jwtkit import KeySet, Verifier, decode_unverified

__all__ = ["AsyncKeySource", "AsyncTokenVerifier", "AsyncVerifier", "TokenVerifier"]

Claims = dict[str, Any]


@runtime_checkable
class AsyncKeySource(Protocol):
    """Anything that can hand out the current verification keys asynchronously."""

    async def get_keyset_async(self, kid: str | None) -> KeySet:
        """Return the keys to verify with now; may refresh (rate-limited) when kid is unknown."""
        ...


@runtime_checkable
class TokenVerifier(Protocol):
    """A synchronous verifier, such as the core ``jwtkit.Verifier``."""

    def verify(self, token: str) -> Claims:
        """Return the verified claims or raise ``InvalidTokenError``."""
        ...


@runtime_checkable
class AsyncTokenVerifier(Protocol):
    """An asynchronous verifier, such as ``AsyncVerifier``."""

    async def verify_async(self, token: str) -> Claims:
        """Return the verified claims or raise ``InvalidTokenError``."""
        ...


class AsyncVerifier:
    """Verify JWTs against an ``AsyncKeySource`` (typically ``AsyncJWKSClient``).

    Takes the same checks as ``jwtkit.Verifier`` (``algorithms`` is required). Only the
    header's ``kid`` is read before verification, to pick the keys; everything else is left
    to the core verification pipeline.

    Example::

        verifier = AsyncVerifier(AsyncJWKSClient(url), algorithms=["ES256"],
                                 issuer="https://auth.example.com", audience="api")
        claims = await verifier.verify_async(token)

    Raises:
        UnsupportedAlgorithmError, ValueError, TypeError: at construction, for bad options
            (the same checks as ``Verifier``).
    """

    def __init__(
        self,
        source: AsyncKeySource,
        *,
        algorithms: Iterable[str],
        issuer: str | Collection[str] | None = None,
        audience: str | Collection[str] | None = None,
        subject: str | None = None,
        leeway: float | timedelta = 0,
        require: Iterable[str] = ("exp",),
        max_age: float | timedelta | None = None,
        typ: str | None = None,
    ) -> None:
        if isinstance(algorithms, str):
            raise TypeError("algorithms must be a collection of algorithm names, not a string")
        self._source = source
        self._options: dict[str, Any] = {
            "algorithms": tuple(algorithms),
            "issuer": issuer,
            "audience": audience,
            "subject": subject,
            "leeway": leeway,
            "require": tuple(require),
            "max_age": max_age,
            "typ": typ,
        }
        # Build one Verifier now so a bad option (an unknown or forbidden algorithm, a wrong
        # type) fails at construction, not on the first request.
        empty = KeySet([])
        self._bound: tuple[KeySet, Verifier] = (empty, Verifier(empty, **self._options))

    def _verifier_for(self, keyset: KeySet) -> Verifier:
        bound = self._bound
        if bound[0] is keyset:
            return bound[1]
        verifier = Verifier(keyset, **self._options)
        self._bound = (keyset, verifier)
        return verifier

    async def verify_async(
        self, token: str, *, now: int | float | datetime | None = None
    ) -> Claims:
        """Fetch the keys for the token's ``kid`` (cached), then verify the token fully.

        Raises:
            InvalidTokenError: the token is malformed or fails any check.
            JWKSFetchError: no fresh or stale keys are available.
        """
        header, _ = decode_unverified(token)
        kid = header.get("kid")
        keyset = await self._source.get_keyset_async(kid if isinstance(kid, str) else None)
        claims: Claims = self._verifier_for(keyset).verify(token, now=now)
        return claims
