"""``GET|POST /logout`` (the ``end_session_endpoint``) and ``POST /logout/confirm``.

RP-Initiated Logout 1.0; the rules are in :mod:`jwtkit.server._logout`. After logout the
browser goes to the client's registered ``post_logout_redirect_uri`` (with ``state``), or sees
a page saying it is signed out.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from jwtkit._storage import SessionRow
from jwtkit.server._authorize import redirect_to
from jwtkit.server._errors import OAuthError
from jwtkit.server._forms import parse_form, read_form
from jwtkit.server._logout import LogoutError, LogoutRequest, parse_logout
from jwtkit.server._oidc import BrowserSession
from jwtkit.server._routes._browser import (
    checked_form,
    clear_session_cookie,
    cookie_name,
    error_page,
    page,
    redirect,
)
from jwtkit.server._routes._common import service
from jwtkit.server._service import TokenService

__all__ = ["logout", "logout_confirm"]

_HEADING = "Sign-out request refused"


async def _parse(svc: TokenService, query: str) -> LogoutRequest | Response:
    """Validate a logout request given as a query string, or return the error page."""
    try:
        params = parse_form(query.encode("ascii", "replace"))
        return await run_in_threadpool(
            parse_logout, params, svc.accounts.get_client, svc.oidc.verify_id_token_hint
        )
    except OAuthError:
        return error_page(svc, "The sign-out request is malformed.", heading=_HEADING)
    except LogoutError as exc:
        return error_page(svc, exc.message, heading=_HEADING)


async def _signed_out(
    svc: TokenService, req: LogoutRequest, session: SessionRow | None
) -> Response:
    """End the sessions of ``req`` and answer: to the client, or with a page."""
    await run_in_threadpool(svc.oidc.end_sessions, req.sids(session))
    response = _after(svc, req, "You are signed out", "You can close this page.")
    clear_session_cookie(response, svc)
    return response


def _after(svc: TokenService, req: LogoutRequest, heading: str, message: str) -> Response:
    if req.redirect_uri is not None:
        return redirect(redirect_to(req.redirect_uri, {"state": req.state}))
    return page(svc, "message.html", heading=heading, message=message)


async def logout(request: Request) -> Response:
    """End the browser's session at an application's request, or ask the user first."""
    svc = service(request)
    query = request.url.query
    if request.method == "POST":
        try:
            query = urlencode(await read_form(request, max_size=svc.settings.max_body_size))
        except OAuthError:
            return error_page(svc, "The sign-out request is malformed.", heading=_HEADING)
    req = await _parse(svc, query)
    if isinstance(req, Response):
        return req
    cookie = request.cookies.get(cookie_name(svc))
    browser: BrowserSession = await run_in_threadpool(svc.oidc.browser, cookie)
    if browser.row is None or req.ends_at_once(browser.row):
        return await _signed_out(svc, req, browser.row)
    # A live session: the cookie exists, and the confirmation form is bound to it.
    return page(
        svc,
        "logout.html",
        client_id=req.client.client_id if req.client is not None else None,
        username=browser.row.username,
        csrf_token=svc.oidc.csrf_token(browser.cookie, "logout"),
        request=req.query,
    )


async def logout_confirm(request: Request) -> Response:
    """Take the confirmation page's answer: sign out, or stay signed in."""
    svc = service(request)
    checked = await checked_form(request, svc, "logout", heading=_HEADING)
    if isinstance(checked, Response):
        return checked
    form, cookie = checked
    req = await _parse(svc, form.get("request", ""))
    if isinstance(req, Response):
        return req
    browser = await run_in_threadpool(svc.oidc.browser, cookie)
    decision = form.get("decision")
    if decision == "logout":
        return await _signed_out(svc, req, browser.row)
    if decision == "stay":
        return _after(svc, req, "You are still signed in", "Nothing was changed.")
    return error_page(svc, "The form could not be read.", heading=_HEADING)
