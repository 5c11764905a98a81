"""GET /revocations: what local verifiers need to honour revocations (issue 11)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from jwtkit._revocation import Revocations
from jwtkit.server._service import TokenService
from tests.support.server import CLIENT, PASSWORD, SECRET, USER, Clock, TestClient, basic, login

RS = ("api", "api-secret-0123456789")


@pytest.fixture
def app(make_app: Callable[..., Starlette]) -> Starlette:
    """The service without the list cache, so each request sees the store as it is."""
    return make_app(revocation_list_cache=0)


def listing(client: TestClient, **headers: str) -> Any:
    response = client.get("/revocations", headers={**basic(*RS), **headers})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-cache"
    return response


def claims(svc: TokenService, token: str) -> dict[str, Any]:
    return dict(svc.verifier.verify(token, now=svc.clock()))


def test_only_resource_servers_read_the_list(client: TestClient, svc: TokenService) -> None:
    assert client.get("/revocations").status_code == 401
    assert (
        client.get("/revocations", headers=basic(RS[0], "wrong-secret-012345")).status_code == 401
    )
    refused = client.get("/revocations", headers=basic(CLIENT, SECRET))
    assert refused.status_code == 403 and refused.json()["error"] == "unauthorized_client"
    svc.accounts.add_client(*RS, resource_server=True)
    body = listing(client).json()
    assert body == {"jti": {}, "families": {}, "subjects": {}}


def test_every_kind_of_revocation_is_listed_until_it_stops_mattering(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    svc.accounts.add_client(*RS, resource_server=True)
    one, two = login(client).json(), login(client).json()
    client.post("/revoke", data={"token": one["access_token"]}, headers=basic())
    client.post("/revoke", data={"token": two["refresh_token"]}, headers=basic())
    svc.accounts.add_user("bob", "bob-password-1")
    svc.accounts.disable_user("bob")
    svc.accounts.disable_client(CLIENT)
    body = listing(client).json()
    first, second = claims(svc, one["access_token"]), claims(svc, two["access_token"])
    assert body["jti"] == {first["jti"]: first["exp"]}
    # Disabling the client revoked the first session too.
    assert body["families"] == {
        first["jwtkit_fid"]: first["exp"],
        second["jwtkit_fid"]: second["exp"],
    }
    horizon = int(clock()) + 3600 + 60
    assert body["subjects"] == {
        "bob": {"before": horizon, "until": horizon},
        "client:" + CLIENT: {"before": horizon, "until": horizon},
    }
    revocations = Revocations.from_json(body)
    assert revocations.revoked(first) and revocations.revoked(second)
    # Once no token they revoke can be valid any more, entries leave the list.
    clock.advance(901)
    body = listing(client).json()
    assert body["jti"] == {} and body["families"] == {}
    assert set(body["subjects"]) == {"bob", "client:" + CLIENT}
    clock.advance(3600)
    assert listing(client).json() == {"jti": {}, "families": {}, "subjects": {}}


def test_a_cut_off_lists_the_second_before_which_tokens_are_revoked(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    svc.accounts.add_client(*RS, resource_server=True)
    old = login(client).json()["access_token"]
    clock.advance(1.5)
    svc.accounts.log_out_user(USER)
    entry = listing(client).json()["subjects"][USER]
    assert entry == {"before": int(clock()), "until": math.ceil(clock()) + 3600 + 60}
    clock.advance(1)
    new = login(client).json()["access_token"]
    revocations = Revocations.from_json(listing(client).json())
    assert revocations.revoked(claims(svc, old))
    assert not revocations.revoked(claims(svc, new))


def test_etag_revalidation(make_app: Callable[..., Starlette]) -> None:
    app = make_app(revocation_list_cache=0)
    svc: TokenService = app.state.service
    client = TestClient(app)
    svc.accounts.add_client(*RS, resource_server=True)
    first = listing(client)
    etag = first.headers["etag"]
    assert etag.startswith('"') and len(etag) == 34
    same = client.get("/revocations", headers={**basic(*RS), "If-None-Match": etag})
    assert same.status_code == 304 and same.headers["etag"] == etag and same.content == b""
    # A second instance on the same store serves the same bytes and ETag.
    other = TestClient(make_app(users=False, revocation_list_cache=0))
    assert other.get("/revocations", headers=basic(*RS)).content == first.content
    data = {"grant_type": "password", "username": USER, "password": PASSWORD}
    token = client.post("/token", data=data, headers=basic()).json()["access_token"]
    client.post("/revoke", data={"token": token}, headers=basic())
    changed = client.get("/revocations", headers={**basic(*RS), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert (
        other.get("/revocations", headers=basic(*RS)).headers["etag"] == (changed.headers["etag"])
    )


def test_an_instance_reuses_its_list_for_the_cache_time_and_says_how_old(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    app = make_app(revocation_list_cache=2)
    svc: TokenService = app.state.service
    client = TestClient(app)
    svc.accounts.add_client(*RS, resource_server=True)
    assert listing(client).headers["age"] == "0"
    token = login(client).json()["access_token"]
    client.post("/revoke", data={"token": token}, headers=basic())
    clock.advance(1.5)
    cached = listing(client)
    assert cached.json()["jti"] == {} and cached.headers["age"] == "2"  # 1.5 s, rounded up
    clock.advance(0.5)
    fresh = listing(client)
    assert len(fresh.json()["jti"]) == 1 and fresh.headers["age"] == "0"
