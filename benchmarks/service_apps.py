"""The two comparison servers of ``benchmarks.service``, run with the service's own stack.

``python -m benchmarks.service_apps ceiling HOST PORT`` serves the bare Starlette ceiling: a
``POST /token`` handler that reads and parses the form with the service's own parser and
answers a JSON body of the same size as a real token response (``BENCH_BODY_SIZE`` bytes).

``python -m benchmarks.service_apps resource HOST PORT`` serves a resource server: the same
small JSON endpoint three times, at ``/open`` (unprotected), ``/uncached`` (behind
``BearerAuthMiddleware`` with a plain ES256 ``Verifier``) and ``/cached`` (the same with the
verified-token cache), verifying against the JWKS in ``BENCH_JWKS`` for ``BENCH_ISSUER`` and
``BENCH_AUDIENCE``.

Both run through :func:`jwtkit.server.serve` with the settings from ``JWTKIT_*`` (server
stack, guard, worker count, access log), so a ratio to them compares the application only.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwtkit.server._forms import read_form

__all__ = ["ceiling_app", "main", "resource_app"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def ceiling_app() -> Starlette:
    """Return the bare Starlette app: parse the form, answer a same-sized JSON body."""
    size = int(os.environ.get("BENCH_BODY_SIZE", "600"))
    template = {"access_token": "", "token_type": "Bearer", "expires_in": 900}
    filler = max(0, size - len(json.dumps(template, separators=(",", ":"))))
    answer = {**template, "access_token": "x" * filler}

    async def token(request: Request) -> Response:
        form = await read_form(request, max_size=64 * 1024)
        if form.get("grant_type") is None:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        return JSONResponse(answer, headers=NO_STORE)

    return Starlette(routes=[Route("/token", token, methods=["POST"]), _healthz()])


def resource_app() -> Starlette:
    """Return the resource server: one endpoint, unprotected, uncached and cached."""
    from jwtkit import KeySet, Verifier
    from jwtkit.client import BearerAuthMiddleware

    keys = KeySet.from_jwks(os.environ["BENCH_JWKS"])
    options: dict[str, Any] = {
        "algorithms": ["ES256"],
        "issuer": os.environ["BENCH_ISSUER"],
        "audience": os.environ["BENCH_AUDIENCE"],
    }

    hello = _Hello()

    uncached = BearerAuthMiddleware(hello, Verifier(keys, **options))
    cached = BearerAuthMiddleware(hello, Verifier(keys, **options, cache_size=1024))
    return Starlette(
        routes=[
            Route("/open", hello, methods=["GET"]),
            Route("/uncached", uncached, methods=["GET"]),
            Route("/cached", cached, methods=["GET"]),
            _healthz(),
        ]
    )


class _Hello:
    """The endpoint, as a plain ASGI app (Starlette routes an instance, not a function, as
    ASGI), so that the protected and the unprotected path run exactly the same code."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await JSONResponse({"message": "hello", "status": "ok"})(scope, receive, send)


def _healthz() -> Route:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Route("/healthz", healthz, methods=["GET"])


def main(argv: list[str]) -> int:
    """Serve the app named by ``argv[0]`` on ``argv[1]``:``argv[2]``."""
    from jwtkit.server import Settings, serve

    factories = {"ceiling": ceiling_app, "resource": resource_app}
    kind, host, port = argv[0], argv[1], int(argv[2])
    factory = factories[kind]
    if "app_factory" in inspect.signature(serve).parameters:
        serve(Settings.from_env(), host, port, app_factory=factory)
    else:  # A service without app_factory: its serve() builds the app with open_with_retry.
        module = sys.modules[serve.__module__]
        module.open_with_retry = lambda settings: factory()  # type: ignore[attr-defined]
        serve(Settings.from_env(), host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
