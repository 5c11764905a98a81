"""Resource-server side of jwtkit: fetch issuer keys and protect ASGI apps with Bearer JWTs.

- ``JWKSClient`` / ``AsyncJWKSClient``: fetch and cache a remote JWKS safely (a ``KeySource``).
- ``AsyncVerifier``: verify with keys from an ``AsyncJWKSClient`` without blocking.
- ``BearerAuthMiddleware``: pure ASGI middleware answering RFC 6750 401/403 challenges.
- ``RequireToken``: FastAPI/Starlette dependency returning the verified claims.
- ``IntrospectionRevocationCheck``: RFC 7662 ``is_revoked`` hook.

Needs httpx (``pip install 'jwtkit[client]'``); ``RequireToken`` also needs Starlette.
"""

from __future__ import annotations

try:
    import httpx  # noqa: F401 - imported first to turn a missing extra into an install hint
except ImportError as exc:  # pragma: no cover - exercised only without httpx
    raise ImportError(
        "jwtkit.client needs httpx; install it with: pip install 'jwtkit[client]'"
    ) from exc

from typing import TYPE_CHECKING

from jwtkit.client._auth import RevocationCheck, granted_scopes
from jwtkit.client.jwks import AsyncJWKSClient, JWKSClient
from jwtkit.client.middleware import BearerAuthMiddleware
from jwtkit.client.revocation import IntrospectionRevocationCheck
from jwtkit.client.verifier import AsyncKeySource, AsyncTokenVerifier, AsyncVerifier, TokenVerifier

if TYPE_CHECKING:
    from jwtkit.client.dependency import RequireToken

__all__ = [
    "AsyncJWKSClient",
    "AsyncKeySource",
    "AsyncTokenVerifier",
    "AsyncVerifier",
    "BearerAuthMiddleware",
    "IntrospectionRevocationCheck",
    "JWKSClient",
    "RequireToken",
    "RevocationCheck",
    "TokenVerifier",
    "granted_scopes",
]


def __getattr__(name: str) -> object:
    """Load ``RequireToken`` on first use, so Starlette stays optional for everything else."""
    if name == "RequireToken":
        from jwtkit.client.dependency import RequireToken

        return RequireToken
    raise AttributeError(f"module 'jwtkit.client' has no attribute {name!r}")
