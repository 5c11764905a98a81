"""The consent page (issue 14): shown to clients not marked first-party, remembered per user
and client, asked again by prompt=consent or a wider request, consent_required for
prompt=none, access_denied on deny, withdrawn with Accounts.revoke_consent (which also ends
the client's sessions of the user)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit.server._service import TokenService
from tests.support.oidc import REDIRECT, Browser, hidden, query, start
from tests.support.server import PASSWORD, USER, TestClient, basic

APP_SECRET = "app-secret-0123456789abcdef"


@pytest.fixture
def third(app: Starlette) -> TokenService:
    """Client "app" (a third-party application) and a resource with described scopes."""
    svc: TokenService = app.state.service
    svc.accounts.add_client("app", APP_SECRET, scopes=("read", "write"), redirect_uris=(REDIRECT,))
    svc.resources.add(
        "https://api.example", ("read", "write"), descriptions={"read": "Read your invoices"}
    )
    return svc


@pytest.fixture
def browser(third: TokenService, app: Starlette) -> Browser:
    return Browser(TestClient(app))


def consent_page(browser: Browser, **params: str) -> tuple[httpx.Response, str]:
    """Log in through the login page and return the consent page that follows."""
    page, verifier = start(browser, **params)
    if page.status_code == 200 and 'name="password"' in page.text:
        page = browser.login(page, USER, PASSWORD)
    assert page.status_code == 200 and 'action="/consent"' in page.text, page.text
    return page, verifier


def answer(browser: Browser, page: httpx.Response, decision: str, **extra: str) -> httpx.Response:
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "request": hidden(page.text, "request"),
        "decision": decision,
        **extra,
    }
    return browser.request("POST", "/consent", data=data)


def redeem(browser: Browser, location: str, verifier: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": query(location)["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return browser.client.post("/token", data=data, headers=basic("app", APP_SECRET))


def test_consent_page_lists_the_scopes_in_words_and_is_remembered(
    browser: Browser, third: TokenService
) -> None:
    page, verifier = consent_page(
        browser, scope="openid profile email offline_access read write",
        resource="https://api.example",
    )  # fmt: skip
    text = page.text
    assert 'Allow <span class="client">app</span> access?' in text
    assert "Signed in as <strong>alice</strong>" in text
    assert "Know who you are" in text and "See your name and username" in text
    assert "See your email address" in text and "Stay connected" in text
    assert 'Read your invoices <span class="scope-name">(read)</span>' in text
    assert 'Use <code class="scope-name">write</code>' in text
    assert "<code>https://api.example</code>" in text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<script" not in text and page.headers["cache-control"] == "no-store"
    done = answer(browser, page, "allow")
    assert done.status_code == 303 and done.headers["location"].startswith(REDIRECT + "?")
    assert redeem(browser, done.headers["location"], verifier).status_code == 200
    # Remembered: the same request, or a narrower one, gets its code at once.
    again, _ = start(browser, scope="openid read", resource="https://api.example")
    assert again.status_code == 303 and "code" in query(again.headers["location"])
    [given] = third.accounts.list_consents(USER)
    assert given.client_id == "app" and given.resources == ("https://api.example",)
    assert set(given.scope) == {"openid", "profile", "email", "offline_access", "read", "write"}


def test_a_wider_request_and_prompt_consent_ask_again(
    browser: Browser, third: TokenService
) -> None:
    page, _ = consent_page(browser, scope="openid")
    assert answer(browser, page, "allow").status_code == 303
    wider, _ = start(browser, scope="openid email")
    assert wider.status_code == 200 and 'action="/consent"' in wider.text
    assert "See your email address" in wider.text
    asked, _ = start(browser, scope="openid", prompt="consent")
    assert asked.status_code == 200 and 'action="/consent"' in asked.text
    other_resource, _ = start(browser, scope="openid", resource="https://api.example")
    assert other_resource.status_code == 200 and 'action="/consent"' in other_resource.text


def test_prompt_none_without_consent_is_consent_required(browser: Browser) -> None:
    page, _ = start(browser, prompt="login")
    consent = browser.login(page, USER, PASSWORD)
    assert 'action="/consent"' in consent.text
    silent, _ = start(browser, prompt="none", state="s-1")
    params = query(silent.headers["location"])
    assert silent.status_code == 303 and params["error"] == "consent_required"
    assert params["state"] == "s-1" and params["iss"] == "http://testserver"


def test_deny_sends_access_denied_and_is_not_remembered(
    browser: Browser, third: TokenService
) -> None:
    page, _ = consent_page(browser, state="s-2")
    done = answer(browser, page, "deny")
    params = query(done.headers["location"])
    assert done.status_code == 303 and params["error"] == "access_denied"
    assert params["state"] == "s-2"
    assert third.accounts.list_consents(USER) == []
    again, _ = start(browser)
    assert 'action="/consent"' in again.text


def test_first_party_clients_never_see_the_page(browser: Browser, third: TokenService) -> None:
    third.accounts.update_client("app", first_party=True)
    page, _ = start(browser, prompt="consent")
    done = browser.login(page, USER, PASSWORD)
    assert done.status_code == 303 and "code" in query(done.headers["location"])


def test_consent_form_needs_its_csrf_token_and_a_live_session(
    browser: Browser, app: Starlette
) -> None:
    page, _ = consent_page(browser)
    refused = answer(browser, page, "allow", csrf_token="x" * 43)
    assert refused.status_code == 403 and "location" not in refused.headers
    # The login form's token is not the consent form's (they are bound to one cookie).
    login_page, _ = start(Browser(TestClient(app)))
    assert hidden(login_page.text, "csrf_token") != hidden(page.text, "csrf_token")
    # A cross-site post of the form is refused whatever it carries.
    cross = browser.request(
        "POST",
        "/consent",
        data={"csrf_token": hidden(page.text, "csrf_token"), "request": "", "decision": "allow"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    # Without the session (another browser), nothing is granted.
    stranger = Browser(TestClient(app))
    stranger.cookies = {"jwtkit_session": "not-a-session"}
    csrf = stranger.client.app.state.service.oidc.csrf_token("not-a-session", "consent")
    gone = stranger.request(
        "POST",
        "/consent",
        data={"csrf_token": csrf, "request": hidden(page.text, "request"), "decision": "allow"},
    )
    assert gone.status_code == 403 and "session ended" in gone.text
    # The page's own answer still works.
    assert answer(browser, page, "allow").status_code == 303


def test_revoking_consent_asks_again_and_ends_the_clients_sessions(
    browser: Browser, third: TokenService
) -> None:
    page, verifier = consent_page(browser)
    tokens = redeem(browser, answer(browser, page, "allow").headers["location"], verifier).json()
    assert third.accounts.revoke_consent(USER, "app") == (1, 1)
    refresh = browser.client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic("app", APP_SECRET),
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    active = browser.client.post(
        "/introspect", data={"token": tokens["access_token"]}, headers=basic("app", APP_SECRET)
    )
    assert active.json() == {"active": False}
    again, _ = start(browser)
    assert 'action="/consent"' in again.text
    assert third.accounts.revoke_consent(USER) == (0, 0)
