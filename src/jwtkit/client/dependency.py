"""``RequireToken``: a FastAPI/Starlette dependency that returns verified Bearer claims.

Needs Starlette (``pip install 'jwtkit[server]'``, or FastAPI, which brings it); it is imported
when a ``RequireToken`` is created, so ``jwtkit.client`` itself works without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from jwtkit.client._auth import AuthenticationError, Authenticator, RevocationCheck
from jwtkit.client.verifier import AsyncTokenVerifier, Claims, TokenVerifier

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

__all__ = ["RequireToken"]

_INSTALL_HINT = (
    "RequireToken needs Starlette; install it with: pip install 'jwtkit[server]' "
    "(or install FastAPI)"
)


def _http_exception_class() -> type[Exception]:
    try:
        from starlette.exceptions import HTTPException
    except ImportError as exc:  # pragma: no cover - exercised only without starlette
        raise ImportError(_INSTALL_HINT) from exc
    return HTTPException


class RequireToken:
    """A dependency that verifies the request's Bearer token and returns its claims.

    FastAPI: ``claims: dict = Depends(RequireToken(verifier, scopes=["read"]))``.
    Starlette: ``claims = await require(request)`` inside an endpoint.

    Failures raise ``starlette.exceptions.HTTPException`` (which FastAPI handles too) with
    the same status codes and ``WWW-Authenticate`` challenges as ``BearerAuthMiddleware``:
    401 without a token or with a rejected one (``invalid_token``), 403
    ``insufficient_scope``, 503 when the issuer's keys are unavailable.

    Raises:
        ImportError: at construction, with an install hint, when Starlette is missing.
    """

    def __init__(
        self,
        verifier: TokenVerifier | AsyncTokenVerifier,
        scopes: Iterable[str] = (),
        *,
        realm: str = "api",
        is_revoked: RevocationCheck | None = None,
    ) -> None:
        self._http_exception = _http_exception_class()
        self._auth = Authenticator(verifier, scopes=scopes, realm=realm, is_revoked=is_revoked)

    async def __call__(self, request: HTTPConnection) -> Claims:
        """Return the verified claims of ``request``'s Bearer token or raise HTTPException."""
        try:
            return await self._auth.authenticate(request.scope.get("headers") or [])
        except AuthenticationError as failure:
            raise self._http_exception(  # type: ignore[call-arg]
                failure.status, detail=failure.description, headers=failure.headers
            ) from None
