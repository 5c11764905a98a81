"""``RequireToken``: a FastAPI/Starlette dependency that returns verified Bearer claims.

Needs Starlette (``pip install 'jwtkit[server]'``, or FastAPI, which brings it). This module
is loaded only when ``RequireToken`` is first imported, so the rest of ``jwtkit.client`` works
without Starlette.
"""

from __future__ import annotations

from collections.abc import Iterable

from jwtkit.client._auth import AuthenticationError, Authenticator, RevocationCheck
from jwtkit.client.verifier import AsyncTokenVerifier, Claims, TokenVerifier

try:
    from starlette.exceptions import HTTPException

    # FastAPI resolves the annotation of ``__call__`` at runtime to inject the request, so
    # ``Request`` must be a real module global here, not a TYPE_CHECKING-only import.
    from starlette.requests import Request
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without starlette
    raise ImportError(
        "RequireToken needs Starlette; install it with: pip install 'jwtkit[server]' "
        "(or install FastAPI)"
    ) from exc

__all__ = ["RequireToken"]


class RequireToken:
    """A dependency that verifies the request's Bearer token and returns its claims.

    FastAPI: ``claims: dict = Depends(RequireToken(verifier, scopes=["read"]))``.
    Starlette: ``claims = await require(request)`` inside an endpoint.

    Failures raise ``starlette.exceptions.HTTPException`` (which FastAPI handles too) with
    the same status codes and ``WWW-Authenticate`` challenges as ``BearerAuthMiddleware``:
    401 without a token or with a rejected one (``invalid_token``), 403
    ``insufficient_scope``, 503 when the issuer's keys are unavailable.

    Importing ``RequireToken`` without Starlette installed raises ImportError with an
    install hint; the rest of ``jwtkit.client`` works without it.
    """

    def __init__(
        self,
        verifier: TokenVerifier | AsyncTokenVerifier,
        scopes: Iterable[str] = (),
        *,
        realm: str = "api",
        is_revoked: RevocationCheck | None = None,
    ) -> None:
        self._auth = Authenticator(verifier, scopes=scopes, realm=realm, is_revoked=is_revoked)

    async def __call__(self, request: Request) -> Claims:
        """Return the verified claims of ``request``'s Bearer token or raise HTTPException."""
        try:
            return await self._auth.authenticate(request.scope.get("headers") or [])
        except AuthenticationError as failure:
            raise HTTPException(
                failure.status, detail=failure.description, headers=failure.headers
            ) from None
