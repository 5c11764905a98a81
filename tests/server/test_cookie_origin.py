"""The refresh cookie is set and used only from a client's registered origins (issue 12, item 3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.applications import Starlette

from jwtkit.server._accounts import AccountError
from jwtkit.server._origins import check_origins, normalize_origin
from jwtkit.server._service import TokenService
from tests.support.server import CLIENT, FROM_WEB, PASSWORD, USER, TestClient, basic, login

# What the cross-site form of issue 12 sent: a plain HTML form POST from the attacker's page.
CROSS_SITE = {
    "Origin": "https://attacker.example",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
}


def _cookie(response: object) -> str:
    header: str = response.headers["set-cookie"]  # type: ignore[attr-defined]
    return header.split(";", 1)[0].split("=", 1)[1]


def test_login_csrf_cross_site_form_post_sets_no_cookie(client: TestClient) -> None:
    # Issue 12: this request got 200 and set the refresh cookie in the victim's browser.
    response = login(client, CROSS_SITE, refresh_token_cookie="true")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "set-cookie" not in response.headers
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin: not a browser, or one that hides it
        {"Origin": "null"},  # sandboxed frames, file: pages, redirects across origins
        {"Origin": "https://attacker.example"},
        {"Origin": "http://testserver.attacker.example"},
        {"Origin": "http://testserver:8080"},
        {"Origin": "https://testserver"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "none"},
        {"Origin": "http://testserver/path"},
        {"Sec-Fetch-Site": "same-origin"},
    ],
    ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()) or "none",
)
def test_cookie_mode_needs_a_registered_origin(client: TestClient, headers: dict[str, str]) -> None:
    response = login(client, headers, refresh_token_cookie="true")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("site", [None, "same-origin", "same-site"])
def test_cookie_mode_from_the_registered_origin(client: TestClient, site: str | None) -> None:
    headers = {**FROM_WEB, **({"Sec-Fetch-Site": site} if site else {})}
    response = login(client, headers, refresh_token_cookie="true")
    assert response.status_code == 200, response.text
    assert _cookie(response)


def test_body_mode_is_not_an_origin_matter(client: TestClient) -> None:
    # Without the cookie the refresh token is only in the response body, which a cross-site
    # form cannot read (no CORS): nothing lands in the browser.
    response = login(client, CROSS_SITE)
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


def test_refresh_from_the_cookie_needs_the_origin(client: TestClient) -> None:
    value = _cookie(login(client, FROM_WEB, refresh_token_cookie="true"))
    jar = {"Cookie": f"jwtkit_refresh={value}", "X-Requested-With": "fetch", **basic()}
    data = {"grant_type": "refresh_token"}
    foreign = client.post("/token", data=data, headers={**jar, **CROSS_SITE})
    assert foreign.status_code == 400
    assert "set-cookie" not in foreign.headers
    # The refused request did not consume the token: the real page still refreshes with it.
    ok = client.post("/token", data=data, headers={**jar, **FROM_WEB})
    assert ok.status_code == 200, ok.text
    assert _cookie(ok) != value


def test_revoke_from_the_cookie_needs_the_origin(make_app: Callable[..., Starlette]) -> None:
    client = TestClient(make_app(cookie_path="/"))
    value = _cookie(login(client, FROM_WEB, refresh_token_cookie="true"))
    jar = {"Cookie": f"jwtkit_refresh={value}", "X-Requested-With": "fetch", **basic()}
    foreign = client.post("/revoke", data={}, headers={**jar, "Origin": "https://evil.example"})
    assert foreign.status_code == 400
    assert "set-cookie" not in foreign.headers
    data = {"grant_type": "refresh_token", "refresh_token": value}
    assert client.post("/token", data=data, headers=basic()).status_code == 200


def test_a_client_without_origins_has_no_cookie_mode(client: TestClient, svc: TokenService) -> None:
    svc.accounts.add_client("backend", "backend-secret-0123456789", grants=("password",))
    data = {
        "grant_type": "password",
        "username": USER,
        "password": PASSWORD,
        "refresh_token_cookie": "true",
    }
    headers = {**basic("backend", "backend-secret-0123456789"), **FROM_WEB}
    response = client.post("/token", data=data, headers=headers)
    assert response.status_code == 400
    svc.accounts.update_client("backend", origins=["http://testserver"])
    assert client.post("/token", data=data, headers=headers).status_code == 200
    # An unknown client gets the same refusal, before any authentication.
    unknown = client.post("/token", data=data, headers={**basic("nobody", "x" * 20), **FROM_WEB})
    assert unknown.status_code == 400


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://app.example", "https://app.example"),
        ("HTTPS://App.Example:443/", "https://app.example"),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_origins_are_normalized(given: str, origin: str) -> None:
    assert normalize_origin(given) == origin


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "app.example",
        "ftp://app.example",
        "https://",
        "https://app.example/login",
        "https://app.example?x=1",
        "https://app.example#x",
        "https://user:pw@app.example",
        "https://app.example:99999",
        "https://app.example:port",
        "https://bücher.example",
        "https://app.example%2f",
        "null",
        "https://a" + "b" * 600 + ".example",
    ],
)
def test_bad_origins_are_refused_at_registration(svc: TokenService, bad: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        normalize_origin(bad)
    with pytest.raises(AccountError, match="invalid origin") as info:
        svc.accounts.add_client("spa", public=True, origins=[bad])
    assert info.value.code == "invalid_account"
    assert svc.accounts.get_client("spa") is None


def test_origins_keep_their_order_without_duplicates(svc: TokenService) -> None:
    assert check_origins(["https://b.example", "https://a.example", "HTTPS://B.example/"]) == (
        "https://b.example",
        "https://a.example",
    )
    with pytest.raises(ValueError, match="a list"):
        check_origins("https://a.example")
    with pytest.raises(AccountError, match="no client"):
        svc.accounts.update_client("nobody", origins=["https://a.example"])
    with pytest.raises(AccountError, match="invalid origin"):
        svc.accounts.update_client(CLIENT, origins=["https://a.example/app"])
    assert svc.accounts.update_client(CLIENT, origins=[]).origins == ()
