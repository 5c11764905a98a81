"""JWKS (ETag, Cache-Control, 304), RFC 8414 metadata, /healthz."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from jwtkit import KeySet
from jwtkit.server._service import TokenService
from tests.support.server import TestClient


def test_jwks_has_active_and_pending_public_keys(client: TestClient, svc: TokenService) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    # Per signing algorithm (ES256 access tokens; RS256, ES256, EdDSA ID tokens): the active
    # key and its pre-published successor.
    assert sorted(k["alg"] for k in keys) == ["ES256", "ES256", "EdDSA", "EdDSA", "RS256", "RS256"]
    for alg in ("ES256", "RS256", "EdDSA"):
        assert svc.keys.active_key(alg).kid in KeySet.from_jwks(response.json())
    assert all("d" not in k for k in keys)


def test_jwks_etag_and_304(client: TestClient, svc: TokenService) -> None:
    first = client.get("/.well-known/jwks.json")
    etag = first.headers["etag"]
    cached = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    listed = client.get("/.well-known/jwks.json", headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    svc.keys.rotate(force=True)
    changed = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_metadata(client: TestClient) -> None:
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/token"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert body["revocation_endpoint"] == "http://testserver/revoke"
    assert body["introspection_endpoint"] == "http://testserver/introspect"
    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "password",
        "client_credentials",
        "refresh_token",
    }


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_a_broken_store(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    app = make_app()
    client = TestClient(app)
    app.state.service.db.close()
    response = client.get("/healthz")
    assert response.status_code == 503
    # Other endpoints answer 503 with an OAuth error body, not a 500.
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_sqlite_store_file_is_private(app: Starlette, tmp_path: Path) -> None:
    assert (tmp_path / "jwtkit.db").stat().st_mode & 0o777 == 0o600


def test_memory_store_needs_no_master_key() -> None:
    from jwtkit.server import Settings, create_app

    app = create_app(Settings(store="memory://", argon2_memory_cost=8, argon2_parallelism=1))
    try:
        svc = app.state.service
        svc.accounts.add_client("svc", "a-secret-of-some-length", grants=("client_credentials",))
        client = TestClient(app)
        response = client.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=("svc", "a-secret-of-some-length"),
        )
        assert response.status_code == 200
        assert svc.verifier.verify(response.json()["access_token"])["sub"] == "client:svc"
    finally:
        app.state.service.close()
