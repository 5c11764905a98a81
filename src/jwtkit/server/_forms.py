"""Strict parsing of form-encoded OAuth requests and of client authentication.

RFC 6749 §3.1/§3.2: parameters are ``application/x-www-form-urlencoded`` UTF-8, must not be
repeated, and a parameter without a value counts as omitted. The one exception is RFC 8707's
``resource``, which may repeat: its values are joined by spaces (which no resource URI
contains; :func:`jwtkit.server._resources.split_resources` splits them). Bodies are capped
before they are read in full, so a huge or endless upload costs at most ``max_size`` bytes of
memory.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import ClientDisconnect, Request

from jwtkit.server._errors import OAuthError, invalid_client

__all__ = ["ClientCredentials", "client_credentials", "read_form"]

_MAX_FIELDS = 64
# C0 control characters but the tab: one regex scan, not a Python loop per character (a
# token of a few hundred characters cost tens of microseconds that way; issue 18).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f]")
_REPEATABLE = frozenset({"resource"})


async def read_form(request: Request, *, max_size: int) -> dict[str, str]:
    """Read and parse the body as a strict form; raise OAuthError for anything malformed."""
    ctype = request.headers.get("content-type", "")
    media, _, params = ctype.partition(";")
    media = media.strip().lower()
    # An empty body without a content type is an empty form (a bodiless fetch() sends that).
    if media not in ("application/x-www-form-urlencoded", ""):
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    charset = params.strip().lower()
    if charset and charset.replace(" ", "") not in ("charset=utf-8", 'charset="utf-8"'):
        raise OAuthError("invalid_request", "the body must be UTF-8")
    declared = request.headers.get("content-length")
    too_large = OAuthError("invalid_request", "the request body is too large", status=413)
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # isdigit() alone takes "²"
            raise OAuthError("invalid_request", "the Content-Length header is malformed")
        if int(declared) > max_size:
            raise too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_size:
                raise too_large
    except ClientDisconnect:
        raise OAuthError("invalid_request", "the client went away") from None
    if not media and body:
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    return parse_form(bytes(body))


def parse_form(body: bytes) -> dict[str, str]:
    """Parse form bytes: UTF-8 only, no repeated names, empty values dropped (RFC 6749 §3.1)."""
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body is not valid UTF-8 form data") from None
    except ValueError:
        raise OAuthError("invalid_request", "too many parameters") from None
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen and name not in _REPEATABLE:
            raise OAuthError("invalid_request", f"parameter {name!r} is repeated")
        seen.add(name)
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise OAuthError("invalid_request", "control characters are not allowed")
        if value and name in form:
            form[name] += " " + value
        elif value:
            form[name] = value
    return form


@dataclass(frozen=True)
class ClientCredentials:
    """The client identity a request presents; ``basic`` says HTTP Basic was used."""

    client_id: str
    secret: str | None = field(repr=False)
    basic: bool


def client_credentials(request: Request, form: dict[str, str]) -> ClientCredentials | None:
    """Extract client credentials from HTTP Basic or the body (RFC 6749 §2.3.1).

    Returns None when the request names no client. Using both methods at once is an
    invalid_request; an unreadable Basic header is an invalid_client with a challenge.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise invalid_client(basic=True)
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method only")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise invalid_client(basic=True) from None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep or not raw_id:
            raise invalid_client(basic=True)
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret) or None
        # Many OAuth libraries also send client_id in the body; accept it when it agrees.
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return ClientCredentials(client_id, secret, True)
    if "client_id" not in form:
        if "client_secret" in form:
            raise OAuthError("invalid_request", "client_secret without client_id")
        return None
    return ClientCredentials(form["client_id"], form.get("client_secret"), False)
