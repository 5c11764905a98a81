"""RequireToken used inside real Starlette endpoints (FastAPI uses it the same way)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import typing
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtkit import Key, KeySet, Signer, Verifier
from jwtkit.client import RequireToken
from tests.support.client import AUDIENCE, ISSUER

VERIFY: dict[str, Any] = {"algorithms": ["ES256"], "issuer": ISSUER, "audience": AUDIENCE}


def make_app(key: Key, *, handlers: bool = True, **options: Any) -> Starlette:
    """An app whose /items endpoint needs the ``items:read`` scope.

    ``handlers`` registers ``RequireToken.exception_handlers``, as docs/client.md says to.
    """
    require = RequireToken(Verifier(KeySet([key.public()]), **VERIFY), ["items:read"], **options)

    async def items(request: Request) -> JSONResponse:
        claims = await require(request)
        return JSONResponse({"sub": claims["sub"], "items": [1, 2]})

    exception_handlers = dict(RequireToken.exception_handlers) if handlers else {}
    return Starlette(routes=[Route("/items", items)], exception_handlers=exception_handlers)


def get(app: Starlette, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET /items through the ASGI transport."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/items", headers=headers)

    return asyncio.run(go())


def bearer(key: Key, claims: dict[str, Any], **options: Any) -> dict[str, str]:
    now = options.pop("now", None)
    value = Signer(key, issuer=ISSUER, audience=AUDIENCE, **options).sign(claims, now=now)
    return {"Authorization": f"Bearer {value}"}


def test_returns_the_claims(key1: Key) -> None:
    response = get(make_app(key1), bearer(key1, {"sub": "alice", "scope": "items:read"}))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "items": [1, 2]}


def test_missing_token_is_401_with_bare_challenge(key1: Key) -> None:
    response = get(make_app(key1, realm="shop"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="shop"'


def test_invalid_and_expired_tokens_are_401_invalid_token(key1: Key, key2: Key) -> None:
    app = make_app(key1)
    forged = bearer(key2.with_kid("k1"), {"sub": "mallory", "scope": "items:read"})
    expired = bearer(key1, {"sub": "alice", "scope": "items:read"}, lifetime=1, now=1_000_000)
    for headers in (forged, expired, {"Authorization": "Bearer nope"}):
        response = get(app, headers)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert headers["Authorization"][7:] not in response.text


def test_missing_scope_is_403(key1: Key) -> None:
    response = get(make_app(key1), bearer(key1, {"sub": "alice", "scope": "items:write"}))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="items:read"' in challenge


def test_bodies_are_the_middleware_json(key1: Key, key2: Key) -> None:
    """With RequireToken.exception_handlers, every refusal has the middleware's JSON body."""
    app = make_app(key1)
    cases = [
        (None, 401, {"error_description": "An access token is required"}),
        (
            bearer(key2.with_kid("k1"), {"sub": "mallory", "scope": "items:read"}),
            401,
            {"error": "invalid_token", "error_description": "The access token is invalid"},
        ),
        (
            bearer(key1, {"sub": "alice", "scope": "items:write"}),
            403,
            {
                "error": "insufficient_scope",
                "error_description": "The access token lacks a required scope",
            },
        ),
    ]
    for headers, status, body in cases:
        response = get(app, headers)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
        assert response.json() == body
        assert "www-authenticate" in response.headers


def test_without_the_handlers_starlette_answers_plain_text(key1: Key) -> None:
    """What the handlers fix: Starlette renders a bare HTTPException as text/plain."""
    app = make_app(key1, handlers=False)
    response = get(app, bearer(key1, {"sub": "alice", "scope": "items:write"}))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_revocation_hook(key1: Key) -> None:
    async def revoked(claims: Any, token: str) -> bool:
        return bool(claims["sub"] == "mallory")

    app = make_app(key1, is_revoked=revoked)
    assert get(app, bearer(key1, {"sub": "alice", "scope": "items:read"})).status_code == 200
    response = get(app, bearer(key1, {"sub": "mallory", "scope": "items:read"}))
    assert response.status_code == 401


def test_scopes_must_not_be_a_string(key1: Key) -> None:
    with pytest.raises(TypeError):
        RequireToken(Verifier(KeySet([key1.public()]), **VERIFY), "items:read")


def test_request_annotation_resolves_at_runtime() -> None:
    # FastAPI injects the request by resolving this annotation, so it must not be a
    # TYPE_CHECKING-only name.
    hints = typing.get_type_hints(RequireToken.__call__)
    assert hints["request"] is Request


def test_missing_starlette_gives_an_install_hint() -> None:
    program = textwrap.dedent(
        """
        import sys
        for name in ("starlette", "starlette.exceptions", "starlette.requests"):
            sys.modules[name] = None
        from jwtkit.client import JWKSClient  # works without starlette
        try:
            from jwtkit.client import RequireToken
        except ImportError as exc:
            print("hint:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert "hint: RequireToken needs Starlette" in result.stdout
    assert "jwtkit[server]" in result.stdout
