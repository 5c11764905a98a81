"""A real single-page app in a real browser against ``jwtkit serve`` (issue 14).

Four real processes and a browser, all on loopback:

- ``jwtkit serve`` (the provider, at ``http://127.0.0.1:P1``), with the user, the public
  client ``spa`` and the resource server's client registered by the ``jwtkit`` command, and
  the notes API registered as an RFC 8707 resource with ``jwtkit resource add``;
- ``examples/resource_server.py`` (uvicorn, ``jwtkit.client``'s ``BearerAuthMiddleware``
  with ``RevocationListCheck``, CORS for the app's origin) at ``http://127.0.0.1:P2``, which
  is also the resource URI, so the access token's ``aud``;
- the app: ``tests/server/spa/`` (no inline script) with ``oidc-client-ts`` from the npm
  registry (``scripts/spa_deps`` installs it into ``.cache/spa``; the test skips, saying why,
  without npm or the registry), served at ``http://localhost:P3``: another origin and, as
  ``localhost`` is not ``127.0.0.1``, another site;
- headless Chromium (Debian's, through Playwright).

The browser signs in through the login and consent pages, calls the API with the token for
its resource, refreshes with ``signinSilent`` (refresh token), calls again, and logs out with
``signoutRedirect`` (``id_token_hint``, ``post_logout_redirect_uri``, ``state``). After that
the old access token is refused by the API (the revocation list names the session's family)
and the old refresh token by the token endpoint.

The second test drives the pages the app library does not: ``response_mode=form_post`` (sent
by the page's script file with JavaScript, by its ``<noscript>`` button without), CORS as the
browser enforces it (the registered origin reads the provider's answers, another origin of
the same server cannot), and the logout confirmation page a hint-less logout link meets.
Each page is kept as a screenshot under
``$JWTKIT_TEST_ARTIFACTS/spa`` (default ``<tmp>/jwtkit-artifacts/spa``).
oidc-client-ts does not check ID token signatures; this test checks the ID token's signature
itself, as the Authlib test of ``test_oidc_peers.py`` does.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from jwtkit import KeySet, Verifier, decode_unverified
from tests.support.browser import ARTIFACTS, browser
from tests.support.oidc import pkce, query
from tests.support.server import (
    PASSWORD,
    USER,
    ServiceProcess,
    free_port,
    jwtkit_serve,
    service_env,
)

__all__ = ["browser"]

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PAGE = Path(__file__).resolve().parent / "spa"
LIBRARY = ROOT / ".cache/spa/node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js"
EXAMPLE = ROOT / "examples" / "resource_server.py"
JWTKIT = Path(sys.executable).with_name("jwtkit")
SHOTS = ARTIFACTS / "spa"
INTERVAL = 0.2
MAX_STALENESS = 3.0
SCOPE = "openid profile notes:read"
# The app's own files; every other path of the app is its one page (index.html).
_FILES = {
    "/app.js": (PAGE / "app.js", "text/javascript"),
    "/spa.css": (PAGE / "spa.css", "text/css"),
    "/vendor/oidc-client-ts.min.js": (LIBRARY, "text/javascript"),
}
_ROUTES = ("/", "/callback", "/signed-out")


def oidc_client_ts() -> Path:
    """Return the installed oidc-client-ts bundle, installing it first; skip visibly without
    npm or the registry."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "spa_deps")], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0 or not LIBRARY.is_file():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"oidc-client-ts could not be installed from the npm registry: {reason}")
    return LIBRARY


class StaticApp:
    """The single-page app's origin: a loopback HTTP server for its files and /config.json,
    with a policy that allows scripts from this origin only and calls to the provider and API.
    """

    def __init__(self) -> None:
        self.config: dict[str, str] = {}
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/config.json":
                    body, kind = json.dumps(app.config).encode(), "application/json"
                elif path in _FILES:
                    file, kind = _FILES[path]
                    body = file.read_bytes()
                elif path in _ROUTES:
                    body, kind = (PAGE / "index.html").read_bytes(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Security-Policy", app.policy())
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                # The form_post response mode's target: record the fields, say what came.
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(parse_qsl(self.rfile.read(length).decode()))
                app.posted.append(fields)
                names = ", ".join(sorted(fields))
                body = f"<!DOCTYPE html><title>Posted</title><p>Received {names}.</p>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.posted: list[dict[str, str]] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def policy(self) -> str:
        calls = " ".join([self.config.get("authority", ""), self.config.get("api", "")])
        return (
            f"default-src 'self'; connect-src 'self' {calls}; base-uri 'none'; form-action 'none'"
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Deployment:
    issuer: str
    api: str
    app: StaticApp
    store: str
    api_secret: str


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the ``jwtkit`` command as a user would; return its stdout."""
    done = subprocess.run(
        [str(JWTKIT), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def deployment(tmp_path: Path, master_key: str) -> Iterator[Deployment]:
    oidc_client_ts()
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    env = service_env(store, master_key, "http://127.0.0.1")
    app = StaticApp()
    api_process: ServiceProcess | None = None
    try:
        cli(env, "user", "add", USER, "--password-stdin", "--name", "Alice Liddell",
            stdin=PASSWORD + "\n")  # fmt: skip
        # Not --first-party: a third-party app, so the consent page comes after the login.
        cli(env, "client", "add", "spa", "--public",
            "--redirect-uri", app.url + "/callback",
            "--post-logout-redirect-uri", app.url + "/signed-out",
            "--origin", app.url, "--scope", "notes:read")  # fmt: skip
        registered = cli(
            env, "client", "add", "notes-api", "--resource-server", "--grant", "client_credentials"
        )
        api_secret = json.loads(registered)["client_secret"]
        with jwtkit_serve(store, master_key) as issuer:
            for _ in range(3):
                port = free_port()
                rs_env = {
                    **{k: v for k, v in os.environ.items() if not k.startswith(("JWTKIT_", "RS_"))},
                    "RS_CLIENT_ID": "notes-api",
                    "RS_CLIENT_SECRET": api_secret,
                    "RS_AUDIENCE": f"http://127.0.0.1:{port}",
                    "RS_INTERVAL": str(INTERVAL),
                    "RS_MAX_STALENESS": str(MAX_STALENESS),
                    "RS_CORS_ORIGINS": app.url,
                }
                api_process = ServiceProcess(
                    rs_env, [sys.executable, str(EXAMPLE), issuer, str(port)]
                )
                try:
                    api = api_process.wait_ready()
                except AssertionError:
                    api_process.stop()
                    api_process = None
                    continue
                break
            assert api_process is not None, "the resource server did not start"
            cli(env, "resource", "add", api, "--scope", "notes:read",
                "--describe", "notes:read", "Read your notes")  # fmt: skip
            app.config = {"authority": issuer, "client_id": "spa", "resource": api,
                          "api": api, "scope": SCOPE}  # fmt: skip
            yield Deployment(issuer, api, app, store, api_secret)
    finally:
        if api_process is not None:
            api_process.stop()
        app.close()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page as a test artifact (printed, never in the repository)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def tokens(page: Any) -> dict[str, Any]:
    """What oidc-client-ts holds for the user (its session storage), read through the app."""
    held: dict[str, Any] = page.evaluate("() => window.spa.tokens()")
    return held


def call_api(page: Any) -> dict[str, Any]:
    """Press "Call the API" and return what the app shows: the status and the JSON body."""
    page.eval_on_selector("#api", "e => { e.dataset.status = ''; }")
    page.click("#call-api")
    page.wait_for_selector("#api:not([data-status=''])")
    status, body = page.inner_text("#api").split("\n", 2)[:2]
    return {"status": int(status.split()[0]), **json.loads(body)}


def test_spa_signs_in_calls_its_api_refreshes_and_logs_out(
    browser: Any, deployment: Deployment
) -> None:
    d = deployment
    context = browser.new_context(viewport={"width": 900, "height": 760})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(d.app.url + "/")
        page.wait_for_selector("#status:not([data-state=loading])")
        assert page.get_attribute("#status", "data-state") == "signed-out", page.inner_text(
            "#status"
        )
        shot(page, "1-app-signed-out")

        # (a) The login page, the consent page (a third-party app), and back to the app.
        page.click("#sign-in")
        page.wait_for_url(d.issuer + "/authorize?*")
        assert page.title() == "Sign in · jwtkit"
        assert "resource=" in page.url and "code_challenge_method=S256" in page.url
        shot(page, "2-login")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_selector("button[value=allow]")
        assert page.title() == "Allow access · jwtkit"
        asked = page.inner_text("ul.scopes")
        assert "Read your notes (notes:read)" in asked
        assert "Know who you are" in asked and "See your name and username" in asked
        assert page.inner_text("ul.resources") == d.api
        shot(page, "3-consent")
        page.click("button[value=allow]")
        page.wait_for_url(d.app.url + "/")
        page.wait_for_selector("#status[data-state=signed-in]")
        assert page.inner_text("#status") == "Signed in as Alice Liddell."
        first = tokens(page)
        id_token = Verifier(
            KeySet.from_jwks(httpx.get(d.issuer + "/.well-known/jwks.json").json()),
            algorithms=["RS256"],
            issuer=d.issuer,
            audience="spa",
        ).verify(first["id_token"])
        assert id_token["sub"] == USER and id_token["sid"]

        # (b) The API, with the access token for its resource: aud is the API's URI.
        header, claims = decode_unverified(first["access_token"])[:2]
        assert header["typ"] == "at+jwt"
        assert claims["aud"] == d.api and claims["scope"] == "notes:read"
        answer = call_api(page)
        assert answer == {"status": 200, "sub": USER, "aud": d.api, "scope": "notes:read"}
        shot(page, "4-app-api-answer")
        # A token of this issuer for the default audience, not the API, is refused.
        other = httpx.post(
            d.issuer + "/token",
            data={"grant_type": "client_credentials"},
            auth=("notes-api", d.api_secret),
        ).json()["access_token"]
        assert decode_unverified(other)[1]["aud"] == "api"
        assert page.evaluate("t => window.spa.callApi(t)", other)["status"] == 401

        # (c) A refresh (signinSilent with the refresh token): new tokens, and the new access
        # token works.
        page.click("#refresh")
        page.wait_for_selector("#status[data-state=refreshed], #status[data-state=error]")
        assert page.get_attribute("#status", "data-state") == "refreshed", page.inner_text(
            "#status"
        )
        second = tokens(page)
        assert second["access_token"] != first["access_token"]
        assert second["refresh_token"] != first["refresh_token"]
        assert decode_unverified(second["access_token"])[1]["aud"] == d.api
        answer = call_api(page)
        assert answer == {"status": 200, "sub": USER, "aud": d.api, "scope": "notes:read"}
        shot(page, "5-app-refreshed")

        # (d) RP-initiated logout: id_token_hint names this browser's session, so it ends at
        # once (no confirmation page) and the browser comes back with the app's state.
        page.click("#sign-out")
        page.wait_for_selector("#status[data-state=logged-out], #status[data-state=error]")
        assert page.inner_text("#status") == "Signed out (state bye)."
        assert tokens(page) is None
        assert not [c for c in context.cookies(d.issuer) if c["name"] == "jwtkit_session"]
        shot(page, "6-app-logged-out")

        # The API learns of it from the revocation list (within RS_MAX_STALENESS), and the old
        # refresh token is dead.
        started = time.monotonic()
        while (refused := page.evaluate("t => window.spa.callApi(t)", second["access_token"]))[
            "status"
        ] == 200:
            assert time.monotonic() - started < MAX_STALENESS + 2, "still accepted"
            time.sleep(0.05)
        print(f"the API refused the logged-out token after {time.monotonic() - started:.2f} s")
        assert refused["status"] == 401
        assert 'error="invalid_token"' in refused["challenge"]
        shot(page, "7-app-api-refused")
        # The whole family went: the access token from before the refresh too.
        assert page.evaluate("t => window.spa.callApi(t)", first["access_token"])["status"] == 401
        renewed = page.evaluate("t => window.spa.refreshWith(t)", second["refresh_token"])
        assert renewed == {
            "status": 400,
            "body": {"error": "invalid_grant", "error_description": renewed["body"].get(
                "error_description")},
        }  # fmt: skip

        # The browser session is gone too: signing in again shows the login page.
        page.click("#sign-in")
        page.wait_for_url(d.issuer + "/authorize?*")
        assert page.title() == "Sign in · jwtkit"
        shot(page, "8-login-again")
        assert errors == []
    finally:
        context.close()


def sign_in(page: Any, d: Deployment, *, state: str) -> str:
    """Open /authorize for the app with response_mode=form_post and sign in; return the PKCE
    verifier."""
    verifier, challenge = pkce()
    params = {
        "client_id": "spa",
        "redirect_uri": d.app.url + "/callback",
        "response_type": "code",
        "response_mode": "form_post",
        "scope": "openid profile",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(d.issuer + "/authorize?" + urlencode(params))
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    return verifier


def redeem(d: Deployment, fields: dict[str, str], verifier: str) -> dict[str, Any]:
    response = httpx.post(
        d.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": fields["code"],
            "client_id": "spa",
            "redirect_uri": d.app.url + "/callback",
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_form_post_logout_confirmation_and_cors_in_the_browser(
    browser: Any, deployment: Deployment
) -> None:
    d = deployment
    # With JavaScript: the form_post page's own script file sends the code, under its policy
    # (no inline script), after the consent page.
    scripted = browser.new_context(viewport={"width": 900, "height": 700})
    try:
        page = scripted.new_page()
        verifier = sign_in(page, d, state="fp-script")
        page.click("button[value=allow]")
        page.wait_for_url(d.app.url + "/callback")
        assert page.inner_text("p") == "Received code, iss, state."
        posted = d.app.posted[-1]
        assert posted["state"] == "fp-script" and posted["iss"] == d.issuer
        assert redeem(d, posted, verifier)["id_token"]

        # CORS: the registered origin reads the provider's answers; another origin of the
        # same server (127.0.0.1 instead of localhost) is refused by the browser.
        probe = """async ([url, form, bearer]) => {
            try {
                const init = form ? { method: "POST", body: new URLSearchParams(form) } : {};
                if (bearer) init.headers = { Authorization: "Bearer " + bearer };
                const response = await fetch(url, init);
                return "read " + response.status;
            } catch (err) { return "blocked: " + err.name; }
        }"""
        # Every CORS endpoint, with the answer the page may read from a registered origin
        # (errors too: a page must see a 400 or a 401 and its challenge).
        calls = {
            "discovery": ([d.issuer + "/.well-known/openid-configuration", None, None], 200),
            "rfc8414": ([d.issuer + "/.well-known/oauth-authorization-server", None, None], 200),
            "jwks": ([d.issuer + "/.well-known/jwks.json", None, None], 200),
            "token": ([d.issuer + "/token", {"grant_type": "refresh_token", "refresh_token": "x",
                                             "client_id": "spa"}, None], 400),
            "revoke": ([d.issuer + "/revoke", {"token": "x", "client_id": "spa"}, None], 200),
            "userinfo": ([d.issuer + "/userinfo", None, "not.a.token"], 401),
        }  # fmt: skip
        page.goto(d.app.url + "/")
        for name, (args, status) in calls.items():
            assert page.evaluate(probe, args) == f"read {status}", name
        foreign = d.app.url.replace("localhost", "127.0.0.1")
        page.goto(foreign + "/")
        for name, (args, _) in calls.items():
            assert page.evaluate(probe, args) == "blocked: TypeError", name
    finally:
        scripted.close()

    # Without JavaScript: the same pages work, and the form_post page shows its <noscript>
    # button.
    plain = browser.new_context(viewport={"width": 900, "height": 700}, java_script_enabled=False)
    try:
        page = plain.new_page()
        verifier = sign_in(page, d, state="fp-noscript")
        # The consent given above is remembered: straight to the form_post page.
        page.wait_for_selector("form#response button[type=submit]")
        assert page.inner_text("form#response button") == "Continue"
        shot(page, "form-post-noscript")
        page.click("form#response button[type=submit]")
        page.wait_for_url(d.app.url + "/callback")
        posted = d.app.posted[-1]
        assert posted["state"] == "fp-noscript"
        tokens = redeem(d, posted, verifier)

        # Logout without an id_token_hint asks first: a link alone ends no session.
        bye = d.app.url + "/signed-out"
        params = {"client_id": "spa", "post_logout_redirect_uri": bye, "state": "s2"}
        page.goto(d.issuer + "/logout?" + urlencode(params))
        assert page.title() == "Sign out · jwtkit"
        assert "The application spa asks to sign you out" in page.inner_text("main")
        shot(page, "logout-confirm")
        still = httpx.post(
            d.issuer + "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                  "client_id": "spa"},
        )  # fmt: skip
        assert still.status_code == 200, still.text
        page.click("button[value=logout]")
        page.wait_for_url(bye + "?*")
        assert query(page.url) == {"state": "s2"}
        assert not [c for c in plain.cookies(d.issuer) if c["name"] == "jwtkit_session"]
        ended = httpx.post(
            d.issuer + "/token",
            data={"grant_type": "refresh_token", "refresh_token": still.json()["refresh_token"],
                  "client_id": "spa"},
        )  # fmt: skip
        assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
    finally:
        plain.close()
