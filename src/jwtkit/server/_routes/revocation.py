"""``POST /revoke`` (RFC 7009), ``POST /introspect`` (RFC 7662) and ``GET /revocations``."""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jwtkit.server import _introspection
from jwtkit.server._errors import NO_STORE, OAuthError, invalid_client
from jwtkit.server._forms import client_credentials, read_form
from jwtkit.server._origins import check_cookie_origin
from jwtkit.server._routes._common import authenticate, clear_cookie, cookie_token, service
from jwtkit.server._routes.discovery import etag_matches

__all__ = ["introspect", "revocation_list", "revoke"]


async def revoke(request: Request) -> Response:
    """Revoke a refresh or access token; 200 whether or not the token was known (§2.2).

    Public clients may revoke their own tokens (RFC 7009 §5). Without a ``token`` parameter
    the refresh cookie is used (when ``cookie_path`` covers /revoke, from a registered origin
    of the client) and then cleared.
    """
    svc = service(request)
    form = await read_form(request, max_size=svc.settings.max_body_size)
    creds = client_credentials(request, form)
    client = await authenticate(request, svc, creds)
    value = form.get("token")
    from_cookie = value is None
    if value is None:
        value = cookie_token(request, svc)
        if value is not None:
            check_cookie_origin(request.headers, client.origins)
    if value is None:
        raise OAuthError("invalid_request", "token is required")
    await svc.in_thread(_introspection.revoke, svc, value, client, hint=form.get("token_type_hint"))
    response = Response(status_code=200, headers=NO_STORE)
    if from_cookie:
        clear_cookie(response, svc)
    return response


async def introspect(request: Request) -> Response:
    """Describe a token to an authenticated confidential client (RFC 7662 §2).

    Anything not valid right now (malformed, expired, revoked, unknown) is ``active: false``.
    """
    svc = service(request)
    form = await read_form(request, max_size=svc.settings.max_body_size)
    creds = client_credentials(request, form)
    client = await authenticate(request, svc, creds)
    if client.public:
        # RFC 7662 §2.1: the endpoint must be protected; a public client proves nothing.
        raise invalid_client(basic=creds is not None and creds.basic)
    value = form.get("token")
    if value is None:
        raise OAuthError("invalid_request", "token is required")
    answer = await svc.in_thread(_introspection.introspect, svc, value, client)
    return JSONResponse(answer, headers=NO_STORE)


async def revocation_list(request: Request) -> Response:
    """Serve what is revoked now to an authenticated resource-server client (HTTP Basic).

    Resource servers that verify tokens locally poll this to honour revocations within a
    bounded staleness without introspecting every token. The body is the same on every
    instance of one store, with a strong ETag; ``If-None-Match`` gets a 304.
    """
    svc = service(request)
    creds = client_credentials(request, {})
    client = await authenticate(request, svc, creds)
    if client.public or not client.resource_server:
        raise OAuthError(
            "unauthorized_client",
            "only resource-server clients may read the revocation list",
            status=403,
        )
    body, etag, age = await svc.in_thread(_introspection.revocation_list, svc)
    # Age (RFC 9111 §5.1), rounded up: the client counts its staleness bound from when this
    # instance read the store, not from when it answered.
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Age": str(math.ceil(age))}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
