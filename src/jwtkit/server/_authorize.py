"""The authorization request (RFC 6749 §4.1.1, OpenID Connect Core 1.0 §3.1.2.1), validated.

:func:`parse_request` checks the parameters in the order that decides where an error goes:
first ``client_id`` and ``redirect_uri`` (a bad one is shown to the user on an error page,
never redirected to, RFC 6749 §4.1.2.1), then everything else (errors go back to the client's
redirect URI with ``state`` and the RFC 9207 ``iss``, in the request's ``response_mode``:
``query`` or ``form_post``). PKCE with ``S256`` is required of every client (RFC 9700 §2.1.1);
``response_type=code`` is the only response type. ``resource`` (RFC 8707, repeatable) names
the registered APIs the grant is for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlencode, urlsplit

from jwtkit.server._errors import OAuthError
from jwtkit.server._records import ClientInfo
from jwtkit.server._resources import MAX_RESOURCES, ResourceInfo

__all__ = [
    "IDENTITY_SCOPES",
    "AuthorizationRequest",
    "PageError",
    "RedirectError",
    "parse_request",
    "redirect_to",
]

# Scopes about the user, granted to any client of the code flow (OpenID Connect Core §5.4).
IDENTITY_SCOPES: Final = ("openid", "profile", "email", "roles", "offline_access")
PROMPTS: Final = frozenset({"none", "login", "consent", "select_account"})
RESPONSE_MODES: Final = ("query", "form_post")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_SCOPE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}
_MAX_VALUE = 2048


class PageError(Exception):
    """A request that cannot be trusted to redirect: shown on an error page (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request; ``query`` is the original, to carry it through
    the login form (it is validated again when the form comes back)."""

    client: ClientInfo
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str = field(repr=False)
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    query: str = field(repr=False)
    resources: tuple[str, ...] = ()
    response_mode: str = "query"

    @property
    def openid(self) -> bool:
        """Say whether this is an OpenID Connect request (an ID token is wanted)."""
        return "openid" in self.scope


class RedirectError(Exception):
    """An RFC 6749 §4.1.2.1 error, sent back to the client's redirect URI."""

    def __init__(
        self,
        error: str,
        description: str,
        redirect_uri: str,
        state: str | None,
        mode: str = "query",
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        self.mode = mode


def redirect_to(redirect_uri: str, params: dict[str, str | None]) -> str:
    """Return ``redirect_uri`` with ``params`` added to its query (keeping its own query,
    RFC 6749 §3.1.2); None values are left out."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    if not extra:
        return redirect_uri
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return redirect_uri + separator + extra


def _single(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Return the parameters, refusing repeats (RFC 6749 §3.1), and the ``resource`` values
    (RFC 8707 lets it repeat); empty values count as absent."""
    out: dict[str, str] = {}
    resources: list[str] = []
    seen: set[str] = set()
    repeated: list[str] = []
    for name, value in pairs:
        if name == "resource":
            resources.extend([value] if value else [])
            continue
        if name in seen:
            repeated.append(name)
        seen.add(name)
        if value:
            out[name] = value
    if repeated:
        out["\0repeated"] = repeated[0]
    return out, resources


def parse_request(
    pairs: Sequence[tuple[str, str]],
    query: str,
    lookup: Callable[[str], ClientInfo | None],
    find_resources: Callable[[list[str]], list[ResourceInfo]] = lambda uris: [],
) -> AuthorizationRequest:
    """Validate an authorization request given as (name, value) pairs.

    ``lookup(client_id)`` returns the :class:`ClientInfo` or None; ``find_resources(uris)``
    the registered resources (``Resources.lookup``, raising ``invalid_target``).

    Raises:
        PageError: the client or the redirect URI is missing, unknown or does not match.
        RedirectError: anything else wrong, once the redirect URI is known to be the client's.
    """
    params, resource_values = _single(pairs)
    repeated = params.pop("\0repeated", None)
    if any(len(v) > _MAX_VALUE for v in (*params.values(), *resource_values)):
        raise PageError("The sign-in request is too long.")
    if repeated in ("client_id", "redirect_uri"):
        raise PageError(f"The sign-in request repeats the parameter {repeated}.")
    client_id = params.get("client_id")
    if client_id is None:
        raise PageError("The sign-in request names no application (client_id is missing).")
    client = lookup(client_id)
    if client is None or client.disabled:
        raise PageError("The application that sent you here is not registered.")
    redirect_uri = params.get("redirect_uri")
    scope_words = params.get("scope", "").split(" ") if params.get("scope") else []
    if redirect_uri is None:
        # OpenID Connect Core §3.1.2.1 requires it; plain OAuth may omit it with one URI.
        if len(client.redirect_uris) != 1 or "openid" in scope_words:
            raise PageError("The sign-in request has no redirect_uri.")
        redirect_uri = client.redirect_uris[0]
    elif redirect_uri not in client.redirect_uris:
        # Exact string comparison (RFC 9700 §4.1.3): no prefixes, ports or queries tolerated.
        raise PageError("The application's redirect_uri is not registered for it.")
    state = params.get("state")
    mode = params.get("response_mode", "query")
    if repeated == "response_mode" or mode not in RESPONSE_MODES:
        raise RedirectError(
            "invalid_request", "response_mode must be query or form_post", redirect_uri, state
        )

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri, state, mode)

    if repeated is not None:
        raise fail("invalid_request", f"parameter {repeated!r} is repeated")
    for unsupported in ("request", "request_uri", "registration"):
        if unsupported in params:
            raise fail(f"{unsupported}_not_supported", f"{unsupported} is not supported")
    response_type = params.get("response_type")
    if response_type is None:
        raise fail("invalid_request", "response_type is required")
    if response_type != "code":
        raise fail("unsupported_response_type", "only response_type=code is supported")
    if not client.allows_grant("authorization_code"):
        raise fail("unauthorized_client", "this client may not use the authorization code flow")
    scope = _scope(scope_words, client, fail)
    resources, scope = _resources(resource_values, scope, bool(scope_words), find_resources, fail)
    challenge = params.get("code_challenge")
    if challenge is None:
        raise fail("invalid_request", "code_challenge is required (PKCE with S256)")
    if params.get("code_challenge_method") != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be 43 base64url characters")
    prompt = frozenset(params.get("prompt", "").split())
    if not prompt <= PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise fail("invalid_request", "prompt is invalid")
    max_age = None
    if "max_age" in params:
        raw = params["max_age"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
            raise fail("invalid_request", "max_age must be a non-negative integer")
        max_age = int(raw)
    hint = params.get("login_hint")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        nonce=params.get("nonce"),
        code_challenge=challenge,
        prompt=prompt,
        max_age=max_age,
        login_hint=hint[:256] if hint else None,
        query=query,
        resources=resources,
        response_mode=mode,
    )


def _resources(
    uris: list[str],
    scope: tuple[str, ...],
    explicit: bool,
    find: Callable[[list[str]], list[ResourceInfo]],
    fail: Callable[[str, str], RedirectError],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check the RFC 8707 resources of the request and return them with the scope.

    They must be registered, and together list every requested scope that is not an
    identity scope (a token for them could not carry it); without a ``scope`` parameter,
    the client's scopes are narrowed to those they list.
    """
    if not uris:
        return (), scope
    if len(uris) > MAX_RESOURCES:
        raise fail("invalid_target", f"at most {MAX_RESOURCES} resources per request")
    try:
        found = find(uris)
    except OAuthError as exc:
        raise fail(exc.error, exc.description) from None
    listed = {name for info in found for name in info.scopes} | set(IDENTITY_SCOPES)
    missing = [s for s in scope if s not in listed]
    if missing and explicit:
        raise fail("invalid_scope", f"no requested resource takes the scope {missing[0]!r}")
    return tuple(info.uri for info in found), tuple(s for s in scope if s in listed)


def _scope(
    words: list[str], client: ClientInfo, fail: Callable[[str, str], RedirectError]
) -> tuple[str, ...]:
    if not words:
        return client.scopes
    if any(not w or not set(w) <= _SCOPE_CHARS for w in words):
        raise fail("invalid_scope", "the scope is malformed")
    allowed = set(client.scopes) | set(IDENTITY_SCOPES)
    if not set(words) <= allowed:
        raise fail("invalid_scope", "the requested scope is not allowed for this client")
    return tuple(dict.fromkeys(words))
