"""Helpers for the OpenID Connect tests: PKCE pairs, a cookie-keeping browser, form scraping."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.server import TestClient

REDIRECT = "https://app.example/callback"


def pkce() -> tuple[str, str]:
    """Return a (verifier, S256 challenge) pair (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hidden(page: str, name: str) -> str:
    """Return the value of the hidden input ``name`` of a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name!r} in the page"
    return html.unescape(found.group(1))


def query(location: str) -> dict[str, str]:
    """Return the (single-valued) query parameters of a redirect Location."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Browser:
    """A TestClient that keeps cookies like a browser (per name, latest wins)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.raw: list[str] = []

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, url, headers=headers, **kwargs)
        for line in response.headers.get_list("set-cookie"):
            self.raw.append(line)
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in line.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def authorize(self, client_id: str = "app", **params: str | list[str]) -> httpx.Response:
        """GET /authorize with the given parameters (client_id and redirect_uri default; a
        list repeats its parameter, as ``resource`` may)."""
        values: dict[str, str | list[str]] = {
            "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code"
        }  # fmt: skip
        values.update(params)
        values = {k: v for k, v in values.items() if v is not None}
        return self.request("GET", "/authorize?" + urlencode(values, doseq=True))

    def login(
        self, page: httpx.Response, username: str, password: str, **extra: str
    ) -> httpx.Response:
        """Submit the login form of ``page``."""
        data = {
            "csrf_token": hidden(page.text, "csrf_token"),
            "request": hidden(page.text, "request"),
            "username": username,
            "password": password,
            **extra,
        }
        return self.request("POST", "/login", data=data)


def start(
    browser: Browser, client_id: str = "app", **params: str | list[str]
) -> tuple[httpx.Response, str]:
    """Begin a code flow with PKCE S256 and scope openid; return the response and verifier."""
    verifier, challenge = pkce()
    values: dict[str, str | list[str]] = {
        "scope": "openid profile email roles",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return browser.authorize(client_id, **values), verifier
