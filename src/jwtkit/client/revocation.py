"""Revocation checks for ``BearerAuthMiddleware`` and ``RequireToken`` (``is_revoked``).

A JWT stays valid until ``exp`` by design; an online check is how a resource server honours an
early revocation. ``IntrospectionRevocationCheck`` asks the issuer's RFC 7662 endpoint and
caches the answer briefly, so each token costs at most one round trip per ``cache_ttl``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from jwtkit.client._urls import check_url
from jwtkit.errors import JWKSFetchError

__all__ = ["IntrospectionRevocationCheck"]

_MAX_RESPONSE_BYTES = 64 * 1024


class IntrospectionRevocationCheck:
    """``is_revoked`` hook that treats RFC 7662 ``"active": false`` as revoked.

    POSTs ``token=<jwt>&token_type_hint=access_token`` to ``url`` with HTTP Basic client
    authentication (RFC 6749 §2.3.1, id and secret form-encoded first). Answers (active or
    not) are cached for ``cache_ttl`` seconds by the token's SHA-256, at most ``max_entries``
    of them. The same https-only rule as the JWKS client applies.

    Example::

        check = IntrospectionRevocationCheck("https://auth.example.com/introspect",
                                             "resource-api", secret)
        app = BearerAuthMiddleware(app, verifier, is_revoked=check)

    Raises:
        (when called) JWKSFetchError if the endpoint is unreachable or answers anything but a
        200 JSON object with a boolean ``active``; the middleware then answers 503 (fail
        closed, never silently accepting a possibly revoked token).
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        cache_ttl: float = 30,
        max_entries: int = 10_000,
        timeout: float = 5,
        allow_http_loopback: bool = False,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = check_url(
            url, allow_http_loopback=allow_http_loopback, what="introspection URL"
        )
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must be non-empty")
        if cache_ttl < 0 or max_entries < 0 or not timeout > 0:
            raise ValueError("cache_ttl and max_entries must be >= 0 and timeout > 0")
        self._auth = httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))
        self._client_id = client_id
        self._cache_ttl = float(cache_ttl)
        self._max_entries = max_entries
        self._timeout = float(timeout)
        self._clock = clock
        self._cache: dict[bytes, tuple[bool, float]] = {}
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return (
            f"IntrospectionRevocationCheck(url={str(self._url)!r}, client_id={self._client_id!r})"
        )

    async def __call__(self, claims: Mapping[str, Any], token: str) -> bool:
        """Return True when the issuer says the token is no longer active.

        Raises:
            JWKSFetchError: the introspection endpoint is unavailable or answered nonsense.
        """
        digest = hashlib.sha256(token.encode()).digest()
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and now < cached[1]:
            return cached[0]
        revoked = not await self._introspect(token)
        self._remember(digest, revoked, now)
        return revoked

    def _remember(self, digest: bytes, revoked: bool, now: float) -> None:
        if self._max_entries == 0 or self._cache_ttl == 0:
            return
        if len(self._cache) >= self._max_entries:
            for stale in [key for key, (_, until) in self._cache.items() if until <= now]:
                del self._cache[stale]
        while len(self._cache) >= self._max_entries:
            # Dicts keep insertion order, so this drops the oldest answer first.
            del self._cache[next(iter(self._cache))]
        self._cache[digest] = (revoked, now + self._cache_ttl)

    async def _introspect(self, token: str) -> bool:
        try:
            async with self._http.stream(
                "POST",
                self._url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
                headers={"Accept": "application/json"},
                follow_redirects=False,
                timeout=self._timeout,
            ) as response:
                if response.status_code != 200:
                    raise JWKSFetchError(
                        f"the introspection endpoint answered HTTP {response.status_code}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > _MAX_RESPONSE_BYTES:
                        raise JWKSFetchError("the introspection response is too large")
        except httpx.HTTPError as exc:
            raise JWKSFetchError(f"token introspection failed ({type(exc).__name__})") from exc
        try:
            answer = json.loads(bytes(body))
        except (ValueError, RecursionError) as exc:
            raise JWKSFetchError("the introspection response is not valid JSON") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            raise JWKSFetchError('the introspection response lacks a boolean "active"')
        return bool(answer["active"])

    async def aclose(self) -> None:
        """Close the HTTP connection pool (only if this check created it)."""
        if self._owns_http:
            await self._http.aclose()
