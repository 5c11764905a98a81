"""The OpenID Connect provider's logic: browser sessions, codes, ID tokens, userinfo claims.

HTTP-free like :class:`~jwtkit.server._service.TokenService`, whose access tokens, refresh
families and user login it reuses: the login page authenticates through the same
``TokenService.authn.login`` as the password grant, so the failed-login limits and equal timing hold
for both. Everything an instance needs to finish a flow another instance started (codes,
sessions) is in the shared store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from jwtkit import decode_unverified
from jwtkit._storage import CodeRow, Codes, SessionRow, Sessions
from jwtkit.errors import InvalidTokenError
from jwtkit.jwa import ALGORITHMS
from jwtkit.server._authorize import AuthorizationRequest
from jwtkit.server._consent import Consent
from jwtkit.server._errors import OAuthError
from jwtkit.server._records import ClientInfo, UserInfo
from jwtkit.server._resources import split_resources
from jwtkit.server._revocations import username_of
from jwtkit.server._tokens import RefreshGrant, hash_token

if TYPE_CHECKING:
    from jwtkit.server._service import IssuedTokens, TokenService

__all__ = ["BearerError", "OIDCProvider", "at_hash", "scope_claims"]

logger = logging.getLogger("jwtkit.server")

_VERIFIER_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_CSRF_LABEL: Final = b"jwtkit login form v1"
# Used codes are kept this long after they expire, so a late second use still revokes.
_CODE_KEEP: Final = 3600.0


class BearerError(Exception):
    """An RFC 6750 §3.1 error of a protected resource (the userinfo endpoint)."""

    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


def at_hash(access_token: str, alg: str) -> str:
    """Return the ``at_hash`` of an access token for an ID token signed with ``alg``.

    OpenID Connect Core §3.1.3.6: the left half of the hash of the token's ASCII octets, the
    hash being the one of the JWS algorithm (SHA-512 for EdDSA over Ed25519, errata 2).
    """
    name = ALGORITHMS[alg].hash or "sha512"
    digest = hashlib.new(name.replace("-", ""), access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def scope_claims(user: UserInfo, scope: tuple[str, ...]) -> dict[str, Any]:
    """Return the user's claims that ``scope`` grants (OpenID Connect Core §5.4, plus roles)."""
    out: dict[str, Any] = {}
    if "profile" in scope:
        out["preferred_username"] = user.username
        if user.name:
            out["name"] = user.name
    if "email" in scope and user.email:
        out["email"] = user.email
        out["email_verified"] = user.email_verified
    if "roles" in scope:
        out["roles"] = list(user.roles)
    return out


@dataclass(frozen=True)
class BrowserSession:
    """The browser's session cookie and, once logged in, its stored session."""

    cookie: str
    row: SessionRow | None


class OIDCProvider:
    """Authorization codes, browser sessions and ID tokens over one :class:`TokenService`."""

    def __init__(self, svc: TokenService) -> None:
        self.svc = svc
        self.settings = svc.settings
        self.codes = Codes(svc.db)
        self.sessions = Sessions(svc.db)
        self.consent = Consent(svc)
        s = self.settings
        self.id_signers = {
            alg: svc.keys.signer(
                issuer=s.base_url, lifetime=s.id_token_lifetime, typ="JWT", jti=False, alg=alg
            )
            for alg in s.id_token_algs
        }

    # Browser sessions.

    def browser(self, cookie: str | None) -> BrowserSession:
        """Return the browser's session: the live stored one of its cookie, or a new cookie."""
        if cookie:
            row = self.sessions.touch(
                hash_token(cookie), now=self.svc.clock(), idle=self.settings.session_idle_timeout
            )
            return BrowserSession(cookie, row)
        return BrowserSession(secrets.token_urlsafe(32), None)

    @staticmethod
    def csrf_token(cookie: str, form: str = "login") -> str:
        """Return the CSRF token of a page's form: a MAC of the session cookie (never stored).

        Only a page that can read the HttpOnly cookie's value, that is no other site, can
        compute it, so a cross-site form post cannot carry a valid one. ``form`` (``login``,
        ``consent``, ``logout``) separates the tokens, so one form's token is not another's.
        """
        label = _CSRF_LABEL if form == "login" else f"jwtkit {form} form v1".encode()
        mac = hmac.new(cookie.encode(), label, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def check_csrf(self, cookie: str | None, token: str | None, form: str = "login") -> bool:
        """Say whether ``token`` is the CSRF token of ``cookie`` for ``form``."""
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_token(cookie, form).encode(), token.encode())

    def needs_login(self, req: AuthorizationRequest, session: SessionRow | None) -> bool:
        """Say whether the user must enter their password (OpenID Connect Core §3.1.2.1)."""
        if session is None or "login" in req.prompt:
            return True
        return req.max_age is not None and self.svc.clock() - session.auth_time > req.max_age

    def start_session(self, username: str, replaces: str | None) -> tuple[str, SessionRow]:
        """Start a logged-in session under a new cookie (replacing the pre-login one, so a
        cookie planted before the login never names the session: no fixation)."""
        now = self.svc.clock()
        cookie = secrets.token_urlsafe(32)
        row = SessionRow(
            sid=secrets.token_urlsafe(16),
            username=username,
            auth_time=now,
            created_at=now,
            last_seen=now,
            expires_at=now + self.settings.session_lifetime,
        )
        self.sessions.start(
            hash_token(cookie), row, replaces=None if replaces is None else hash_token(replaces)
        )
        return cookie, row

    def verify_id_token_hint(self, token: str) -> dict[str, Any] | None:
        """Return the claims of an ID token this service signed (the ``id_token_hint`` of
        RP-Initiated Logout), or None.

        The signature, issuer and ``typ`` are checked. Expired tokens are accepted within a
        session lifetime (RP-Initiated Logout §2: the hint is usually expired by the time
        the user logs out); the audience is the token's own, any client of this service.
        """
        if token.count(".") != 2 or len(token) > 16 * 1024:
            return None
        try:
            audience = decode_unverified(token)[1].get("aud")
            verifier = self.svc.keys.verifier(
                algorithms=self.settings.id_token_algs, issuer=self.settings.base_url,
                audience=audience, typ="JWT", leeway=self.settings.session_lifetime,
            )  # fmt: skip
            claims = dict(verifier.verify(token, now=self.svc.clock()))
        except (InvalidTokenError, ValueError, TypeError):
            return None
        return claims if isinstance(claims.get("sid"), str) else None

    def end_sessions(self, sids: list[str]) -> int:
        """End browser sessions (logout): delete them and revoke every refresh family issued
        under them, with their access tokens; return the number of families revoked."""
        now = self.svc.clock()
        return sum(self.sessions.end(sid, now=now) for sid in sids)

    # Codes.

    def authorize(self, req: AuthorizationRequest, session: SessionRow) -> dict[str, str | None]:
        """Issue a code for ``req`` under ``session`` and return the response parameters
        (``code``, ``state``; the routes add ``iss`` and answer in the response mode)."""
        now = self.svc.clock()
        code = secrets.token_urlsafe(32)
        row = CodeRow(
            client_id=req.client.client_id,
            username=session.username,
            redirect_uri=req.redirect_uri,
            scope=req.scope,
            nonce=req.nonce,
            code_challenge=req.code_challenge,
            sid=session.sid,
            auth_time=session.auth_time,
            expires_at=now + self.settings.authorization_code_lifetime,
            claims=json.dumps({"resources": list(req.resources)}) if req.resources else "{}",
        )
        self.codes.issue(hash_token(code), row, now=now)
        return {"code": code, "state": req.state}

    def redeem(self, form: Mapping[str, str], client: ClientInfo) -> IssuedTokens:
        """Run the authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.5).

        The login session (refresh family) starts in the code's own transaction and carries
        the browser session's ``sid``; the access token carries the family (``jwtkit_fid``),
        so a second use of the code revokes both.

        Raises:
            OAuthError: invalid_request for a missing or malformed parameter, invalid_grant
                for an unknown, expired, used, foreign or mismatched code or a wrong verifier.
        """
        code, verifier = form.get("code"), form.get("code_verifier")
        if code is None:
            raise OAuthError("invalid_request", "code is required")
        if verifier is None:
            raise OAuthError("invalid_request", "code_verifier is required (PKCE)")
        if not 43 <= len(verifier) <= 128 or not set(verifier) <= _VERIFIER_CHARS:
            raise OAuthError("invalid_request", "code_verifier is malformed (RFC 7636 §4.1)")
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        challenge = expected.rstrip(b"=")
        svc, now = self.svc, self.svc.clock()
        refresh, family = svc.tokens.plan(
            now=now,
            access_until=now + self.settings.access_token_lifetime,
            refresh=client.allows_grant("refresh_token"),
        )
        resources = split_resources(form.get("resource"))
        outcome = self.codes.redeem(
            hash_token(code),
            client_id=client.client_id,
            redirect_uri=form.get("redirect_uri"),
            challenge_ok=lambda stored: hmac.compare_digest(stored.encode(), challenge),
            now=now,
            family=family,
            resources=resources,
        )
        if outcome.refused == "target":
            raise OAuthError("invalid_target", "the resource was not part of the grant")
        if outcome.refused is not None or outcome.row is None:
            if outcome.refused == "reused":
                logger.warning(
                    "authorization code used twice: tokens issued from it revoked (client %s)",
                    client.client_id,
                )
            raise OAuthError(
                "invalid_grant", "the authorization code is invalid, expired or already used"
            )
        row = outcome.row
        session = RefreshGrant(
            refresh, family.family_id, client.client_id, row.username, row.scope,
            family.expires_at, outcome.roles, row.resources,
        )  # fmt: skip
        target = svc.resources.target(resources, row.scope, granted=row.resources)
        issued = svc.issue(
            row.username, client, target.scope, outcome.roles, session, now=now,
            audience=target.audience,
        )  # fmt: skip
        if "openid" not in row.scope:
            return issued
        user = svc.accounts.get_user(row.username)
        if user is None:  # pragma: no cover - redeem() checked the user in the same transaction.
            raise OAuthError("invalid_grant", "the authorization code is invalid")
        id_token = self.id_token(user, client, row, issued.access_token, now)
        return issued.with_id_token(id_token)

    def id_alg(self, client: ClientInfo) -> str:
        """Return the algorithm of the client's ID tokens: its own choice, else RS256 (the
        default of OpenID Connect Registration §2, always among ``id_token_signing_algs``).

        Raises:
            OAuthError: unauthorized_client when the client chose an algorithm this service
                does not sign ID tokens with (``id_token_signing_algs``).
        """
        alg = client.id_token_alg or "RS256"
        if alg not in self.id_signers:
            raise OAuthError(
                "unauthorized_client",
                f"the client's ID token algorithm {alg} is not enabled on this server",
            )
        return alg

    def id_token(
        self, user: UserInfo, client: ClientInfo, row: CodeRow, access: str, now: float
    ) -> str:
        """Sign the ID token (OpenID Connect Core §2, §3.1.3.6) for a redeemed code."""
        alg = self.id_alg(client)
        claims: dict[str, Any] = {
            "sub": user.username,
            "aud": client.client_id,
            "azp": client.client_id,
            "auth_time": int(row.auth_time),
            "sid": row.sid,
            "at_hash": at_hash(access, alg),
            **scope_claims(user, row.scope),
        }
        if row.nonce is not None:
            claims["nonce"] = row.nonce
        return self.id_signers[alg].sign(claims, now=now)

    # The userinfo endpoint.

    def userinfo(self, token: str) -> dict[str, Any]:
        """Return the claims of the user an access token with ``openid`` was issued for.

        Raises:
            BearerError: invalid_token (401) for an invalid, expired, revoked token or a
                disabled user; insufficient_scope (403) without ``openid``.
        """
        svc = self.svc
        # Tokens for another resource (RFC 8707) are not for this endpoint.
        claims = svc.verify_access(token, svc.clock(), any_audience=False)
        if claims is None or svc.revocations.is_revoked(claims):
            raise BearerError("invalid_token", "the access token is invalid", 401)
        scope = tuple(str(claims.get("scope", "")).split())
        if "openid" not in scope:
            raise BearerError("insufficient_scope", "the access token lacks openid", 403)
        username = username_of(claims)
        user = None if username is None else svc.accounts.get_user(username)
        if user is None or user.disabled:
            raise BearerError("invalid_token", "the access token is invalid", 401)
        return {"sub": user.username, **scope_claims(user, scope)}

    def purge(self) -> None:
        """Delete expired codes and sessions (called by the maintenance timer)."""
        now = self.svc.clock()
        self.codes.purge(now=now, keep=_CODE_KEEP)
        self.sessions.purge(now=now, idle=self.settings.session_idle_timeout)
