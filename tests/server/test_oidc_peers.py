"""Real peers against ``jwtkit serve`` on loopback (issue 13).

- Authlib's OAuth 2 client runs the whole code flow: discovery, PKCE S256, the login form,
  the code exchange, ID token validation (signature from the JWKS, ``iss``, ``aud``,
  ``nonce``, ``at_hash``) with Authlib's own ``CodeIDToken``, then userinfo and a refresh.
- Headless Chromium (Debian's, driven by Playwright with ``executable_path``; browsers cannot
  be downloaded here) logs in through the real page by keyboard, comes back with a code, gets
  single sign-on for a second client, and keeps a screenshot of each page as an artifact
  outside the repository (``$JWTKIT_TEST_ARTIFACTS``, default ``<tmp>/jwtkit-artifacts``).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from jwtkit.server import Accounts
from tests.support.browser import ARTIFACTS, browser
from tests.support.oidc import hidden, pkce, query
from tests.support.server import FAST_HASHER, PASSWORD, USER, jwtkit_serve

__all__ = ["browser"]

RP_SECRET = "relying-party-secret-0123456789"


class RelyingParty:
    """The applications' side in the browser test: a loopback HTTP server whose callback pages
    record the URLs the browser was sent to."""

    def __init__(self) -> None:
        landed: list[str] = []
        self.landed = landed

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                landed.append(self.path)
                body = b"<!DOCTYPE html><title>RP</title><p>Back at the application.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served(tmp_path: Path, master_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A store with alice (with a profile), a confidential RP and a public SPA; the service."""
    store = f"sqlite:///{tmp_path / 'peers.db'}"
    relying = RelyingParty()
    rp_redirect = relying.url + "/rp/callback"
    spa_redirect = relying.url + "/spa/callback"
    with Accounts.open(store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(
            USER,
            PASSWORD,
            roles=("admin",),
            name="Alice Liddell",
            email="alice@example.org",
            email_verified=True,
        )
        # First-party: the consent page has its own browser test (test_spa.py).
        accounts.add_client(
            "rp", RP_SECRET, scopes=("read",), redirect_uris=(rp_redirect,), first_party=True
        )
        accounts.add_client("spa", public=True, redirect_uris=(spa_redirect,), first_party=True)
    try:
        with jwtkit_serve(store, master_key) as base:
            yield base, {"rp": rp_redirect, "spa": spa_redirect, "landed": relying.landed}
    finally:
        relying.close()


class FormBrowser:
    """The user's side for Authlib: follows the login form by hand, keeping the session cookie
    as a browser would (httpx's cookie jar does not send ``Secure`` cookies over plain http)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        response = httpx.request(method, url, headers=headers, timeout=10, **kwargs)
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


# Authlib 1.9 announces its move to joserfc and httpx2 with DeprecationWarnings on import.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_authlib_client_runs_the_whole_code_flow(
    served: tuple[str, dict[str, Any]], request: pytest.FixtureRequest
) -> None:
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken

    base, redirects = served
    meta = httpx.get(base + "/.well-known/openid-configuration").json()
    assert meta["issuer"] == base and meta["code_challenge_methods_supported"] == ["S256"]
    client = OAuth2Client(
        client_id="rp",
        client_secret=RP_SECRET,
        redirect_uri=redirects["rp"],
        scope="openid profile email roles",
        code_challenge_method="S256",
    )
    request.addfinalizer(client.close)

    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    user = FormBrowser()
    page = user.send("GET", url)
    assert page.status_code == 200 and 'name="password"' in page.text
    form = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "request": hidden(page.text, "request"),
        "username": USER,
        "password": PASSWORD,
    }
    done = user.send("POST", base + "/login", data=form)
    assert done.status_code == 303
    location = done.headers["location"]
    params = query(location)
    assert params["state"] == state and params["iss"] == base  # RFC 9207
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer" and token["refresh_token"] and token["id_token"]
    jwks = JsonWebKey.import_key_set(httpx.get(meta["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": base}},
        claims_params={"nonce": nonce, "client_id": "rp", "access_token": token["access_token"]},
    )
    claims.validate()  # exp, iat, iss, aud, nonce, at_hash, azp, auth_time
    assert claims["sub"] == USER and claims["aud"] == "rp" and claims["at_hash"]
    assert claims["name"] == "Alice Liddell" and claims["sid"]
    forged = dict(
        claims_params := {
            "nonce": "another",
            "client_id": "rp",
            "access_token": token["access_token"],
        }
    )
    wrong_nonce = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken, claims_params=forged)
    with pytest.raises(Exception, match="nonce"):
        wrong_nonce.validate()
    assert claims_params
    info = client.get(meta["userinfo_endpoint"])
    assert info.status_code == 200
    assert info.json() == {
        "sub": USER,
        "preferred_username": USER,
        "name": "Alice Liddell",
        "email": "alice@example.org",
        "email_verified": True,
        "roles": ["admin"],
    }
    renewed = client.refresh_token(meta["token_endpoint"])
    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != token["refresh_token"]
    assert client.get(meta["userinfo_endpoint"]).json()["sub"] == USER


def test_chromium_logs_in_through_the_real_page(
    browser: Any, served: tuple[str, dict[str, Any]]
) -> None:
    base, redirects = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    verifier, challenge = pkce()
    params = {
        "client_id": "spa",
        "redirect_uri": redirects["spa"],
        "response_type": "code",
        "scope": "openid profile",
        "state": "browser-state",
        "nonce": "browser-nonce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "login_hint": USER,
    }
    landed: list[str] = redirects["landed"]
    context = browser.new_context(viewport={"width": 900, "height": 700})
    try:
        page = context.new_page()
        page.goto(base + "/authorize?" + urlencode(params))
        assert page.title() == "Sign in · jwtkit"
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("label[for=username]").inner_text() == "Username"
        assert page.input_value("#username") == USER
        page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
        # Keyboard only: the password field has the focus (the username was hinted).
        page.keyboard.type("not-the-password")
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=alert]")
        assert "incorrect" in page.inner_text("[role=alert]")
        page.screenshot(path=str(ARTIFACTS / "login-error.png"), full_page=True)
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url(redirects["spa"] + "?*")
        assert page.inner_text("p") == "Back at the application."
        got = query(page.url)
        assert any(p.startswith("/spa/callback?") for p in landed)
        assert got["state"] == "browser-state" and got["iss"] == base
        tokens = httpx.post(
            base + "/token",
            data={
                "grant_type": "authorization_code",
                "code": got["code"],
                "client_id": "spa",
                "redirect_uri": redirects["spa"],
                "code_verifier": verifier,
            },
        ).json()
        assert tokens["id_token"] and tokens["refresh_token"]
        cookie = next(c for c in page.context.cookies() if c["name"] == "jwtkit_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
        # Single sign-on: the confidential RP gets a code without the login page.
        _, other = pkce()
        page.goto(
            base
            + "/authorize?"
            + urlencode(
                {
                    "client_id": "rp",
                    "redirect_uri": redirects["rp"],
                    "response_type": "code",
                    "scope": "openid",
                    "code_challenge": other,
                    "code_challenge_method": "S256",
                }
            )
        )
        assert page.url.startswith(redirects["rp"] + "?") and "code" in query(page.url)
        # A redirect URI near-miss: the error page, and the browser stays here.
        page.goto(
            base + "/authorize?" + urlencode({**params, "redirect_uri": redirects["spa"] + "/"})
        )
        assert page.url.startswith(base) and "not registered" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "error.png"), full_page=True)
    finally:
        context.close()
