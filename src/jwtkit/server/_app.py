"""``create_app``: the token service as a Starlette ASGI application, assembled from ``Settings``.

:func:`open_parts` opens every collaborator of the :class:`TokenService` (store, key
manager, accounts, token store, limiter, hashing threads, signer, verifier),
:func:`open_service` puts the service over them and :func:`build_app` the HTTP layer over a
service, so a test or a deployment can replace a part and still serve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from jwtkit._storage import Database, limits_salt, open_limit_store
from jwtkit.errors import KeyStoreError
from jwtkit.jwa import ASYMMETRIC_ALGORITHMS
from jwtkit.keys import KeyManager, RotationPolicy
from jwtkit.server import _accesslog as accesslog
from jwtkit.server._accounts import Accounts, make_password_hasher
from jwtkit.server._cors import CORSMiddleware
from jwtkit.server._errors import OAuthError, oauth_error_handler, store_error_handler
from jwtkit.server._origins import RegisteredOrigins
from jwtkit.server._passwords import HashingExecutor, default_hash_workers
from jwtkit.server._ratelimit import Limiter, policies
from jwtkit.server._resources import Resources
from jwtkit.server._revocations import RevocationState
from jwtkit.server._routes import ROUTES
from jwtkit.server._service import (
    ACCESS_TOKEN_TYPE,
    Clock,
    ServiceParts,
    TokenService,
)
from jwtkit.server._settings import Settings
from jwtkit.server._tokens import TokenStore

__all__ = ["build_app", "create_app", "open_parts", "open_service"]

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
    return build_app(open_service(settings, clock=clock))


def build_app(svc: TokenService) -> Starlette:
    """Return the ASGI application over an assembled service; it closes ``svc`` at shutdown."""
    settings = svc.settings
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


def open_service(settings: Settings, *, clock: Clock | None = None) -> TokenService:
    """Open the service's collaborators as ``settings`` say, and return the service over them.

    Raises:
        KeyStoreError: the store cannot be opened, or the master key is missing or wrong.
    """
    now: Clock = clock or time.time
    parts = open_parts(settings, clock=now)
    try:
        return TokenService(settings, parts, clock=now)
    except BaseException:
        parts.close()
        raise


def open_parts(settings: Settings, *, clock: Clock) -> ServiceParts:
    """Open the collaborators of a :class:`TokenService` as ``settings`` say.

    Whatever was opened is closed again if a later step fails.

    Raises:
        KeyStoreError: the store cannot be opened, or the master key is missing or wrong.
    """
    policy = RotationPolicy(
        alg=settings.signing_alg,
        rotation_period=timedelta(seconds=settings.key_rotation_period),
        # Retired keys must verify for as long as the tokens they signed live.
        max_token_lifetime=timedelta(
            seconds=max(3600, settings.access_token_lifetime, settings.id_token_lifetime)
        ),
    )
    with contextlib.ExitStack() as undo:
        # One store for the keys and the service tables. Opening writes nothing: the key
        # manager checks the master key before it upgrades an older schema.
        db = Database.open(
            settings.store,
            timeout=settings.store_timeout,
            pool_size=settings.store_pool_size,
            migrate=False,
        )
        undo.callback(db.close)
        keys = KeyManager.open(
            db,
            master_key=settings.master_key,
            policy=policy,
            refresh_interval=settings.key_cache_ttl,
            signing_algs=settings.signing_algs,
        )
        undo.callback(_quietly(keys.close))
        limits = open_limit_store(
            db, redis_url=settings.redis_url, redis_prefix=settings.redis_prefix
        )
        undo.callback(_quietly(limits.close))
        limiter = Limiter(limits, salt=limits_salt(db), policies=policies(settings))
        hashing = HashingExecutor(
            settings.hash_workers or default_hash_workers(settings.argon2_parallelism),
            settings.hash_queue,
            priority=settings.hash_priority,
        )
        undo.callback(_quietly(hashing.shutdown))
        # Load the key cache now: JWKS is then served from memory on the event loop.
        keys.jwks()
        hasher = make_password_hasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        parts = ServiceParts(
            db=db,
            keys=keys,
            accounts=Accounts(
                db, hasher=hasher, clock=clock, client_cache_ttl=settings.client_cache_ttl
            ),
            resources=Resources(db, clock=clock),
            tokens=TokenStore(
                db,
                lifetime=settings.refresh_token_lifetime,
                grace_seconds=settings.refresh_grace_seconds,
                family_lifetime=settings.refresh_family_lifetime,
            ),
            # A cut-off matters while a token issued before it may be valid: the longest
            # lifetime the signer allows, plus a minute for clocks that differ between hosts.
            revocations=RevocationState(
                db,
                horizon=policy.max_token_lifetime.total_seconds() + 60,
                list_cache=settings.revocation_list_cache,
            ),
            limits=limits,
            limiter=limiter,
            hashing=hashing,
            signer=keys.signer(
                issuer=settings.base_url,
                audience=settings.token_audience,
                lifetime=settings.access_token_lifetime,
                typ=ACCESS_TOKEN_TYPE,
            ),
            # Asymmetric algorithms only: the service signs with its published keys, never
            # with a MAC (RFC 8725 §3.1: an allow-list, never the token's own alg).
            verifier=keys.verifier(
                algorithms=ASYMMETRIC_ALGORITHMS,
                issuer=settings.base_url,
                audience=settings.token_audience,
                typ=ACCESS_TOKEN_TYPE,
            ),
        )
        undo.pop_all()
    return parts


def _quietly(close: Callable[[], None]) -> Callable[[], None]:
    """Wrap a clean-up step of a failed start, so that its own error hides no earlier one."""

    def run() -> None:
        with contextlib.suppress(Exception):
            close()

    return run


async def _maintain_forever(svc: TokenService) -> None:
    """Run maintenance on a timer; a failure is logged and retried at the next tick."""
    while True:
        try:
            await run_in_threadpool(svc.maintain)
        except Exception as exc:  # The timer must survive a store outage.
            logger.error("key maintenance failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(svc.settings.maintain_interval)
