"""Discovery endpoints: JWKS (RFC 7517), server metadata (RFC 8414, OpenID Connect Discovery),
health check."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jwtkit.errors import KeyStoreError
from jwtkit.server._authorize import IDENTITY_SCOPES, RESPONSE_MODES
from jwtkit.server._errors import RETRY_AFTER
from jwtkit.server._records import GRANT_TYPES
from jwtkit.server._routes._common import service
from jwtkit.server._service import TokenService

__all__ = ["etag_matches", "healthz", "jwks", "metadata", "provider_metadata"]


async def jwks(request: Request) -> Response:
    """Serve the public keys verifiers must trust now, cacheable, with a strong ETag.

    ``max-age`` is short next to the publication delay of pending keys, so every cache
    learns a new key before the first token signed with it appears.
    """
    svc = service(request)
    # On the event loop: the key cache never waits for the store once loaded (the service
    # loads it at start), and no thread handoff means no wait for the GIL behind threads
    # doing other requests' work, hashing included (issue 10).
    body = svc.keys.jwks_json()  # The same bytes object until the key ring changes.
    etag = _jwks_etag(body)
    headers = {
        "Cache-Control": f"public, max-age={svc.settings.jwks_max_age}",
        "ETag": etag,
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/jwk-set+json", headers=headers)


_ETAGS: dict[bytes, str] = {}


def _jwks_etag(body: bytes) -> str:
    """Return the strong ETag of a JWKS body (remembered for the last few bodies)."""
    etag = _ETAGS.get(body)
    if etag is None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if len(_ETAGS) >= 8:
            _ETAGS.clear()
        _ETAGS[body] = etag
    return etag


def etag_matches(header: str | None, etag: str) -> bool:
    """Apply RFC 9110 §13.1.2 weak comparison to an If-None-Match list."""
    if not header:
        return False
    candidates = [c.strip() for c in header.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


async def metadata(request: Request) -> Response:
    """Serve the RFC 8414 metadata, which is also the OpenID Provider metadata (OpenID
    Connect Discovery 1.0 §3) at ``/.well-known/openid-configuration``."""
    return JSONResponse(
        provider_metadata(service(request)), headers={"Cache-Control": "public, max-age=3600"}
    )


def provider_metadata(svc: TokenService) -> dict[str, Any]:
    """Return the one metadata document of both discovery URLs."""
    s = svc.settings
    base = s.base_url
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": base,
        "authorization_endpoint": base + "/authorize",
        "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/userinfo",
        "end_session_endpoint": base + "/logout",
        "jwks_uri": base + "/.well-known/jwks.json",
        "revocation_endpoint": base + "/revoke",
        "introspection_endpoint": base + "/introspect",
        "scopes_supported": list(IDENTITY_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(s.id_token_algs),
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:2],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "azp",
            "sid",
            "name",
            "preferred_username",
            "email",
            "email_verified",
            "roles",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


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
