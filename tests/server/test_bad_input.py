"""Malformed requests at every endpoint get a specific 4xx (never a 500) and lose nothing."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import CLIENT, PASSWORD, SECRET, USER, TestClient, basic, login

FORM = "application/x-www-form-urlencoded"
POST_ENDPOINTS = ("/token", "/revoke", "/introspect")


def post_raw(client: TestClient, path: str, body: bytes, ctype: str = FORM, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(path, content=body, headers={"Content-Type": ctype, **basic(), **headers})


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b'{"grant_type": "password"}', "application/json", 400),
        (b"grant_type=password", "text/plain", 400),
        (b"grant_type=password", "", 400),
        (b"grant_type=password", FORM + "; charset=latin-1", 400),
        (b"grant_type=password&username=%FF%FE", FORM, 400),
        ("grant_type=password&username=\u00e9".encode(), FORM, 400),
        (b"grant_type=password&grant_type=password", FORM, 400),
        (b"token=a&token=b", FORM, 400),
        (b"token=a%00b&grant_type=x%0D%0A", FORM, 400),
        (b"&".join(b"p%d=1" % i for i in range(100)), FORM, 400),
        (b"x" * (64 * 1024 + 1), FORM, 413),
    ],
    ids=[
        "json",
        "text",
        "no-content-type",
        "latin1",
        "bad-utf8-escape",
        "raw-non-ascii",
        "duplicate-grant",
        "duplicate-token",
        "control-chars",
        "too-many-params",
        "huge-body",
    ],
)
def test_malformed_bodies(
    client: TestClient, path: str, body: bytes, ctype: str, status: int
) -> None:
    response = post_raw(client, path, body, ctype)
    assert response.status_code == status
    assert response.json()["error"] == "invalid_request"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_huge_chunked_body_is_cut_off(client: TestClient, path: str) -> None:
    async def endless() -> AsyncIterator[bytes]:
        for _ in range(1000):
            yield b"a" * 4096

    response = client.post(path, content=endless(), headers={"Content-Type": FORM, **basic()})
    assert response.status_code == 413


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Bearer abc",
        "Basic",
    ],
)
def test_bad_basic_header_is_invalid_client(
    client: TestClient, path: str, authorization: str
) -> None:
    response = client.post(
        path,
        data={"grant_type": "client_credentials", "token": "t"},
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_two_client_auth_methods_is_invalid_request(client: TestClient, path: str) -> None:
    data = {"grant_type": "client_credentials", "token": "t", "client_id": CLIENT}
    response = client.post(path, data={**data, "client_secret": SECRET}, headers=basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    # A client_id in the body next to Basic is tolerated when it agrees, refused otherwise.
    assert client.post(path, data=data, headers=basic()).status_code == 200
    response = client.post(path, data={**data, "client_id": "other"}, headers=basic())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    response = client.post(path, data={"token": "t", "client_secret": SECRET})
    assert response.json()["error"] == "invalid_request"


def test_missing_fields_on_token(client: TestClient) -> None:
    for data in (
        {"grant_type": "password"},
        {"grant_type": "password", "username": USER},
        {"grant_type": "password", "password": PASSWORD},
        {"grant_type": "refresh_token"},
        {"username": USER, "password": PASSWORD},
    ):
        response = client.post("/token", data=data, headers=basic())
        assert response.status_code == 400, data
        assert response.json()["error"] == "invalid_request", data


def test_empty_values_count_as_missing(client: TestClient) -> None:
    response = post_raw(client, "/token", b"grant_type=password&username=&password=")
    assert response.json()["error"] == "invalid_request"


def test_wrong_methods_and_paths(client: TestClient) -> None:
    assert client.get("/token").status_code == 405
    assert client.get("/revoke").status_code == 405
    assert client.post("/.well-known/jwks.json").status_code == 405
    assert client.get("/nope").status_code == 404


def test_nothing_is_lost_after_bad_requests(client: TestClient) -> None:
    refresh = login(client).json()["refresh_token"]
    for body in (b"refresh_token=" + refresh.encode() + b"&grant_type=refresh_token&grant_type=x",):
        assert post_raw(client, "/token", body).status_code == 400
    assert post_raw(client, "/token", b"x" * 70000).status_code == 413
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    assert client.post("/token", data=data, headers=basic()).status_code == 200


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300), path=st.sampled_from(POST_ENDPOINTS))
def test_random_bodies_never_give_a_500(client: TestClient, body: bytes, path: str) -> None:
    response = post_raw(client, path, body)
    assert 200 <= response.status_code < 500
