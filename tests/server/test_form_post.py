"""response_mode=form_post (issue 14): the code (or error) goes to the client in a form that a
same-origin script file sends, with a <noscript> button; no inline script, a strict policy.
The real browser runs it in test_spa.py."""

from __future__ import annotations

import html
import re

import pytest
from starlette.applications import Starlette

from jwtkit.server._service import TokenService
from tests.support.oidc import REDIRECT, Browser, start
from tests.support.server import PASSWORD, USER, TestClient


@pytest.fixture
def browser(app: Starlette) -> Browser:
    svc: TokenService = app.state.service
    svc.accounts.add_client(
        "app", "app-secret-0123456789abcdef", redirect_uris=(REDIRECT,), first_party=True
    )
    return Browser(TestClient(app))


def fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def test_the_code_is_posted_by_a_script_file_or_a_button(browser: Browser) -> None:
    page, _ = start(browser, response_mode="form_post", state="a&b")
    done = browser.login(page, USER, PASSWORD)
    assert done.status_code == 200 and "location" not in done.headers
    assert f'<form method="post" action="{REDIRECT}" id="response">' in done.text
    got = fields(done.text)
    assert got["state"] == "a&b" and got["iss"] == "http://testserver" and got["code"]
    assert '<script src="/static/form_post.js"></script>' in done.text
    assert "<noscript>" in done.text and '<button type="submit">Continue</button>' in done.text
    # No inline script anywhere: every <script> has a src and no body.
    assert re.findall(r"<script[^>]*>([^<]*)</script>", done.text) == [""]
    policy = done.headers["content-security-policy"]
    assert policy == (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "frame-ancestors 'none'; script-src 'self'; form-action https://app.example"
    )
    assert done.headers["cache-control"] == "no-store"
    script = browser.request("GET", "/static/form_post.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert 'document.getElementById("response").submit()' in script.text
    # Single sign-on answers in the same mode.
    again, _ = start(browser, response_mode="form_post")
    assert again.status_code == 200 and fields(again.text)["code"]


def test_errors_go_back_in_the_requested_mode(browser: Browser) -> None:
    silent, _ = start(browser, response_mode="form_post", prompt="none", state="s")
    got = fields(silent.text)
    assert silent.status_code == 200 and got["error"] == "login_required"
    assert got["state"] == "s"
    bad_scope, _ = start(browser, response_mode="form_post", scope="openid nope")
    assert fields(bad_scope.text)["error"] == "invalid_scope"
    # An unknown mode is itself an error, sent the default way (a redirect).
    unknown, _ = start(browser, response_mode="fragment")
    assert unknown.status_code == 303 and "error=invalid_request" in unknown.headers["location"]
