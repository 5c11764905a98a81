"""``GET /authorize`` and ``POST /login``: the browser side of the authorization code flow.

The login form carries the original authorization request (validated again when it comes
back), a CSRF token bound to the browser's session cookie, and the two fields; a successful
login starts a session under a new cookie and goes on to the consent page or the code
(:func:`~jwtkit.server._routes.consent.finish`). Failures before the redirect URI is trusted
end on an error page, never in a redirect.
"""

from __future__ import annotations

import mimetypes

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from jwtkit.server._authorize import AuthorizationRequest, PageError, RedirectError
from jwtkit.server._errors import OAuthError
from jwtkit.server._routes._browser import (
    carried_authorization,
    checked_form,
    cookie_name,
    error_page,
    error_to_client,
    page,
    parse_authorization,
    set_session_cookie,
    to_client,
)
from jwtkit.server._routes._common import check_password, service
from jwtkit.server._routes.consent import finish
from jwtkit.server._service import TokenService
from jwtkit.server.pages import STATIC, theme_css

__all__ = ["authorize", "login", "static"]

_WRONG = "The username or password is incorrect."
_LOGIN_MESSAGES = {
    "invalid_grant": "Too many failed sign-in attempts. Wait a few minutes and try again.",
    "temporarily_unavailable": "The service is busy. Wait a moment and try again.",
}
# The static files: name -> media type (the logo is served apart).
_STATIC = {"jwtkit.css": "text/css", "form_post.js": "text/javascript"}


def _login_page(
    svc: TokenService,
    req: AuthorizationRequest,
    cookie: str,
    *,
    new_cookie: bool,
    error: str | None = None,
    username: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = page(
        svc,
        "login.html",
        status=status,
        headers=headers,
        client_id=req.client.client_id,
        csrf_token=svc.oidc.csrf_token(cookie),
        request=req.query,
        username=username or req.login_hint or "",
        error=error,
    )
    if new_cookie:
        set_session_cookie(response, svc, cookie, None)
    return response


async def authorize(request: Request) -> Response:
    """Answer an authorization request: a code at once when the browser has a session that
    satisfies it (single sign-on) and consent is not needed, else the login or consent page,
    or an error."""
    svc = service(request)
    try:
        req = await parse_authorization(svc, request.url.query)
    except PageError as exc:
        return error_page(svc, exc.message)
    except RedirectError as exc:
        return error_to_client(svc, exc)
    cookie = request.cookies.get(cookie_name(svc))
    browser = await run_in_threadpool(svc.oidc.browser, cookie)
    if browser.row is not None and not svc.oidc.needs_login(req, browser.row):
        return await finish(svc, req, browser.row, browser.cookie)
    if "none" in req.prompt:
        params = {"error": "login_required", "error_description": "the user is not logged in"}
        return to_client(svc, req.redirect_uri, req.response_mode, {**params, "state": req.state})
    return _login_page(svc, req, browser.cookie, new_cookie=browser.cookie != cookie)


async def login(request: Request) -> Response:
    """Check the login form (CSRF token, then the password through ``TokenService.authn.login``,
    the password grant's own call), then go on to consent or the code."""
    svc = service(request)
    checked = await checked_form(request, svc, "login")
    if isinstance(checked, Response):
        return checked
    form, cookie = checked
    req = await carried_authorization(svc, form)
    if isinstance(req, Response):
        return req
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return _login_page(
            svc, req, cookie, new_cookie=False, username=username, status=400,
            error="Enter your username and password.",
        )  # fmt: skip
    try:
        # The password grant's own call, in the hashing executor (issue 10's limits).
        user = await check_password(
            request, svc, username, password, client_id=req.client.client_id
        )
    except OAuthError as exc:
        # The same words for an unknown user and a wrong password.
        message = _LOGIN_MESSAGES.get(exc.error if exc.status == 429 else "", _WRONG)
        return _login_page(
            svc, req, cookie, new_cookie=False, username=username, error=message,
            status=exc.status if exc.status == 429 else 401, headers=exc.headers,
        )  # fmt: skip
    new_cookie, row = await run_in_threadpool(svc.oidc.start_session, user.username, cookie)
    response = await finish(svc, req, row, new_cookie)
    set_session_cookie(response, svc, new_cookie, svc.settings.session_lifetime)
    return response


async def static(request: Request) -> Response:
    """Serve the pages' stylesheet and script, the brand stylesheet and the configured logo."""
    svc = service(request)
    name = request.path_params["name"]
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if name == "theme.css":
        return Response(theme_css(svc.settings), media_type="text/css", headers=headers)
    if name in _STATIC:
        body = (STATIC / name).read_bytes()
        return Response(body, media_type=_STATIC[name], headers=headers)
    if name == "logo" and svc.settings.brand_logo is not None:
        path = svc.settings.brand_logo
        media = mimetypes.guess_type(path)[0] or "application/octet-stream"
        data = await run_in_threadpool(_read, path)
        return Response(data, media_type=media, headers=headers)
    return Response("not found", status_code=404, media_type="text/plain", headers=headers)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
