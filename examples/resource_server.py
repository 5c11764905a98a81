"""A resource server that verifies jwtkit access tokens locally and honours revocations.

It fetches the issuer's keys (``AsyncJWKSClient``) and polls its revocation list
(``RevocationListCheck``) in the background, so a revoked token, session, user or client is
refused within ``max_staleness`` seconds without a call to the issuer per request. Register
it as a resource-server client first, then run it::

    jwtkit client add api --resource-server --grant client_credentials   # prints a secret
    RS_CLIENT_ID=api RS_CLIENT_SECRET=... \\
        python examples/resource_server.py http://127.0.0.1:8000 [PORT]

Settings come from the environment: ``RS_CLIENT_ID`` and ``RS_CLIENT_SECRET`` (required),
``RS_ISSUER`` (the ``iss`` claim; default the issuer URL), ``RS_AUDIENCE`` (default the
issuer; with RFC 8707 resource indicators, the URI registered with ``jwtkit resource add``),
``RS_INTERVAL`` (2 s), ``RS_MAX_STALENESS`` (10 s) and ``RS_CORS_ORIGINS`` (space-separated
browser origins allowed to call the API, for a single-page app; default none). ``GET /me``
answers the token's subject, audience and scope; ``GET /healthz`` needs no token.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwtkit.client import AsyncJWKSClient, AsyncVerifier, BearerAuthMiddleware, RevocationListCheck


def build_app(issuer_url: str) -> CORSMiddleware:
    """Return the protected API for the token service at ``issuer_url``."""
    base = issuer_url.rstrip("/")
    issuer = os.environ.get("RS_ISSUER", base)
    # Plain http is accepted for a loopback issuer only (local runs and tests).
    jwks = AsyncJWKSClient(base + "/.well-known/jwks.json", allow_http_loopback=True)
    verifier = AsyncVerifier(
        jwks,
        algorithms=["ES256", "RS256", "EdDSA"],
        issuer=issuer,
        audience=os.environ.get("RS_AUDIENCE", issuer),
        typ="at+jwt",
    )
    revocations = RevocationListCheck(
        base + "/revocations",
        os.environ["RS_CLIENT_ID"],
        os.environ["RS_CLIENT_SECRET"],
        interval=float(os.environ.get("RS_INTERVAL", "2")),
        max_staleness=float(os.environ.get("RS_MAX_STALENESS", "10")),
        allow_http_loopback=True,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        revocations.start()
        try:
            yield
        finally:
            revocations.close()
            await jwks.aclose()

    async def me(request: Request) -> Response:
        claims = request.state.jwt_claims
        return JSONResponse(
            {"sub": claims["sub"], "aud": claims["aud"], "scope": claims.get("scope")}
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"revocation_list_age": revocations.age})

    app = Starlette(routes=[Route("/me", me), Route("/healthz", healthz)], lifespan=lifespan)
    protected = BearerAuthMiddleware(
        app, verifier, is_revoked=revocations, exclude_paths=["/healthz"]
    )
    # CORS goes outside the Bearer check: a preflight carries no token, and a page must be
    # able to read a 401 and its WWW-Authenticate challenge.
    return CORSMiddleware(
        protected,
        allow_origins=os.environ.get("RS_CORS_ORIGINS", "").split(),
        allow_methods=["GET"],
        allow_headers=["Authorization"],
        expose_headers=["WWW-Authenticate", "Retry-After"],
        max_age=600,
    )


def main(argv: list[str]) -> None:
    """Serve the API on 127.0.0.1 (port 0 picks a free one; uvicorn logs which)."""
    port = int(argv[2]) if len(argv) > 2 else 8001
    uvicorn.run(build_app(argv[1]), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main(sys.argv)
