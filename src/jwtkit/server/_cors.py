"""CORS for the endpoints a browser application calls across origins, and for no other.

The token, revocation, userinfo, discovery and JWKS endpoints answer cross-origin requests
from the origins registered for a client (``jwtkit client add|set --origin``; the check is
:class:`~jwtkit.server._origins.RegisteredOrigins`), and only those: a request from any other
origin gets no ``Access-Control-Allow-Origin``, so the browser keeps the answer from the
page. A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered ``204``
with the endpoint's methods and the headers it reads, or ``403`` without CORS headers.
Credentials (cookies) are allowed on ``/token`` and ``/revoke`` only, for the refresh cookie
(whose own checks, in :mod:`jwtkit.server._origins`, still apply per client). Every answer of
these endpoints to a request with an ``Origin`` varies by it (``Vary: Origin``), since caches
(the JWKS is ``public``) must not hand one origin's answer to another. The pages (login,
consent, logout) and ``/introspect``/``/revocations`` (server to server) never send CORS
headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORS_PATHS", "CORSMiddleware", "PathRule"]

# The request headers a browser application may send: client authentication and bearer
# tokens, the form's content type, and the refresh cookie's CSRF header.
ALLOWED_HEADERS: Final = ("authorization", "content-type", "x-requested-with")
# What a page may read: the challenge of a refused token, and when to retry.
EXPOSED_HEADERS: Final = "WWW-Authenticate, Retry-After"
MAX_AGE: Final = "600"


@dataclass(frozen=True)
class PathRule:
    """What one endpoint allows across origins."""

    methods: tuple[str, ...]
    credentials: bool = False


CORS_PATHS: Final[Mapping[str, PathRule]] = {
    "/token": PathRule(("POST",), credentials=True),
    "/revoke": PathRule(("POST",), credentials=True),
    "/userinfo": PathRule(("GET", "POST")),
    "/.well-known/openid-configuration": PathRule(("GET", "HEAD")),
    "/.well-known/oauth-authorization-server": PathRule(("GET", "HEAD")),
    "/.well-known/jwks.json": PathRule(("GET", "HEAD")),
}


class CORSMiddleware:
    """A plain ASGI component answering CORS for :data:`CORS_PATHS`.

    ``allowed(origin)`` says whether a browser origin is registered (awaited: it may read
    the store). Non-HTTP scopes, other paths and requests without ``Origin`` pass through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed: Callable[[str], Awaitable[bool]],
        paths: Mapping[str, PathRule] = CORS_PATHS,
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a preflight, or add the CORS headers to the endpoint's answer."""
        rule = self.paths.get(_route_path(scope)) if scope["type"] == "http" else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        ok = origin != "null" and await self.allowed(origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(rule, origin, ok, headers, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.add_vary_header("Origin")
                if ok:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                    if rule.credentials:
                        out["Access-Control-Allow-Credentials"] = "true"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(
        self, rule: PathRule, origin: str, ok: bool, headers: Headers, send: Send
    ) -> None:
        method = headers["access-control-request-method"].strip()
        asked = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        if not ok or method not in rule.methods or not set(asked) <= set(ALLOWED_HEADERS):
            await _respond(send, 403, [("vary", vary), ("content-type", "text/plain")], b"")
            return
        out = [
            ("access-control-allow-origin", origin),
            ("access-control-allow-methods", ", ".join(rule.methods)),
            ("access-control-allow-headers", ", ".join(ALLOWED_HEADERS)),
            ("access-control-max-age", MAX_AGE),
            ("vary", vary),
        ]
        if rule.credentials:
            out.append(("access-control-allow-credentials", "true"))
        await _respond(send, 204, out, b"")


def _route_path(scope: Scope) -> str:
    """Return the request path inside the app (without the ASGI ``root_path``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _respond(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw: list[tuple[bytes, bytes]] = [(k.encode(), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    message: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": raw}
    await send(message)
    await send({"type": "http.response.body", "body": body})
