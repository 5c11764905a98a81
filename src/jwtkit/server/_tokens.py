"""Opaque refresh tokens (rotated, in families) and the access-token denylist.

Only the SHA-256 of a refresh token is stored, so a copy of the database does not hand out
working tokens. Each login starts a *family* (the session; its id is the ``jwtkit_fid`` claim
of every access token issued under it); every refresh marks the presented token used and
issues its successor. Presenting a used token again is the signal of theft (RFC 6819
§5.2.2.3, OAuth 2.0 Security BCP §4.14): the whole family is revoked. An optional grace
window forgives exactly one retry of a refresh whose answer was lost, and that retry gets the
same successor again (kept sealed under a key only the presented token yields), so a retry
never forks the family. A family ends ``family_lifetime`` seconds after its login however
often it is refreshed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jwtkit._storage import Database, Families, FamilyStart, Refused, Rotated

__all__ = ["RefreshError", "RefreshGrant", "RefreshInfo", "TokenStore", "hash_token"]

logger = logging.getLogger("jwtkit.server")

_SEAL_CONTEXT = b"jwtkit refresh successor v1"


def hash_token(token: str) -> str:
    """Return the stored form of an opaque token: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _seal_key(presented: str) -> bytes:
    # Domain-separated from hash_token: the stored hash never opens the seal.
    return hashlib.sha256(
        _SEAL_CONTEXT + b"\0" + presented.encode("utf-8", "surrogatepass")
    ).digest()


def seal_successor(presented: str, successor: str) -> str:
    """Encrypt ``successor`` under a key derived from ``presented`` (AES-256-GCM)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_seal_key(presented)).encrypt(nonce, successor.encode(), _SEAL_CONTEXT)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_successor(presented: str, sealed: str) -> str | None:
    """Return the successor sealed for ``presented``, or None if the seal does not open."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        plain = AESGCM(_seal_key(presented)).decrypt(raw[:12], raw[12:], _SEAL_CONTEXT)
    except (InvalidTag, ValueError, binascii.Error):
        return None
    return plain.decode("utf-8", "replace")


class RefreshError(Exception):
    """A refresh token cannot be used; ``reason`` is unknown, expired, revoked, reused, client,
    scope, target (a resource the session was not granted) or user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RefreshGrant:
    """A session (family) and its newly issued refresh token (shown once; "" when none)."""

    token: str = ""
    family_id: str = ""
    client_id: str = ""
    username: str = ""
    scope: tuple[str, ...] = ()
    expires_at: float = 0.0
    roles: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RefreshGrant(family_id={self.family_id!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class RefreshInfo:
    """What introspection reveals about a stored refresh token."""

    active: bool
    client_id: str
    username: str
    scope: tuple[str, ...]
    issued_at: float
    expires_at: float
    family_id: str = ""


class TokenStore:
    """Refresh-token families and the access-token denylist in the service tables."""

    def __init__(
        self,
        db: Database,
        *,
        lifetime: int,
        grace_seconds: int = 0,
        family_lifetime: int = 30 * 24 * 3600,
    ) -> None:
        self._families = Families(db)
        self._lifetime = lifetime
        self._grace = grace_seconds
        self._family_lifetime = family_lifetime

    def issue(
        self,
        *,
        client_id: str,
        username: str,
        scope: tuple[str, ...],
        now: float,
        access_until: float = 0.0,
        refresh: bool = True,
        sid: str | None = None,
        resources: tuple[str, ...] = (),
    ) -> RefreshGrant:
        """Start a new family (a login session) and return it with its first refresh token.

        ``refresh=False`` starts a session without a refresh token (the client may not
        refresh): its access tokens still carry the family, so logout reaches them.
        ``access_until`` is the ``exp`` of the access token issued with it; ``sid`` the
        browser session it was issued under; ``resources`` the RFC 8707 resources granted.
        """
        token, start = self.plan(now=now, access_until=access_until, refresh=refresh)
        self._families.start(
            family_id=start.family_id,
            token_hash=start.token_hash,
            client_id=client_id,
            username=username,
            scope=scope,
            now=now,
            expires_at=start.expires_at,
            access_until=access_until,
            sid=sid,
            resources=resources,
        )
        return RefreshGrant(
            token, start.family_id, client_id, username, scope, start.expires_at, (), resources
        )

    def plan(self, *, now: float, access_until: float, refresh: bool) -> tuple[str, FamilyStart]:
        """Choose a new family and its first refresh token ("" without one), not yet stored.

        :meth:`issue` stores it at once; redeeming an authorization code stores it in the
        code's own transaction (``Codes.redeem``).
        """
        token = secrets.token_urlsafe(32) if refresh else ""
        start = FamilyStart(
            family_id=secrets.token_hex(16),
            token_hash=hash_token(token) if refresh else None,
            expires_at=now + min(self._lifetime, self._family_lifetime) if refresh else 0.0,
            access_until=access_until,
        )
        return token, start

    def rotate(
        self,
        token: str,
        *,
        client_id: str,
        now: float,
        scope: tuple[str, ...] | None = None,
        access_until: float = 0.0,
        resources: tuple[str, ...] = (),
    ) -> RefreshGrant:
        """Use ``token`` once: mark it used and return its successor.

        Two concurrent calls with the same token serialise on the store's write lock (SQLite)
        or the family's row lock (PostgreSQL ``FOR UPDATE``): exactly one gets a successor;
        the other sees a used token, which is reuse unless it is the one retry the grace
        window allows (then it gets the same successor).

        ``scope`` (RFC 6749 §6) narrows the access token; it must be within the family's
        scope, else nothing changes; so must ``resources`` (RFC 8707) be within the
        family's resources. The user's current roles are returned, and a family
        whose user was disabled or deleted is revoked.

        Raises:
            RefreshError: unknown, expired, revoked (family), reused (family now revoked),
                client (issued to another client), scope (wider than granted), target
                (a resource not granted), user
                (disabled; family now revoked).
        """
        successor = secrets.token_urlsafe(32)
        outcome = self._families.rotate(
            hash_token(token),
            hash_token(successor),
            client_id=client_id,
            now=now,
            expires_at=now + self._lifetime,
            family_lifetime=self._family_lifetime,
            access_until=access_until,
            requested=scope,
            grace=self._grace,
            sealed=seal_successor(token, successor) if self._grace > 0 else None,
            resources=resources,
        )
        if isinstance(outcome, Refused):
            if outcome.reason == "reused":
                # The family id identifies the incident without revealing any token.
                logger.warning(
                    "refresh token reuse detected: family %s of client %s and user %s revoked",
                    outcome.family_id,
                    client_id,
                    outcome.username,
                )
            raise RefreshError(outcome.reason)
        if outcome.retry_sealed is not None:
            again = open_successor(token, outcome.retry_sealed)
            if again is None:  # pragma: no cover - only a damaged row gets here
                raise RefreshError("unknown")
            logger.info("refresh retried within the grace window: family %s", outcome.family_id)
            return _grant(again, outcome)
        return _grant(successor, outcome)

    def inspect(self, token: str, *, now: float) -> RefreshInfo | None:
        """Return what is stored about a refresh token, or None if it is unknown."""
        row = self._families.find(hash_token(token))
        if row is None:
            return None
        active = (
            row.used_at is None
            and row.revoked_at is None
            and row.expires_at > now
            and row.created_at + self._family_lifetime > now
        )
        return RefreshInfo(
            active, row.client_id, row.username, row.scope, row.issued_at, row.expires_at,
            row.family_id,
        )  # fmt: skip

    def revoke(self, token: str, *, client_id: str, now: float, reason: str = "revoked") -> bool:
        """Revoke the family of ``token`` if it belongs to ``client_id``; say if it did."""
        return self._families.revoke(hash_token(token), client_id=client_id, now=now, reason=reason)

    def deny(self, jti: str, expires_at: float) -> None:
        """Put an access token's ``jti`` on the denylist until its ``exp``."""
        self._families.deny(jti, expires_at)

    def is_denied(self, jti: str) -> bool:
        """Say whether an access token's ``jti`` has been revoked."""
        return self._families.is_denied(jti)

    def purge(self, *, now: float) -> None:
        """Delete expired refresh tokens, spent families and denylist entries past their exp."""
        self._families.purge(now=now)


def _grant(token: str, r: Rotated) -> RefreshGrant:
    return RefreshGrant(
        token, r.family_id, r.client_id, r.username, r.scope, r.expires_at, r.roles, r.resources
    )
