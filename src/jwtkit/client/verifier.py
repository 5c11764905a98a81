"""``AsyncVerifier``: verify tokens with keys from an async key source, without blocking.

The core ``Verifier`` is synchronous and asks its ``KeySource`` for keys per token. An async
application must not block its event loop on a JWKS fetch, so ``AsyncVerifier`` reads and
checks the token's header (``Verifier.read_kid``), awaits the keys for its ``kid``
(``get_keyset_async``), then verifies with ``Verifier.verify_with(keyset, token)``, which
does no I/O. One core ``Verifier`` serves every key set: the header is decoded once (the
verifier keeps it), and prepared keys are kept per key set by the core.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, runtime_checkable

from jwtkit import KeySet, Verifier
from jwtkit._rules import DEFAULT_REQUIRE, Names, Seconds, Time
from jwtkit.jwt import VerifyRules

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

    Takes the same checks as ``jwtkit.Verifier`` (``algorithms`` is required), held in one
    ``VerifyRules``. The header rules run before any key is fetched, so a token with a
    forbidden ``alg`` (or ``crit``, or a wrong ``typ``) never makes the source refetch; the
    header's ``kid`` then picks the keys, and the core pipeline does everything else.

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
        algorithms: Collection[str],
        issuer: Names | None = None,
        audience: Names | None = None,
        subject: str | None = None,
        leeway: Seconds = 0,
        require: Collection[str] = DEFAULT_REQUIRE,
        max_age: Seconds | None = None,
        typ: str | None = None,
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
        )
        self._source = source
        # The key set given here is never used: every token is verified with the set the
        # source hands out for it (verify_with).
        self._verifier = Verifier.from_rules(KeySet([]), rules)

    @property
    def rules(self) -> VerifyRules:
        """The rules every token is checked against."""
        return self._verifier.rules

    async def verify_async(self, token: str, *, now: Time | None = None) -> Claims:
        """Check the header, fetch the keys for its ``kid`` (cached), then verify the token
        fully.

        Raises:
            InvalidTokenError: the token is malformed or fails any check.
            JWKSFetchError: no fresh or stale keys are available.
        """
        verifier = self._verifier
        keyset = await self._source.get_keyset_async(verifier.read_kid(token))
        return verifier.verify_with(keyset, token, now=now)
