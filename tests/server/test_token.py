"""POST /token: password, client_credentials and refresh_token grants (RFC 6749, RFC 9068)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from starlette.applications import Starlette

from jwtkit import KeySet, Verifier, decode_unverified
from jwtkit.server._service import TokenService
from tests.support.server import (
    ALL_GRANTS,
    CLIENT,
    FROM_WEB,
    PASSWORD,
    SECRET,
    USER,
    Clock,
    TestClient,
    basic,
    login,
)


def test_password_grant_issues_rfc9068_access_token(client: TestClient, svc: TokenService) -> None:
    response = login(client)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "read write"
    assert isinstance(body["refresh_token"], str) and len(body["refresh_token"]) >= 43
    header, _ = decode_unverified(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["kid"] == svc.keys.active_key().kid
    jwks = client.get("/.well-known/jwks.json").json()
    verifier = Verifier(
        KeySet.from_jwks(jwks),
        algorithms=["ES256"],
        issuer="http://testserver",
        audience="api",
        typ="at+jwt",
    )
    verified = verifier.verify(body["access_token"], now=svc.clock())
    assert verified["sub"] == USER
    assert verified["client_id"] == CLIENT
    assert verified["roles"] == ["admin", "staff"]
    assert verified["scope"] == "read write"
    assert verified["exp"] - verified["iat"] == 900
    assert isinstance(verified["jti"], str)


def test_client_secret_in_body_works(client: TestClient) -> None:
    data = {
        "grant_type": "password",
        "username": USER,
        "password": PASSWORD,
        "client_id": CLIENT,
        "client_secret": SECRET,
        "scope": "read",
    }
    response = client.post("/token", data=data)
    assert response.status_code == 200
    assert response.json()["scope"] == "read"


def test_wrong_password_is_invalid_grant(client: TestClient) -> None:
    response = login(client, password="wrong")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"
    assert login(client, username="nobody").json()["error"] == "invalid_grant"


def test_disabled_user_cannot_log_in(client: TestClient, svc: TokenService) -> None:
    svc.accounts.disable_user(USER)
    assert login(client).json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client_with_challenge(client: TestClient) -> None:
    data = {"grant_type": "password", "username": USER, "password": PASSWORD}
    response = client.post("/token", data=data, headers=basic(secret="wrong-secret-value"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    body_auth = {**data, "client_id": CLIENT, "client_secret": "wrong-secret-value"}
    response = client.post("/token", data=body_auth)
    assert response.status_code == 401
    assert "www-authenticate" not in response.headers
    response = client.post("/token", data=data)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_credentials_grant(client: TestClient, svc: TokenService) -> None:
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "read"}, headers=basic()
    )
    assert response.status_code == 200
    body = response.json()
    assert "refresh_token" not in body
    claims = svc.verifier.verify(body["access_token"], now=svc.clock())
    # Namespaced: a user named like the client never shares its subject (issue 11).
    assert claims["sub"] == "client:" + CLIENT
    assert claims["client_id"] == CLIENT
    assert claims["scope"] == "read"
    assert "roles" not in claims


def test_invalid_scope(client: TestClient) -> None:
    response = login(client, scope="read admin")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert login(client, scope="read  write").json()["error"] == "invalid_scope"


def test_unsupported_and_unauthorized_grants(client: TestClient, svc: TokenService) -> None:
    response = client.post("/token", data={"grant_type": "implicit"}, headers=basic())
    assert response.json()["error"] == "unsupported_grant_type"
    assert client.post("/token", data={}, headers=basic()).json()["error"] == "invalid_request"
    secret = svc.accounts.add_client("svc", scopes=("read",), grants=("client_credentials",))
    data = {"grant_type": "password", "username": USER, "password": PASSWORD}
    response = client.post("/token", data=data, headers=basic("svc", secret))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_public_client_password_grant_only(client: TestClient, svc: TokenService) -> None:
    svc.accounts.add_client(
        "spa", public=True, scopes=("read",), grants=("password", "refresh_token")
    )
    data = {"grant_type": "password", "username": USER, "password": PASSWORD, "client_id": "spa"}
    response = client.post("/token", data=data)
    assert response.status_code == 200
    assert response.json()["scope"] == "read"
    cc = client.post("/token", data={"grant_type": "client_credentials", "client_id": "spa"})
    assert cc.json()["error"] == "unauthorized_client"
    # A public client that sends a secret is not who it claims to be.
    response = client.post("/token", data={**data, "client_secret": "x" * 20})
    assert response.status_code == 401


def test_refresh_rotates_and_reuse_revokes_family(
    client: TestClient, svc: TokenService, caplog: pytest.LogCaptureFixture
) -> None:
    first = login(client).json()["refresh_token"]
    response = client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": first}, headers=basic()
    )
    assert response.status_code == 200
    body = response.json()
    second = body["refresh_token"]
    assert second != first
    claims = svc.verifier.verify(body["access_token"], now=svc.clock())
    assert claims["roles"] == ["admin", "staff"] and claims["sub"] == USER
    with caplog.at_level(logging.WARNING, logger="jwtkit.server"):
        reuse = client.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": first}, headers=basic()
        )
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert "reuse" in caplog.text
    assert first not in caplog.text and second not in caplog.text
    # The whole family is gone, including the newest token the thief did not have.
    after = client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": second}, headers=basic()
    )
    assert after.json()["error"] == "invalid_grant"
    # Another login (another family) is unaffected.
    assert login(client).status_code == 200


def test_refresh_scope_may_narrow_not_widen(client: TestClient, svc: TokenService) -> None:
    token = login(client, scope="read").json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": token, "scope": "read write"}
    wide = client.post("/token", data=data, headers=basic())
    assert wide.json()["error"] == "invalid_scope"
    # The refused request did not consume the token.
    data["scope"] = "read"
    ok = client.post("/token", data=data, headers=basic())
    assert ok.status_code == 200
    assert ok.json()["scope"] == "read"


def test_refresh_bound_to_client(client: TestClient, svc: TokenService) -> None:
    token = login(client).json()["refresh_token"]
    other = svc.accounts.add_client("other", scopes=("read", "write"), grants=ALL_GRANTS)
    data = {"grant_type": "refresh_token", "refresh_token": token}
    response = client.post("/token", data=data, headers=basic("other", other))
    assert response.json()["error"] == "invalid_grant"
    assert client.post("/token", data=data, headers=basic()).status_code == 200


def test_refresh_expires(client: TestClient, clock: Clock) -> None:
    token = login(client).json()["refresh_token"]
    clock.advance(7 * 24 * 3600 + 1)
    data = {"grant_type": "refresh_token", "refresh_token": token}
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"


def test_refresh_of_disabled_user_fails(client: TestClient, svc: TokenService) -> None:
    token = login(client).json()["refresh_token"]
    svc.accounts.disable_user(USER)
    data = {"grant_type": "refresh_token", "refresh_token": token}
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"
    svc.accounts.enable_user(USER)
    # The family was revoked when the disabled user's token was presented.
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"


def _refresher(client: TestClient) -> Callable[[str], dict[str, str]]:
    def refresh(token: str) -> dict[str, str]:
        data = {"grant_type": "refresh_token", "refresh_token": token}
        result: dict[str, str] = client.post("/token", data=data, headers=basic()).json()
        return result

    return refresh


def test_grace_window_allows_one_retry_with_the_same_successor(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    """Issue 11: with a 30 s window a used token was replayed 10 more times, each time for a
    fresh successor. Now the one retry gets the successor already issued, and the next
    replay is reuse: the family (and its access tokens) is revoked."""
    client = TestClient(make_app(refresh_grace_seconds=30))
    refresh = _refresher(client)
    t1 = login(client).json()["refresh_token"]
    first = refresh(t1)
    t2 = first["refresh_token"]
    clock.advance(10)
    # The client lost the answer carrying t2 and retries with t1: it gets t2 again.
    retry = refresh(t1)
    assert retry["refresh_token"] == t2
    assert retry["access_token"] != first["access_token"]
    # A second replay of t1 is reuse, even within the window.
    assert refresh(t1)["error"] == "invalid_grant"
    assert refresh(t2)["error"] == "invalid_grant"
    for access in (first["access_token"], retry["access_token"]):
        answer = client.post("/introspect", data={"token": access}, headers=basic()).json()
        assert answer == {"active": False}


def test_grace_window_does_not_hide_a_thief_alternating_with_the_victim(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    """Issue 11: a thief replaying the victim's previous token after each of the victim's
    refreshes went undetected for 20 rounds. Now the second round gives it away."""
    client = TestClient(make_app(refresh_grace_seconds=30))
    refresh = _refresher(client)
    victim = login(client).json()["refresh_token"]
    detected_at = None
    for round_ in range(20):
        stolen = victim
        victim_answer = refresh(victim)
        if "error" in victim_answer:
            detected_at = round_
            break
        victim = victim_answer["refresh_token"]
        clock.advance(1)
        thief = refresh(stolen)
        if "error" in thief:
            detected_at = round_
            break
        # Within the window the thief gets only the victim's own successor, never a fork.
        assert thief["refresh_token"] == victim
        clock.advance(1)
    assert detected_at is not None and detected_at <= 1
    assert refresh(victim)["error"] == "invalid_grant"


def test_grace_retry_needs_an_unused_successor(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    client = TestClient(make_app(refresh_grace_seconds=30))
    refresh = _refresher(client)
    t1 = login(client).json()["refresh_token"]
    t2 = refresh(t1)["refresh_token"]
    assert "refresh_token" in refresh(t2)
    # t2 was used: a retry of t1 is no lost answer but a replay.
    assert refresh(t1)["error"] == "invalid_grant"


def test_grace_window_expires(make_app: Callable[..., Starlette], clock: Clock) -> None:
    client = TestClient(make_app(refresh_grace_seconds=30))
    t1 = login(client).json()["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": t1}
    t2 = client.post("/token", data=data, headers=basic()).json()["refresh_token"]
    clock.advance(31)
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"
    data["refresh_token"] = t2
    assert client.post("/token", data=data, headers=basic()).json()["error"] == "invalid_grant"


def test_refresh_cookie_mode_with_csrf_header(client: TestClient, svc: TokenService) -> None:
    response = login(client, FROM_WEB, refresh_token_cookie="true")
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookie = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/token", "Max-Age=604800"):
        assert attribute.lower() in cookie.lower()
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    jar = {"Cookie": f"jwtkit_refresh={value}", **basic(), **FROM_WEB}
    data = {"grant_type": "refresh_token"}
    # Without the custom header the cookie is not honoured (CSRF defence).
    refused = client.post("/token", data=data, headers=jar)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    ok = client.post("/token", data=data, headers={**jar, "X-Requested-With": "fetch"})
    assert ok.status_code == 200
    assert "refresh_token" not in ok.json()
    new_value = ok.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    assert new_value != value
    # The old cookie value is now a used token.
    again = client.post("/token", data=data, headers={**jar, "X-Requested-With": "fetch"})
    assert again.json()["error"] == "invalid_grant"


def test_the_form_refresh_token_wins_over_the_cookie(client: TestClient) -> None:
    """Issue 15: one rule (in the token route) says where the refresh token comes from."""
    cookie = login(client, FROM_WEB, refresh_token_cookie="true").headers["set-cookie"]
    in_cookie = cookie.split(";", 1)[0].split("=", 1)[1]
    in_body = login(client).json()["refresh_token"]
    jar = {"Cookie": f"jwtkit_refresh={in_cookie}", "X-Requested-With": "fetch", **basic()}
    both = {"grant_type": "refresh_token", "refresh_token": in_body}
    answer = client.post("/token", data=both, headers={**jar, **FROM_WEB})
    assert answer.status_code == 200
    # The body's token was used (and answered in the body); the cookie's is still unused.
    assert "refresh_token" in answer.json() and "set-cookie" not in answer.headers
    assert client.post("/token", data=both, headers=basic()).json()["error"] == "invalid_grant"
    # Without the parameter, the cookie's token is the one presented.
    from_cookie = client.post(
        "/token", data={"grant_type": "refresh_token"}, headers={**jar, **FROM_WEB}
    )
    assert from_cookie.status_code == 200 and "set-cookie" in from_cookie.headers


def test_cookie_param_must_be_boolean(client: TestClient) -> None:
    response = login(client, refresh_token_cookie="yes please")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_failed_logins_are_limited_per_user(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    client = TestClient(make_app(login_max_failures_per_user=3))
    for _ in range(3):
        assert login(client, password="guess").status_code == 400
    locked = login(client)
    assert locked.status_code == 429
    assert locked.json()["error"] == "invalid_grant"
    assert 1 <= int(locked.headers["retry-after"]) <= 300
    clock.advance(301)
    assert login(client).status_code == 200


def test_failed_logins_are_limited_per_address(
    make_app: Callable[..., Starlette], svc: TokenService
) -> None:
    app = make_app(login_max_failures_per_address=4)
    client = TestClient(app)
    app.state.service.accounts.add_user("bob", "bob-password-123")
    for name in ("u1", "u2", "u3", "u4"):
        assert login(client, username=name, password="x").status_code == 400
    # A different user from the same address is now refused without a password check.
    response = login(client, username="bob", password="bob-password-123")
    assert response.status_code == 429
