"""``BearerAuthMiddleware``: protect a whole ASGI application with Bearer JWTs (RFC 6750).

A pure ASGI component (no framework needed): HTTP requests must carry a valid
``Authorization: Bearer <jwt>``; the verified claims are put in ``scope["state"]["jwt_claims"]``
(Starlette/FastAPI: ``request.state.jwt_claims``). Lifespan and websocket scopes pass through.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from jwtkit.client._auth import AuthenticationError, Authenticator, RevocationCheck
from jwtkit.client._types import ASGIApp, Receive, Scope, Send
from jwtkit.client.verifier import AsyncTokenVerifier, TokenVerifier

__all__ = ["BearerAuthMiddleware"]

# The key under ``scope["state"]`` holding the verified claims (documented in docs/client.md).
_CLAIMS_KEY = "jwt_claims"


class BearerAuthMiddleware:
    """Refuse HTTP requests without a valid Bearer token; pass the claims on to the app.

    ``verifier`` is a ``jwtkit.Verifier`` (sync; keep its key source cached, or use an
    ``AsyncVerifier`` so a JWKS refetch never blocks the event loop). ``scopes`` are required
    on every request. ``is_revoked(claims, token)`` (sync or async) may reject a verified
    token; ``IntrospectionRevocationCheck`` is a ready-made one. ``exclude_paths`` are exact
    paths served without authentication (health checks).

    Answers: 401 with ``WWW-Authenticate: Bearer realm="..."`` when no token is sent; 401
    ``error="invalid_token"`` when it is rejected, expired or revoked; 403
    ``error="insufficient_scope"`` when a scope is missing; 400 ``invalid_request`` for
    repeated Authorization headers; 503 when the issuer's keys cannot be fetched.

    Example::

        app = BearerAuthMiddleware(app, Verifier(JWKSClient(url), algorithms=["ES256"],
                                   issuer=iss, audience="api"), scopes=["read"])
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier | AsyncTokenVerifier,
        *,
        scopes: Iterable[str] = (),
        realm: str = "api",
        is_revoked: RevocationCheck | None = None,
        exclude_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self._auth = Authenticator(verifier, scopes=scopes, realm=realm, is_revoked=is_revoked)
        self._exclude = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate an HTTP request, then call the app with the claims in its state."""
        if scope["type"] != "http" or scope.get("path") in self._exclude:
            await self.app(scope, receive, send)
            return
        try:
            claims = await self._auth.authenticate(scope.get("headers") or [])
        except AuthenticationError as failure:
            await _respond(send, failure)
            return
        # A fresh state dict per request: writing into a state dict the server might share
        # between requests could leak one caller's claims to another.
        state = dict(scope.get("state") or {})
        state[_CLAIMS_KEY] = claims
        await self.app({**scope, "state": state}, receive, send)


async def _respond(send: Send, failure: AuthenticationError) -> None:
    body = failure.body()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    headers += [(name.lower().encode(), value.encode()) for name, value in failure.headers.items()]
    await send({"type": "http.response.start", "status": failure.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
