"""RFC 8707 resource indicators (issue 14): registered resources select the access token's
aud at /authorize and /token, an unregistered one is invalid_target, a token request may
narrow the grant's resources and never widen them, and the default audience stays."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit import decode_unverified
from jwtkit.server._accounts import AccountError
from jwtkit.server._resources import Resources, check_resource_uri
from jwtkit.server._service import TokenService
from tests.support.oidc import REDIRECT, Browser, query, start
from tests.support.server import CLIENT, PASSWORD, SECRET, USER, TestClient, basic, login

APP_SECRET = "app-secret-0123456789abcdef"
INVOICES = "https://invoices.example/api"
CALENDAR = "https://calendar.example"
RS = ("rs", "resource-server-secret-0123")


@pytest.fixture
def svc(app: Starlette) -> TokenService:
    service: TokenService = app.state.service
    service.accounts.add_client(
        "app", APP_SECRET, scopes=("invoices:read", "calendar", "other"),
        redirect_uris=(REDIRECT,), first_party=True,
    )  # fmt: skip
    service.accounts.add_client(
        "m2m", APP_SECRET, scopes=("invoices:read",), grants=("client_credentials",)
    )
    service.accounts.add_client(*RS, resource_server=True)
    service.resources.add(INVOICES, ("invoices:read", "invoices:write"))
    service.resources.add(CALENDAR, ("calendar",))
    return service


@pytest.fixture
def browser(svc: TokenService, app: Starlette) -> Browser:
    return Browser(TestClient(app))


def claims(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return decode_unverified(response.json()["access_token"])[1]


def code_flow(browser: Browser, resources: list[str], scope: str) -> tuple[str, str]:
    """Return a code for ``resources`` and its verifier (the login page is passed)."""
    page, verifier = start(browser, scope=scope, resource=resources)
    if page.status_code == 200:
        page = browser.login(page, USER, PASSWORD)
    assert page.status_code == 303, page.text
    return query(page.headers["location"])["code"], verifier


def token(browser: Browser, **data: Any) -> httpx.Response:
    return browser.client.post("/token", data=data, headers=basic("app", APP_SECRET))


def redeem(browser: Browser, code: str, verifier: str, **extra: Any) -> httpx.Response:
    return token(
        browser, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
        code_verifier=verifier, **extra,
    )  # fmt: skip


def test_the_code_flow_issues_tokens_for_the_requested_resource(browser: Browser) -> None:
    code, verifier = code_flow(browser, [INVOICES], "openid invoices:read")
    response = redeem(browser, code, verifier)
    got = claims(response)
    assert got["aud"] == INVOICES and got["scope"] == "invoices:read"  # openid is not for it
    assert response.json()["scope"] == "invoices:read" and response.json()["id_token"]
    id_claims = decode_unverified(response.json()["id_token"])[1]
    assert id_claims["aud"] == "app"  # the ID token is the client's, whatever the resource
    # Introspection describes it; userinfo (the default audience only) does not take it.
    info = browser.client.post(
        "/introspect", data={"token": response.json()["access_token"]}, headers=basic(*RS)
    ).json()
    assert info["active"] is True and info["aud"] == INVOICES
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert browser.client.get("/userinfo", headers=bearer).status_code == 401
    # The refresh keeps the audience, and may not widen it.
    refresh = response.json()["refresh_token"]
    again = token(browser, grant_type="refresh_token", refresh_token=refresh)
    assert claims(again)["aud"] == INVOICES
    wider = token(
        browser, grant_type="refresh_token", refresh_token=again.json()["refresh_token"],
        resource=CALENDAR,
    )  # fmt: skip
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_target"
    # The refused refresh consumed nothing: the token still works.
    last = token(browser, grant_type="refresh_token", refresh_token=again.json()["refresh_token"])
    assert last.status_code == 200


def test_several_resources_then_narrowed_per_token(browser: Browser) -> None:
    code, verifier = code_flow(browser, [INVOICES, CALENDAR], "invoices:read calendar")
    wrong = redeem(browser, code, verifier, resource="https://unknown.example")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_target"
    response = redeem(browser, code, verifier, resource=CALENDAR)
    got = claims(response)
    assert got["aud"] == CALENDAR and got["scope"] == "calendar"
    both = token(
        browser, grant_type="refresh_token", refresh_token=response.json()["refresh_token"]
    )
    assert claims(both)["aud"] == [INVOICES, CALENDAR]
    assert claims(both)["scope"] == "invoices:read calendar"
    one = token(
        browser,
        grant_type="refresh_token",
        refresh_token=both.json()["refresh_token"],
        resource=INVOICES,
    )
    assert claims(one)["aud"] == INVOICES and claims(one)["scope"] == "invoices:read"


def test_authorize_refuses_unregistered_resources_and_foreign_scopes(browser: Browser) -> None:
    for resources, scope, error in [
        (["https://unknown.example"], "openid", "invalid_target"),
        (["not a uri"], "openid", "invalid_target"),
        ([INVOICES + "#frag"], "openid", "invalid_target"),
        ([INVOICES], "openid calendar", "invalid_scope"),  # the invoices API takes no calendar
        ([f"https://r{i}.example" for i in range(11)], "openid", "invalid_target"),
    ]:
        page, _ = start(browser, scope=scope, resource=resources, state="st")
        params = query(page.headers["location"])
        assert page.status_code == 303 and params["error"] == error, (resources, params)
        assert params["state"] == "st"
    # Without a scope parameter, the client's scopes are narrowed to the resource's.
    code, verifier = code_flow(browser, [CALENDAR], "")
    assert claims(redeem(browser, code, verifier))["scope"] == "calendar"


def test_a_token_request_may_not_add_a_resource_to_a_grant_without_one(browser: Browser) -> None:
    code, verifier = code_flow(browser, [], "openid other")
    refused = redeem(browser, code, verifier, resource=INVOICES)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"
    response = redeem(browser, code, verifier)  # the code was not consumed by the refusal
    got = claims(response)
    assert got["aud"] == "api" and got["scope"] == "openid other"  # the default audience


def test_client_credentials_and_password_grants_take_a_resource(
    client: TestClient, svc: TokenService
) -> None:
    m2m = basic("m2m", APP_SECRET)
    issued = client.post(
        "/token", data={"grant_type": "client_credentials", "resource": INVOICES}, headers=m2m
    )
    assert claims(issued)["aud"] == INVOICES and claims(issued)["scope"] == "invoices:read"
    plain = client.post("/token", data={"grant_type": "client_credentials"}, headers=m2m)
    assert claims(plain)["aud"] == "api"
    unknown = client.post(
        "/token", data={"grant_type": "client_credentials", "resource": CALENDAR + "/x"},
        headers=m2m,
    )  # fmt: skip
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_target"
    svc.resources.add("https://web.example", ("read",))
    password = login(client, resource="https://web.example")
    assert claims(password)["aud"] == "https://web.example"
    assert claims(password)["scope"] == "read"
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": password.json()["refresh_token"]},
        headers=basic(CLIENT, SECRET),
    )
    assert claims(refreshed)["aud"] == "https://web.example"
    # Removing the resource stops new tokens for it.
    svc.resources.remove("https://web.example")
    gone = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
        headers=basic(CLIENT, SECRET),
    )
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_target"


def test_resource_registration_rules(svc: TokenService) -> None:
    resources: Resources = svc.resources
    for bad in ("", "api", "https://", "https://x.example/#f", "http ://x", "https://x/\u00e9"):
        with pytest.raises(AccountError) as info:
            resources.add(bad)
        assert info.value.code == "invalid_account"
    with pytest.raises(AccountError) as exists:
        resources.add(INVOICES)
    assert exists.value.code == "account_exists"
    with pytest.raises(AccountError):
        resources.add("urn:example:api", ("a",), descriptions={"b": "names no scope"})
    with pytest.raises(AccountError):
        resources.add("urn:example:api", ("a",), descriptions={"a": " "})
    added = resources.add("urn:example:api", ("a", "b"), descriptions={"a": "Do A"})
    assert added.scopes == ("a", "b") and added.descriptions == {"a": "Do A"}
    assert [r.uri for r in resources.all()] == [CALENDAR, INVOICES, "urn:example:api"]
    with pytest.raises(AccountError) as missing:
        resources.remove("urn:example:other")
    assert missing.value.code == "account_not_found"
    assert check_resource_uri("http://127.0.0.1:8001/mcp") == "http://127.0.0.1:8001/mcp"
