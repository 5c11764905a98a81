"""``GET /authorize`` and ``POST /login``: the browser side of the authorization code flow.

The login form carries the original authorization request (validated again when it comes
back), a CSRF token bound to the browser's session cookie, and the two fields; a successful
login starts a session under a new cookie and redirects to the client with a code. Failures
before the redirect URI is trusted end on an error page, never in a redirect.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jwtkit.server.authorize import AuthorizationRequest, PageError, RedirectError, parse_request
from jwtkit.server.errors import OAuthError
from jwtkit.server.forms import read_form
from jwtkit.server.origins import normalize_origin
from jwtkit.server.pages import STATIC, render, theme_css
from jwtkit.server.routes._common import client_address, run_service, service
from jwtkit.server.service import TokenService

__all__ = ["authorize", "login", "static"]

_MAX_QUERY = 8192
_WRONG = "The username or password is incorrect."
_LOGIN_MESSAGES = {
    "invalid_grant": "Too many failed sign-in attempts. Wait a few minutes and try again.",
    "temporarily_unavailable": "The service is busy. Wait a moment and try again.",
}


def _cookie_name(svc: TokenService) -> str:
    """``__Host-`` over HTTPS: the browser then refuses the cookie from a subdomain or a
    plain-http page, and pins it to this host and path ``/``."""
    s = svc.settings
    prefix = "__Host-" if s.base_url.startswith("https://") and s.cookie_secure else ""
    return prefix + s.session_cookie_name


def _set_session_cookie(
    response: Response, svc: TokenService, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        _cookie_name(svc),
        value,
        max_age=max_age,
        path="/",
        secure=svc.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _base(svc: TokenService) -> str:
    return urlsplit(svc.settings.base_url).path.rstrip("/")


def _error_page(svc: TokenService, message: str, *, status: int = 400) -> Response:
    return render(
        svc.settings,
        "error.html",
        status=status,
        base=_base(svc),
        heading="Sign-in request refused",
        message=message,
    )


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
    response = render(
        svc.settings,
        "login.html",
        status=status,
        headers=headers,
        base=_base(svc),
        client_id=req.client.client_id,
        csrf_token=svc.oidc.csrf_token(cookie),
        request=req.query,
        username=username or req.login_hint or "",
        error=error,
    )
    if new_cookie:
        _set_session_cookie(response, svc, cookie, None)
    return response


def _redirect(url: str) -> Response:
    # 303: the browser follows with a GET even after the login form's POST.
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _error_redirect(svc: TokenService, exc: RedirectError) -> Response:
    return _redirect(
        svc.oidc.error_redirect(exc.redirect_uri, exc.error, exc.description, exc.state)
    )


async def _parse(svc: TokenService, query: str) -> AuthorizationRequest:
    if len(query) > _MAX_QUERY:
        raise PageError("The sign-in request is too long.")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise PageError("The sign-in request is malformed.") from None
    req = await run_in_threadpool(parse_request, pairs, query, svc.accounts.get_client)
    if req.openid:
        try:
            svc.oidc.id_alg(req.client)
        except OAuthError as exc:
            raise RedirectError(exc.error, exc.description, req.redirect_uri, req.state) from None
    return req


async def authorize(request: Request) -> Response:
    """Answer an authorization request: a code at once when the browser has a session that
    satisfies it (single sign-on), else the login page, or an error."""
    svc = service(request)
    query = request.url.query
    try:
        req = await _parse(svc, query)
    except PageError as exc:
        return _error_page(svc, exc.message)
    except RedirectError as exc:
        return _error_redirect(svc, exc)
    cookie = request.cookies.get(_cookie_name(svc))
    browser = await run_in_threadpool(svc.oidc.browser, cookie)
    if browser.row is not None and not svc.oidc.needs_login(req, browser.row):
        return _redirect(await run_in_threadpool(svc.oidc.authorize, req, browser.row))
    if "none" in req.prompt:
        return _redirect(
            svc.oidc.error_redirect(
                req.redirect_uri, "login_required", "the user is not logged in", req.state
            )
        )
    return _login_page(svc, req, browser.cookie, new_cookie=browser.cookie != cookie)


def _same_origin(request: Request, svc: TokenService) -> bool:
    """Say whether the login form comes from this service's own page (or an old browser)."""
    site = request.headers.get("sec-fetch-site")
    if site not in (None, "same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin in (None, "null"):
        return True
    try:
        own = "{0.scheme}://{0.netloc}".format(urlsplit(svc.settings.base_url))
        return normalize_origin(origin) == normalize_origin(own)
    except ValueError:
        return False


async def login(request: Request) -> Response:
    """Check the login form (CSRF token, then the password through ``TokenService.login``,
    the password grant's own call) and redirect to the client with a code."""
    svc = service(request)
    # Defence in depth next to the CSRF token. The page's Referrer-Policy makes browsers send
    # "Origin: null" with the form, so a null origin says nothing; Sec-Fetch-Site does.
    if not _same_origin(request, svc):
        return _error_page(svc, "The form was sent from another site.", status=403)
    try:
        form = await read_form(request, max_size=svc.settings.max_body_size)
    except OAuthError:
        return _error_page(svc, "The form could not be read.")
    cookie = request.cookies.get(_cookie_name(svc))
    if not svc.oidc.check_csrf(cookie, form.get("csrf_token")):
        return _error_page(
            svc,
            "The sign-in form expired or was sent from another site. Go back to the "
            "application and sign in again.",
            status=403,
        )
    assert cookie is not None  # noqa: S101 - check_csrf() refuses a missing cookie
    try:
        req = await _parse(svc, form.get("request", ""))
    except PageError as exc:
        return _error_page(svc, exc.message)
    except RedirectError as exc:
        return _error_redirect(svc, exc)
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return _login_page(
            svc, req, cookie, new_cookie=False, username=username, status=400,
            error="Enter your username and password.",
        )  # fmt: skip
    try:
        # The password grant's own call, in the hashing executor (issue 10's limits).
        user = await run_service(
            svc, svc.login, username, password, address=client_address(request),
            client_id=req.client.client_id, hashing=True,
        )  # fmt: skip
    except OAuthError as exc:
        # The same words for an unknown user and a wrong password.
        message = _LOGIN_MESSAGES.get(exc.error if exc.status == 429 else "", _WRONG)
        return _login_page(
            svc, req, cookie, new_cookie=False, username=username, error=message,
            status=exc.status if exc.status == 429 else 401, headers=exc.headers,
        )  # fmt: skip
    new_cookie, row = await run_in_threadpool(svc.oidc.start_session, user.username, cookie)
    response = _redirect(await run_in_threadpool(svc.oidc.authorize, req, row))
    _set_session_cookie(response, svc, new_cookie, svc.settings.session_lifetime)
    return response


async def static(request: Request) -> Response:
    """Serve the pages' stylesheet, the brand stylesheet and the configured logo."""
    svc = service(request)
    name = request.path_params["name"]
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if name == "theme.css":
        return Response(theme_css(svc.settings), media_type="text/css", headers=headers)
    if name == "jwtkit.css":
        body = (STATIC / "jwtkit.css").read_bytes()
        return Response(body, media_type="text/css", headers=headers)
    if name == "logo" and svc.settings.brand_logo is not None:
        path = svc.settings.brand_logo
        media = mimetypes.guess_type(path)[0] or "application/octet-stream"
        data = await run_in_threadpool(_read, path)
        return Response(data, media_type=media, headers=headers)
    return Response("not found", status_code=404, media_type="text/plain", headers=headers)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
