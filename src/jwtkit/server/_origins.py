"""Browser origins: a client's registered origins and the check of requests using its cookie.

A refresh token kept in a cookie is sent by the browser whoever made the page. Issue 12 found
a login CSRF: a cross-site HTML form posted a password grant with ``refresh_token_cookie=true``
and the victim's browser got the attacker's refresh cookie. So every request that sets or uses
the cookie must name, in its ``Origin`` header, one of the origins registered for the client
(``jwtkit client add|set --origin URL``), and must not be marked ``Sec-Fetch-Site: cross-site``
(a ``SameSite=Strict`` cookie never works cross-site, so such a request is never legitimate).
Browsers send ``Origin`` on every POST made by a form or by ``fetch``; a request without it is
refused, so cookie mode is for browsers only. The same origins, of enabled clients, are what
CORS allows (:class:`RegisteredOrigins`, used by :mod:`jwtkit.server._cors`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from jwtkit.errors import KeyStoreError
from jwtkit.server._errors import OAuthError

__all__ = ["RegisteredOrigins", "check_cookie_origin", "check_origins", "normalize_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_ORIGIN = 512
# W3C Fetch Metadata: the values a same-origin or same-site request carries.
_FETCH_SITES_ALLOWED = frozenset({"same-origin", "same-site"})


def normalize_origin(url: str) -> str:
    """Return the RFC 6454 serialization of an http(s) origin (``scheme://host[:port]``).

    The scheme and host are lower-cased and a default port is dropped; one trailing ``/`` is
    accepted (URLs are pasted), anything else after the authority is refused.

    Raises:
        ValueError: not an http or https origin.
    """
    if not isinstance(url, str) or not 0 < len(url) <= _MAX_ORIGIN or not url.isascii():
        raise ValueError("an origin is an ASCII http(s) URL of at most 512 characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("an origin is scheme://host[:port] with scheme http or https")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("an origin has no path, query or fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError("an origin has no user name or password")
    if any(c.isspace() or c in "\\%" for c in url):
        raise ValueError("an origin has no spaces, backslashes or percent-escapes")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("an origin's port is a number from 0 to 65535") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """Normalize a client's origins, dropping duplicates, keeping their order.

    Raises:
        ValueError: one is not an http(s) origin (the message names it).
    """
    if isinstance(origins, str):
        raise ValueError("origins must be a list, not a string")
    out: list[str] = []
    for origin in origins:
        try:
            value = normalize_origin(origin)
        except ValueError as exc:
            raise ValueError(f"invalid origin {origin!r}: {exc}") from None
        if value not in out:
            out.append(value)
    return tuple(out)


def check_cookie_origin(headers: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse a request that sets or uses the refresh cookie unless it comes from ``allowed``.

    ``headers`` are the request's (case-insensitive lookup, as Starlette's ``Headers``);
    ``allowed`` the client's normalized origins.

    Raises:
        OAuthError: ``invalid_request`` (400) for a missing, ``null``, unregistered or
            cross-site origin.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _FETCH_SITES_ALLOWED:
        raise _refused()
    origin = headers.get("origin")
    if origin is None:
        raise OAuthError(
            "invalid_request", "a request that sets or uses the refresh cookie needs an Origin"
        )
    try:
        value = normalize_origin(origin)
    except ValueError:
        raise _refused() from None
    if value not in allowed:
        raise _refused()


def _refused() -> OAuthError:
    return OAuthError(
        "invalid_request", "this origin may not use the refresh cookie of this client"
    )


class RegisteredOrigins:
    """Say whether a browser origin is registered for an enabled client (for CORS).

    ``registered(origin)`` asks the store (``AccountRows.origin_registered``); answers are
    kept ``ttl`` seconds (at most ``max_entries`` origins), so a newly registered or removed
    origin takes effect within that time. A store that does not answer counts as "no" and is
    asked again next time: CORS fails closed, and the endpoint itself answers 503.
    """

    def __init__(
        self,
        registered: Callable[[str], bool],
        *,
        ttl: float,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registered = registered
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    async def allows(self, origin: str) -> bool:
        """Say whether ``origin`` (an ``Origin`` header) may call the CORS endpoints."""
        try:
            value = normalize_origin(origin)
        except ValueError:
            return False
        now = self._clock()
        hit = self._cache.get(value)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            answer = await run_in_threadpool(self._registered, value)
        except KeyStoreError:
            return False
        if self._ttl > 0:
            self._cache[value] = (answer, now + self._ttl)
            self._cache.move_to_end(value)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return answer
