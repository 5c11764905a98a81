"""``RequireToken``: a FastAPI/Starlette dependency that returns verified Bearer claims.

Needs Starlette (``pip install 'jwtkit[server]'``, or FastAPI, which brings it). This module
is loaded only when ``RequireToken`` is first imported, so the rest of ``jwtkit.client`` works
without Starlette.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar

from jwtkit.client._auth import AuthenticationError, Authenticator, RevocationCheck
from jwtkit.client.verifier import AsyncTokenVerifier, Claims, TokenVerifier

try:
    from starlette.exceptions import HTTPException

    # FastAPI resolves the annotation of ``__call__`` at runtime to inject the request, so
    # ``Request`` must be a real module global here, not a TYPE_CHECKING-only import.
    from starlette.requests import Request
    from starlette.responses import Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without starlette
    raise ImportError(
        "RequireToken needs Starlette; install it with: pip install 'jwtkit[server]' "
        "(or install FastAPI)"
    ) from exc

__all__ = ["BearerTokenError", "RequireToken"]


class BearerTokenError(HTTPException):
    """What ``RequireToken`` raises: an ``HTTPException`` that also carries the JSON body.

    ``error`` is the RFC 6750 §3.1 code (``invalid_request``, ``invalid_token``,
    ``insufficient_scope``), ``temporarily_unavailable`` for a 503, or None when the request
    carried no token. ``detail`` is the generic description, so frameworks that render
    ``HTTPException`` themselves (FastAPI: ``{"detail": ...}``) still say something useful.
    """

    def __init__(self, failure: AuthenticationError) -> None:
        super().__init__(failure.status, detail=failure.description, headers=failure.headers)
        self.error = failure.error
        self.body = failure.body()


async def _render(request: Any, exc: Exception) -> Response:
    """Render a BearerTokenError exactly as BearerAuthMiddleware answers (JSON, no-store)."""
    assert isinstance(exc, BearerTokenError)  # noqa: S101 (registered for this class only)
    headers = {**(exc.headers or {}), "Cache-Control": "no-store"}
    return Response(
        exc.body, status_code=exc.status_code, headers=headers, media_type="application/json"
    )


class RequireToken:
    """A dependency that verifies the request's Bearer token and returns its claims.

    FastAPI: ``claims: dict = Depends(RequireToken(verifier, scopes=["read"]))``.
    Starlette: ``claims = await require(request)`` inside an endpoint.

    Failures raise ``BearerTokenError`` (a ``starlette.exceptions.HTTPException``) with the
    same status codes and ``WWW-Authenticate`` challenges as ``BearerAuthMiddleware``: 401
    without a token or with a rejected one (``invalid_token``), 403 ``insufficient_scope``,
    503 when the issuer's keys are unavailable. Register ``RequireToken.exception_handlers``
    with the app (``Starlette(exception_handlers=...)``, ``FastAPI(exception_handlers=...)``)
    and the answers carry the middleware's JSON bodies too; without it, Starlette answers
    ``text/plain`` and FastAPI ``{"detail": ...}``.

    Importing ``RequireToken`` without Starlette installed raises ImportError with an
    install hint; the rest of ``jwtkit.client`` works without it.
    """

    #: The handler that renders ``BearerTokenError`` as JSON (``{"error": ..., "error_description":
    #: ...}``, no ``error`` without a token): pass it to the app's ``exception_handlers``.
    exception_handlers: ClassVar[Mapping[Any, Callable[[Any, Exception], Awaitable[Response]]]] = {
        BearerTokenError: _render
    }

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
        """Return the verified claims of ``request``'s Bearer token or raise BearerTokenError."""
        try:
            return await self._auth.authenticate(request.scope.get("headers") or [])
        except AuthenticationError as failure:
            raise BearerTokenError(failure) from None
