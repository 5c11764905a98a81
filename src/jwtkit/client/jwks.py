"""Fetch, cache and refresh a remote JWKS safely: ``JWKSClient`` and ``AsyncJWKSClient``.

Both follow jose's ``src/jwks/remote.ts``: the keys are cached for the response's
``Cache-Control: max-age`` (bounded), an unknown ``kid`` triggers a refetch only after a
cooldown, one fetch is in flight at a time, and one total deadline (``timeout``: connection,
headers, body and redirects together) and a size cap on the decoded body bound each fetch.
Beyond jose they keep serving the last good keys for ``stale_ttl`` seconds while the issuer is
unreachable or answers an error, refuse plain http (except opted-in loopback) and cross-origin
redirects, and strip private key material. ``JWKSClient`` is a ``KeySource``, so it plugs
into ``Verifier``; ``AsyncJWKSClient`` is used through ``AsyncVerifier``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Generic, Self, TypeVar

import httpx

from jwtkit import KeySet
from jwtkit._deadline import SocketDeadline
from jwtkit._jwks import CachePolicy, JWKSCache, Response
from jwtkit.client._body import CappedBody, check_max_bytes
from jwtkit.client._urls import check_url, redirect_target
from jwtkit.errors import JWKSFetchError

__all__ = ["AsyncJWKSClient", "JWKSClient"]

Clock = Callable[[], float]
_HTTP = TypeVar("_HTTP", httpx.Client, httpx.AsyncClient)

_MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024
_DEFAULT_STALE_TTL = 900.0
_DEFAULT_MAX_CACHE_TTL = 86400.0


class _BaseJWKSClient(Generic[_HTTP]):
    """Configuration and the httpx side of reading an answer, shared by both transports.

    Everything else (what to send, when to fetch, what an answer means) is the I/O-free
    ``jwtkit._jwks.JWKSCache``.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_ttl: float = 300,
        min_refetch_interval: float = 30,
        timeout: float = 5,
        max_response_bytes: int = _DEFAULT_MAX_RESPONSE_BYTES,
        stale_ttl: float = _DEFAULT_STALE_TTL,
        max_cache_ttl: float = _DEFAULT_MAX_CACHE_TTL,
        allow_http_loopback: bool = False,
        http_client: _HTTP | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._url = check_url(url, allow_http_loopback=allow_http_loopback, what="JWKS URL")
        policy = CachePolicy(
            cache_ttl=cache_ttl,
            min_refetch_interval=min_refetch_interval,
            stale_ttl=stale_ttl,
            max_cache_ttl=max_cache_ttl,
        )
        # Messages name the endpoint without its query string, which could carry a secret.
        self._cache = JWKSCache(policy, where=str(self._url.copy_with(query=None, fragment=None)))
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise TypeError("timeout must be a number of seconds")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError("timeout must be a finite number of seconds > 0")
        self._timeout = float(timeout)
        self._max_bytes = check_max_bytes(max_response_bytes)
        self._clock = clock
        self._owns_http = http_client is None
        self._setup(http_client)

    def _setup(self, http_client: _HTTP | None) -> None:
        """Keep ``http_client`` (or make one) and the fetch lock of this transport."""
        raise NotImplementedError  # pragma: no cover - each transport defines it

    @property
    def url(self) -> str:
        """The JWKS URL this client fetches."""
        return str(self._url)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={str(self._url)!r})"

    def _step(self, url: httpx.URL, response: httpx.Response) -> httpx.URL | CappedBody | None:
        """Decide what an answer's head asks for: a same-origin redirect to follow (the URL),
        a 200 body to read raw into a capped reader, or nothing to read (another status).

        Raises:
            JWKSFetchError: a refused redirect, or a 200 declaring a body over the cap.
        """
        if response.status_code in _REDIRECTS:
            return redirect_target(url, response.headers.get("location"))
        if response.status_code != 200:
            return None
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_bytes:
            raise JWKSFetchError("the JWKS response is larger than max_response_bytes")
        # Raw bytes only: httpx would inflate gzip a whole chunk at a time, past any cap.
        return CappedBody(
            response.headers.get("content-encoding"), self._max_bytes, what="JWKS response"
        )

    @staticmethod
    def _answer(response: httpx.Response, reader: CappedBody | None) -> Response:
        """The answer as the I/O-free core reads it."""
        return Response(
            status=response.status_code,
            body=b"" if reader is None else reader.finish(),
            cache_control=response.headers.get("cache-control"),
            etag=response.headers.get("etag"),
        )

    def _network_error(self, exc: Exception) -> JWKSFetchError:
        where = self._cache.where
        return JWKSFetchError(f"could not fetch the JWKS at {where} ({type(exc).__name__})")


class JWKSClient(_BaseJWKSClient[httpx.Client]):
    """Fetch and cache a remote JWKS; a ``KeySource`` usable wherever a ``Verifier`` takes keys.

    Example::

        jwks = JWKSClient("https://auth.example.com/.well-known/jwks.json")
        verifier = Verifier(jwks, algorithms=["ES256"], issuer="https://auth.example.com",
                            audience="api")
        claims = verifier.verify(token)

    ``clock`` (monotonic seconds) is injectable for tests; ``http_client`` lets the caller pass
    an ``httpx.Client`` with its own proxies or TLS settings (redirects are still handled here,
    and the caller closes it). See docs/client.md for every option.

    Raises:
        ValueError: at construction, for a non-https URL (http only to loopback with
            ``allow_http_loopback=True``) or a nonsensical bound.
    """

    def _setup(self, http_client: httpx.Client | None) -> None:
        self._http = http_client or httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._lock = threading.Lock()

    def get_keyset(self, kid: str | None = None) -> KeySet:
        """Return the keys to verify with now, fetching only when the cache policy allows.

        Cheap when cached: one snapshot read, no lock. Returns the same KeySet object until the
        issuer's keys change. A fetch holds a lock, so concurrent callers wait for it and then
        use its result instead of fetching again.

        Raises:
            JWKSFetchError: the keys cannot be fetched and no fresh or stale keys are cached.
        """
        keyset = self._cache.lookup(kid, self._clock())
        if keyset is not None:
            return keyset
        with self._lock:
            now = self._clock()
            keyset = self._cache.lookup(kid, now)
            if keyset is not None:
                return keyset
            try:
                answer = self._fetch()
            except JWKSFetchError as error:
                return self._cache.failed(error, now)
            return self._cache.received(answer, now)

    def _fetch(self) -> Response:
        url = self._url
        headers = {**self._cache.request_headers(), "Connection": "close"}
        # One total deadline: httpx's timeouts are per operation, so a server trickling one
        # header line per second never trips them (issue 12). It is network time, so it uses
        # the real monotonic clock, not the injected one.
        with SocketDeadline(self._timeout) as deadline:
            try:
                for _ in range(_MAX_REDIRECTS + 1):
                    with self._http.stream(
                        "GET",
                        url,
                        headers=headers,
                        follow_redirects=False,
                        timeout=deadline.remaining(),
                        extensions={"trace": deadline.trace},
                    ) as response:
                        step = self._step(url, response)
                        if isinstance(step, httpx.URL):
                            url = step
                            continue
                        if step is not None:
                            for chunk in response.iter_raw():
                                step.feed(chunk)
                                if deadline.expired:
                                    raise JWKSFetchError("fetching the JWKS timed out")
                        return self._answer(response, step)
            except httpx.HTTPError as exc:
                if deadline.expired:
                    raise JWKSFetchError("fetching the JWKS timed out") from exc
                raise self._network_error(exc) from exc
        raise JWKSFetchError("the JWKS endpoint redirected too many times")

    def close(self) -> None:
        """Close the HTTP connection pool (only if this client created it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncJWKSClient(_BaseJWKSClient[httpx.AsyncClient]):
    """The asyncio form of ``JWKSClient``: same cache policy and protections, no blocking.

    Use it through ``AsyncVerifier`` (or ``BearerAuthMiddleware``/``RequireToken`` given an
    ``AsyncVerifier``); ``get_keyset_async`` awaits at most one fetch at a time per client.
    Use it from one event loop (creating it at import time is fine: nothing binds to a loop
    until the first fetch).

    Example::

        jwks = AsyncJWKSClient("https://auth.example.com/.well-known/jwks.json")
        verifier = AsyncVerifier(jwks, algorithms=["ES256"], issuer="https://auth.example.com",
                                 audience="api")
        claims = await verifier.verify_async(token)

    Raises:
        ValueError: at construction, for the same reasons as ``JWKSClient``.
    """

    def _setup(self, http_client: httpx.AsyncClient | None) -> None:
        self._http = http_client or httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._lock = asyncio.Lock()

    async def get_keyset_async(self, kid: str | None = None) -> KeySet:
        """Return the keys to verify with now, fetching only when the cache policy allows.

        Same contract as ``JWKSClient.get_keyset``; concurrent tasks wait on one in-flight
        fetch. A cancelled fetch leaves the cache untouched, so the next caller retries.

        Raises:
            JWKSFetchError: the keys cannot be fetched and no fresh or stale keys are cached.
        """
        keyset = self._cache.lookup(kid, self._clock())
        if keyset is not None:
            return keyset
        async with self._lock:
            now = self._clock()
            keyset = self._cache.lookup(kid, now)
            if keyset is not None:
                return keyset
            try:
                answer = await self._fetch()
            except JWKSFetchError as error:
                return self._cache.failed(error, now)
            return self._cache.received(answer, now)

    async def _fetch(self) -> Response:
        url = self._url
        headers = self._cache.request_headers()
        try:
            # One deadline for the whole exchange, redirects and a trickling body included.
            async with asyncio.timeout(self._timeout):
                for _ in range(_MAX_REDIRECTS + 1):
                    async with self._http.stream(
                        "GET", url, headers=headers, follow_redirects=False, timeout=self._timeout
                    ) as response:
                        step = self._step(url, response)
                        if isinstance(step, httpx.URL):
                            url = step
                            continue
                        if step is not None:
                            async for chunk in response.aiter_raw():
                                step.feed(chunk)
                        return self._answer(response, step)
        except TimeoutError as exc:
            raise JWKSFetchError("fetching the JWKS timed out") from exc
        except httpx.HTTPError as exc:
            raise self._network_error(exc) from exc
        raise JWKSFetchError("the JWKS endpoint redirected too many times")

    async def aclose(self) -> None:
        """Close the HTTP connection pool (only if this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
