"""BearerAuthMiddleware in front of a real Starlette app, driven through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from jwtkit import Key, KeySet, Signer, Verifier
from jwtkit.client import (
    AsyncJWKSClient,
    AsyncVerifier,
    BearerAuthMiddleware,
    granted_scopes,
)
from jwtkit.client._types import Message, Scope
from jwtkit.errors import InvalidKeyError
from tests.support.client import AUDIENCE, ISSUER, FakeClock, HTTPTestServer, Reply

VERIFY: dict[str, Any] = {"algorithms": ["ES256"], "issuer": ISSUER, "audience": AUDIENCE}


async def me(request: Request) -> JSONResponse:
    return JSONResponse({"claims": request.state.jwt_claims})


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def starlette_app() -> Starlette:
    """A small protected API: /me echoes the claims, /health is public."""
    return Starlette(routes=[Route("/me", me), Route("/health", health)])


def token(key: Key, claims: Mapping[str, Any], **options: Any) -> str:
    """Sign ``claims`` for the test issuer and audience."""
    now = options.pop("now", None)
    signer = Signer(key, issuer=ISSUER, audience=AUDIENCE, **options)
    return signer.sign(claims, now=now)


def call(app: Any, path: str = "/me", headers: Any = None) -> httpx.Response:
    """Send one GET through the ASGI transport and return the response."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get(path, headers=headers)

    return asyncio.run(go())


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def protected(key1: Key) -> BearerAuthMiddleware:
    verifier = Verifier(KeySet([key1.public()]), **VERIFY)
    return BearerAuthMiddleware(
        starlette_app(), verifier, scopes=["read"], realm="example", exclude_paths=["/health"]
    )


def test_valid_token_reaches_the_app_with_its_claims(
    protected: BearerAuthMiddleware, key1: Key
) -> None:
    response = call(protected, headers=bearer(token(key1, {"sub": "alice", "scope": "read write"})))
    assert response.status_code == 200
    claims = response.json()["claims"]
    assert claims["sub"] == "alice"
    assert claims["iss"] == ISSUER


def test_scp_list_grants_scopes(protected: BearerAuthMiddleware, key1: Key) -> None:
    response = call(protected, headers=bearer(token(key1, {"sub": "svc", "scp": ["read"]})))
    assert response.status_code == 200


def test_lowercase_scheme_is_accepted(protected: BearerAuthMiddleware, key1: Key) -> None:
    value = token(key1, {"sub": "alice", "scope": "read"})
    response = call(protected, headers={"Authorization": f"bearer {value}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [None, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}],
    ids=["no-header", "other-scheme"],
)
def test_missing_token_gets_a_bare_challenge(
    protected: BearerAuthMiddleware, headers: dict[str, str] | None
) -> None:
    response = call(protected, headers=headers)
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carries no Bearer credentials.
    assert response.headers["www-authenticate"] == 'Bearer realm="example"'
    assert response.headers["cache-control"] == "no-store"
    # The body is JSON too, and without an error code either (issue 17).
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error_description": "An access token is required"}


def test_invalid_tokens_get_invalid_token(
    protected: BearerAuthMiddleware, key1: Key, key2: Key
) -> None:
    forged = token(key2.with_kid("k1"), {"sub": "mallory", "scope": "read"})
    wrong_audience = Signer(key1, issuer=ISSUER, audience="other").sign({"scope": "read"})
    for value in ("garbage", "a.b.c", forged, wrong_audience, "two words"):
        response = call(protected, headers=bearer(value))
        assert response.status_code == 401, value
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="example", error="invalid_token"')
        assert 'error_description="The access token is' in challenge
        assert response.json()["error"] == "invalid_token"
        # The token is never echoed back.
        assert value not in challenge
        assert value not in response.text


def test_expired_token_says_so(protected: BearerAuthMiddleware, key1: Key) -> None:
    expired = token(key1, {"sub": "alice", "scope": "read"}, lifetime=60, now=1_000_000)
    response = call(protected, headers=bearer(expired))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="example", error="invalid_token", '
        'error_description="The access token expired"'
    )


def test_missing_scope_is_403_insufficient_scope(key1: Key) -> None:
    verifier = Verifier(KeySet([key1.public()]), **VERIFY)
    app = BearerAuthMiddleware(starlette_app(), verifier, scopes=["read", "admin"])
    response = call(app, headers=bearer(token(key1, {"sub": "alice", "scope": "read write"})))
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert challenge.endswith('scope="read admin"')
    assert response.json()["error"] == "insufficient_scope"


def test_repeated_authorization_headers_are_400(protected: BearerAuthMiddleware, key1: Key) -> None:
    value = token(key1, {"sub": "alice", "scope": "read"})
    headers = [("Authorization", f"Bearer {value}"), ("Authorization", f"Bearer {value}")]
    response = call(protected, headers=headers)
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


def test_excluded_path_needs_no_token(protected: BearerAuthMiddleware) -> None:
    response = call(protected, path="/health")
    assert response.status_code == 200
    assert response.text == "ok"


def test_non_http_scopes_pass_through(protected: BearerAuthMiddleware) -> None:
    seen: list[str] = []

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = BearerAuthMiddleware(inner, protected._auth.verifier, scopes=["read"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing must be sent")

    asyncio.run(middleware({"type": "lifespan"}, receive, send))
    asyncio.run(middleware({"type": "websocket", "path": "/ws", "headers": []}, receive, send))
    assert seen == ["lifespan", "websocket"]


def test_request_state_is_not_shared(key1: Key) -> None:
    shared_state: dict[str, Any] = {"db": "pool"}
    captured: list[Scope] = []

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        captured.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    verifier = Verifier(KeySet([key1.public()]), **VERIFY)
    middleware = BearerAuthMiddleware(inner, verifier)
    value = token(key1, {"sub": "alice"})
    scope: Scope = {
        "type": "http",
        "path": "/",
        "headers": [(b"authorization", f"Bearer {value}".encode())],
        "state": shared_state,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    assert captured[0]["state"] == {"db": "pool", "jwt_claims": captured[0]["state"]["jwt_claims"]}
    assert captured[0]["state"]["jwt_claims"]["sub"] == "alice"
    assert shared_state == {"db": "pool"}
    assert sent[0]["status"] == 204


def test_revocation_hook_sync_and_async(key1: Key) -> None:
    verifier = Verifier(KeySet([key1.public()]), **VERIFY)
    good = token(key1, {"sub": "alice"})
    revoked = token(key1, {"sub": "mallory"})
    denylist = {verifier.verify(revoked)["jti"]}
    seen_tokens: list[str] = []

    def sync_check(claims: Mapping[str, Any], raw: str) -> bool:
        seen_tokens.append(raw)
        return claims["jti"] in denylist

    async def async_check(claims: Mapping[str, Any], raw: str) -> bool:
        return claims["jti"] in denylist

    def claims_only(claims: Mapping[str, Any]) -> bool:
        return claims["jti"] in denylist

    for check in (sync_check, async_check, claims_only):
        app = BearerAuthMiddleware(starlette_app(), verifier, is_revoked=check)
        assert call(app, headers=bearer(good)).status_code == 200
        response = call(app, headers=bearer(revoked))
        assert response.status_code == 401
        assert (
            'error_description="The access token was revoked"'
            in (response.headers["www-authenticate"])
        )
    assert seen_tokens == [good, revoked]


def test_async_jwks_client_end_to_end(server: HTTPTestServer, key1: Key) -> None:
    server.serve_jwks([key1])
    value = token(key1, {"sub": "alice", "scope": "read"})

    async def go() -> list[httpx.Response]:
        jwks = AsyncJWKSClient(server.url(), allow_http_loopback=True)
        app = BearerAuthMiddleware(starlette_app(), AsyncVerifier(jwks, **VERIFY), scopes=["read"])
        transport = httpx.ASGITransport(app=app)
        async with jwks, httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return [await http.get("/me", headers=bearer(value)) for _ in range(3)]

    responses = asyncio.run(go())
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert server.count == 1


def test_unreachable_issuer_is_503_not_401(server: HTTPTestServer, key1: Key) -> None:
    server.reply = Reply(status=500)
    value = token(key1, {"sub": "alice"})

    async def go() -> httpx.Response:
        jwks = AsyncJWKSClient(server.url(), allow_http_loopback=True, clock=FakeClock())
        app = BearerAuthMiddleware(starlette_app(), AsyncVerifier(jwks, **VERIFY))
        transport = httpx.ASGITransport(app=app)
        async with jwks, httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.get("/me", headers=bearer(value))

    response = asyncio.run(go())
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "www-authenticate" not in response.headers


def test_granted_scopes_reads_scope_and_scp() -> None:
    assert granted_scopes({"scope": "a b  c"}) == {"a", "b", "c"}
    assert granted_scopes({"scp": ["a", 3, "b"]}) == {"a", "b"}
    assert granted_scopes({"scp": "a b"}) == {"a", "b"}
    assert granted_scopes({"scope": 7}) == frozenset()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"scopes": "read"}, TypeError),
        ({"scopes": ["has space"]}, ValueError),
        ({"realm": 'bad"realm'}, ValueError),
        ({"is_revoked": "yes"}, TypeError),
        ({"is_revoked": lambda: False}, TypeError),
        ({"is_revoked": lambda a, b, c: False}, TypeError),
    ],
    ids=[
        "scopes-string",
        "scope-with-space",
        "realm-quote",
        "hook-not-callable",
        "hook-no-args",
        "hook-three-args",
    ],
)
def test_bad_configuration_fails_at_construction(
    key1: Key, options: dict[str, Any], error: type[Exception]
) -> None:
    verifier = Verifier(KeySet([key1.public()]), **VERIFY)
    with pytest.raises(error):
        BearerAuthMiddleware(starlette_app(), verifier, **options)


def test_verifier_without_verify_is_refused() -> None:
    with pytest.raises(TypeError, match="verify"):
        BearerAuthMiddleware(starlette_app(), object())  # type: ignore[arg-type]


class MisconfiguredVerifier:
    """A user-supplied verifier whose keys cannot serve the token (a configuration error)."""

    def verify(self, token: str) -> dict[str, Any]:
        raise InvalidKeyError("the configured key does not fit ES256")


def test_configuration_errors_reject_the_token_without_a_500(
    key1: Key, caplog: pytest.LogCaptureFixture
) -> None:
    app = BearerAuthMiddleware(starlette_app(), MisconfiguredVerifier())
    response = call(app, headers=bearer(token(key1, {"sub": "alice"})))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "invalid_key" in caplog.text
