"""Regression tests for what fuzzing the server's form and Basic-auth parsers found (issue 19).

The parsers are driven directly with a Starlette request over a canned ASGI body, as the fuzz
targets drive them (``fuzz/_targets.py``); the HTTP servers in front of the app may or may not
refuse such headers themselves, so the app must not rely on them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request

from jwtkit.server._errors import OAuthError
from jwtkit.server._forms import read_form


def form_request(headers: list[tuple[bytes, bytes]], body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


def read(headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, str]:
    return asyncio.run(read_form(form_request(headers, body), max_size=4096))


@pytest.mark.parametrize("length", ["\u00b2", "5\u00b3", "\u00b9\u00b9"])
def test_fuzz_content_length_in_non_ascii_digits_is_invalid_request(length: str) -> None:
    """str.isdigit() is true for the superscript digits that a Latin-1 header can carry, and
    int() refuses them: the header is malformed, a 400 and never a 500."""
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", length.encode("latin-1")),
    ]
    with pytest.raises(OAuthError) as info:
        read(headers, b"a=b")
    assert info.value.error == "invalid_request"
    assert "Content-Length" in str(info.value)
