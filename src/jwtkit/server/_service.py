"""The token service's logic, independent of HTTP: the grants and the tokens they issue.

Authentication lives in :mod:`jwtkit.server._authentication` (``svc.authn``), revocation and
introspection in :mod:`jwtkit.server._introspection`, the OpenID Connect provider in
:mod:`jwtkit.server._oidc` (``svc.oidc``); all of them build on this service.

Every method is synchronous (store and Argon2 work) and is run in a worker thread by the
routes: in ``TokenService.hashing`` when it may hash
(:meth:`~jwtkit.server._authentication.Authenticator.needs_hashing`), else in its store
threads (``svc.in_thread``). Failures the client caused raise
:class:`~jwtkit.server._errors.OAuthError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jwtkit import Signer, Verifier, decode_unverified
from jwtkit._revocation import FAMILY_CLAIM, client_subject
from jwtkit._storage import Database, LimitStore
from jwtkit.errors import InvalidAudienceError, InvalidTokenError
from jwtkit.jwa import ASYMMETRIC_ALGORITHMS
from jwtkit.keys import KeyManager
from jwtkit.server._accounts import Accounts, ClientInfo
from jwtkit.server._authentication import Authenticator
from jwtkit.server._authorize import IDENTITY_SCOPES
from jwtkit.server._errors import OAuthError
from jwtkit.server._forms import ClientCredentials
from jwtkit.server._passwords import HashingExecutor
from jwtkit.server._ratelimit import Limiter
from jwtkit.server._records import GRANT_TYPES
from jwtkit.server._resources import Resources, split_resources
from jwtkit.server._revocations import RevocationState
from jwtkit.server._settings import Settings
from jwtkit.server._tokens import RefreshError, RefreshGrant, TokenStore

_T = TypeVar("_T")

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "Clock",
    "IssuedTokens",
    "ServiceParts",
    "TokenService",
]

logger = logging.getLogger("jwtkit.server")

Clock = Callable[[], float]
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
_SCOPE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}


@dataclass(frozen=True)
class IssuedTokens:
    """The result of a successful grant (RFC 6749 §5.1); ``refresh_token`` may be empty."""

    access_token: str = field(repr=False)
    expires_in: int
    scope: tuple[str, ...]
    refresh_token: str = field(default="", repr=False)
    refresh_expires_in: int = 0
    id_token: str = field(default="", repr=False)

    def with_id_token(self, id_token: str) -> IssuedTokens:
        """Return these tokens with an OpenID Connect ID token added."""
        return dataclasses.replace(self, id_token=id_token)

    def body(self, *, include_refresh: bool = True) -> dict[str, Any]:
        """Return the JSON body of the token response."""
        out: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.scope:
            out["scope"] = " ".join(self.scope)
        if self.refresh_token and include_refresh:
            out["refresh_token"] = self.refresh_token
        if self.id_token:
            out["id_token"] = self.id_token
        return out


@dataclass(frozen=True)
class ServiceParts:
    """The collaborators a :class:`TokenService` works with, opened by
    :func:`~jwtkit.server._app.open_parts` from ``Settings``.

    A test or a deployment may build or replace any of them (``dataclasses.replace``); the
    service owns them from then on and closes them in :meth:`TokenService.close`.
    """

    db: Database
    keys: KeyManager
    accounts: Accounts
    resources: Resources
    tokens: TokenStore
    revocations: RevocationState
    limits: LimitStore
    limiter: Limiter
    hashing: HashingExecutor
    signer: Signer
    verifier: Verifier

    def close(self) -> None:
        """Stop the hashing threads and release the store's connections."""
        for close in (self.hashing.shutdown, self.limits.close, self.keys.close):
            with contextlib.suppress(Exception):
                close()
        self.db.close()


class TokenService:
    """Grants, revocation and introspection over one store, one key manager and a clock."""

    def __init__(self, settings: Settings, parts: ServiceParts, *, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._parts = parts
        self.db = parts.db
        self.keys = parts.keys
        self.accounts = parts.accounts
        self.resources = parts.resources
        self.tokens = parts.tokens
        self.revocations = parts.revocations
        self.limits = parts.limits
        self.limiter = parts.limiter
        self.hashing = parts.hashing
        self.signer = parts.signer
        self.verifier = parts.verifier
        self.authn = Authenticator(parts.accounts, parts.limiter, clock)
        from jwtkit.server._oidc import OIDCProvider  # it builds on this service

        self.oidc = OIDCProvider(self)
        # Store calls of the hot endpoints run here rather than in anyio's thread pool:
        # asyncio's executor hand-off costs a fifth of anyio's under load (issue 18). As
        # many threads as the pool has connections: more would only wait for one.
        self.store_threads = ThreadPoolExecutor(
            max_workers=max(4, settings.store_pool_size), thread_name_prefix="jwtkit-store"
        )

    async def in_thread(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """Run a blocking service call (store access) in :attr:`store_threads`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.store_threads, functools.partial(fn, *args, **kwargs)
        )

    def close(self) -> None:
        """Release the store's connections and stop the hashing and store threads."""
        self.store_threads.shutdown(wait=True)
        self._parts.close()

    # Grants (RFC 6749 §4.3, §4.4, §6).

    def grant(
        self,
        form: Mapping[str, str],
        creds: ClientCredentials | None,
        *,
        address: str | None,
        refresh_token: str | None = None,
    ) -> IssuedTokens:
        """Run the grant named by ``grant_type`` and return the issued tokens.

        ``refresh_token`` is the refresh token the request presented, for the refresh grant:
        the token route decides whether it came from the form or from the cookie.

        Raises:
            OAuthError: any RFC 6749 §5.2 error.
        """
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type", "this grant type is not supported")
        client = self.authn.authenticate(creds, address=address)
        if not client.allows_grant(grant_type):
            raise OAuthError("unauthorized_client", "this client may not use this grant type")
        if grant_type == "authorization_code":
            return self.oidc.redeem(form, client)
        if grant_type == "password":
            return self._password(form, client, address)
        if grant_type == "client_credentials":
            return self._client_credentials(form, client)
        return self._refresh(form, client, refresh_token)

    def grant_from_memory(
        self, form: Mapping[str, str], creds: ClientCredentials | None
    ) -> IssuedTokens | None:
        """Run a ``client_credentials`` grant from memory alone, or return None.

        It runs only when nothing would touch the store (issue 18): no resource indicator,
        the client's record cached and enabled, its secret verified before against that
        record's hash, the signing keys loaded within their refresh interval. Then it costs
        one signature and may run on the event loop; every other case returns None before
        doing anything, for :meth:`grant` in a worker thread. The checks are those of
        :meth:`grant`: a remembered secret is never rate limited there either.

        Raises:
            OAuthError: invalid_scope, as :meth:`grant`.
        """
        if (
            creds is None
            or creds.secret is None
            or form.get("grant_type") != "client_credentials"
            or "resource" in form
            or not self.keys.fresh()
        ):
            return None
        client = self.accounts.remembered_client(creds.client_id, creds.secret)
        if client is None or not client.allows_grant("client_credentials"):
            return None
        return self._client_credentials(form, client)

    def _client_credentials(self, form: Mapping[str, str], client: ClientInfo) -> IssuedTokens:
        target = self.resources.target(
            split_resources(form.get("resource")), self._scope(form, client.scopes),
            granted=None,
        )  # fmt: skip
        # Namespaced, so a client's tokens never share a subject with a user's (issue 11).
        return self.issue(
            client_subject(client.client_id), client, target.scope, (), None,
            audience=target.audience,
        )  # fmt: skip

    def _password(
        self, form: Mapping[str, str], client: ClientInfo, address: str | None
    ) -> IssuedTokens:
        username, password = form.get("username"), form.get("password")
        if username is None or password is None:
            raise OAuthError("invalid_request", "username and password are required")
        scope = self._scope(form, client.scopes)
        target = self.resources.target(split_resources(form.get("resource")), scope, granted=None)
        user = self.authn.login(username, password, address=address, client_id=client.client_id)
        # Every login is a session (a family), with a refresh token if the client may
        # refresh; its access tokens carry the family, so revoking the session reaches them.
        now = self.clock()
        session = self.tokens.issue(
            client_id=client.client_id,
            username=username,
            scope=scope,
            now=now,
            access_until=now + self.settings.access_token_lifetime,
            refresh=client.allows_grant("refresh_token"),
            resources=target.resources,
        )
        return self.issue(
            username, client, target.scope, user.roles, session, now=now, audience=target.audience
        )

    def _refresh(
        self, form: Mapping[str, str], client: ClientInfo, token: str | None
    ) -> IssuedTokens:
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        requested = self._parse_scope(form["scope"]) if "scope" in form else None
        resources = split_resources(form.get("resource"))
        now = self.clock()
        try:
            grant = self.tokens.rotate(
                token,
                client_id=client.client_id,
                now=now,
                scope=requested,
                access_until=now + self.settings.access_token_lifetime,
                resources=resources,
            )
        except RefreshError as exc:
            if exc.reason == "scope":
                raise OAuthError("invalid_scope", "the scope exceeds the granted scope") from None
            if exc.reason == "target":
                raise OAuthError(
                    "invalid_target", "the resource was not part of the grant"
                ) from None
            raise OAuthError(
                "invalid_grant", "the refresh token is invalid, expired or revoked"
            ) from None
        scope = requested if requested is not None else grant.scope
        # Scopes taken from the client since the login (`jwtkit client set`) are not renewed;
        # the code flow's identity scopes (openid, profile, ...) are not the client's to lose.
        scope = tuple(s for s in scope if s in client.scopes or s in IDENTITY_SCOPES)
        target = self.resources.target(resources, scope, granted=grant.resources)
        return self.issue(
            grant.username, client, target.scope, grant.roles, grant, now=now,
            audience=target.audience,
        )  # fmt: skip

    def issue(
        self,
        subject: str,
        client: ClientInfo,
        scope: tuple[str, ...],
        roles: tuple[str, ...],
        refresh: RefreshGrant | None,
        *,
        now: float | None = None,
        audience: str | list[str] | None = None,
    ) -> IssuedTokens:
        """Sign an RFC 9068 access token and pair it with the refresh token, if any.

        Tokens issued under a session carry its family id (``jwtkit_fid``), so that the
        session's revocation reaches them. ``audience`` (RFC 8707 resources) replaces the
        default audience.
        """
        now = self.clock() if now is None else now
        claims: dict[str, Any] = {"sub": subject, "client_id": client.client_id}
        if audience is not None:
            claims["aud"] = audience
        if scope:
            claims["scope"] = " ".join(scope)
        if roles:
            claims["roles"] = list(roles)
        if refresh is not None:
            claims[FAMILY_CLAIM] = refresh.family_id
        access = self.signer.sign(claims, now=now)
        lifetime = self.settings.access_token_lifetime
        if refresh is None or not refresh.token:
            return IssuedTokens(access, lifetime, scope)
        return IssuedTokens(
            access, lifetime, scope, refresh.token, max(0, int(refresh.expires_at - now))
        )

    def _scope(self, form: Mapping[str, str], allowed: tuple[str, ...]) -> tuple[str, ...]:
        """Return the requested scope (default: all the client's scopes) if allowed (§3.3)."""
        if "scope" not in form:
            return allowed
        requested = self._parse_scope(form["scope"])
        if not set(requested) <= set(allowed):
            raise OAuthError("invalid_scope", "the requested scope is not allowed for this client")
        return requested

    @staticmethod
    def _parse_scope(text: str) -> tuple[str, ...]:
        words = text.split(" ")
        if any(not w or not set(w) <= _SCOPE_CHARS for w in words):
            raise OAuthError("invalid_scope", "the scope is malformed")
        return tuple(dict.fromkeys(words))

    def verify_access(
        self, token: str, now: float, *, any_audience: bool = True
    ) -> dict[str, Any] | None:
        """Return the claims of a valid access token issued here, else None.

        With ``any_audience`` a token for a resource (RFC 8707) is accepted too: only this
        service signs with its keys, so a valid signature means it issued the token, for
        whatever audience (introspection and revocation describe every token issued here;
        the resource server checks the ``aud``). Without it, only the default audience.
        """
        if token.count(".") != 2 or len(token) > 16 * 1024:
            return None
        try:
            return dict(self.verifier.verify(token, now=now))
        except InvalidAudienceError:
            if not any_audience:
                return None
        except (InvalidTokenError, ValueError):
            return None
        try:
            audience = decode_unverified(token)[1].get("aud")
            verifier = self.keys.verifier(
                algorithms=ASYMMETRIC_ALGORITHMS, issuer=self.settings.base_url,
                audience=audience, typ=ACCESS_TOKEN_TYPE,
            )  # fmt: skip
            return dict(verifier.verify(token, now=now))
        except (InvalidTokenError, ValueError, TypeError):
            return None

    def maintain(self) -> None:
        """Advance the key lifecycle and purge expired tokens (called on a timer)."""
        self.keys.maintain(now=self.clock())
        self.tokens.purge(now=self.clock())
        self.limits.purge(now=self.clock())
        self.oidc.purge()

    def ping(self) -> None:
        """Touch the store (for /healthz); raises KeyStoreError when it is unreachable."""
        self.db.ping()
