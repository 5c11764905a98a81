"""``serve``: run the token service with uvicorn (what ``jwtkit serve`` calls)."""

from __future__ import annotations

import copy
import logging
import logging.config
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from jwtkit.errors import StoreUnavailableError
from jwtkit.server._app import create_app
from jwtkit.server._guard import ensure_file_limit, guarded_protocol
from jwtkit.server._settings import Settings

__all__ = ["open_with_retry", "serve", "startup_banner"]

logger = logging.getLogger("jwtkit.server")


def startup_banner(settings: Settings, host: str, port: int) -> list[str]:
    """Return the start-up lines: issuer, JWKS and discovery URLs, how to log in through the
    browser, and a curl line for a first machine token."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    shown = f"[{shown}]" if ":" in shown else shown
    token_url = f"http://{shown}:{port}/token"
    base = settings.base_url
    return [
        f"issuer: {base}",
        f"JWKS: {base}/.well-known/jwks.json",
        f"OpenID Connect discovery: {base}/.well-known/openid-configuration",
        "browser login (after `jwtkit user add USER` and `jwtkit client add CLIENT_ID"
        f" --redirect-uri URI`): {base}/authorize?response_type=code&client_id=CLIENT_ID&...",
        "machine token (after `jwtkit client add CLIENT_ID --grant client_credentials`):",
        f"  curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials {token_url}",
    ]


def open_with_retry(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep
) -> Starlette:
    """Build the app, retrying while the store is unavailable, for ``store_startup_timeout``.

    Waits 0.5 s, 1 s, 2 s, ... (at most 5 s) between attempts and logs one line per failed
    attempt; other errors (wrong master key, damaged store) fail at once.

    Raises:
        StoreUnavailableError: the store was still unavailable when the time ran out.
    """
    deadline = time.monotonic() + settings.store_startup_timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            return create_app(settings)
        except StoreUnavailableError as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.error("store unavailable (attempt %d), giving up: %s", attempt, exc)
                raise
            delay = min(0.5 * 2 ** (attempt - 1), 5.0, remaining)
            logger.warning(
                "store unavailable (attempt %d), retrying in %.1fs: %s", attempt, delay, exc
            )
            sleep(delay)


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, **uvicorn_options: Any
) -> None:
    """Open the store, log how to get a first token, and serve until interrupted.

    Extra keyword options go to ``uvicorn.Config`` (for example ``log_level``). A store that
    is unavailable at start is retried for ``settings.store_startup_timeout`` seconds. The
    header and body timeouts and the connection limit of ``settings`` are enforced by
    :func:`jwtkit.server._guard.guarded_protocol`.

    Raises:
        KeyStoreError: the store or master key is unusable (before anything listens).
    """
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["jwtkit"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    logging.config.dictConfig(log_config)
    app = open_with_retry(settings)
    for line in startup_banner(settings, host, port):
        logger.info("%s", line)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "proxy_headers": settings.forwarded_allow_ips is not None,
    }
    options.update(uvicorn_options)
    options["http"] = guarded_protocol(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=ensure_file_limit(settings.max_connections),
        http=options.get("http", "auto"),
    )
    uvicorn.Server(uvicorn.Config(app, **options)).run()
