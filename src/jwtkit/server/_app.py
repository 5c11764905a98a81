"""``create_app``: the token service as a Starlette ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from jwtkit.errors import KeyStoreError
from jwtkit.server import _accesslog as accesslog
from jwtkit.server._cors import CORSMiddleware
from jwtkit.server._errors import OAuthError, oauth_error_handler, store_error_handler
from jwtkit.server._origins import RegisteredOrigins
from jwtkit.server._routes import ROUTES
from jwtkit.server._service import Clock, TokenService
from jwtkit.server._settings import Settings

__all__ = ["create_app"]

logger = logging.getLogger("jwtkit.server")


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    """Build the token-service application over the store named in ``settings``.

    The key manager and the service tables are opened here, so a missing master key or an
    unreachable store fails now, before the server accepts connections. While the app runs
    (ASGI lifespan), a background task calls ``KeyManager.maintain()`` every
    ``maintain_interval`` seconds and purges expired tokens. ``clock`` (seconds since the
    epoch) is for tests. ``app.state.service`` is the :class:`TokenService`. It also attaches
    :class:`~jwtkit.server._accesslog.RedactQuery` to uvicorn's access logger. The CORS
    endpoints answer the origins registered for clients (:mod:`jwtkit.server._cors`).

    Raises:
        KeyStoreError: the store cannot be opened, or the master key is missing or wrong.

    Example::

        app = create_app(Settings.from_env())
        # uvicorn.run(app), or jwtkit.server.serve(settings, "127.0.0.1", 8000)
    """
    svc = TokenService(settings, clock=clock)
    # Issue 12: no query-string value (a misplaced secret) reaches uvicorn's access log.
    accesslog.install()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_maintain_forever(svc))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            svc.close()

    origins = RegisteredOrigins(svc.accounts.origin_registered, ttl=settings.cors_cache_ttl)
    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        middleware=[Middleware(CORSMiddleware, allowed=origins.allows)],
        exception_handlers={
            OAuthError: oauth_error_handler,
            KeyStoreError: store_error_handler,
        },
    )
    app.state.service = svc
    return app


async def _maintain_forever(svc: TokenService) -> None:
    """Run maintenance on a timer; a failure is logged and retried at the next tick."""
    while True:
        try:
            await run_in_threadpool(svc.maintain)
        except Exception as exc:  # The timer must survive a store outage.
            logger.error("key maintenance failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(svc.settings.maintain_interval)
