"""IntrospectionRevocationCheck against a real loopback RFC 7662 endpoint."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtkit import Key, KeySet, Signer, Verifier
from jwtkit.client import BearerAuthMiddleware, IntrospectionRevocationCheck
from jwtkit.errors import IntrospectionError, JWKSFetchError
from tests.support.client import AUDIENCE, ISSUER, FakeClock, HTTPTestServer, Reply, Request

CLIENT_ID = "resource-api"
CLIENT_SECRET = "s3cret:with/odd chars"


def introspection_endpoint(server: HTTPTestServer, revoked: set[str]) -> None:
    """Make ``server`` an RFC 7662 endpoint: tokens in ``revoked`` are inactive."""
    expected = base64.b64encode(b"resource-api:s3cret%3Awith%2Fodd%20chars").decode()

    def respond(request: Request) -> Reply:
        if request.method != "POST" or request.headers.get("authorization") != f"Basic {expected}":
            return Reply(status=401, body=b'{"error": "invalid_client"}')
        form = parse_qs(request.body.decode())
        if form.get("token_type_hint") != ["access_token"]:
            return Reply(status=400)
        active = form["token"][0] not in revoked
        return Reply(body=json.dumps({"active": active}).encode())

    server.responder = respond


def check_for(
    server: HTTPTestServer, clock: FakeClock, **options: Any
) -> IntrospectionRevocationCheck:
    return IntrospectionRevocationCheck(
        server.url("/introspect"),
        options.pop("client_id", CLIENT_ID),
        options.pop("client_secret", CLIENT_SECRET),
        allow_http_loopback=True,
        clock=clock,
        **options,
    )


def test_active_and_revoked_tokens_with_caching(server: HTTPTestServer, clock: FakeClock) -> None:
    introspection_endpoint(server, revoked={"tok-revoked"})

    async def scenario() -> list[bool]:
        check = check_for(server, clock, cache_ttl=30)
        try:
            answers = [
                await check({}, "tok-good"),
                await check({}, "tok-revoked"),
                await check({}, "tok-good"),
                await check({}, "tok-revoked"),
            ]
            assert server.count == 2
            clock.advance(31)
            answers.append(await check({}, "tok-good"))
            assert server.count == 3
            return answers
        finally:
            await check.aclose()

    assert asyncio.run(scenario()) == [False, True, False, True, False]
    assert "tok-good" in server.requests[0].body.decode()


def test_cache_is_bounded(server: HTTPTestServer, clock: FakeClock) -> None:
    introspection_endpoint(server, revoked=set())

    async def scenario() -> None:
        check = check_for(server, clock, max_entries=2)
        try:
            for value in ("a", "b", "c", "a"):
                await check({}, value)
        finally:
            await check.aclose()

    asyncio.run(scenario())
    # "a" was evicted by "c" (oldest first), so it is asked again.
    assert server.count == 4


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(status=500), "HTTP 500"),
        (Reply(body=b"not json"), "not valid JSON"),
        (Reply(body=b'{"active": "yes"}'), "boolean"),
        (Reply(stream_bytes=1024 * 1024), "larger than"),
    ],
    ids=["500", "not-json", "active-not-bool", "oversized"],
)
def test_bad_answers_are_introspection_errors(
    server: HTTPTestServer, clock: FakeClock, reply: Reply, message: str
) -> None:
    server.reply = reply

    async def scenario() -> None:
        check = check_for(server, clock)
        try:
            with pytest.raises(IntrospectionError, match=message) as info:
                await check({}, "tok")
        finally:
            await check.aclose()
        # Its own stable code, and still a JWKSFetchError: existing handlers keep working.
        assert info.value.code == "introspection_error"
        assert isinstance(info.value, JWKSFetchError)

    asyncio.run(scenario())


def test_an_unreachable_endpoint_is_an_introspection_error(clock: FakeClock) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed below: nothing listens there any more

    async def scenario() -> None:
        check = IntrospectionRevocationCheck(
            f"http://127.0.0.1:{port}/introspect",
            CLIENT_ID,
            CLIENT_SECRET,
            allow_http_loopback=True,
            clock=clock,
        )
        try:
            with pytest.raises(IntrospectionError, match="ConnectError"):
                await check({}, "tok")
        finally:
            await check.aclose()

    asyncio.run(scenario())


def test_wrong_client_credentials_fail_closed_as_503(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    introspection_endpoint(server, revoked=set())
    verify: dict[str, Any] = {"algorithms": ["ES256"], "issuer": ISSUER, "audience": AUDIENCE}
    value = Signer(key1, issuer=ISSUER, audience=AUDIENCE).sign({"sub": "alice"})

    async def me(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"sub": request.state.jwt_claims["sub"]})

    async def go(secret: str) -> httpx.Response:
        check = check_for(server, clock, client_secret=secret)
        app = BearerAuthMiddleware(
            Starlette(routes=[Route("/me", me)]),
            Verifier(KeySet([key1.public()]), **verify),
            is_revoked=check,
        )
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.get("/me", headers={"Authorization": f"Bearer {value}"})
        finally:
            await check.aclose()

    assert asyncio.run(go(CLIENT_SECRET)).json() == {"sub": "alice"}
    response = asyncio.run(go("wrong"))
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_refuses_plain_http_and_hides_the_secret() -> None:
    with pytest.raises(ValueError, match="must use https"):
        IntrospectionRevocationCheck("http://auth.example/introspect", "id", "secret")
    with pytest.raises(ValueError):
        IntrospectionRevocationCheck("https://auth.example/introspect", "id", "")

    async def build() -> str:
        check = IntrospectionRevocationCheck("https://auth.example/introspect", "id", "hunter2")
        await check.aclose()
        return repr(check)

    assert "hunter2" not in asyncio.run(build())


def test_no_caching_when_max_entries_is_zero(server: HTTPTestServer, clock: FakeClock) -> None:
    introspection_endpoint(server, revoked=set())

    async def scenario() -> None:
        check = check_for(server, clock, max_entries=0)
        try:
            assert await check({}, "tok") is False
            assert await check({}, "tok") is False
        finally:
            await check.aclose()

    asyncio.run(scenario())
    assert server.count == 2


def test_expired_answers_are_dropped_before_the_oldest(
    server: HTTPTestServer, clock: FakeClock
) -> None:
    introspection_endpoint(server, revoked=set())

    async def scenario() -> None:
        check = check_for(server, clock, max_entries=2, cache_ttl=10)
        try:
            await check({}, "a")
            clock.advance(11)
            await check({}, "b")
            await check({}, "c")  # evicts the expired "a", keeps "b"
            await check({}, "b")
        finally:
            await check.aclose()

    asyncio.run(scenario())
    assert server.count == 3


def test_unreachable_endpoint_is_a_fetch_error(server: HTTPTestServer, clock: FakeClock) -> None:
    server.stop()

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            check = check_for(server, clock, http_client=http)
            with pytest.raises(JWKSFetchError, match="ConnectError"):
                await check({}, "tok")
            await check.aclose()
            assert not http.is_closed

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "options", [{"cache_ttl": -1}, {"max_entries": -1}, {"timeout": 0}], ids=str
)
def test_rejects_nonsense_bounds(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        IntrospectionRevocationCheck(
            "https://auth.example/introspect",
            "id",
            "secret",
            **options,  # type: ignore[arg-type]
        )
