"""``serve``: run the token service with uvicorn (what ``jwtkit serve`` calls)."""

from __future__ import annotations

import copy
import logging
import logging.config
from typing import Any

from jwtkit.server.app import create_app
from jwtkit.server.settings import Settings

__all__ = ["serve", "startup_banner"]

logger = logging.getLogger("jwtkit.server")


def startup_banner(settings: Settings, host: str, port: int) -> list[str]:
    """Return the start-up lines: issuer, JWKS URL and a curl line for a first token."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    shown = f"[{shown}]" if ":" in shown else shown
    token_url = f"http://{shown}:{port}/token"
    return [
        f"issuer: {settings.base_url}",
        f"JWKS: {settings.base_url}/.well-known/jwks.json",
        "first token (after `jwtkit user add USER` and `jwtkit client add CLIENT_ID`):",
        f"  curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=password -d username=USER"
        f" --data-urlencode password=PASSWORD {token_url}",
    ]


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, **uvicorn_options: Any
) -> None:
    """Open the store, log how to get a first token, and serve until interrupted.

    Extra keyword options go to ``uvicorn.Config`` (for example ``log_level``).

    Raises:
        KeyStoreError: the store or master key is unusable (before anything listens).
    """
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    app = create_app(settings)
    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["jwtkit"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    logging.config.dictConfig(log_config)
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
    uvicorn.Server(uvicorn.Config(app, **options)).run()
