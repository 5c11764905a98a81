"""HTTP endpoints of the token service, one module per concern."""

from __future__ import annotations

from starlette.routing import Route

from jwtkit.server._routes.authorize import authorize, login, static
from jwtkit.server._routes.consent import consent
from jwtkit.server._routes.discovery import healthz, jwks, metadata
from jwtkit.server._routes.logout import logout, logout_confirm
from jwtkit.server._routes.revocation import introspect, revocation_list, revoke
from jwtkit.server._routes.token import token
from jwtkit.server._routes.userinfo import userinfo

__all__ = ["ROUTES"]

ROUTES = [
    Route("/token", token, methods=["POST"]),
    Route("/revoke", revoke, methods=["POST"]),
    Route("/introspect", introspect, methods=["POST"]),
    Route("/revocations", revocation_list, methods=["GET", "HEAD"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET", "HEAD"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET", "HEAD"]),
    Route("/.well-known/openid-configuration", metadata, methods=["GET", "HEAD"]),
    Route("/authorize", authorize, methods=["GET", "HEAD"]),
    Route("/login", login, methods=["POST"]),
    Route("/consent", consent, methods=["POST"]),
    Route("/logout", logout, methods=["GET", "POST"]),
    Route("/logout/confirm", logout_confirm, methods=["POST"]),
    Route("/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/static/{name}", static, methods=["GET", "HEAD"]),
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
]
