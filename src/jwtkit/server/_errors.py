"""OAuth 2.0 error responses (RFC 6749 §5.2), produced in one place.

Handlers raise :class:`OAuthError`; the exception handlers registered by ``create_app`` turn
it, a store failure, or a rejected token into a JSON response with ``Cache-Control: no-store``.
Unexpected exceptions are left to Starlette's error middleware: a 500 that is logged.
"""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "NO_STORE",
    "RETRY_AFTER",
    "OAuthError",
    "invalid_client",
    "oauth_error_handler",
    "pause_before_refusal",
    "store_error_handler",
    "too_many_requests",
    "unavailable",
]

logger = logging.getLogger("jwtkit.server")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` code, a generic description, an HTTP status."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def response(self) -> Response:
        """Return the JSON error response for this error."""
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers={**NO_STORE, **self.headers},
        )


def invalid_client(*, basic: bool) -> OAuthError:
    """Return the invalid_client error; with a Basic challenge when Basic was tried (§5.2)."""
    headers = {"WWW-Authenticate": 'Basic realm="jwtkit", charset="UTF-8"'} if basic else {}
    return OAuthError("invalid_client", "client authentication failed", status=401, headers=headers)


def too_many_requests(error: str, description: str, retry_after: int) -> OAuthError:
    """Return a 429 answer with ``Retry-After`` (a limit holds, or hashing is saturated)."""
    return OAuthError(
        error, description, status=429, headers={"Retry-After": str(max(1, retry_after))}
    )


async def oauth_error_handler(request: Request, exc: Exception) -> Response:
    """Render an OAuthError raised by a handler.

    A 429 is sent after about ``refusal_delay`` seconds: a client that ignores
    ``Retry-After`` then waits on an idle connection instead of turning cheap refusals into a
    flood. The wait holds no thread and no CPU (issue 10). It is jittered (0.5 to 1.5 times
    the delay) so that many refused connections do not come back in step: in step, 150 of
    them made bursts that held every other request up.
    """
    assert isinstance(exc, OAuthError)  # noqa: S101 - registered for this class only
    if exc.status == 429:
        settings = getattr(getattr(request.app.state, "service", None), "settings", None)
        await pause_before_refusal(getattr(settings, "refusal_delay", 0.0))
    return exc.response()


async def pause_before_refusal(delay: float) -> None:
    """Wait about ``delay`` seconds (0.5 to 1.5 times it) before a 429 goes out."""
    if delay > 0:
        await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # noqa: S311 - jitter


RETRY_AFTER = "1"


def unavailable() -> OAuthError:
    """Return the 503 ``temporarily_unavailable`` answer, with ``Retry-After``."""
    return OAuthError(
        "temporarily_unavailable",
        "the service store is unavailable",
        status=503,
        headers={"Retry-After": RETRY_AFTER},
    )


async def store_error_handler(request: Request, exc: Exception) -> Response:
    """Answer 503 + ``Retry-After`` when the store is unreachable or broken; log the cause
    (store messages never hold SQL, data or secrets)."""
    logger.error("store error while serving %s: %s", request.url.path, exc)
    return unavailable().response()
