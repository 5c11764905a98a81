"""The two halves together over real HTTP: jwtkit.client protecting an API with tokens from
jwtkit.server (JWKS fetched from the service, revocation checked through /introspect)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwtkit import Verifier
from jwtkit.client import BearerAuthMiddleware, IntrospectionRevocationCheck, JWKSClient
from jwtkit.server import Accounts, Settings, create_app
from tests.support.server import ALL_GRANTS, CLIENT, FAST_HASHER, PASSWORD, SECRET, USER, LiveServer


def test_bearer_middleware_against_the_service(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    with Accounts.open(settings.store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(USER, PASSWORD, roles=("staff",))
        accounts.add_client(CLIENT, SECRET, scopes=("read",), grants=ALL_GRANTS)
        rs_secret = accounts.add_client(
            "resource-api", grants=("client_credentials",), resource_server=True
        )
    with LiveServer(create_app(settings)) as issuer:
        jwks = JWKSClient(issuer.url + "/.well-known/jwks.json", allow_http_loopback=True)
        verifier = Verifier(
            jwks,
            algorithms=["ES256"],
            issuer="http://testserver",
            audience="api",
            typ="at+jwt",
        )
        check = IntrospectionRevocationCheck(
            issuer.url + "/introspect",
            "resource-api",
            rs_secret,
            cache_ttl=0,
            allow_http_loopback=True,
        )

        async def me(request: Request) -> Response:
            return JSONResponse({"sub": request.state.jwt_claims["sub"]})

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            # The check's HTTP client lives in this server's event loop: close it there.
            await check.aclose()

        inner = Starlette(routes=[Route("/me", me)], lifespan=lifespan)
        api = BearerAuthMiddleware(inner, verifier, scopes=("read",), is_revoked=check)
        with jwks, LiveServer(api) as resource:
            login = httpx.post(
                issuer.url + "/token",
                data={"grant_type": "password", "username": USER, "password": PASSWORD},
                auth=(CLIENT, SECRET),
            ).json()
            bearer = {"Authorization": f"Bearer {login['access_token']}"}
            ok = httpx.get(resource.url + "/me", headers=bearer)
            assert ok.status_code == 200 and ok.json() == {"sub": USER}
            denied = httpx.get(resource.url + "/me")
            assert denied.status_code == 401
            assert denied.headers["www-authenticate"].startswith("Bearer")
            revoked = httpx.post(
                issuer.url + "/revoke",
                data={"token": login["access_token"]},
                auth=(CLIENT, SECRET),
            )
            assert revoked.status_code == 200
            after = httpx.get(resource.url + "/me", headers=bearer)
            assert after.status_code == 401
            assert "invalid_token" in after.headers["www-authenticate"]
