"""The authorization code flow in-process: /authorize, the login page, codes, ID tokens, userinfo.

Issue 13's negative cases each have a test: no PKCE, plain PKCE, a wrong verifier; code reuse,
a code of another client, an expired code; redirect URI near-misses (error page, no redirect);
a login form without its CSRF token; prompt=none without a session.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette

from jwtkit import KeySet, Verifier, decode_unverified
from jwtkit.server._service import TokenService
from jwtkit.server._settings import SettingsError
from tests.support.oidc import REDIRECT, Browser, hidden, pkce, query, start
from tests.support.server import CLIENT, PASSWORD, SECRET, USER, Clock, TestClient, basic

APP_SECRET = "app-secret-0123456789abcdef"


@pytest.fixture
def oidc(app: Starlette) -> TokenService:
    svc: TokenService = app.state.service
    svc.accounts.update_user(
        USER, name="Alice Liddell", email="alice@example.org", email_verified=True
    )
    # First-party: the consent page (issue 14) has its own tests.
    svc.accounts.add_client(
        "app", APP_SECRET, scopes=("read",), redirect_uris=(REDIRECT,), first_party=True
    )
    svc.accounts.add_client(
        "spa", public=True, redirect_uris=("http://127.0.0.1:9000/cb",), id_token_alg="ES256",
        first_party=True,
    )  # fmt: skip
    return svc


@pytest.fixture
def browser(oidc: TokenService, app: Starlette) -> Browser:
    return Browser(TestClient(app))


def exchange(client: TestClient, code: str, verifier: str, **extra: str) -> dict[str, object]:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        **extra,
    }
    response = client.post("/token", data=data, headers=basic("app", APP_SECRET))
    return {"status": response.status_code, **response.json()}


def logged_in(browser: Browser, **params: str) -> tuple[dict[str, str], str]:
    page, verifier = start(browser, **params)
    if page.status_code == 303:  # single sign-on: the browser's session answered
        return query(page.headers["location"]), verifier
    assert page.status_code == 200, page.text
    done = browser.login(page, USER, PASSWORD)
    assert done.status_code == 303, done.text
    return query(done.headers["location"]), verifier


def test_full_flow_id_token_userinfo_refresh(browser: Browser, oidc: TokenService) -> None:
    page, verifier = start(browser, login_hint=USER)
    assert page.status_code == 200
    assert 'value="alice"' in page.text and "to continue to <strong>app</strong>" in page.text
    for name, value in {
        "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
    }.items():
        assert page.headers[name] == value
    assert "<script" not in page.text and "style=" not in page.text
    request = query("/?" + hidden(page.text, "request"))
    done = browser.login(page, USER, PASSWORD)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query(location)
    assert params["state"] == request["state"] and params["iss"] == "http://testserver"
    tokens = exchange(browser.client, params["code"], verifier)
    assert tokens["status"] == 200, tokens
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    id_token = str(tokens["id_token"])
    header = decode_unverified(id_token)[0]
    assert header["alg"] == "RS256"
    keys = KeySet.from_jwks(browser.client.get("/.well-known/jwks.json").json())
    verified = Verifier(
        keys, algorithms=["RS256"], issuer="http://testserver", audience="app"
    ).verify(id_token, now=oidc.clock())
    session = next(iter(browser.cookies))
    assert session == "jwtkit_session"
    assert verified["sub"] == USER and verified["azp"] == "app"
    assert verified["nonce"] == request["nonce"]
    assert verified["exp"] - verified["iat"] == 3600
    assert verified["auth_time"] == int(oidc.clock())
    assert verified["name"] == "Alice Liddell" and verified["preferred_username"] == USER
    assert verified["email"] == "alice@example.org" and verified["email_verified"] is True
    assert verified["roles"] == ["admin", "staff"]
    access = str(tokens["access_token"])
    assert decode_unverified(access)[1]["scope"] == "openid profile email roles"
    digest = hashlib.sha256(access.encode()).digest()[:16]
    assert verified["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    sid = verified["sid"]
    # The refresh family carries the session id (issue 14 ends sessions by sid).
    rows = oidc.db.read(lambda tx: tx.execute("SELECT family_id, sid FROM jwtkit_refresh_families"))
    # ... and the access token names that family (issue 11's jwtkit_fid), so revoking the
    # session reaches it.
    assert rows == [(decode_unverified(access)[1]["jwtkit_fid"], sid)]
    for method in ("GET", "POST"):
        info = browser.client.request(
            method, "/userinfo", headers={"Authorization": f"Bearer {access}"}
        )
        assert info.status_code == 200 and info.headers["cache-control"] == "no-store"
        assert info.json() == {
            "sub": USER,
            "preferred_username": USER,
            "name": "Alice Liddell",
            "email": "alice@example.org",
            "email_verified": True,
            "roles": ["admin", "staff"],
        }
    by_form = browser.client.post("/userinfo", data={"access_token": access})
    assert by_form.json()["sub"] == USER
    refreshed = browser.client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic("app", APP_SECRET),
    )
    assert refreshed.status_code == 200 and refreshed.json()["refresh_token"]
    assert (
        browser.client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            headers=basic("app", APP_SECRET),
        ).status_code
        == 400
    )


def test_single_sign_on_prompt_login_and_max_age(
    browser: Browser, oidc: TokenService, clock: Clock
) -> None:
    logged_in(browser)
    # Another client: no password asked, a code at once, the same session id.
    _, challenge = pkce()
    second = browser.authorize(
        "spa",
        redirect_uri="http://127.0.0.1:9000/cb",
        scope="openid",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert second.status_code == 303 and "code=" in second.headers["location"]
    # prompt=login and an exceeded max_age ask for the password again.
    page, _ = start(browser, prompt="login")
    assert page.status_code == 200 and 'name="password"' in page.text
    clock.advance(120)
    assert start(browser, max_age="60")[0].status_code == 200
    assert start(browser, max_age="600")[0].status_code == 303
    # After a fresh login the session is a new one (no fixation), and max_age is satisfied.
    before = dict(browser.cookies)
    again = browser.login(start(browser, prompt="login")[0], USER, PASSWORD)
    assert again.status_code == 303 and browser.cookies != before
    assert start(browser, max_age="5")[0].status_code == 303


def test_prompt_none_without_a_session_is_login_required(browser: Browser) -> None:
    response, _ = start(browser, prompt="none", state="s1")
    assert response.status_code == 303
    params = query(response.headers["location"])
    assert params == {
        "error": "login_required",
        "error_description": "the user is not logged in",
        "state": "s1",
        "iss": "http://testserver",
    }


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"request": "eyJ"}, "request_not_supported"),
    ],
    ids=[
        "no-pkce",
        "plain-pkce",
        "pkce-method-missing",
        "implicit",
        "fragment",
        "scope",
        "prompt",
        "max-age",
        "request-object",
    ],
)
def test_errors_after_the_redirect_uri_go_back_to_the_client(
    browser: Browser, params: dict[str, str | None], error: str
) -> None:
    response, _ = start(browser, state="xyz", **params)  # type: ignore[arg-type]
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    got = query(location)
    assert got["error"] == error and got["state"] == "xyz" and got["iss"] == "http://testserver"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example/callback/",
        "https://app.example/other",
        "https://app.example/callback?x=1",
        "https://app.example:8443/callback",
        "http://app.example/callback",
        "https://APP.example/callback",
        "https://evil.example/callback",
        None,
    ],
    ids=["slash", "path", "query", "port", "scheme", "case", "host", "missing"],
)
def test_redirect_uri_near_misses_get_an_error_page_and_no_redirect(
    browser: Browser, redirect_uri: str | None
) -> None:
    response, _ = start(browser, redirect_uri=redirect_uri)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri" in response.text and response.headers["cache-control"] == "no-store"


def test_unknown_missing_or_disabled_client_gets_an_error_page(
    browser: Browser, oidc: TokenService
) -> None:
    assert start(browser, "nobody")[0].status_code == 400
    assert browser.request("GET", "/authorize?redirect_uri=x").status_code == 400
    oidc.accounts.disable_client("app")
    response, _ = start(browser)
    assert response.status_code == 400 and "location" not in response.headers
    # A client without the code grant is told so at its own redirect URI.
    oidc.accounts.add_client(
        "m2m", APP_SECRET, grants=("client_credentials",), redirect_uris=(REDIRECT,)
    )
    refused, _ = start(browser, "m2m")
    assert query(refused.headers["location"])["error"] == "unauthorized_client"


def test_pkce_wrong_verifier_and_code_of_another_client(browser: Browser) -> None:
    params, verifier = logged_in(browser)
    wrong = exchange(browser.client, params["code"], pkce()[0])
    assert (wrong["status"], wrong["error"]) == (400, "invalid_grant")
    params, verifier = logged_in(browser)
    other = browser.client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers=basic(CLIENT, SECRET),
    )
    assert (other.status_code, other.json()["error"]) == (400, "unauthorized_client")
    # A client that may use the code flow, presenting another client's code.
    foreign = browser.client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "client_id": "spa",
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert (foreign.status_code, foreign.json()["error"]) == (400, "invalid_grant")
    missing = exchange(browser.client, params["code"], verifier, redirect_uri="")
    assert missing["error"] == "invalid_grant"
    malformed = exchange(browser.client, params["code"], "short")
    assert malformed["error"] == "invalid_request"


def test_code_reuse_revokes_every_token_issued_from_it(browser: Browser) -> None:
    params, verifier = logged_in(browser)
    first = exchange(browser.client, params["code"], verifier)
    assert first["status"] == 200
    second = exchange(browser.client, params["code"], verifier)
    assert (second["status"], second["error"]) == (400, "invalid_grant")
    access = str(first["access_token"])
    introspected = browser.client.post(
        "/introspect", data={"token": access}, headers=basic("app", APP_SECRET)
    ).json()
    assert introspected == {"active": False}
    assert (
        browser.client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code
        == 401
    )
    refresh = browser.client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=basic("app", APP_SECRET),
    )
    assert refresh.status_code == 400


def test_expired_code(browser: Browser, clock: Clock) -> None:
    params, verifier = logged_in(browser)
    clock.advance(61)
    expired = exchange(browser.client, params["code"], verifier)
    assert (expired["status"], expired["error"]) == (400, "invalid_grant")


def test_login_form_without_or_with_a_foreign_csrf_token(
    browser: Browser, oidc: TokenService
) -> None:
    page, _ = start(browser)
    data = {"request": hidden(page.text, "request"), "username": USER, "password": PASSWORD}
    refused = browser.request("POST", "/login", data=data)
    assert refused.status_code == 403 and "location" not in refused.headers
    forged = browser.request("POST", "/login", data={**data, "csrf_token": "A" * 43})
    assert forged.status_code == 403
    # Another browser's token does not fit this browser's cookie.
    other = Browser(browser.client)
    token = hidden(start(other)[0].text, "csrf_token")
    assert browser.request("POST", "/login", data={**data, "csrf_token": token}).status_code == 403
    cross = browser.request(
        "POST",
        "/login",
        data={**data, "csrf_token": hidden(page.text, "csrf_token")},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403


def test_wrong_password_and_unknown_user_read_the_same(browser: Browser) -> None:
    page, _ = start(browser)
    wrong = browser.login(page, USER, "not-the-password")
    unknown = browser.login(page, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    message = "The username or password is incorrect."
    assert message in wrong.text and message in unknown.text
    assert 'role="alert"' in wrong.text and 'aria-invalid="true"' in wrong.text


def test_login_page_shares_the_password_grants_failure_limit(
    browser: Browser, app: Starlette
) -> None:
    page, _ = start(browser)
    for _ in range(5):
        assert browser.login(page, USER, "wrong").status_code == 401
    locked = browser.login(page, USER, PASSWORD)
    assert locked.status_code == 429 and locked.headers["retry-after"]
    assert "Too many failed sign-in attempts" in locked.text
    # The token endpoint's password grant sees the same lock-out: one limiter for both.
    grant = TestClient(app).post(
        "/token",
        headers=basic(),
        data={"grant_type": "password", "username": USER, "password": PASSWORD},
    )
    assert grant.status_code == 429


def test_session_cookie_attributes_and_host_prefix_over_https(
    make_app: Callable[..., Starlette],
) -> None:
    app = make_app(issuer="https://id.example")
    svc: TokenService = app.state.service
    svc.accounts.add_client("app", APP_SECRET, redirect_uris=(REDIRECT,), first_party=True)
    browser = Browser(TestClient(app))
    page, _ = start(browser)
    assert browser.raw[-1].startswith("__Host-jwtkit_session=")
    done = browser.login(page, USER, PASSWORD)
    cookie = browser.raw[-1]
    assert done.status_code == 303 and cookie.startswith("__Host-jwtkit_session=")
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/", "max-age=28800"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    assert query(done.headers["location"])["iss"] == "https://id.example"


def test_session_idle_timeout_and_lifetime(browser: Browser, clock: Clock) -> None:
    logged_in(browser)
    clock.advance(3500)
    assert start(browser)[0].status_code == 303  # used within the idle timeout: renewed
    clock.advance(3601)
    assert start(browser)[0].status_code == 200  # idle for over an hour: log in again
    logged_in(browser)
    statuses = []
    for _ in range(10):
        clock.advance(3000)
        statuses.append(start(browser)[0].status_code)
    assert statuses[:9] == [303] * 9
    last = start(browser)[0]
    assert last.status_code == 200  # over the 8 h lifetime despite activity


def test_client_chosen_id_token_algorithm(browser: Browser, oidc: TokenService) -> None:
    logged_in(browser)
    verifier, challenge = pkce()
    response = browser.authorize(
        "spa",
        redirect_uri="http://127.0.0.1:9000/cb",
        scope="openid",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    code = query(response.headers["location"])["code"]
    tokens = browser.client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "spa",
            "redirect_uri": "http://127.0.0.1:9000/cb",
            "code_verifier": verifier,
        },
    ).json()
    assert decode_unverified(tokens["id_token"])[0]["alg"] == "ES256"
    assert oidc.keys.active_key("ES256").kid == decode_unverified(tokens["id_token"])[0]["kid"]
    oidc.accounts.update_client("spa", id_token_alg="EdDSA")
    assert oidc.accounts.get_client("spa").id_token_alg == "EdDSA"  # type: ignore[union-attr]


def test_userinfo_refuses_bad_tokens(browser: Browser, app: Starlette) -> None:
    client = browser.client
    assert client.get("/userinfo").headers["www-authenticate"] == 'Bearer realm="jwtkit"'
    bad = client.get("/userinfo", headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
    # An access token without openid (the password grant of the web client).
    grant = (
        TestClient(app)
        .post(
            "/token",
            headers=basic(),
            data={"grant_type": "password", "username": USER, "password": PASSWORD},
        )
        .json()
    )
    plain = client.get("/userinfo", headers={"Authorization": f"Bearer {grant['access_token']}"})
    assert plain.status_code == 403 and "insufficient_scope" in plain.headers["www-authenticate"]


def test_discovery_documents_pass_authlibs_validators(make_app: Callable[..., Starlette]) -> None:
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
    from authlib.oidc.discovery import OpenIDProviderMetadata

    client = TestClient(make_app(issuer="https://id.example"))
    oidc = client.get("/.well-known/openid-configuration").json()
    oauth = client.get("/.well-known/oauth-authorization-server").json()
    OpenIDProviderMetadata(oidc).validate()
    AuthorizationServerMetadata(oauth).validate()
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert oidc["response_types_supported"] == ["code"]
    assert oidc["id_token_signing_alg_values_supported"][0] == "RS256"
    assert oidc["authorization_endpoint"] == "https://id.example/authorize"
    assert oidc["authorization_response_iss_parameter_supported"] is True


def test_user_logout_and_disable_end_browser_sessions_and_their_codes(
    browser: Browser, oidc: TokenService, clock: Clock
) -> None:
    params, verifier = logged_in(browser)
    clock.advance(1)
    oidc.accounts.log_out_user(USER)
    # The code issued before the logout is refused, and single sign-on asks again.
    assert exchange(browser.client, params["code"], verifier)["error"] == "invalid_grant"
    assert start(browser)[0].status_code == 200
    clock.advance(1)
    params, verifier = logged_in(browser)
    assert exchange(browser.client, params["code"], verifier)["status"] == 200
    assert start(browser)[0].status_code == 303
    oidc.accounts.disable_user(USER)
    assert start(browser)[0].status_code == 200


def test_a_client_algorithm_the_service_does_not_sign_with(
    browser: Browser, oidc: TokenService
) -> None:
    oidc.accounts.update_client("app", id_token_alg="PS384")
    response, _ = start(browser, state="s2")
    got = query(response.headers["location"])
    assert (got["error"], got["state"]) == ("unauthorized_client", "s2")
    assert "PS384" in got["error_description"]
    # Without openid no ID token is signed, so the flow goes on.
    assert start(browser, scope="read")[0].status_code == 200


def test_the_login_page_is_brandable(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    app = make_app(
        brand_name="Acme", brand_title="Log in to Acme", brand_logo=str(logo),
        brand_color="#aa0000", brand_background="#fff",
    )  # fmt: skip
    app.state.service.accounts.add_client(
        "app", APP_SECRET, redirect_uris=(REDIRECT,), first_party=True
    )
    browser = Browser(TestClient(app))
    page, _ = start(browser)
    assert "<title>Log in to Acme · Acme</title>" in page.text
    assert 'src="/static/logo" alt="Acme"' in page.text
    theme = browser.request("GET", "/static/theme.css")
    assert "--brand: #aa0000;" in theme.text and "--page: #fff;" in theme.text
    served = browser.request("GET", "/static/logo")
    assert served.headers["content-type"] == "image/svg+xml" and served.content == logo.read_bytes()
    assert browser.request("GET", "/static/other").status_code == 404
    # Brand values go into a stylesheet and the page: only colours, short texts, real files.
    for bad in ({"brand_color": "red;}body{"}, {"brand_name": ""}, {"brand_logo": "/nope.png"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            make_app(**bad)
