"""PyJWT's ``PyJWKClient`` (``jwt.jwks_client``): a urllib transport over jwtkit's JWKS core.

The transport is PyJWT's (``urllib.request``, redirects refused, optional ``SSLContext``), so
code and tests that patch ``urllib.request`` keep working. What to trust and when to fetch
is jwtkit's I/O-free JWKS core (``jwtkit._jwks``): the body goes through the strict JSON parser
(duplicate member names are refused), the document through the JWKS rules (symmetric keys,
encryption keys and private members never become verification keys), and the cache and the
unknown-``kid`` cooldown are its ``JWKSCache`` (see ``jwk_set_cache``). Unlike PyJWT,
``timeout`` bounds the whole exchange (connecting, TLS, headers and body together), not each
socket operation: a server trickling bytes cannot hold a verifying thread for longer.
"""

from __future__ import annotations

import http.client
import math
import threading
import time
import urllib.request
from functools import lru_cache
from ssl import SSLContext
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from jwtkit._deadline import SocketDeadline
from jwtkit._jwks import load_jwks
from jwtkit.compat.pyjwt.api_jwk import PyJWK, PyJWKSet
from jwtkit.compat.pyjwt.api_jwt import decode_complete as decode_token
from jwtkit.compat.pyjwt.exceptions import (
    InvalidKeyError,
    PyJWKClientConnectionError,
    PyJWKClientError,
)
from jwtkit.compat.pyjwt.jwk_set_cache import JWKSetCache, jwtkit_keyset
from jwtkit.errors import JWKSFetchError

__all__ = ["PyJWKClient"]


class _NoRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a JWKS URL that moves must be reconfigured, not followed."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class _WatchedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection whose socket the exchange's deadline shuts down when it passes."""

    deadline: SocketDeadline | None = None

    def connect(self) -> None:
        super().connect()
        # For https this runs inside HTTPSConnection.connect, before the TLS handshake, so a
        # server stalling the handshake is cut off too.
        if self.deadline is not None and self.sock is not None:
            self.deadline.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection, _WatchedHTTPConnection):
    """The https form: HTTPSConnection's TLS over the watched plain connection."""


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    """Open http connections whose sockets ``deadline`` watches."""

    def __init__(self, deadline: SocketDeadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(_WatchedHTTPConnection, self._deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    """Open https connections (with the caller's ``ssl_context``) watched by ``deadline``."""

    def __init__(self, deadline: SocketDeadline, context: SSLContext | None) -> None:
        super().__init__(context=context)
        self._deadline = deadline
        self._ssl_context = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = _watched(_WatchedHTTPSConnection, self._deadline)
        return self.do_open(connection, req, context=self._ssl_context)


def _watched(cls: type[_WatchedHTTPConnection], deadline: SocketDeadline) -> Any:
    """A connection factory for ``do_open`` that hands ``deadline`` to each connection."""

    def connect(*args: Any, **kwargs: Any) -> _WatchedHTTPConnection:
        connection = cls(*args, **kwargs)
        connection.deadline = deadline
        return connection

    return connect


class PyJWKClient:
    """Fetch a JWKS over HTTP(S) and hand out its signing keys as ``PyJWK`` objects."""

    def __init__(
        self,
        uri: str,
        cache_keys: bool = False,
        max_cached_keys: int = 16,
        cache_jwk_set: bool = True,
        lifespan: float = 300,
        headers: dict[str, Any] | None = None,
        timeout: float = 30,
        ssl_context: SSLContext | None = None,
        cooldown_duration: float = 30,
    ) -> None:
        """Configure the client; nothing is fetched until keys are asked for.

        Raises:
            PyJWKClientError: not an http(s) URI, a negative or non-finite cooldown, or a
                lifespan <= 0.
        """
        scheme = urlparse(uri).scheme.lower()
        if scheme not in ("http", "https"):
            raise PyJWKClientError(
                f"Invalid JWKS URI scheme {scheme!r}: only 'http' and 'https' are supported."
            )
        if cooldown_duration < 0:
            raise PyJWKClientError(
                "Cooldown duration must be greater than or equal to 0, "
                f'the input is "{cooldown_duration}"'
            )
        if not math.isfinite(cooldown_duration):
            raise PyJWKClientError(
                f'Cooldown duration must be finite, the input is "{cooldown_duration}"'
            )
        self.uri = uri
        self.headers = headers if headers is not None else {}
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.cooldown_duration = cooldown_duration
        self._client_lock = threading.RLock()
        self._last_fetch_no_cache: float | None = None
        self.jwk_set_cache: JWKSetCache | None = None
        if cache_jwk_set:
            if lifespan <= 0:
                raise PyJWKClientError(
                    f'Lifespan must be greater than 0, the input is "{lifespan}"'
                )
            self.jwk_set_cache = JWKSetCache(lifespan, cooldown=cooldown_duration)
        if cache_keys:
            cached = lru_cache(maxsize=max_cached_keys)(self.get_signing_key)
            self.get_signing_key = cached  # type: ignore[method-assign]

    @property
    def _last_successful_fetch(self) -> float | None:
        if self.jwk_set_cache is not None:
            return self.jwk_set_cache.last_fetch
        return self._last_fetch_no_cache

    @_last_successful_fetch.setter
    def _last_successful_fetch(self, value: float | None) -> None:
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.last_fetch = value
        else:
            self._last_fetch_no_cache = value

    def fetch_data(self) -> Any:
        """Fetch the JWKS document and cache it.

        Raises:
            PyJWKClientConnectionError: the request failed.
            PyJWKClientError: the endpoint did not return a JSON object.
            PyJWKSetError: caching is on and the document has no usable key.
        """
        try:
            jwk_set = self._exchange()
        except (URLError, TimeoutError, http.client.HTTPException) as e:
            if isinstance(e, HTTPError):
                e.close()
            if self.jwk_set_cache is not None:
                self.jwk_set_cache.failed(type(e).__name__)
            raise PyJWKClientConnectionError(f'Fail to fetch data from the url, err: "{e}"') from e
        jwk_set = self._as_jwk_set_payload(jwk_set)
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        else:
            self._last_fetch_no_cache = time.monotonic()
        return jwk_set

    def _exchange(self) -> Any:
        """GET the JWKS within one total deadline and parse it strictly (no redirects).

        Raises:
            TimeoutError: the deadline passed; URLError, HTTPException: as urllib raises them.
            PyJWKClientError: the body is not a strict JSON object.
        """
        # The scheme was checked to be http(s) in __init__.
        request = urllib.request.Request(url=self.uri, headers=self.headers)  # noqa: S310
        with SocketDeadline(self.timeout) as deadline:
            handlers: list[Any] = [
                _NoRedirectHandler(),
                _DeadlineHTTPHandler(deadline),
                _DeadlineHTTPSHandler(deadline, self.ssl_context),
            ]
            opener = urllib.request.build_opener(*handlers)
            try:
                with opener.open(request, timeout=deadline.remaining()) as response:
                    body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                if deadline.expired:
                    raise TimeoutError("timed out") from exc
                raise
            # A socket shut down at the deadline may end the body early without an error.
            if deadline.expired:
                raise TimeoutError("timed out")
        try:
            return load_jwks(body)
        except JWKSFetchError as exc:
            raise PyJWKClientError(
                f"The JWKS endpoint did not return a JSON object ({exc})"
            ) from exc

    def get_jwk_set(self, refresh: bool = False) -> PyJWKSet:
        """The JWK Set, from the cache while fresh (``refresh=True`` forces a fetch).

        Raises:
            PyJWKClientError: the endpoint did not return a JSON object.
        """
        data: Any = None
        fetched = False
        if self.jwk_set_cache is not None and not refresh:
            data = self.jwk_set_cache.get()
        if data is None:
            data = self.fetch_data()
            fetched = True
        if isinstance(data, PyJWKSet):
            jwk_set = data
        else:
            jwk_set = PyJWKSet.from_dict(self._as_jwk_set_payload(data))
        if fetched and self.jwk_set_cache is not None:
            # A subclass may have transformed fetch_data()'s result: cache what is returned.
            self.jwk_set_cache.put(jwk_set)
        return jwk_set

    @staticmethod
    def _as_jwk_set_payload(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise PyJWKClientError("The JWKS endpoint did not return a JSON object")
        return data

    def get_signing_keys(self, refresh: bool = False) -> list[PyJWK]:
        """The keys jwtkit accepts for verifying signatures, each with a ``kid``.

        Raises:
            PyJWKClientError: there is none.
        """
        return self._get_signing_keys_from_jwk_set(self.get_jwk_set(refresh))

    @staticmethod
    def _get_signing_keys_from_jwk_set(jwk_set: PyJWKSet) -> list[PyJWK]:
        accepted = jwtkit_keyset(jwk_set)
        signing_keys = []
        for key in jwk_set.keys:
            kid = key.key_id
            if not kid or key.public_key_use not in ("sig", None) or kid not in accepted:
                continue
            try:
                # Verify with the key jwtkit's JWKS rules made (public members only).
                key._use(accepted.get(kid))
            except InvalidKeyError:
                continue
            signing_keys.append(key)
        if not signing_keys:
            raise PyJWKClientError("The JWKS endpoint did not contain any signing keys")
        return signing_keys

    def get_signing_key(self, kid: str) -> PyJWK:
        """The signing key with this ``kid``, refetching once (after the cooldown) if the
        current set does not have it.

        Raises:
            PyJWKClientError: no key matches.
        """
        with self._client_lock:
            signing_keys = self.get_signing_keys()
            signing_key = self.match_kid(signing_keys, kid)
            if not signing_key:
                cache = self.jwk_set_cache
                if cache is None or cache.may_refetch(kid):
                    signing_keys = self.get_signing_keys(refresh=True)
                    signing_key = self.match_kid(signing_keys, kid)
                if not signing_key:
                    raise PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
            return signing_key

    def get_signing_key_from_jwt(self, token: str | bytes) -> PyJWK:
        """The signing key named by the ``kid`` of ``token``'s (unverified) header."""
        unverified = decode_token(token, options={"verify_signature": False})
        return self.get_signing_key(unverified["header"].get("kid"))

    @staticmethod
    def match_kid(signing_keys: list[PyJWK], kid: str) -> PyJWK | None:
        """The key in ``signing_keys`` whose ``kid`` is ``kid``, or ``None``."""
        for key in signing_keys:
            if key.key_id == kid:
                return key
        return None
