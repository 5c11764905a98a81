"""URL policy shared by the JWKS client and the introspection check (private).

Remote key material is only as trustworthy as the channel it came over, so jwtkit fetches keys
over https only. Plain http is allowed to a loopback address, and only when the caller opts in
(tests and local development), because nothing on the network can tamper with loopback traffic.
"""

from __future__ import annotations

import ipaddress

import httpx

from jwtkit.errors import JWKSFetchError

__all__ = ["check_url", "is_loopback", "origin", "redirect_target"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names the local machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str | httpx.URL, *, allow_http_loopback: bool, what: str) -> httpx.URL:
    """Parse ``url`` and refuse anything but https (or opted-in http to loopback).

    ``what`` names the setting in the error message (``"JWKS URL"``). The URL itself is not
    echoed, so a query string carrying a secret never reaches a log.

    Raises:
        ValueError: the URL is malformed, carries credentials, or uses a refused scheme.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"the {what} is not a valid URL") from exc
    if parsed.userinfo:
        raise ValueError(f"the {what} must not contain credentials (user:password@)")
    if not parsed.host:
        raise ValueError(f"the {what} must be an absolute URL with a host")
    if parsed.scheme == "https":
        return parsed
    if parsed.scheme == "http":
        if not is_loopback(parsed.host):
            raise ValueError(
                f"the {what} must use https; plain http is allowed only to a loopback address "
                "(127.0.0.1, ::1, localhost) with allow_http_loopback=True"
            )
        if not allow_http_loopback:
            raise ValueError(
                f"the {what} uses plain http; pass allow_http_loopback=True to allow it for a "
                "loopback address (tests, local development)"
            )
        return parsed
    raise ValueError(f"the {what} must use https, not {parsed.scheme!r}")


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """Return the (scheme, host, port) origin of ``url`` with default ports filled in."""
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme, 0)
    return (url.scheme, url.host.lower(), port)


def redirect_target(current: httpx.URL, location: str | None) -> httpx.URL:
    """Resolve a redirect and accept it only when it stays on the same origin.

    A JWKS redirected to another host would let whoever controls that host choose the keys
    tokens are verified with, so cross-origin redirects are refused (RFC 8725 §3.10 spirit).

    Raises:
        JWKSFetchError: no Location, a malformed one, or one on another origin.
    """
    if not location:
        raise JWKSFetchError("the JWKS endpoint answered a redirect without a Location")
    try:
        target = current.join(location)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise JWKSFetchError("the JWKS endpoint answered a malformed redirect") from exc
    if origin(target) != origin(current):
        raise JWKSFetchError("the JWKS endpoint redirected to another origin; refused")
    return target
