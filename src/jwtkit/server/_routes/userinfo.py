"""``GET|POST /userinfo`` (OpenID Connect Core 1.0 §5.3): the user's claims for a Bearer token.

The access token comes in the ``Authorization: Bearer`` header, or for POST in the form body
(RFC 6750 §2.2), never both; it must carry the ``openid`` scope. Errors are RFC 6750 §3.1
challenges in ``WWW-Authenticate``.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jwtkit.server._errors import NO_STORE, OAuthError
from jwtkit.server._forms import read_form
from jwtkit.server._oidc import BearerError
from jwtkit.server._routes._common import service

__all__ = ["userinfo"]


def _challenge(error: BearerError | None) -> Response:
    value = 'Bearer realm="jwtkit"'
    body: dict[str, str] = {}
    status = 401
    if error is not None:
        value += f', error="{error.error}", error_description="{error.description}"'
        if error.error == "insufficient_scope":
            value += ', scope="openid"'
        body = {"error": error.error, "error_description": error.description}
        status = error.status
    return JSONResponse(body, status_code=status, headers={**NO_STORE, "WWW-Authenticate": value})


async def userinfo(request: Request) -> Response:
    """Return the claims of the token's user that its scopes grant."""
    svc = service(request)
    header = request.headers.get("authorization")
    token = None
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return _challenge(BearerError("invalid_request", "use the Bearer scheme", 400))
        token = value.strip()
    if request.method == "POST":
        form = await read_form(request, max_size=svc.settings.max_body_size)
        if "access_token" in form:
            if token is not None:
                raise OAuthError("invalid_request", "give the access token one way only")
            token = form["access_token"]
    if token is None:
        return _challenge(None)
    try:
        claims = await run_in_threadpool(svc.oidc.userinfo, token)
    except BearerError as exc:
        return _challenge(exc)
    return JSONResponse(claims, headers=NO_STORE)
