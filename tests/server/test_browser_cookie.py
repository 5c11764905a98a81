"""Login CSRF in cookie mode, in a real Chromium against the real service (issue 12, item 3).

The service runs under uvicorn on 127.0.0.1 with a browser app page on the same origin (as
behind one reverse proxy); the attacker's page comes from a second real server that the browser
reaches as ``attacker.test``, another site. Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.support.browser import browser
from tests.support.server import PASSWORD, USER, LiveServer

__all__ = ["browser"]

ATTACKER_PASSWORD = "mallory-password-1"

APP_PAGE = """<!doctype html><title>app</title><pre id="out">running</pre><script>
const post = (data) => fetch("/token", {
  method: "POST",
  headers: {"X-Requested-With": "fetch"},
  body: new URLSearchParams({client_id: "spa", refresh_token_cookie: "true", ...data}),
});
(async () => {
  const login = await post({grant_type: "password", username: "%s", password: "%s"});
  const body = await login.json();
  const refresh = await post({grant_type: "refresh_token"});
  document.getElementById("out").textContent = JSON.stringify(
    {login: login.status, refresh: refresh.status, keys: Object.keys(body).sort()});
})();
</script>"""

ATTACK_PAGE = """<!doctype html><title>win a prize</title>
<form id="f" method="post" action="%s/token">
<input name="grant_type" value="password"><input name="username" value="mallory">
<input name="password" value="%s"><input name="client_id" value="spa">
<input name="refresh_token_cookie" value="true"></form>
<script>document.getElementById("f").submit()</script>"""


class WithAppPage:
    """The token service plus one HTML page at /app on the same origin (ASGI dispatch)."""

    def __init__(self, service: Starlette) -> None:
        self.service = service
        page = APP_PAGE % (USER, PASSWORD)
        self.page = Starlette(routes=[Route("/app", lambda r: HTMLResponse(page))])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        target = self.page if scope.get("path") == "/app" else self.service
        await target(scope, receive, send)


@pytest.fixture
def idp(make_app: Callable[..., Starlette]) -> Iterator[str]:
    """The live service with public client spa registered for its own origin."""
    service = make_app(cookie_secure=False)
    with LiveServer(WithAppPage(service)) as live:
        accounts = service.state.service.accounts
        accounts.add_user("mallory", ATTACKER_PASSWORD)
        accounts.add_client(
            "spa", public=True, grants=("password", "refresh_token"), origins=[live.url]
        )
        yield live.url


def test_cookie_mode_works_from_the_registered_origin(
    browser: Any, idp: str, tmp_path: Path
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{idp}/app")
    page.wait_for_function("document.getElementById('out').textContent !== 'running'")
    page.screenshot(path=tmp_path / "app.png")
    result = json.loads(page.text_content("#out") or "{}")
    assert result == {
        "login": 200,
        "refresh": 200,
        "keys": ["access_token", "expires_in", "token_type"],
    }
    assert [c["name"] for c in context.cookies(f"{idp}/token")] == ["jwtkit_refresh"]
    context.close()


def test_login_csrf_from_a_cross_site_form_sets_no_cookie(
    browser: Any, idp: str, tmp_path: Path
) -> None:
    attack = Starlette(
        routes=[Route("/", lambda r: HTMLResponse(ATTACK_PAGE % (idp, ATTACKER_PASSWORD)))]
    )
    with LiveServer(attack) as attacker:
        port = attacker.url.rsplit(":", 1)[1]
        context = browser.new_context()
        page = context.new_page()
        with page.expect_response(f"{idp}/token") as answer:
            page.goto(f"http://attacker.test:{port}/")
        response = answer.value
        page.wait_for_load_state()
        page.screenshot(path=tmp_path / "attack.png")
        request = response.request.all_headers()
        assert request["origin"] == f"http://attacker.test:{port}"
        assert request["sec-fetch-site"] == "cross-site"
        assert response.status == 400
        assert response.json()["error"] == "invalid_request"
        # The victim's browser holds no refresh cookie of the attacker's account.
        assert context.cookies() == []
        context.close()
