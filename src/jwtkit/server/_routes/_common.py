"""Helpers shared by the endpoints: the service object, client address, refresh cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from jwtkit.server._accounts import ClientInfo, UserInfo
from jwtkit.server._errors import OAuthError, pause_before_refusal, too_many_requests
from jwtkit.server._forms import ClientCredentials
from jwtkit.server._origins import check_cookie_origin
from jwtkit.server._passwords import HashingBusyError
from jwtkit.server._service import TokenService

__all__ = [
    "CSRF_HEADER",
    "authenticate",
    "check_cookie_client",
    "check_password",
    "clear_cookie",
    "client_address",
    "cookie_token",
    "run_service",
    "service",
    "set_cookie",
]

T = TypeVar("T")

CSRF_HEADER = "x-requested-with"


def service(request: Request) -> TokenService:
    """Return the TokenService that ``create_app`` attached to the application."""
    svc: TokenService = request.app.state.service
    return svc


def cookie_token(request: Request, svc: TokenService) -> str | None:
    """Return the refresh token from the cookie, enforcing the CSRF defence.

    The cookie is ``SameSite=Strict``; in addition a request that relies on it must carry an
    ``X-Requested-With`` header. A cross-site HTML form cannot set a custom header, and a
    script of another origin can only do so after a CORS preflight, which this service grants
    only to registered origins (:mod:`jwtkit.server._cors`; the cookie is further bound to the
    client's own origins by :func:`check_cookie_client`).
    """
    value = request.cookies.get(svc.settings.cookie_name)
    if not value:
        return None
    if not request.headers.get(CSRF_HEADER):
        raise OAuthError(
            "invalid_request", "a request using the refresh cookie needs X-Requested-With"
        )
    return value


async def check_cookie_client(
    request: Request, svc: TokenService, creds: ClientCredentials | None
) -> None:
    """Refuse a token request that sets or uses the refresh cookie from a foreign origin.

    Runs before the grant (no password is checked, nothing is issued): the origin must be one
    of the named client's registered origins (issue 12, login CSRF). The client is looked up
    by id only; the grant authenticates it afterwards.
    """
    client = None
    if creds is not None:
        client = await svc.in_thread(svc.accounts.get_client, creds.client_id)
    check_cookie_origin(request.headers, client.origins if client is not None else ())


def set_cookie(response: Response, svc: TokenService, token: str, max_age: int) -> None:
    """Put a refresh token into the HttpOnly, SameSite=Strict cookie scoped to the token path."""
    s = svc.settings
    response.set_cookie(
        s.cookie_name,
        token,
        max_age=max_age,
        path=s.cookie_path,
        secure=s.cookie_secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, svc: TokenService) -> None:
    """Expire the refresh cookie in the browser."""
    s = svc.settings
    response.delete_cookie(
        s.cookie_name, path=s.cookie_path, secure=s.cookie_secure, httponly=True, samesite="strict"
    )


def client_address(request: Request) -> str | None:
    """Return the peer address (uvicorn applies trusted proxy headers before this)."""
    return request.client.host if request.client else None


async def run_service(
    svc: TokenService, fn: Callable[..., T], /, *args: Any, hashing: bool, **kwargs: Any
) -> T:
    """Run a synchronous service call in a worker thread and return its result.

    With ``hashing`` (``svc.authn.needs_hashing(...)``) it runs in the hashing executor, whose
    bounded queue answers 429 when full; otherwise in the service's store threads, which therefore
    never fills with requests waiting for Argon2 (issue 10).
    """
    if not hashing:
        return await svc.in_thread(fn, *args, **kwargs)
    try:
        return await svc.hashing.run(fn, *args, **kwargs)
    except HashingBusyError as exc:
        raise too_many_requests(
            "temporarily_unavailable",
            "too many authentications in progress; retry later",
            exc.retry_after,
        ) from None


async def authenticate(
    request: Request, svc: TokenService, creds: ClientCredentials | None
) -> ClientInfo:
    """Authenticate the client of ``request`` (limited per client id and address).

    A cached client whose secret was verified before is answered from memory, on the event
    loop (issue 18); everything else runs ``svc.authn.authenticate`` in a worker thread.
    """
    if creds is not None and creds.secret is not None:
        client = svc.accounts.remembered_client(creds.client_id, creds.secret)
        if client is not None:
            return client
    address = client_address(request)
    hashing = svc.authn.needs_hashing(creds, address=address)
    return await run_service(svc, svc.authn.authenticate, creds, address=address, hashing=hashing)


async def check_password(
    request: Request, svc: TokenService, username: str, password: str, *, client_id: str
) -> UserInfo:
    """Check a user's password for a page (the login form): ``svc.authn.login`` in the hashing
    executor, with the token endpoint's early refusal and refusal delay (issue 10).

    Raises:
        OAuthError: as ``svc.authn.login``, or 429 when the hashing queue is full.
    """
    address = client_address(request)
    try:
        svc.authn.needs_hashing(
            None, {"grant_type": "password", "username": username}, address=address
        )
        return await run_service(
            svc,
            svc.authn.login,
            username,
            password,
            address=address,
            client_id=client_id,
            hashing=True,
        )
    except OAuthError as exc:
        if exc.status == 429:
            await pause_before_refusal(svc.settings.refusal_delay)
        raise
