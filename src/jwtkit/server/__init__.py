"""The jwtkit token service: an OAuth 2.0 authorization server issuing RFC 9068 JWTs.

Install with ``pip install 'jwtkit[server]'``. ``create_app(settings)`` builds the ASGI app;
``serve(settings, host, port)`` runs it with uvicorn; ``Accounts`` manages users and clients,
``Resources`` the RFC 8707 resources (APIs) tokens may be issued for.
"""

from __future__ import annotations

try:
    import argon2  # noqa: F401
    import starlette  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("jwtkit.server needs the server extra: pip install 'jwtkit[server]'") from exc

from jwtkit.server._accounts import (
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    Accounts,
    ClientInfo,
    InvalidAccountError,
    UserInfo,
)
from jwtkit.server._app import create_app
from jwtkit.server._records import ConsentInfo
from jwtkit.server._resources import ResourceInfo, Resources
from jwtkit.server._serve import serve
from jwtkit.server._service import Clock
from jwtkit.server._settings import Settings, SettingsError

__all__ = [
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "Accounts",
    "ClientInfo",
    "Clock",
    "ConsentInfo",
    "InvalidAccountError",
    "ResourceInfo",
    "Resources",
    "Settings",
    "SettingsError",
    "UserInfo",
    "create_app",
    "serve",
]
