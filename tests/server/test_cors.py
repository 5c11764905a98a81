"""CORS (issue 14): the token, revocation, userinfo, discovery and JWKS endpoints answer the
origins registered for an enabled client (--origin), and only those; preflights are answered
204 with the endpoint's methods and headers, or 403 without CORS headers; the pages and the
server-to-server endpoints never send CORS headers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit.server._service import TokenService
from tests.support.server import CLIENT, WEB_ORIGIN, TestClient, login

SPA = "http://localhost:5173"
CORS_ENDPOINTS = [
    ("POST", "/token"),
    ("POST", "/revoke"),
    ("GET", "/userinfo"),
    ("POST", "/userinfo"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/jwks.json"),
]


@pytest.fixture
def spa(svc: TokenService) -> TokenService:
    svc.accounts.add_client("spa", public=True, origins=(SPA,))
    return svc


def preflight(
    client: TestClient, path: str, origin: str, method: str, headers: str = ""
) -> httpx.Response:
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    return client.request(
        "OPTIONS",
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, **extra},
    )


@pytest.mark.parametrize(("method", "path"), CORS_ENDPOINTS)
def test_preflight_of_a_registered_origin(
    client: TestClient, spa: TokenService, method: str, path: str
) -> None:
    answer = preflight(client, path, SPA, method, "Authorization, Content-Type")
    assert answer.status_code == 204, answer.text
    assert answer.headers["access-control-allow-origin"] == SPA
    assert method in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == (
        "authorization, content-type, x-requested-with"
    )
    assert answer.headers["access-control-max-age"] == "600"
    assert "Origin" in answer.headers["vary"]
    credentials = path in ("/token", "/revoke")
    assert (answer.headers.get("access-control-allow-credentials") == "true") is credentials


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("https://evil.example", "POST", ""),  # not registered
        ("http://localhost:5174", "POST", ""),  # another port
        ("null", "POST", ""),
        (SPA, "DELETE", ""),  # a method the endpoint does not take
        (SPA, "POST", "X-Custom"),  # a header it does not read
    ],
)
def test_preflight_refused(
    client: TestClient, spa: TokenService, origin: str, method: str, headers: str
) -> None:
    answer = preflight(client, "/token", origin, method, headers)
    assert answer.status_code == 403
    assert not any(h.startswith("access-control-") for h in answer.headers)


def test_actual_requests_get_the_origin_back_only_when_registered(
    client: TestClient, spa: TokenService
) -> None:
    for origin, allowed in ((SPA, True), (WEB_ORIGIN, True), ("https://evil.example", False)):
        jwks = client.get("/.well-known/jwks.json", headers={"Origin": origin})
        assert jwks.status_code == 200 and "Origin" in jwks.headers["vary"]
        assert (jwks.headers.get("access-control-allow-origin") == origin) is allowed
        meta = client.get("/.well-known/openid-configuration", headers={"Origin": origin})
        assert (meta.headers.get("access-control-allow-origin") == origin) is allowed
    # Errors carry the headers too, so the page can read them (and the challenge).
    refused = client.get("/userinfo", headers={"Origin": SPA, "Authorization": "Bearer x.y.z"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == SPA
    assert "WWW-Authenticate" in refused.headers["access-control-expose-headers"]
    token = login(client, headers={"Origin": WEB_ORIGIN})
    assert token.status_code == 200
    assert token.headers["access-control-allow-origin"] == WEB_ORIGIN
    assert token.headers["access-control-allow-credentials"] == "true"
    # Without an Origin (server to server), nothing is added.
    plain = client.get("/.well-known/jwks.json")
    assert not any(h.startswith("access-control-") for h in plain.headers)


def test_pages_and_server_endpoints_send_no_cors_headers(
    client: TestClient, spa: TokenService
) -> None:
    for method, path in [("GET", "/authorize"), ("POST", "/introspect"), ("GET", "/healthz")]:
        answer = client.request(method, path, headers={"Origin": SPA})
        assert not any(h.startswith("access-control-") for h in answer.headers), path
    introspect = preflight(client, "/introspect", SPA, "POST")
    assert "access-control-allow-origin" not in introspect.headers
    assert introspect.status_code == 405


def test_a_disabled_client_and_a_new_origin_take_effect(
    make_app: Callable[..., Starlette],
) -> None:
    app = make_app(cors_cache_ttl=0)
    svc: TokenService = app.state.service
    client = TestClient(app)
    svc.accounts.add_client("spa", public=True, origins=(SPA,))
    assert preflight(client, "/token", SPA, "POST").status_code == 204
    svc.accounts.disable_client("spa")
    assert preflight(client, "/token", SPA, "POST").status_code == 403
    svc.accounts.update_client(CLIENT, origins=(WEB_ORIGIN, "https://new.example"))
    assert preflight(client, "/token", "https://new.example", "POST").status_code == 204
    # A near-miss of a registered origin (LIKE wildcards in it) is no match.
    svc.accounts.update_client(CLIENT, origins=("https://a_b.example",))
    assert preflight(client, "/token", "https://axb.example", "POST").status_code == 403
    assert preflight(client, "/token", "https://a_b.example", "POST").status_code == 204
