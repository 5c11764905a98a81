"""Discovery endpoints: JWKS (RFC 7517), server metadata (RFC 8414), health check."""

from __future__ import annotations

import hashlib
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jwtkit.errors import KeyStoreError
from jwtkit.server.accounts import GRANT_TYPES
from jwtkit.server.errors import RETRY_AFTER
from jwtkit.server.routes._common import service

__all__ = ["healthz", "jwks", "metadata"]


async def jwks(request: Request) -> Response:
    """Serve the public keys verifiers must trust now, cacheable, with a strong ETag.

    ``max-age`` is short next to the publication delay of pending keys, so every cache
    learns a new key before the first token signed with it appears.
    """
    svc = service(request)
    keys = await run_in_threadpool(svc.keys.jwks)
    body = json.dumps(keys, sort_keys=True, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={svc.settings.jwks_max_age}",
        "ETag": etag,
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/jwk-set+json", headers=headers)


def _etag_matches(header: str | None, etag: str) -> bool:
    """Apply RFC 9110 §13.1.2 weak comparison to an If-None-Match list."""
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


async def metadata(request: Request) -> Response:
    """Serve the RFC 8414 authorization server metadata."""
    svc = service(request)
    base = svc.settings.base_url
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    body = {
        "issuer": base,
        "token_endpoint": base + "/token",
        "jwks_uri": base + "/.well-known/jwks.json",
        "revocation_endpoint": base + "/revoke",
        "introspection_endpoint": base + "/introspect",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:2],
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=3600"})


async def healthz(request: Request) -> Response:
    """Answer 200 when the store answers within the store timeout, 503 otherwise.

    Load balancers take a 503 as "not ready": send traffic elsewhere until it passes again.
    """
    svc = service(request)
    try:
        await run_in_threadpool(svc.ping)
    except KeyStoreError:
        return JSONResponse(
            {"status": "unavailable"},
            status_code=503,
            headers={"Cache-Control": "no-store", "Retry-After": RETRY_AFTER},
        )
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
