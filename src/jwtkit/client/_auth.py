"""Bearer-token authentication shared by the ASGI middleware and the dependency (private).

RFC 6750 decides the answers: no credentials gives 401 with a bare ``Bearer realm=...``
challenge (§3.1: no error code when the request carries no authentication), a rejected token
gives 401 ``invalid_token``, a token lacking a required scope gives 403 ``insufficient_scope``
naming the scopes. Descriptions are generic and never echo the token.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from jwtkit.client.verifier import AsyncTokenVerifier, Claims, TokenVerifier
from jwtkit.errors import ExpiredTokenError, InvalidTokenError, JWKSFetchError, JWTError

__all__ = ["AuthenticationError", "Authenticator", "RevocationCheck", "granted_scopes"]

logger = logging.getLogger("jwtkit.client")

#: ``is_revoked(claims, token)`` or ``is_revoked(claims)`` returning a bool (or an awaitable of
#: one); True rejects the token.
RevocationCheck = (
    Callable[[Mapping[str, Any], str], bool | Awaitable[bool]]
    | Callable[[Mapping[str, Any]], bool | Awaitable[bool]]
)

# RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); realm is a quoted-string we build,
# so it must not contain a quote, a backslash or control characters.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_REALM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class AuthenticationError(Exception):
    """A request that must be refused: HTTP status, headers and a small JSON body."""

    def __init__(
        self, status: int, error: str | None, description: str, headers: dict[str, str]
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers

    def body(self) -> bytes:
        """Return the JSON body: the error code when RFC 6750 gives one, and the description."""
        payload = {"error_description": self.description}
        if self.error is not None:
            payload = {"error": self.error, **payload}
        return json.dumps(payload).encode()


def granted_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Return the scopes a token grants, read from its ``scope`` and ``scp`` claims.

    ``scope`` is a space-separated string (RFC 9068 §2.2.3, RFC 8693 §4.2); ``scp`` is a list
    or a space-separated string, as some issuers emit. Values of other types grant nothing.
    """
    granted: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            granted.update(value.split())
        elif isinstance(value, list):
            granted.update(item for item in value if isinstance(item, str))
    return frozenset(granted)


def _check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        raise TypeError("scopes must be a collection of scope names, not a string")
    checked = tuple(scopes)
    for scope in checked:
        if not isinstance(scope, str) or not _SCOPE_TOKEN.fullmatch(scope):
            raise ValueError("each required scope must be a non-empty RFC 6749 scope token")
    return checked


def _takes_token(hook: RevocationCheck | None) -> bool:
    """Tell whether ``hook`` wants ``(claims, token)`` rather than just ``(claims)``.

    Introspection needs the token itself; a jti denylist only needs the claims, so both
    shapes are accepted and told apart once, at construction.
    """
    if hook is None:
        return False
    if not callable(hook):
        raise TypeError(
            "is_revoked must be a callable: (claims, token) -> bool or (claims) -> bool"
        )
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return True
    try:
        signature.bind(None, None)
    except TypeError:
        pass
    else:
        return True
    try:
        signature.bind(None)
    except TypeError:
        raise TypeError("is_revoked must accept (claims, token) or (claims)") from None
    return False


class Authenticator:
    """Read, verify and authorize the Bearer token of one request."""

    def __init__(
        self,
        verifier: TokenVerifier | AsyncTokenVerifier,
        *,
        scopes: Iterable[str],
        realm: str,
        is_revoked: RevocationCheck | None,
    ) -> None:
        if not isinstance(verifier, TokenVerifier | AsyncTokenVerifier):
            raise TypeError("verifier must have a verify(token) or verify_async(token) method")
        if not isinstance(realm, str) or not _REALM.fullmatch(realm):
            raise ValueError("realm must be printable ASCII without quotes or backslashes")
        self._revocation_takes_token = _takes_token(is_revoked)
        self.verifier = verifier
        # Decided once: a runtime Protocol check per request would be wasted work.
        self._verify: Callable[[str], Awaitable[Claims]]
        if isinstance(verifier, AsyncTokenVerifier):
            self._verify = verifier.verify_async
        else:
            verify_sync = verifier.verify

            async def verify(token: str) -> Claims:
                return verify_sync(token)

            self._verify = verify
        self.scopes = _check_scopes(scopes)
        self.realm = realm
        self.is_revoked = is_revoked

    def _challenge(self, error: str | None = None, description: str | None = None) -> str:
        parts = [f'Bearer realm="{self.realm}"']
        if error is not None:
            parts.append(f'error="{error}"')
        if description is not None:
            parts.append(f'error_description="{description}"')
        if error == "insufficient_scope":
            parts.append(f'scope="{" ".join(self.scopes)}"')
        return ", ".join(parts)

    def _invalid(self, description: str) -> AuthenticationError:
        headers = {"WWW-Authenticate": self._challenge("invalid_token", description)}
        return AuthenticationError(401, "invalid_token", description, headers)

    def bearer_token(self, headers: Sequence[tuple[bytes, bytes]]) -> str:
        """Return the token of the single ``Authorization: Bearer`` header.

        Raises:
            AuthenticationError: 401 without credentials (or another scheme), 400 for repeated
                Authorization headers, 401 invalid_token for a malformed Bearer value.
        """
        values = [value for name, value in headers if name.lower() == b"authorization"]
        if len(values) > 1:
            description = "Only one Authorization header is allowed"
            challenge = self._challenge("invalid_request", description)
            extra = {"WWW-Authenticate": challenge}
            raise AuthenticationError(400, "invalid_request", description, extra)
        if not values:
            raise self._missing()
        scheme, _, credentials = values[0].decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer":
            raise self._missing()
        token = credentials.strip()
        if not _TOKEN68.fullmatch(token):
            raise self._invalid("The access token is malformed")
        return token

    def _missing(self) -> AuthenticationError:
        headers = {"WWW-Authenticate": self._challenge()}
        return AuthenticationError(401, None, "An access token is required", headers)

    async def _verified_claims(self, token: str) -> Claims:
        try:
            return await self._verify(token)
        except ExpiredTokenError:
            raise self._invalid("The access token expired") from None
        except InvalidTokenError as exc:
            logger.info("bearer token rejected: %s", exc.code)
            raise self._invalid("The access token is invalid") from None
        except JWKSFetchError as exc:
            logger.warning("bearer token not verified, keys unavailable: %s", exc)
            description = "The token issuer's keys are temporarily unavailable"
            raise AuthenticationError(
                503, "temporarily_unavailable", description, {"Retry-After": "30"}
            ) from None
        except JWTError as exc:
            # A configuration problem (for example a key that cannot serve the token's alg)
            # still rejects this token rather than failing the request with a 500.
            logger.warning("bearer token rejected by a configuration error: %s", exc.code)
            raise self._invalid("The access token is invalid") from None

    async def _revoked(self, claims: Claims, token: str) -> bool:
        if self.is_revoked is None:
            return False
        try:
            if self._revocation_takes_token:
                outcome = self.is_revoked(claims, token)  # type: ignore[call-arg]
            else:
                outcome = self.is_revoked(claims)  # type: ignore[call-arg]
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except JWKSFetchError as exc:
            logger.warning("revocation check unavailable: %s", exc)
            description = "The token revocation check is temporarily unavailable"
            raise AuthenticationError(
                503, "temporarily_unavailable", description, {"Retry-After": "30"}
            ) from None
        return bool(outcome)

    async def authenticate(self, headers: Sequence[tuple[bytes, bytes]]) -> Claims:
        """Return the verified claims of the request's Bearer token or raise AuthenticationError.

        Order: credentials present, token verified (signature, then claims), not revoked,
        required scopes granted.
        """
        token = self.bearer_token(headers)
        claims = await self._verified_claims(token)
        if await self._revoked(claims, token):
            raise self._invalid("The access token was revoked")
        if self.scopes and not granted_scopes(claims).issuperset(self.scopes):
            description = "The access token lacks a required scope"
            challenge = self._challenge("insufficient_scope", description)
            raise AuthenticationError(
                403, "insufficient_scope", description, {"WWW-Authenticate": challenge}
            )
        return claims
