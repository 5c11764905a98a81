"""What the browser-facing endpoints share: the session cookie, pages, the form origin check,
and answers to the client in the request's response mode (query redirect or form_post)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jwtkit.server._authorize import (
    AuthorizationRequest,
    PageError,
    RedirectError,
    parse_request,
    redirect_to,
)
from jwtkit.server._errors import OAuthError
from jwtkit.server._forms import read_form
from jwtkit.server._origins import normalize_origin
from jwtkit.server._service import TokenService
from jwtkit.server.pages import form_post_policy, render

__all__ = [
    "base",
    "carried_authorization",
    "checked_form",
    "clear_session_cookie",
    "cookie_name",
    "error_page",
    "error_to_client",
    "page",
    "parse_authorization",
    "redirect",
    "same_origin",
    "set_session_cookie",
    "to_client",
]


_MAX_QUERY = 8192


async def parse_authorization(svc: TokenService, query: str) -> AuthorizationRequest:
    """Validate an authorization request given as its query string (from ``/authorize``, or
    carried through the login and consent forms, where it is validated again).

    Raises:
        PageError: it cannot be trusted to redirect (bad client or redirect URI).
        RedirectError: anything else, to be sent to the client.
    """
    if len(query) > _MAX_QUERY:
        raise PageError("The sign-in request is too long.")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise PageError("The sign-in request is malformed.") from None
    req = await run_in_threadpool(
        parse_request, pairs, query, svc.accounts.get_client, svc.resources.lookup
    )
    if req.openid:
        try:
            svc.oidc.id_alg(req.client)
        except OAuthError as exc:
            raise RedirectError(
                exc.error, exc.description, req.redirect_uri, req.state, req.response_mode
            ) from None
    return req


async def carried_authorization(
    svc: TokenService, form: Mapping[str, str]
) -> AuthorizationRequest | Response:
    """Validate again the authorization request a login or consent form carries; if it
    fails, return the answer instead (an error page, or the error sent to the client)."""
    try:
        return await parse_authorization(svc, form.get("request", ""))
    except PageError as exc:
        return error_page(svc, exc.message)
    except RedirectError as exc:
        return error_to_client(svc, exc)


def cookie_name(svc: TokenService) -> str:
    """Return the session cookie's name: ``__Host-`` over HTTPS, so that the browser refuses
    the cookie from a subdomain or a plain-http page, and pins it to this host and path ``/``."""
    s = svc.settings
    prefix = "__Host-" if s.base_url.startswith("https://") and s.cookie_secure else ""
    return prefix + s.session_cookie_name


def set_session_cookie(
    response: Response, svc: TokenService, value: str, max_age: int | None
) -> None:
    """Set the browser session cookie (HttpOnly, SameSite=Lax, path ``/``)."""
    response.set_cookie(
        cookie_name(svc),
        value,
        max_age=max_age,
        path="/",
        secure=svc.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, svc: TokenService) -> None:
    """Expire the browser session cookie (after logout)."""
    response.delete_cookie(
        cookie_name(svc), path="/", secure=svc.settings.cookie_secure, httponly=True,
        samesite="lax",
    )  # fmt: skip


def base(svc: TokenService) -> str:
    """Return the path prefix of the service's URLs (the issuer's path), for page links."""
    return urlsplit(svc.settings.base_url).path.rstrip("/")


def page(
    svc: TokenService,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: object,
) -> Response:
    """Render one of the service's pages (the login page's template and headers)."""
    return render(svc.settings, template, status=status, headers=headers, base=base(svc), **context)


def error_page(
    svc: TokenService, message: str, *, status: int = 400, heading: str = "Sign-in request refused"
) -> Response:
    """Show an error on a page: for requests that cannot be trusted to redirect."""
    return page(svc, "error.html", status=status, heading=heading, message=message)


def redirect(url: str) -> Response:
    """Answer 303: the browser follows with a GET, also after a form's POST."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def to_client(
    svc: TokenService, redirect_uri: str, mode: str, params: dict[str, str | None]
) -> Response:
    """Send the authorization response (or error) to the client, with the RFC 9207 ``iss``.

    ``query``: a 303 to the redirect URI. ``form_post`` (OAuth 2.0 Form Post Response Mode):
    a page whose form posts the parameters to the redirect URI, sent by a same-origin script
    file or, without JavaScript, by its button; no inline script.
    """
    values = {**params, "iss": svc.settings.base_url}
    if mode != "form_post":
        return redirect(redirect_to(redirect_uri, values))
    fields = [(k, v) for k, v in values.items() if v is not None]
    headers = {"Content-Security-Policy": form_post_policy(redirect_uri)}
    return page(svc, "form_post.html", headers=headers, action=redirect_uri, fields=fields)


def error_to_client(svc: TokenService, exc: RedirectError) -> Response:
    """Send an RFC 6749 §4.1.2.1 error to the client in the request's response mode."""
    params = {"error": exc.error, "error_description": exc.description, "state": exc.state}
    return to_client(svc, exc.redirect_uri, exc.mode, params)


def same_origin(request: Request, svc: TokenService) -> bool:
    """Say whether a form comes from this service's own page (or an old browser).

    Defence in depth next to the CSRF token. The pages' Referrer-Policy makes browsers send
    ``Origin: null`` with their forms, so a null origin says nothing; Sec-Fetch-Site does.
    """
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


async def checked_form(
    request: Request, svc: TokenService, form: str, *, heading: str = "Sign-in request refused"
) -> tuple[dict[str, str], str] | Response:
    """Read the form of one of the service's pages (``login``, ``consent``, ``logout``) and
    return it with the session cookie it is bound to, or the error page that refuses it.

    Refused: a form from another site (:func:`same_origin`), an unreadable one, and one
    without the CSRF token of this browser's cookie for this form.
    """
    if not same_origin(request, svc):
        return error_page(svc, "The form was sent from another site.", status=403, heading=heading)
    try:
        values = await read_form(request, max_size=svc.settings.max_body_size)
    except OAuthError:
        return error_page(svc, "The form could not be read.", heading=heading)
    cookie = request.cookies.get(cookie_name(svc))
    if cookie is None or not svc.oidc.check_csrf(cookie, values.get("csrf_token"), form):
        again = "sign out again" if form == "logout" else "sign in again"
        return error_page(
            svc,
            f"The form expired or was sent from another site. Go back to the application "
            f"and {again}.",
            status=403,
            heading=heading,
        )
    return values, cookie
