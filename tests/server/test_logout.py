"""RP-Initiated Logout 1.0 (issue 14): the end_session_endpoint with id_token_hint, client_id,
post_logout_redirect_uri and state; a confirmation page without a valid hint (a link alone
logs nobody out); logout ends the browser session and revokes every family under its sid,
with their access tokens (introspection, userinfo and the revocation list agree)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit.server._service import TokenService
from tests.support.oidc import REDIRECT, Browser, hidden, query, start
from tests.support.server import PASSWORD, USER, Clock, TestClient, basic

APP_SECRET = "app-secret-0123456789abcdef"
BYE = "https://app.example/signed-out"
RS = ("rs", "resource-server-secret-0123")


@pytest.fixture
def svc(app: Starlette) -> TokenService:
    service: TokenService = app.state.service
    service.accounts.add_client(
        "app", APP_SECRET, redirect_uris=(REDIRECT,), post_logout_redirect_uris=(BYE,),
        first_party=True,
    )  # fmt: skip
    service.accounts.add_client("other", APP_SECRET, redirect_uris=(REDIRECT,), first_party=True)
    service.accounts.add_client(*RS, resource_server=True)
    return service


@pytest.fixture
def browser(svc: TokenService, app: Starlette) -> Browser:
    return Browser(TestClient(app))


def sign_in(browser: Browser, client_id: str = "app") -> dict[str, Any]:
    """Log in (or use single sign-on) through ``client_id``; return its token response."""
    page, verifier = start(browser, client_id)
    if page.status_code == 200:
        page = browser.login(page, USER, PASSWORD)
    data = {
        "grant_type": "authorization_code",
        "code": query(page.headers["location"])["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    tokens = browser.client.post("/token", data=data, headers=basic(client_id, APP_SECRET))
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def active(browser: Browser, token: str) -> bool:
    answer = browser.client.post("/introspect", data={"token": token}, headers=basic(*RS))
    return bool(answer.json()["active"])


def logout(browser: Browser, **params: str) -> httpx.Response:
    return browser.request("GET", "/logout", params=params)


def test_logout_with_the_id_token_hint_ends_the_session_at_once(
    browser: Browser, svc: TokenService
) -> None:
    first, second = sign_in(browser, "app"), sign_in(browser, "other")  # single sign-on
    done = logout(
        browser, id_token_hint=first["id_token"], post_logout_redirect_uri=BYE, state="bye-1"
    )
    assert done.status_code == 303 and done.headers["location"] == BYE + "?state=bye-1"
    assert "jwtkit_session" not in browser.cookies  # the cookie is cleared
    # Every family of the session (both clients'), with its access tokens, is revoked.
    for tokens in (first, second):
        assert not active(browser, tokens["access_token"])
        assert not active(browser, tokens["refresh_token"])
        info = browser.client.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert info.status_code == 401
    listed = browser.client.get("/revocations", headers=basic(*RS)).json()["families"]
    assert len(listed) == 2
    # The browser must log in again.
    again, _ = start(browser)
    assert again.status_code == 200 and 'name="password"' in again.text


def test_without_a_hint_the_user_confirms_first(browser: Browser, svc: TokenService) -> None:
    tokens = sign_in(browser)
    page = logout(browser, client_id="app", post_logout_redirect_uri=BYE, state="s")
    assert page.status_code == 200 and 'action="/logout/confirm"' in page.text
    assert "<strong>app</strong> asks to sign you out" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert active(browser, tokens["access_token"])  # a link alone changed nothing
    stay = browser.request(
        "POST",
        "/logout/confirm",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "request": hidden(page.text, "request"),
            "decision": "stay",
        },
    )
    assert stay.status_code == 303 and active(browser, tokens["access_token"])
    confirmed = browser.request(
        "POST",
        "/logout/confirm",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "request": hidden(page.text, "request"),
            "decision": "logout",
        },
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == BYE + "?state=s"
    assert not active(browser, tokens["access_token"])


def test_an_invalid_or_foreign_hint_counts_as_none(
    browser: Browser, svc: TokenService, app: Starlette
) -> None:
    tokens = sign_in(browser)
    # An access token, a tampered ID token: not ID tokens of this service.
    for hint in (tokens["access_token"], tokens["id_token"][:-4] + "AAAA", "not.a.jwt"):
        page = logout(browser, id_token_hint=hint)
        assert page.status_code == 200 and 'action="/logout/confirm"' in page.text
    # Another browser's ID token does not end this browser's session without asking.
    other = Browser(TestClient(app))
    theirs = sign_in(other)
    page = logout(browser, id_token_hint=theirs["id_token"])
    assert 'action="/logout/confirm"' in page.text
    assert active(browser, tokens["access_token"]) and active(other, theirs["access_token"])


def test_an_expired_hint_still_counts(browser: Browser, clock: Clock) -> None:
    tokens = sign_in(browser)
    clock.advance(3000)  # the ID token (1 h) expires; the session (idle 1 h) lives on
    logout(browser)  # keeps the session in use
    clock.advance(1000)
    done = logout(browser, id_token_hint=tokens["id_token"])
    assert done.status_code == 200 and "You are signed out" in done.text
    assert not active(browser, tokens["refresh_token"])


def test_a_bad_post_logout_redirect_uri_gets_an_error_page(browser: Browser) -> None:
    tokens = sign_in(browser)
    cases: list[dict[str, str]] = [
        {"client_id": "app", "post_logout_redirect_uri": BYE + "/"},  # near miss
        {"client_id": "app", "post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": BYE},  # no client to check it against
        {"client_id": "other", "post_logout_redirect_uri": BYE},  # another client's
        {"client_id": "nobody", "post_logout_redirect_uri": BYE},
        {"client_id": "other", "id_token_hint": tokens["id_token"]},  # not the hint's client
    ]
    for params in cases:
        refused = logout(browser, **params)
        assert refused.status_code == 400, params
        assert "location" not in refused.headers and "Sign-out request refused" in refused.text
    assert active(browser, tokens["access_token"])
    repeated = browser.request("GET", "/logout?state=a&state=b")
    assert repeated.status_code == 400


def test_logout_by_post_and_without_a_session(browser: Browser, app: Starlette) -> None:
    tokens = sign_in(browser)
    done = browser.request(
        "POST", "/logout", data={"id_token_hint": tokens["id_token"], "client_id": "app"}
    )
    assert done.status_code == 200 and "You are signed out" in done.text
    # No session in this browser: nothing to lose, so no confirmation.
    fresh = Browser(TestClient(app))
    bye = logout(fresh, client_id="app", post_logout_redirect_uri=BYE)
    assert bye.status_code == 303 and bye.headers["location"] == BYE


def test_the_confirmation_form_needs_its_csrf_token(browser: Browser) -> None:
    tokens = sign_in(browser)
    page = logout(browser)
    for token in ("", "x" * 43, browser.client.app.state.service.oidc.csrf_token("x", "logout")):
        refused = browser.request(
            "POST",
            "/logout/confirm",
            data={
                "csrf_token": token,
                "request": hidden(page.text, "request"),
                "decision": "logout",
            },
        )
        assert refused.status_code == 403
    assert active(browser, tokens["access_token"])


def test_metadata_names_the_end_session_endpoint(browser: Browser) -> None:
    meta = browser.client.get("/.well-known/openid-configuration").json()
    assert meta["end_session_endpoint"] == "http://testserver/logout"
    assert meta["response_modes_supported"] == ["query", "form_post"]
    assert "consent" in meta["prompt_values_supported"]
