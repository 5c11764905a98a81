"""``POST /token``: the OAuth 2.0 token endpoint (RFC 6749 §3.2, §4.3, §4.4, §6)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jwtkit.server._errors import NO_STORE, OAuthError
from jwtkit.server._forms import client_credentials, read_form
from jwtkit.server._routes._common import (
    check_cookie_client,
    client_address,
    cookie_token,
    run_service,
    service,
    set_cookie,
)

__all__ = ["token"]

COOKIE_PARAM = "refresh_token_cookie"


async def token(request: Request) -> Response:
    """Run a grant and answer with the tokens, or with an RFC 6749 §5.2 error.

    With ``refresh_token_cookie=true`` the refresh token is set as a cookie instead of being
    returned in the body; a refresh grant without a ``refresh_token`` parameter reads it
    from that cookie (and then answers with a cookie again). Both need an ``Origin``
    registered for the client (:mod:`jwtkit.server._origins`).
    """
    svc = service(request)
    form = await read_form(request, max_size=svc.settings.max_body_size)
    creds = client_credentials(request, form)
    mode = form.get(COOKIE_PARAM, "false")
    if mode not in ("true", "false"):
        raise OAuthError("invalid_request", f"{COOKIE_PARAM} must be true or false")
    # The one place that decides where a refresh token comes from: the form's refresh_token
    # parameter, else (a refresh grant without it) the cookie. The service takes what we pass.
    presented = form.get("refresh_token")
    from_cookie = False
    if form.get("grant_type") == "refresh_token" and presented is None:
        presented = cookie_token(request, svc)
        from_cookie = presented is not None
    use_cookie = mode == "true" or from_cookie
    if use_cookie:
        await check_cookie_client(request, svc, creds)
    # A machine token from a known client with a remembered secret needs no store access:
    # it is signed here, on the event loop, without a thread handoff (issue 18).
    issued = None if use_cookie else svc.grant_from_memory(form, creds)
    if issued is None:
        issued = await run_service(
            svc,
            svc.grant,
            form,
            creds,
            address=client_address(request),
            refresh_token=presented,
            hashing=svc.authn.needs_hashing(creds, form, address=client_address(request)),
        )
    response = JSONResponse(issued.body(include_refresh=not use_cookie), headers=NO_STORE)
    if use_cookie and issued.refresh_token:
        set_cookie(response, svc, issued.refresh_token, issued.refresh_expires_in)
    return response
