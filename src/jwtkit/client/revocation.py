"""Revocation checks for ``BearerAuthMiddleware`` and ``RequireToken`` (``is_revoked``).

A JWT stays valid until ``exp`` by design; a resource server honours an early revocation in
one of two ways:

- ``RevocationListCheck`` polls the jwtkit token service's revocation list in a background
  thread and answers from memory (a few dict lookups per request), within a bounded
  staleness;
- ``IntrospectionRevocationCheck`` asks the issuer's RFC 7662 endpoint and caches the answer
  briefly, so each token costs at most one round trip per ``cache_ttl``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote

import httpx

from jwtkit._deadline import SocketDeadline
from jwtkit._revocation import Revocations
from jwtkit.client._body import CappedBody, check_max_bytes
from jwtkit.client._urls import check_url
from jwtkit.errors import IntrospectionError, JWKSFetchError

__all__ = ["IntrospectionRevocationCheck", "RevocationListCheck"]

logger = logging.getLogger("jwtkit.client")

_MAX_RESPONSE_BYTES = 64 * 1024
_MAX_LIST_BYTES = 16 * 1024 * 1024


def _client_auth(client_id: str, client_secret: str) -> httpx.BasicAuth:
    """HTTP Basic client authentication, id and secret form-encoded first (RFC 6749 §2.3.1).

    Raises:
        ValueError: the id or the secret is empty.
    """
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret must be non-empty")
    return httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))


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
        (when called) IntrospectionError (a ``JWKSFetchError``) if the endpoint is unreachable
        or answers anything but a 200 JSON object with a boolean ``active``; the middleware
        then answers 503 (fail closed, never silently accepting a possibly revoked token).
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
        self._auth = _client_auth(client_id, client_secret)
        if cache_ttl < 0 or max_entries < 0 or not timeout > 0:
            raise ValueError("cache_ttl and max_entries must be >= 0 and timeout > 0")
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
            IntrospectionError: the introspection endpoint is unavailable or answered nonsense.
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
            body = await self._post(token)
        except TimeoutError as exc:
            raise IntrospectionError("token introspection timed out") from exc
        except httpx.HTTPError as exc:
            raise IntrospectionError(f"token introspection failed ({type(exc).__name__})") from exc
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise IntrospectionError("the introspection response is not valid JSON") from exc
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):
            raise IntrospectionError('the introspection response lacks a boolean "active"')
        return bool(answer["active"])

    async def _post(self, token: str) -> bytes:
        """POST ``token`` and return the 200 body, read raw and inflated within the cap."""
        # One deadline for the exchange.
        async with (
            asyncio.timeout(self._timeout),
            self._http.stream(
                "POST",
                self._url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                follow_redirects=False,
                timeout=self._timeout,
            ) as response,
        ):
            if response.status_code != 200:
                raise IntrospectionError(
                    f"the introspection endpoint answered HTTP {response.status_code}"
                )
            reader = CappedBody(
                response.headers.get("content-encoding"),
                _MAX_RESPONSE_BYTES,
                what="introspection response",
                error=IntrospectionError,
            )
            async for chunk in response.aiter_raw():
                reader.feed(chunk)
            return reader.finish()

    async def aclose(self) -> None:
        """Close the HTTP connection pool (only if this check created it)."""
        if self._owns_http:
            await self._http.aclose()


@dataclass(frozen=True, slots=True)
class _Snapshot:
    revocations: Revocations
    etag: str | None
    fetched_at: float  # clock() when the request that confirmed it was sent


def _seconds(value: object, name: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number of seconds")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}")
    return float(value)


class RevocationListCheck:
    """``is_revoked`` hook that honours the token service's revocations within a bound.

    A background thread fetches ``url`` (the jwtkit service's ``GET /revocations``) every
    ``interval`` seconds with HTTP Basic authentication as a resource-server client,
    revalidating with ``If-None-Match``. Each check is a few in-memory dict lookups: the
    token's ``jti``, its session (``jwtkit_fid``), its user and its client. The thread
    starts on :meth:`start`, on ``with``, or at the first check.

    The data a check uses is never older than ``max_staleness`` seconds (counted from when
    the request that fetched or confirmed it was sent): when the list cannot be refreshed
    in time, or before the first fetch, a check raises ``JWKSFetchError``, which the
    middleware and ``RequireToken`` answer with 503, never with a silent accept. A
    revocation committed at the issuer is therefore honoured by every check that starts
    ``max_staleness`` seconds later, and typically after about ``interval``.

    Example::

        revocations = RevocationListCheck("https://auth.example.com/revocations",
                                          "resource-api", secret)
        app = BearerAuthMiddleware(app, verifier, is_revoked=revocations)

    Raises:
        ValueError, TypeError: at construction, for a refused URL, empty credentials or
            nonsensical times (``max_staleness`` must exceed ``interval``).
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        interval: float = 2.0,
        max_staleness: float = 10.0,
        timeout: float | None = None,
        max_response_bytes: int = _MAX_LIST_BYTES,
        allow_http_loopback: bool = False,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        autostart: bool = True,
    ) -> None:
        self._url = check_url(
            url, allow_http_loopback=allow_http_loopback, what="revocation list URL"
        )
        self._auth = _client_auth(client_id, client_secret)
        self._interval = _seconds(interval, "interval")
        self._max_staleness = _seconds(max_staleness, "max_staleness")
        if not self._max_staleness > self._interval:
            raise ValueError("max_staleness must be longer than interval")
        default_timeout = min(5.0, self._max_staleness - self._interval)
        self._timeout = _seconds(default_timeout if timeout is None else timeout, "timeout")
        self._max_bytes = check_max_bytes(max_response_bytes)
        self._client_id = client_id
        self._clock = clock
        self._autostart = autostart
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._snapshot: _Snapshot | None = None
        self._fetch_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def __repr__(self) -> str:
        return f"RevocationListCheck(url={str(self._url)!r}, client_id={self._client_id!r})"

    # The hot path.

    def __call__(self, claims: Mapping[str, Any]) -> bool:
        """Return True when the token with these verified claims is revoked.

        Raises:
            JWKSFetchError: the list has not been fetched yet, or not refreshed within
                ``max_staleness`` (fail closed).
        """
        snapshot = self._snapshot
        if snapshot is None or self._clock() - snapshot.fetched_at > self._max_staleness:
            if self._thread is None and self._autostart:
                self.start()
            raise JWKSFetchError(
                "the revocation list is not available"
                if snapshot is None
                else f"the revocation list is older than {self._max_staleness:g} s"
            )
        return snapshot.revocations.revoked(claims)

    # Fetching.

    @property
    def age(self) -> float | None:
        """Seconds since the current list was fetched or confirmed (None before the first)."""
        snapshot = self._snapshot
        return None if snapshot is None else self._clock() - snapshot.fetched_at

    def refresh(self) -> bool:
        """Fetch the list now (one fetch at a time); return True if it changed.

        Raises:
            JWKSFetchError: the endpoint is unreachable, refused the credentials, or
                answered anything but a 200 revocation list or a 304.
        """
        with self._fetch_lock:
            previous = self._snapshot
            sent = self._clock()
            status, body, etag, age = self._fetch(previous.etag if previous else None)
            # The issuer may answer from a list it built up to `Age` seconds earlier.
            sent -= age
            if status == 304 and previous is not None:
                self._snapshot = _Snapshot(previous.revocations, previous.etag, sent)
                return False
            try:
                revocations = Revocations.from_json(json.loads(body))
            except (ValueError, RecursionError) as exc:
                raise JWKSFetchError(
                    "the revocation list response is not a revocation list"
                ) from exc
            self._snapshot = _Snapshot(revocations, etag, sent)
            return previous is None or previous.revocations != revocations

    def _fetch(self, etag: str | None) -> tuple[int, bytes, str | None, float]:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if etag is not None:
            headers["If-None-Match"] = etag
        # The same total deadline and capped reading as the JWKS client (issue 12).
        with SocketDeadline(self._timeout) as deadline:
            try:
                with self._http.stream(
                    "GET",
                    self._url,
                    auth=self._auth,
                    headers={**headers, "Connection": "close"},
                    follow_redirects=False,
                    timeout=deadline.remaining(),
                    extensions={"trace": deadline.trace},
                ) as response:
                    status = response.status_code
                    if status not in (200, 304):
                        raise JWKSFetchError(f"the revocation list endpoint answered HTTP {status}")
                    reader = CappedBody(
                        response.headers.get("content-encoding"),
                        self._max_bytes,
                        what="revocation list",
                    )
                    for chunk in response.iter_raw():
                        reader.feed(chunk)
                    age = response.headers.get("age", "0").strip()
                    seconds = float(age) if age.isascii() and age.isdigit() else math.inf
                    return status, reader.finish(), response.headers.get("etag"), seconds
            except httpx.HTTPError as exc:
                if deadline.expired:
                    raise JWKSFetchError("fetching the revocation list timed out") from exc
                raise JWKSFetchError(
                    f"fetching the revocation list failed ({type(exc).__name__})"
                ) from exc

    # The poller.

    def start(self) -> Self:
        """Start the background poller (once; later calls do nothing) and return self."""
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._poll, name="jwtkit-revocation-list", daemon=True
                )
                self._thread.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a first list; say whether one is there."""
        deadline = time.monotonic() + timeout
        while self._snapshot is None and time.monotonic() < deadline:
            if self._stop.wait(0.02):
                break
        return self._snapshot is not None

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except JWKSFetchError as exc:
                if not self._failing:
                    logger.warning("revocation list not refreshed: %s", exc)
                self._failing = True
            except Exception:  # The poller must outlive any one bad answer.
                logger.exception("revocation list poll failed")
                self._failing = True
            else:
                if self._failing:
                    logger.info("revocation list refreshed again")
                self._failing = False
            self._stop.wait(self._interval)

    def close(self) -> None:
        """Stop the poller and close the HTTP connections (only if this check made them)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self._timeout + 1)
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
