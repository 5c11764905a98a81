"""The consent page and ``POST /consent`` (rules: :mod:`jwtkit.server._consent`).

:func:`finish` is the last step of every authorization once the user is known (a live
session, a fresh login or an answered consent page): the consent page when it is needed,
``consent_required`` for ``prompt=none``, else the code.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from jwtkit._storage import SessionRow
from jwtkit.server._authorize import AuthorizationRequest
from jwtkit.server._routes._browser import (
    carried_authorization,
    checked_form,
    error_page,
    page,
    to_client,
)
from jwtkit.server._routes._common import service
from jwtkit.server._service import TokenService

__all__ = ["consent", "finish"]


async def _code(svc: TokenService, req: AuthorizationRequest, session: SessionRow) -> Response:
    params = await run_in_threadpool(svc.oidc.authorize, req, session)
    return to_client(svc, req.redirect_uri, req.response_mode, params)


async def finish(
    svc: TokenService, req: AuthorizationRequest, session: SessionRow, cookie: str
) -> Response:
    """Answer an authorization request whose user is logged in (``session``, under the
    browser's ``cookie``): the consent page, ``consent_required``, or the code."""
    needed = await run_in_threadpool(svc.oidc.consent.needed, req, session.username)
    if not needed:
        return await _code(svc, req, session)
    if "none" in req.prompt:
        params = {
            "error": "consent_required",
            "error_description": "the user has not allowed this application yet",
            "state": req.state,
        }
        return to_client(svc, req.redirect_uri, req.response_mode, params)
    lines = await run_in_threadpool(svc.oidc.consent.lines, req)
    return page(
        svc,
        "consent.html",
        client_id=req.client.client_id,
        username=session.username,
        lines=lines,
        resources=req.resources,
        csrf_token=svc.oidc.csrf_token(cookie, "consent"),
        request=req.query,
    )


async def consent(request: Request) -> Response:
    """Take the consent page's answer: remember an allow and send the code, or send
    ``access_denied`` (RFC 6749 §4.1.2.1). Needs the live session the page was shown to."""
    svc = service(request)
    checked = await checked_form(request, svc, "consent")
    if isinstance(checked, Response):
        return checked
    form, cookie = checked
    browser = await run_in_threadpool(svc.oidc.browser, cookie)
    if browser.row is None:
        return error_page(
            svc, "Your session ended. Go back to the application and sign in again.", status=403
        )
    req = await carried_authorization(svc, form)
    if isinstance(req, Response):
        return req
    decision = form.get("decision")
    if decision == "allow":
        await run_in_threadpool(svc.oidc.consent.remember, req, browser.row.username)
        return await _code(svc, req, browser.row)
    if decision == "deny":
        params = {
            "error": "access_denied",
            "error_description": "the user did not allow the request",
            "state": req.state,
        }
        return to_client(svc, req.redirect_uri, req.response_mode, params)
    return error_page(svc, "The form could not be read.")
