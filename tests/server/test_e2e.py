"""The whole flow over real HTTP: uvicorn on loopback, a real SQLite store, a resource server.

login -> call a protected resource -> refresh -> replay the old refresh token (family revoked)
-> revoke an access token (introspection says inactive) -> rotate keys (old tokens still
verify, new ones carry the new kid); concurrent refreshes; the maintenance timer; and the
``python -m jwtkit.server`` entry point with its start-up banner.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwtkit import KeySet, Verifier, decode_unverified
from jwtkit.errors import InvalidTokenError
from jwtkit.server import Accounts, Settings, create_app
from jwtkit.server._service import TokenService
from tests.support.server import (
    ALL_GRANTS,
    CLIENT,
    FAST_HASHER,
    PASSWORD,
    SECRET,
    USER,
    Clock,
    LiveServer,
    ServiceProcess,
    service_env,
)

AUTH = (CLIENT, SECRET)


class RemoteKeys:
    """A minimal KeySource for the resource server: the issuer's JWKS, refetched on unknown kid."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keyset = KeySet.from_jwks(httpx.get(url).json())
        self.fetches = 1

    def get_keyset(self, kid: str | None) -> KeySet:
        if kid is not None and kid not in self.keyset:
            self.keyset = KeySet.from_jwks(httpx.get(self.url).json())
            self.fetches += 1
        return self.keyset


def resource_app(issuer_url: str) -> Starlette:
    """A protected API that verifies Bearer JWTs locally with jwtkit.Verifier."""
    verifier = Verifier(
        RemoteKeys(issuer_url + "/.well-known/jwks.json"),
        algorithms=["ES256"],
        issuer="http://testserver",
        audience="api",
        typ="at+jwt",
    )

    async def me(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return JSONResponse({"error": "invalid_request"}, status_code=401)
        try:
            header, claims = verifier.verify_complete(token)
        except InvalidTokenError:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": claims["sub"], "kid": header["kid"]})

    return Starlette(routes=[Route("/me", me)])


@pytest.fixture
def live(make_settings: Callable[..., Settings]) -> Iterator[tuple[str, TokenService, Settings]]:
    settings = make_settings(maintain_interval=1)
    with Accounts.open(settings.store, hasher=FAST_HASHER) as accounts:
        # The management API works on the same store file the service uses.
        accounts.add_user(USER, PASSWORD, roles=("staff",))
        accounts.add_client(CLIENT, SECRET, scopes=("read",), grants=ALL_GRANTS)
    app = create_app(settings)
    with LiveServer(app) as server:
        yield server.url, app.state.service, settings


def token(base: str, **data: str) -> httpx.Response:
    return httpx.post(base + "/token", data=data, auth=AUTH)


def test_full_flow_over_http(live: tuple[str, TokenService, Settings]) -> None:
    base, svc, _ = live
    with LiveServer(resource_app(base)) as api:
        login = token(base, grant_type="password", username=USER, password=PASSWORD).json()
        access, refresh = login["access_token"], login["refresh_token"]
        assert httpx.get(api.url + "/me").status_code == 401
        me = httpx.get(api.url + "/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 200 and me.json()["sub"] == USER

        renewed = token(base, grant_type="refresh_token", refresh_token=refresh).json()
        me = httpx.get(
            api.url + "/me", headers={"Authorization": f"Bearer {renewed['access_token']}"}
        )
        assert me.status_code == 200

        # Replaying the old refresh token revokes the family, including the newest one.
        replay = token(base, grant_type="refresh_token", refresh_token=refresh)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        newest = token(base, grant_type="refresh_token", refresh_token=renewed["refresh_token"])
        assert newest.json()["error"] == "invalid_grant"

        # Revoking the access token: the online check says inactive.
        assert httpx.post(base + "/revoke", data={"token": access}, auth=AUTH).status_code == 200
        info = httpx.post(base + "/introspect", data={"token": access}, auth=AUTH).json()
        assert info == {"active": False}
        # The replay revoked the family: its access tokens are dead too (issue 11).
        info = httpx.post(
            base + "/introspect", data={"token": renewed["access_token"]}, auth=AUTH
        ).json()
        assert info == {"active": False}
        renewed = token(base, grant_type="password", username=USER, password=PASSWORD).json()
        info = httpx.post(
            base + "/introspect", data={"token": renewed["access_token"]}, auth=AUTH
        ).json()
        assert info["active"] is True

        # Rotation: the old token still verifies, new tokens carry the new kid.
        old_kid = decode_unverified(renewed["access_token"])[0]["kid"]
        new_kid = svc.keys.rotate(force=True).kid
        assert new_kid != old_kid
        fresh = token(base, grant_type="password", username=USER, password=PASSWORD).json()
        assert decode_unverified(fresh["access_token"])[0]["kid"] == new_kid
        for t, kid in ((renewed["access_token"], old_kid), (fresh["access_token"], new_kid)):
            me = httpx.get(api.url + "/me", headers={"Authorization": f"Bearer {t}"})
            assert me.status_code == 200 and me.json()["kid"] == kid
        # A revoked key stops verifying at once and leaves the JWKS.
        svc.keys.revoke(old_kid)
        jwks = httpx.get(base + "/.well-known/jwks.json").json()
        assert old_kid not in KeySet.from_jwks(jwks)


def test_concurrent_refreshes_exactly_one_wins(live: tuple[str, TokenService, Settings]) -> None:
    base, _, _ = live
    for _ in range(4):
        refresh = token(base, grant_type="password", username=USER, password=PASSWORD).json()[
            "refresh_token"
        ]
        barrier = threading.Barrier(2)
        results: list[int] = []

        def use(
            refresh: str = refresh,
            barrier: threading.Barrier = barrier,
            results: list[int] = results,
        ) -> None:
            with httpx.Client() as http:
                barrier.wait()
                response = http.post(
                    base + "/token",
                    data={"grant_type": "refresh_token", "refresh_token": refresh},
                    auth=AUTH,
                )
            results.append(response.status_code)

        threads = [threading.Thread(target=use) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 400]


def test_maintenance_timer_rotates_on_schedule(make_settings: Callable[..., Settings]) -> None:
    clock = Clock()
    app = create_app(make_settings(maintain_interval=1), clock=clock)
    svc: TokenService = app.state.service
    first = svc.keys.active_key().kid
    with LiveServer(app):
        clock.advance(31 * 24 * 3600)  # past the 30-day rotation period
        deadline = time.monotonic() + 20
        while svc.keys.active_key().kid == first:
            assert time.monotonic() < deadline, "the maintenance timer did not rotate"
            time.sleep(0.1)


def test_module_entry_point_prints_banner_and_serves(tmp_path: Path, master_key: str) -> None:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    with Accounts.open(store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(USER, PASSWORD)
        accounts.add_client(CLIENT, SECRET, grants=ALL_GRANTS)
    child = ServiceProcess(service_env(store, master_key, "http://id.test"))
    try:
        url = child.wait_ready()
        body = token(url, grant_type="password", username=USER, password=PASSWORD).json()
        claims: dict[str, Any] = decode_unverified(body["access_token"])[1]
        assert claims["iss"] == "http://id.test" and claims["sub"] == USER
    finally:
        log = child.stop()
    assert "issuer: http://id.test" in log
    assert "JWKS: http://id.test/.well-known/jwks.json" in log
    assert "curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials" in log
    assert "discovery: http://id.test/.well-known/openid-configuration" in log
    # Nothing secret reaches the log.
    for secret in (PASSWORD, SECRET, master_key, body["access_token"], body["refresh_token"]):
        assert secret not in log


def test_missing_master_key_fails_before_listening(tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path / 'x.db'}", "", "http://127.0.0.1:1")
    del env["JWTKIT_MASTER_KEY"]
    child = ServiceProcess(env)
    assert child.proc.wait(timeout=60) == 4  # the store exit status, as `jwtkit serve`
    err = child.stop()
    assert err.startswith("error: ") and "master key" in err.lower()
    assert "Traceback" not in err
