"""Resource-server side of jwtkit: fetch issuer keys and protect ASGI apps with Bearer JWTs.

- ``JWKSClient`` / ``AsyncJWKSClient``: fetch and cache a remote JWKS safely (a ``KeySource``).
- ``AsyncVerifier``: verify with keys from an ``AsyncJWKSClient`` without blocking.
- ``BearerAuthMiddleware``: pure ASGI middleware answering RFC 6750 401/403 challenges.
- ``RequireToken``: FastAPI/Starlette dependency returning the verified claims (it raises
  ``BearerTokenError``; ``RequireToken.exception_handlers`` renders it as JSON).
- ``RevocationListCheck``: ``is_revoked`` hook polling the jwtkit service's revocation list.
- ``IntrospectionRevocationCheck``: RFC 7662 ``is_revoked`` hook.

Needs httpx (``pip install 'jwtkit[client]'``); ``RequireToken`` also needs Starlette.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jwtkit.client._auth import RevocationCheck, granted_scopes
    from jwtkit.client.dependency import BearerTokenError, RequireToken
    from jwtkit.client.jwks import AsyncJWKSClient, JWKSClient
    from jwtkit.client.middleware import BearerAuthMiddleware
    from jwtkit.client.revocation import IntrospectionRevocationCheck, RevocationListCheck
    from jwtkit.client.verifier import (
        AsyncKeySource,
        AsyncTokenVerifier,
        AsyncVerifier,
        TokenVerifier,
    )

__all__ = [
    "AsyncJWKSClient",
    "AsyncKeySource",
    "AsyncTokenVerifier",
    "AsyncVerifier",
    "BearerAuthMiddleware",
    "BearerTokenError",
    "IntrospectionRevocationCheck",
    "JWKSClient",
    "RequireToken",
    "RevocationCheck",
    "RevocationListCheck",
    "TokenVerifier",
    "granted_scopes",
]

# Names are loaded on first use (PEP 562), so ``import jwtkit.client`` alone needs no httpx
# and a missing extra is reported with an install hint.
_LAZY = {
    "AsyncJWKSClient": "jwtkit.client.jwks",
    "AsyncKeySource": "jwtkit.client.verifier",
    "AsyncTokenVerifier": "jwtkit.client.verifier",
    "AsyncVerifier": "jwtkit.client.verifier",
    "BearerAuthMiddleware": "jwtkit.client.middleware",
    "BearerTokenError": "jwtkit.client.dependency",
    "IntrospectionRevocationCheck": "jwtkit.client.revocation",
    "JWKSClient": "jwtkit.client.jwks",
    "RequireToken": "jwtkit.client.dependency",
    "RevocationCheck": "jwtkit.client._auth",
    "RevocationListCheck": "jwtkit.client.revocation",
    "TokenVerifier": "jwtkit.client.verifier",
    "granted_scopes": "jwtkit.client._auth",
}


def __getattr__(name: str) -> Any:
    """Load a public name on first use; a missing httpx gets an install hint."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jwtkit.client' has no attribute {name!r}")
    try:
        import httpx  # noqa: F401 - imported first to turn a missing extra into an install hint
    except ImportError as exc:  # pragma: no cover - exercised only without httpx
        raise ImportError(
            "jwtkit.client needs httpx; install it with: pip install 'jwtkit[client]'"
        ) from exc
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
