"""POST /revoke (RFC 7009) and POST /introspect (RFC 7662)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from urllib.parse import quote_plus

import pytest
from starlette.applications import Starlette

from jwtkit import decode_unverified
from jwtkit.errors import AlgorithmNotAllowedError
from jwtkit.server._service import TokenService
from tests.support.server import ALL_GRANTS, CLIENT, FROM_WEB, USER, Clock, TestClient, basic, login


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def introspect(client: TestClient, token: str, **auth: str) -> dict[str, object]:
    headers = basic(**auth) if auth else basic()
    response = client.post("/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    result: dict[str, object] = response.json()
    return result


def test_introspect_access_token(client: TestClient) -> None:
    access = login(client).json()["access_token"]
    info = introspect(client, access)
    assert info["active"] is True
    assert info["sub"] == USER and info["username"] == USER
    assert info["client_id"] == CLIENT
    assert info["scope"] == "read write"
    assert info["iss"] == "http://testserver"
    assert info["roles"] == ["admin", "staff"]


def test_an_hmac_signed_access_token_is_never_active(client: TestClient, svc: TokenService) -> None:
    """The service verifies with asymmetric algorithms only (jwa.ASYMMETRIC_ALGORITHMS): a
    token re-signed with HS256 under the published public key (key confusion) is inactive."""
    access = login(client).json()["access_token"]
    kid = decode_unverified(access)[0]["kid"]
    published = next(k for k in svc.keys.jwks()["keys"] if k["kid"] == kid)
    # Signed by hand: jwtkit refuses public-key material as an HMAC secret.
    head = b64url(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    signing_input = head + "." + access.split(".")[1]
    mac = hmac.new(json.dumps(published).encode(), signing_input.encode(), hashlib.sha256)
    forged = signing_input + "." + b64url(mac.digest())
    assert introspect(client, forged) == {"active": False}
    assert introspect(client, access)["active"] is True
    # Refused by the allow-list itself, before any key is looked at (RFC 8725 §3.1).
    with pytest.raises(AlgorithmNotAllowedError):
        svc.verifier.verify(forged, now=svc.clock())


def test_introspect_refresh_token_only_for_its_client(
    client: TestClient, svc: TokenService
) -> None:
    refresh = login(client).json()["refresh_token"]
    info = introspect(client, refresh)
    assert info["active"] is True
    assert info["token_type"] == "refresh_token"
    assert info["username"] == USER
    other = svc.accounts.add_client("rs", scopes=(), grants=ALL_GRANTS)
    assert introspect(client, refresh, client_id="rs", secret=other) == {"active": False}


def test_introspect_inactive_cases(client: TestClient, clock: Clock) -> None:
    body = login(client).json()
    for junk in ("nonsense", "a.b.c", "x" * 5000, body["access_token"][:-4] + "AAAA"):
        assert introspect(client, junk) == {"active": False}
    clock.advance(901)
    assert introspect(client, body["access_token"]) == {"active": False}


def test_revoke_access_token_by_jti(client: TestClient, svc: TokenService) -> None:
    access = login(client).json()["access_token"]
    response = client.post(
        "/revoke", data={"token": access, "token_type_hint": "access_token"}, headers=basic()
    )
    assert response.status_code == 200
    assert introspect(client, access) == {"active": False}
    jti = svc.verifier.verify(access, now=svc.clock())["jti"]
    assert svc.tokens.is_denied(jti)


def test_revoke_refresh_token_revokes_family(client: TestClient) -> None:
    body = login(client).json()
    refresh = body["refresh_token"]
    response = client.post("/revoke", data={"token": refresh}, headers=basic())
    assert response.status_code == 200
    assert response.content == b""
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"
    assert introspect(client, refresh) == {"active": False}


def test_revoke_unknown_and_foreign_tokens_is_200_and_harmless(
    client: TestClient, svc: TokenService
) -> None:
    assert client.post("/revoke", data={"token": "unknown"}, headers=basic()).status_code == 200
    body = login(client).json()
    other = svc.accounts.add_client("intruder", scopes=(), grants=ALL_GRANTS)
    for token in (body["access_token"], body["refresh_token"]):
        response = client.post("/revoke", data={"token": token}, headers=basic("intruder", other))
        assert response.status_code == 200
        assert introspect(client, token)["active"] is True


def test_revoke_and_introspect_need_client_auth(client: TestClient) -> None:
    token = login(client).json()["access_token"]
    for path in ("/revoke", "/introspect"):
        response = client.post(path, data={"token": token})
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        response = client.post(
            path, data={"token": token}, headers=basic(secret="bad-secret-123456")
        )
        assert response.status_code == 401
        assert "www-authenticate" in response.headers
        response = client.post(path, data={}, headers=basic())
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    assert introspect(client, token)["active"] is True


def test_public_client_may_revoke_but_not_introspect(client: TestClient, svc: TokenService) -> None:
    svc.accounts.add_client("spa", public=True, grants=("password", "refresh_token"))
    data = {"grant_type": "password", "username": USER, "password": "wonderland-rabbit-hole"}
    body = client.post("/token", data={**data, "client_id": "spa"}).json()
    response = client.post("/introspect", data={"token": body["access_token"], "client_id": "spa"})
    assert response.status_code == 401
    response = client.post("/revoke", data={"token": body["refresh_token"], "client_id": "spa"})
    assert response.status_code == 200
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    assert client.post("/token", data={**refresh, "client_id": "spa"}).status_code == 400


def test_maintenance_purges_expired_denylist_and_refresh_tokens(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    body = login(client).json()
    assert client.post("/revoke", data={"token": body["access_token"]}, headers=basic())
    jti = svc.verifier.verify(body["access_token"], now=svc.clock())["jti"]
    svc.maintain()
    assert svc.tokens.is_denied(jti)  # still within its exp
    clock.advance(8 * 24 * 3600)
    svc.maintain()
    assert not svc.tokens.is_denied(jti)
    assert svc.tokens.inspect(body["refresh_token"], now=clock()) is None


def test_revoke_reads_the_cookie_when_its_path_covers_revoke(
    make_app: Callable[..., Starlette],
) -> None:
    client = TestClient(make_app(cookie_path="/"))
    response = login(client, FROM_WEB, refresh_token_cookie="true")
    assert "Path=/" in response.headers["set-cookie"]
    value = response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    jar = {"Cookie": f"jwtkit_refresh={value}", **basic(), **FROM_WEB}
    refused = client.post("/revoke", data={}, headers=jar)
    assert refused.status_code == 400  # the CSRF header is missing
    done = client.post("/revoke", data={}, headers={**jar, "X-Requested-With": "fetch"})
    assert done.status_code == 200, done.text
    assert "Max-Age=0" in done.headers["set-cookie"] or "expires=" in done.headers["set-cookie"]
    data = {"grant_type": "refresh_token", "refresh_token": value}
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"


def test_basic_credentials_with_reserved_characters(client: TestClient, svc: TokenService) -> None:
    secret = "p@ss:w+rd/%&= 0123456789"
    svc.accounts.add_client("odd.client", secret, grants=("client_credentials",))
    encoded = f"{quote_plus('odd.client')}:{quote_plus(secret)}"
    header = {"Authorization": "Basic " + base64.b64encode(encoded.encode()).decode()}
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers=header)
    assert response.status_code == 200
    body = {"grant_type": "client_credentials", "client_id": "odd.client", "client_secret": secret}
    assert client.post("/token", data=body).status_code == 200
